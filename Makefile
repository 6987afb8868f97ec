# Set-up and everyday commands.  Every target creates .venv if missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all bench compare docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per extra, rebuilt when pyproject.toml changes.
$(STAMP)-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	touch $@

$(STAMP)-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

demo: $(STAMP)-base
	$(BIN)/python -m linalgkit tour

test: $(STAMP)-test
	$(BIN)/python -m pytest

test-all: $(STAMP)-test
	$(BIN)/python -m pytest -m "slow or not slow"

bench: $(STAMP)-bench
	$(BIN)/asv machine --yes --machine local >/dev/null
	$(BIN)/asv run --python=same --quick --show-stderr --dry-run --machine local

compare: $(STAMP)-bench
	$(BIN)/python benchmarks/compare.py

docs: $(STAMP)-docs
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf docs/_build docs/generated docs/auto_examples .asv
