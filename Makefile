# Pazhou Flow: `make run` serves on http://127.0.0.1:5000 (SQLite), `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fmt bench fuzz clean

$(STAMP): setup.cfg pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/pazhou db upgrade
	$(BIN)/pazhou demo
	$(BIN)/pazhou serve --worker

test: $(STAMP)
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
	PAZHOU_FUZZ_EXAMPLES=500 $(BIN)/pytest -q tests/integration/test_openapi_fuzz.py

clean:
	rm -rf $(VENV) instance .pytest_cache
