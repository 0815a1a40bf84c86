# synth — evidence synthesis for radiomics reviews. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help figures test lint lab check demo dictionary clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

figures: $(STAMP)  ## run every notebook on every review in data/ (writes figures/ and results/)
	$(PY) -m synth run

test: $(STAMP)  ## lint, the layer contract, then the test suite
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: $(STAMP)  ## ruff and the layer contract (import-linter, see pyproject.toml)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

lab: $(STAMP)  ## JupyterLab on the notebooks, from the project's environment
	$(PY) -m jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks \
		$(if $(filter 0,$(shell id -u)),--allow-root)

check: $(STAMP)  ## validate every review folder in data/
	@for d in data/*/; do [ -e "$$d/studies.csv" ] && $(PY) -m synth check "$$d" || true; done

demo: $(STAMP)  ## regenerate the synthetic data/demo from its seeded script
	$(PY) scripts/make_demo.py data/demo

dictionary: $(STAMP)  ## regenerate data/README.md from the schemas
	$(PY) -m synth dictionary --write data/README.md

clean:  ## remove generated figures and results (not the environment)
	rm -rf figures/* results/*
