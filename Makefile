# Pazhou Flow: `make run` serves on http://127.0.0.1:5000 (SQLite), `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

ASSETS := engine/web/static/vendor/.built

.PHONY: run test lint fmt bench fuzz clean

$(STAMP): setup.cfg pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# bpmn-js / dmn-js come from the npm registry (package-lock.json) and are served locally.
$(ASSETS): package.json package-lock.json engine/web/build_assets.py
	npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) engine/web/build_assets.py
	touch $(ASSETS)

run: $(STAMP) $(ASSETS)
	$(BIN)/pazhou db upgrade
	$(BIN)/pazhou demo
	$(BIN)/pazhou serve --worker

test: $(STAMP) $(ASSETS)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

fuzz: $(STAMP)
	PAZHOU_FUZZ_EXAMPLES=200 $(BIN)/pytest -q tests/integration/test_openapi_contract.py tests/integration/test_bad_input.py

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules engine/web/static/vendor
