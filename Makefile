# Shudao: two commands on a fresh machine, `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
MAP ?= network.png

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

HOST ?= 127.0.0.1
PORT ?= 8000

## run: install, draw the network map, make a demo key and start the service (SQLite)
run: $(VENV)/.installed
	$(BIN)/shudao network summary
	$(BIN)/shudao network map -o $(MAP)
	@echo "Map of the network: $(abspath $(MAP))"
	$(BIN)/shudao admin demo --host $(HOST) --port $(PORT)
	$(BIN)/shudao serve --host $(HOST) --port $(PORT)

## test: install the dev extras and run the whole suite (unit, property, doctests)
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

## lint: ruff (lint + format check) and mypy (strict on optimizer/ and network_data/)
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy optimizer network_data api scenarios

## bench: benchmarks, printed as tables (see benchmarks/)
bench: $(VENV)/.installed-dev
	@command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk) || echo "wrk unavailable: the API load test will be skipped"
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(MAP)
