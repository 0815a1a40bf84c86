# synth — evidence synthesis for radiomics reviews. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help figures test lint lab lock check demo dictionary clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

LOCK := requirements.lock
PIP := $(PY) -m pip install --quiet --quiet --disable-pip-version-check
LAB_ARGS ?=
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
LAB_NEWS_OFF := {"fetchNews": "false", "checkForUpdates": false}

# The environment is exactly the lock (versions and hashes); `make lock` re-resolves it.
$(STAMP): $(LOCK) pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing $$(grep -c '^[A-Za-z]' $(LOCK)) locked packages from $(LOCK) into \
	$(VENV)/ (about 1-3 minutes the first time, seconds after)..."
	@$(PIP) --require-hashes --no-deps -r $(LOCK)
	@$(PIP) --no-deps -e .
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

lab: $(STAMP)  ## JupyterLab on the notebooks (extra options: LAB_ARGS=--no-browser)
	@mkdir -p $(dir $(LAB_SETTINGS))
	@echo '{"@jupyterlab/apputils-extension:notification": $(LAB_NEWS_OFF)}' > $(LAB_SETTINGS)
	$(PY) -m jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks \
		--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

lock:  ## re-resolve requirements.lock after editing pyproject.toml (UPGRADE=1: newest releases)
	@test -x $(VENV)/bin/uv || $(MAKE) $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes $(if $(UPGRADE),--upgrade) --quiet --custom-compile-command "make lock" \
		-o $(LOCK)
	@echo "$(LOCK) written; environment.yml pins its direct dependencies (make test checks them)"

check: $(STAMP)  ## validate every review folder in data/
	@for d in data/*/; do [ -e "$$d/studies.csv" ] && $(PY) -m synth check "$$d" || true; done

demo: $(STAMP)  ## regenerate the synthetic data/demo from its seeded script
	$(PY) scripts/make_demo.py data/demo

dictionary: $(STAMP)  ## regenerate data/README.md from the schemas
	$(PY) -m synth dictionary --write data/README.md

clean:  ## remove generated figures and results (not the environment)
	rm -rf figures/* results/*
