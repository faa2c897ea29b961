"""The Spark suite: the same fixtures as the DuckDB/PostgreSQL suite, on dbt-spark's session mode.

`make test-spark` runs it (STEWARD_SPARK_TESTS=1). Every project of a pytest process shares one JVM, one
SparkSession and so one warehouse directory and one Derby metastore, under a temp dir that is removed at
the end, also when tests fail; each project builds into schemas of its own. dbt costs most here (a Spark
statement takes a few hundred milliseconds), so each project is built once per session and the tests
assert on what it left.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import SPARK_ROOT_VARIABLE


@pytest.fixture(scope="session", autouse=True)
def spark_root() -> Iterator[Path]:
    """The run's warehouse directory and metastore; removed at the end, also on failure."""
    root = Path(tempfile.mkdtemp(prefix="steward-spark-"))
    previous = os.environ.get(SPARK_ROOT_VARIABLE)
    os.environ[SPARK_ROOT_VARIABLE] = str(root)
    try:
        yield root
    finally:
        if previous is None:
            os.environ.pop(SPARK_ROOT_VARIABLE, None)
        else:
            os.environ[SPARK_ROOT_VARIABLE] = previous
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def adapter() -> str:
    return "spark"
