# The two commands a newcomer needs: `make demo` and `make test`; `make test-spark` for the Spark adapter.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.steward-installed
SPARK_STAMP := $(VENV)/.steward-spark-installed

export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: demo test test-spark lint install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Spark 4 needs Java 17 or later: Debian's headless runtime when `java` is missing (17 on Debian 12, else 21).
$(SPARK_STAMP): $(STAMP)
	command -v java >/dev/null 2>&1 || { apt-get update -qq && \
	  pkg=$$(apt-cache show openjdk-17-jre-headless >/dev/null 2>&1 && echo openjdk-17-jre-headless || echo openjdk-21-jre-headless) && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkg >/dev/null; }
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(SPARK_STAMP)

## demo: a guarded deploy of examples/shop on the embedded DuckDB; prints where the report is.
demo: $(STAMP)
	cd examples/shop && ../../$(BIN)/steward deploy --target dev

## test: lint (ruff, sqlfluff) and the whole suite on DuckDB and PostgreSQL.
# Two workers, one per adapter (see runner/tests/conftest.py): the machine has two cores.
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

## test-spark: the package and the runner on Apache Spark (dbt-spark session mode, a JVM in the test process).
test-spark: $(SPARK_STAMP)
	STEWARD_SPARK_TESTS=1 $(BIN)/python -m pytest -p no:cacheprovider runner/tests/spark

lint: $(STAMP)
	$(BIN)/ruff check runner bench
	cd examples/shop && ../../$(BIN)/dbt deps --quiet && STEWARD_SHOP_DUCKDB=:memory: ../../$(BIN)/sqlfluff lint --processes 2 models
	cd integration_tests && ../$(BIN)/dbt deps --quiet && STEWARD_IT_DUCKDB=:memory: ../$(BIN)/sqlfluff lint --processes 2 models tests snapshots

clean:
	rm -rf $(VENV) examples/shop/{target,dbt_packages,logs} integration_tests/{target,dbt_packages,logs}
