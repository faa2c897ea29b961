"""steward: guarded dbt deploys with rollback points, and the Python API behind the `steward` CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dbt-steward")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
