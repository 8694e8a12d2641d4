# fundtrace — the two commands a newcomer needs:
#   make demo   install into .venv/ and run the demo on the embedded default (SQLite)
#   make test   run the whole test suite on SQLite and on a throw-away PostgreSQL
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -q

.PHONY: demo test install lint format system-deps test-sqlite test-postgres bench clean

install: $(VENV)/.installed

# setup.py builds the optional C fast paths (fundtrace/native, */*_native.c): rebuild on change.
$(VENV)/.installed: pyproject.toml setup.py $(wildcard fundtrace/native/*.[ch] fundtrace/chains/*/*_native.c)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# What the tests run besides Python packages: PostgreSQL binaries, litecoind, anvil.
system-deps:
	@bash scripts/system-deps.sh

demo: install
	$(BIN)/fundtrace demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test-sqlite: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install system-deps
	$(BIN)/python -m tests.pg pytest $(PYTEST_ARGS)

test: lint test-sqlite test-postgres

bench: install
	$(BIN)/python bench/trace_bench.py --transfers 1000000

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
