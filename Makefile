# Verstetigungslotse — the targets README and CI share.
#   make run    set up, ingest corpus/ when the index is missing or stale, serve the app
#   make test   set up and run the whole test suite (servers and browser included)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1

.PHONY: setup run serve test test-fast lint bench eval audit browser-deps clean

$(STAMP): pyproject.toml $(wildcard $(LOCK))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@if [ -f $(LOCK) ]; then $(BIN)/python -m pip install -q -r $(LOCK); fi
	@$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# Ingest is incremental: an unchanged corpus costs a hash per file and no embedding work.
run: setup
	$(BIN)/lotse ingest corpus
	$(BIN)/lotse serve

serve: setup
	$(BIN)/lotse serve

browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); \
	  else echo "Bitte Debian-Paket 'chromium' installieren: sudo apt-get install chromium"; exit 1; fi; }
	@test -d tests/browser/node_modules/axe-core || (cd tests/browser && npm install --no-audit --no-fund --silent)

test: setup browser-deps
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not server and not browser"

lint: setup
	$(BIN)/ruff check assistant ingest tests app.py
	$(BIN)/mypy

eval: setup
	$(BIN)/lotse ingest corpus
	$(BIN)/lotse eval tests/eval/questions.jsonl

bench: setup
	$(BIN)/python -m benchmarks

audit: setup
	$(BIN)/pip-audit --skip-editable $(shell sed -n 's/^\([A-Z0-9-]*\) *#.*/--ignore-vuln \1/p' audit-accepted.txt 2>/dev/null)

clean:
	rm -rf $(VENV) data .pytest_cache
