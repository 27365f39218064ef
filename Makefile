VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: venv demo test lint protos bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

demo: venv ## generate data, plan, apply and list the example repo on the embedded defaults
	$(VENV)/bin/featurestore version
	bash scripts/demo.sh

test: venv ## lint, type-check and run the whole test suite
	$(VENV)/bin/ruff check featurestore tests benchmarks feature_repo
	$(VENV)/bin/ruff format --check featurestore tests benchmarks feature_repo
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

protos: venv ## regenerate featurestore/_proto from protos/
	$(PY) -m featurestore._proto.generate

clean:
	rm -rf $(VENV) feature_repo/data .pytest_cache .mypy_cache .ruff_cache
