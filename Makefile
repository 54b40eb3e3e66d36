# The README's two commands: `make run` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install install-test bench clean eval

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files make a second `make run` start instantly; editing pyproject.toml reinstalls.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## run: set up and start the daemon (embedded broker, worker, poller) with config/.
run: install
	$(BIN)/newsmon run

## test: set up and run the whole test suite against real components.
test: install-test
	$(BIN)/python -m pytest

## eval: signal quality on the labelled development set beside the keyword baseline (issue 3).
eval: install
	$(BIN)/newsmon eval

clean:
	rm -rf $(VENV) data .pytest_cache
