# Two commands on a fresh machine: `make demo` and `make test`. Each does its own set-up.
PYTHON ?= python3

.PHONY: setup demo test lint bench

setup:
	./scripts/setup.sh

demo: setup
	$(PYTHON) -m regframe.cli demo

test: setup
	$(PYTHON) -m ruff check regframe tests bench
	$(PYTHON) -m mypy
	$(PYTHON) -m pytest -q -p no:cacheprovider

lint: setup
	$(PYTHON) -m ruff check regframe tests bench
	$(PYTHON) -m mypy

bench: setup
	$(PYTHON) bench/run.py
