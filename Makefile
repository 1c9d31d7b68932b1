# Two commands do all set-up on a fresh machine with Python 3.11 and pip:
#   make demo   create .venv if needed, install, plan the embedded example, then its report
#               (the report re-solves for the value of each opening and of more budget)
#   make test   create .venv if needed, install, run ruff, the import layers, mypy and the tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install clean-runs browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/sufficiency plan models/example.toml --force
	$(BIN)/sufficiency report models/example.toml --force

# The map's browser test drives Debian's chromium through playwright (never `playwright
# install`, which downloads a browser from outside). Needs root, as in CI.
browser:
	command -v chromium >/dev/null 2>&1 \
	  || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q -n 2 --durations=15
