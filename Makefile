# The two commands a newcomer needs: `make demo` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.steward-installed

export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## demo: a guarded deploy of examples/shop on the embedded DuckDB; prints where the report is.
demo: $(STAMP)
	cd examples/shop && ../../$(BIN)/steward deploy --target dev

## test: lint (ruff, sqlfluff) and the whole suite on DuckDB and PostgreSQL.
# Two workers, one per adapter (see runner/tests/conftest.py): the machine has two cores.
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check runner bench
	cd examples/shop && ../../$(BIN)/dbt deps --quiet && STEWARD_SHOP_DUCKDB=:memory: ../../$(BIN)/sqlfluff lint --processes 2 models
	cd integration_tests && ../$(BIN)/dbt deps --quiet && STEWARD_IT_DUCKDB=:memory: ../$(BIN)/sqlfluff lint --processes 2 models tests snapshots

clean:
	rm -rf $(VENV) examples/shop/{target,dbt_packages,logs} integration_tests/{target,dbt_packages,logs}
