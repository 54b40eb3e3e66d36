# The README's two commands: `make run` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# setuptools warns on every editable install (a notice, not a problem); keep `make run` quiet.
PIP_INSTALL := PYTHONWARNINGS=ignore $(BIN)/pip install --quiet

.PHONY: run test check install install-test install-bench test-tools k8s-config eval clean \
        bench-pipeline bench-soak bench-memory bench-longrun bench-poller bench-quality bench-state

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files make a second `make run` start instantly; editing pyproject.toml reinstalls.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(PIP_INSTALL) -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(BIN)/python pyproject.toml
	$(PIP_INSTALL) -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-bench: $(VENV)/.installed-bench

## run: set up and start the daemon (embedded broker, worker, poller) with config/.
run: install
	$(BIN)/newsmon run

# The observability tests run the real Prometheus and promtool and check the compose file
# with docker-compose, all from Debian's packages; CI starts from a clean clone, so `make
# test` installs them when they are missing. policy-rc.d keeps the package from starting a
# Prometheus service (in a container there is nothing to start it with); the service is
# also left disabled, so a developer's machine gets the binaries and nothing running.
# The console's browser test drives Debian's chromium through chromium-driver (selenium).
TEST_TOOLS := prometheus promtool docker-compose chromium chromedriver
TEST_PACKAGES := prometheus docker-compose chromium chromium-driver
test-tools:
	@missing=; for tool in $(TEST_TOOLS); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	[ -n "$$missing" ] || exit 0; \
	echo "installing Debian packages $(TEST_PACKAGES) (missing:$$missing)"; \
	sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	if [ -n "$$sudo" ] && ! command -v sudo >/dev/null 2>&1; then \
	  echo "make test needs$$missing (Debian packages $(TEST_PACKAGES)): run as root or install sudo" >&2; exit 1; fi; \
	guard=; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	  printf '#!/bin/sh\nexit 101\n' | $$sudo tee /usr/sbin/policy-rc.d >/dev/null && $$sudo chmod 755 /usr/sbin/policy-rc.d && guard=1; fi; \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEST_PACKAGES) >/dev/null; \
	status=$$?; \
	[ -z "$$guard" ] || $$sudo rm -f /usr/sbin/policy-rc.d; \
	if command -v systemctl >/dev/null 2>&1; then $$sudo systemctl disable prometheus.service >/dev/null 2>&1 || true; fi; \
	exit $$status

## check: lint (ruff), formatting, types (mypy) and the import-layering contracts (import-linter).
check: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## test: set up and run the checks, then the whole test suite against real components.
test: install-test test-tools check
	$(BIN)/python -m pytest

## bench-pipeline: pipeline vs raw spaCy throughput, latency, CPU, RSS (bench/pipeline.py, bench/mix.py).
##   By default every issue-13 figure in one run: the realistic mix (cascade and full), the corpus-only
##   mix, two workers against raw spaCy in two processes, paced latency, CPU, RSS, the worker's profile.
##   All of the mix: BENCH_ARGS='--mix realistic'; the older corpus-only run: BENCH_ARGS='--mix corpus'.
##   The feed-stream mix alone (feeds and the 2022-2024 corpus files, no dev-set extracts): BENCH_ARGS='--mix feed-stream'.
BENCH_ARGS ?= --mix realistic --limit 300
bench-pipeline: install-bench
	$(BIN)/python -m bench.pipeline $(BENCH_ARGS)

## bench-soak: 20,000 articles while workers are SIGKILLed for 10 minutes, against a clean run (bench/soak.py).
bench-soak: install-bench
	$(BIN)/python -m bench.soak

## bench-memory: worker RSS over 30 minutes and the embedded broker's growth per article (bench/memory.py).
bench-memory: install-bench
	$(BIN)/python -m bench.memory

## bench-longrun: 100,000 articles through `newsmon run` with the broker's rotation on (bench/longrun.py).
##   A quick look: make bench-longrun BENCH_ARGS='--articles 5000 --budget-mib 64'
bench-longrun: install-bench
	$(BIN)/python -m bench.longrun $(BENCH_ARGS)

## bench-state: size of the worker's tables on disk and its start-up time with them (bench/state.py).
bench-state: install-bench
	$(BIN)/python -m bench.state

## bench-poller: 10,000 feeds served from loopback through the poller (bench/poller.py).
bench-poller: install-bench
	$(BIN)/python -m bench.poller

## bench-quality: the tag stage (windows, claims) over raw spaCy on the same texts, and decide (bench/quality.py).
bench-quality: install-bench
	$(BIN)/python -m bench.quality --articles 150

# deploy/k8s/config.yaml carries a copy of config/ (kustomize reads nothing outside deploy/k8s).
k8s-config: $(BIN)/python
	$(BIN)/python deploy/k8s/configmap.py

## eval: signal quality on the labelled development set beside the keyword baseline (issue 3).
eval: install
	$(BIN)/newsmon eval

clean:
	rm -rf $(VENV) data .pytest_cache
