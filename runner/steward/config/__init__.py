"""What a command knows before it acts: the dbt project and profile, the run environment (CI, git), the
policy in steward.yml, input validation, and the safety rules per tier."""
