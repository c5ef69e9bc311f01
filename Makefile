# Two commands do all the set-up on a fresh machine:
#   make demo   creates .venv, installs glassnet and runs `glassnet demo`
#   make test   creates/updates .venv with the test extras and runs ruff and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint format clean playground

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-extras: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[extras]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-extras $(VENV)/.installed-playground

demo: $(VENV)/.installed-extras
	$(BIN)/glassnet demo

$(VENV)/.installed-playground: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[extras,playground]'
	touch $@

playground: $(VENV)/.installed-playground
	$(BIN)/glassnet playground

test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

clean:
	rm -rf $(VENV) runs build src/*.egg-info
