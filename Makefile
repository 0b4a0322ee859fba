# Two commands for a fresh machine:
#   make demo   set up .venv and run `sitewatch demo` on the embedded synthetic site
#   make test   set up .venv (with dev tools) and run ruff and the whole test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup demo test lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/sitewatch demo demo-workspace

lint: setup
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/lint-imports   # the layers: contracts in pyproject.toml [tool.importlinter]

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .ruff_cache
