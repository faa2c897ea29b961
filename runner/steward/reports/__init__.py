"""Reports people read: collected once into a `Report`, rendered per format.

`collect` gathers a run (dbt's run_results.json and manifest.json, the deploy's record and rollback
data, the steward tables when present) into one `Report`; each `render_*` module turns a Report into
one format; `write` writes every format of a deploy under target/steward/<deploy-id>/.
"""
