# Two commands get a fresh machine going: `make demo` and `make test`.
# Each creates a local virtualenv (.venv) with the package and its dev tools first.

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
LINT_PATHS := $(wildcard featurestore tests benchmarks feature_repo)

.PHONY: help venv demo test lint typecheck pytest protos clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed ## create .venv with the package and dev tools (again when pyproject.toml changes)

demo: venv ## the README demo on the example repo, on the embedded defaults (scripts/demo.sh)
	PATH="$(abspath $(BIN)):$$PATH" bash scripts/demo.sh

test: lint typecheck pytest ## everything CI checks: lint, format, types, the whole test suite

lint: venv ## ruff lint and format check; bash syntax of the scripts
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	for script in scripts/*.sh .ci/run; do bash -n "$$script"; done

typecheck: venv ## mypy on the package and the example repo
	$(BIN)/mypy
	$(BIN)/mypy feature_repo

pytest: venv ## the test suite (fails when no test runs); PYTEST_ARGS="-m 'not slow'" to narrow
	$(BIN)/pytest -q --durations=10 $(PYTEST_ARGS)

protos: venv ## regenerate featurestore/_proto from protos/ (commit the result)
	$(PY) -m featurestore._proto.generate

clean: ## remove the virtualenv, generated example data and caches
	rm -rf $(VENV) feature_repo/data .pytest_cache .mypy_cache .ruff_cache
