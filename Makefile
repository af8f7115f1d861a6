# Two commands for everyone: `make run` and `make test`. Both create the
# virtual environment on first use and reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Byte-compile our sources as pip does for an installed wheel: where
# PYTHONDONTWRITEBYTECODE is set (as on our CI machines) every process (each
# terminal, service, search worker and test subprocess) would compile them
# again at its start — 0.2 s of a terminal's cold start. Up-to-date files are skipped.
COMPILE := $(BIN)/python -m compileall -q counter screens backends registrations fixtures bench

.PHONY: run test bench snapshot-report clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

## Start the counter in training mode (fictional town, emulated agencies).
run: $(STAMP)
	@$(COMPILE)
	$(BIN)/counter

## The whole test suite on every core (PostgreSQL store tests need COUNTER_TEST_PG_URL).
## A short base directory: the tests' Unix sockets live under it (107 bytes at most),
## and the workers' directories add a level. Kept when a test fails, for a look.
test: $(STAMP)
	@$(COMPILE)
	@base=$$(mktemp -d /tmp/ct.XXXXXX) && \
	$(BIN)/python -m pytest -n auto --basetemp="$$base" $(PYTEST_ARGS) && rm -rf "$$base"

## Benchmarks: figures and ratios against references measured in the same run.
## PostgreSQL figures too when COUNTER_BENCH_PG_URL is set.
bench: $(STAMP)
	@$(COMPILE)
	$(BIN)/python -m bench $(BENCH_ARGS)

## Review snapshot differences in a browser-readable report.
snapshot-report: $(STAMP)
	$(BIN)/python -m pytest tests/snapshot --snapshot-report snapshot_report.html

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache snapshot_report.html
