# Closeloop developer tasks. `make up` runs the local stack, `make test` the whole suite.
# Installation is stamped: it reruns only when pyproject.toml changes.

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
CLOSELOOP_HOME ?= .closeloop
export CLOSELOOP_HOME

INSTALLED := $(VENV)/.installed
INSTALLED_DEV := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help install install-dev system-deps up down status test lint typecheck compliance format clean

help:  ## Show the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(INSTALLED_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(INSTALLED)

install: $(INSTALLED)  ## Create .venv and install Closeloop.

install-dev: $(INSTALLED_DEV)  ## Create .venv and install Closeloop with the dev tools.

# Debian packages the tests drive for real: chromium for the browser tests and PDF reports.
SYSTEM_PACKAGES := chromium
system-deps:  ## Install the Debian packages the tests need (as root; otherwise says what to run).
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; exit 1; fi; \
	echo "installing$$missing ..."; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null

up: $(INSTALLED)  ## Run the local stack in the foreground (Ctrl-C stops it).
	$(BIN)/closeloop up

down: $(INSTALLED)  ## Stop a stack started with `closeloop up --detach`.
	$(BIN)/closeloop down

status: $(INSTALLED)  ## Show what runs where; fails when a part is down.
	$(BIN)/closeloop status

# The suite runs on TEST_WORKERS pytest-xdist workers; a test file is one unit of work and
# the files sharing a session-scoped stack are one (tests/conftest.py). TEST_WORKERS=0: serial.
TEST_WORKERS ?= 3
test: $(INSTALLED_DEV) system-deps  ## Run the whole test suite (installs what it needs first).
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

lint: $(INSTALLED_DEV)  ## ruff check, format check and the import contract (one-way layers).
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# tests/ has no __init__.py files: name modules by path, so the conftest.py files differ.
typecheck: $(INSTALLED_DEV)  ## mypy over the whole tree.
	$(BIN)/mypy --explicit-package-bases .

compliance: $(INSTALLED_DEV)  ## Regenerate docs/compliance.md from the tests' clause markers.
	$(BIN)/python -m audit.compliance.generate

format: $(INSTALLED_DEV)  ## Fix imports and lint autofixes, then format.
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:  ## Stop the stack and remove its state (CLOSELOOP_HOME) and caches; keeps .venv.
	@if [ -x $(BIN)/closeloop ]; then $(BIN)/closeloop down; fi
	rm -rf $(CLOSELOOP_HOME) .pytest_cache .mypy_cache .ruff_cache build
