# Two commands on a fresh machine: `make demo` and `make test`. Each does its own set-up.
PYTHON ?= python3

.PHONY: setup demo test test-oldest test-newest lint bench

setup:
	./scripts/setup.sh

demo: setup
	$(PYTHON) -m regframe.cli demo

# Lint once, then the whole suite in both supported environments (scripts/venv.sh builds
# them in .venvs/: Python 3.10 with the oldest dependencies, the newest Python with the newest).
test: lint
	./scripts/test-envs.sh oldest newest

test-oldest: setup
	./scripts/test-envs.sh oldest

test-newest: setup
	./scripts/test-envs.sh newest

lint: setup
	$(PYTHON) -m ruff check regframe tests bench
	$(PYTHON) -m mypy

bench: setup
	$(PYTHON) bench/run.py
