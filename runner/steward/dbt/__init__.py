"""steward's side of dbt: in-process invocations, the plan of what a selection builds, live progress."""
