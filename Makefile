# Liaison: every target sets up what it needs (a local .venv, a pinned buf under .tools/).
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUF_VERSION := 1.75.0
BUF := .tools/buf/node_modules/.bin/buf
# Debian's Chromium: the analyst console's browser tests drive it with Playwright (no browser
# download: Playwright is pointed at this binary, tests/support/browser.py).
CHROMIUM ?= /usr/bin/chromium
PYTEST_ARGS ?=
# pytest-xdist processes for `make pytest` (0: in this process). Every test is hermetic (ephemeral
# loopback ports, tmp_path stores), so the suite runs in parallel as it runs alone.
PYTEST_WORKERS ?= 2

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv and install Liaison with its development tools

$(BUF):
	mkdir -p .tools/buf
	npm install --silent --no-save --no-audit --no-fund --prefix .tools/buf @bufbuild/buf@$(BUF_VERSION)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "chromium: install Debian's chromium package (apt-get install chromium)"; exit 1; }
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends chromium

.PHONY: chromium
chromium: $(CHROMIUM) ## Install Debian's Chromium when missing (the console's browser tests)

.PHONY: run
run: venv ## Start the gateway on the embedded defaults (LOCAL, 127.0.0.1:50051, ./var/liaison.db)
	$(VENV)/bin/liaison serve

.PHONY: protos
protos: venv ## Regenerate the Python code of the contract (committed)
	scripts/gen-protos.sh protos

.PHONY: openapi
openapi: venv ## Regenerate docs/openapi.json (and the copy the gateway serves) from the protos
	$(PY) scripts/gen-openapi.py

.PHONY: protos-check
protos-check: venv ## Fail when the committed generated code differs from what the protos generate
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	scripts/gen-protos.sh "$$tmp" && \
	diff -r -x '*.proto' -x '__init__.py' -x '__pycache__' "$$tmp/liaison/v1" protos/liaison/v1 \
		&& echo "protos-check: generated code is up to date"

.PHONY: buf-lint
buf-lint: $(BUF) ## Lint the protos with buf (STANDARD)
	$(BUF) lint

.PHONY: buf-breaking
buf-breaking: $(BUF) ## Fail on wire/JSON-breaking changes against each of the last commits (DEPTH=20)
	@checked=0; \
	for base in $$(git rev-list --max-count=$${DEPTH:-20} HEAD -- protos/liaison/v1 2>/dev/null); do \
		$(BUF) breaking --against ".git#ref=$$base,subdir=." || { \
			echo "buf-breaking: breaking change against $$base"; exit 1; }; \
		checked=$$((checked + 1)); \
	done; \
	echo "buf-breaking: no breaking change against the $$checked previous contract commit(s)"

.PHONY: lint
lint: venv buf-lint buf-breaking ## ruff (lint + format check), buf, and the layering contract (.importlinter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

.PHONY: format
format: venv ## Format the Python code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: typecheck
typecheck: venv ## mypy --strict on the hand-written code
	$(VENV)/bin/mypy

.PHONY: pytest
pytest: venv chromium ## Run the test suite only (PYTEST_WORKERS=2 processes; 0 for one)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The example third-party adapter package, installed into the venv once (editable) and tested
# the way its authors would test it: its own pytest and mypy configuration, Liaison's kit.
EXAMPLE := examples/cites-csv

$(VENV)/.example-installed: $(VENV)/.installed $(EXAMPLE)/pyproject.toml
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e $(EXAMPLE)
	touch $@

.PHONY: examples-test
examples-test: $(VENV)/.example-installed ## Install and test the example adapter package (examples/cites-csv)
	cd $(EXAMPLE) && MYPYPATH=$(CURDIR):$(CURDIR)/protos $(CURDIR)/$(VENV)/bin/mypy
	cd $(EXAMPLE) && $(CURDIR)/$(VENV)/bin/pytest $(PYTEST_ARGS)

# The Node.js client example: its locked packages (npm ci, the npm registry only), then its test
# (tests/examples/test_node_client.py: a `liaison serve` on an ephemeral port, the client against it).
NODE_CLIENT := examples/node-client

.PHONY: node-client-test
node-client-test: venv ## Install the Node.js client example (npm ci) and run it against a gateway
	cd $(NODE_CLIENT) && npm ci --silent --no-audit --no-fund
	$(VENV)/bin/pytest -p no:cacheprovider $(PYTEST_ARGS) tests/examples/test_node_client.py

.PHONY: test
test: lint typecheck protos-check pytest examples-test node-client-test ## Every check: lint, type check, protos-check, tests

.PHONY: demo
demo: venv ## Four centres on loopback exchanging records over mutual TLS (examples/four-centres)
	PYTHONPATH=. $(PY) examples/four-centres/run.py

.PHONY: demo-replicas
demo-replicas: venv ## Two replicas of the i2c on one PostgreSQL database, one killed mid-load (examples/replicas)
	PYTHONPATH=. $(PY) examples/replicas/run.py

.PHONY: bench
bench: venv ## Benchmarks against raw grpc.aio baselines (figures in bench/README.md)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench

.PHONY: clean
clean: ## Remove the virtualenv, tools and caches
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info
