# Verstetigungslotse — the targets README and CI share.
#   make run    set up, ingest corpus/ when the index is missing or stale, serve the app
#   make test   set up and run the whole test suite (servers and browser included)
#   make test-fast  what needs no real model over a corpus, no server and no browser: under a minute on 2 cores
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
LOCK := requirements.lock
RUN_LOCK := requirements-run.lock
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1

.PHONY: setup setup-run run serve test test-fast lint bench load soak eval audit lock browser-deps ocr-deps clean

# What running needs (make run): the runtime lock only. What testing needs (make test): everything, dev tools too.
# pip's own notes (this machine's index locations, build back-ends) go to a log, not the screen.
SETUP_LOG := $(VENV)/setup.log
$(RUN_STAMP): pyproject.toml $(wildcard $(RUN_LOCK))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Richte .venv ein (einmalig, einige Minuten) / setting up .venv (once, a few minutes) ..."
	@$(BIN)/python -m pip install -q --upgrade pip >>$(SETUP_LOG) 2>&1
	@if [ -f $(RUN_LOCK) ]; then $(BIN)/python -m pip install -q -r $(RUN_LOCK) >>$(SETUP_LOG) 2>&1 || \
	  { tail -20 $(SETUP_LOG); exit 1; }; fi
	@$(BIN)/python -m pip install -q -e . >>$(SETUP_LOG) 2>&1 || { tail -20 $(SETUP_LOG); exit 1; }
	@touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) $(wildcard $(LOCK))
	@if [ -f $(LOCK) ]; then $(BIN)/python -m pip install -q -r $(LOCK) >>$(SETUP_LOG) 2>&1 || \
	  { tail -20 $(SETUP_LOG); exit 1; }; fi
	@$(BIN)/python -m pip install -q -e '.[dev]' >>$(SETUP_LOG) 2>&1 || { tail -20 $(SETUP_LOG); exit 1; }
	@touch $(STAMP)

setup-run: $(RUN_STAMP)
setup: $(STAMP)

# Ingest is incremental: an unchanged corpus costs a hash per file and no embedding work.
run: setup-run ocr-deps
	$(BIN)/lotse ingest corpus
	$(BIN)/lotse serve

serve: setup-run
	$(BIN)/lotse serve

browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); \
	  else echo "Bitte Debian-Paket 'chromium' installieren: sudo apt-get install chromium"; exit 1; fi; }
	@test -d tests/browser/node_modules/axe-core || (cd tests/browser && npm install --no-audit --no-fund --silent)

# OCR of scanned PDF pages (optional for `run`: without it such pages are flagged; the tests need it).
ocr-deps:
	@command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx deu || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-deu >/dev/null); \
	  else echo "Für Texterkennung (OCR) gescannter PDF-Seiten: sudo apt-get install tesseract-ocr tesseract-ocr-deu"; fi; }

test: setup browser-deps ocr-deps
	$(BIN)/python -m pytest

# One worker per core, each taking whole test files (module fixtures such as a test web site hold state across
# a file's tests). Measured on the 2-core machine: 72 s in one process, 43 s in two.
test-fast: setup
	$(BIN)/python -m pytest -n auto --dist loadfile -m "not slow and not server and not browser"

lint: setup
	$(BIN)/ruff check assistant ingest tests app.py
	$(BIN)/mypy

eval: setup
	$(BIN)/lotse ingest corpus
	$(BIN)/lotse eval tests/eval/questions.jsonl

bench: setup
	$(BIN)/python -m benchmarks

# Load and soak against a real server on loopback while a generated PDF is ingested (benchmarks/README.md).
# LOAD_ARGS passes options, e.g. LOAD_ARGS="--clients 16 --pages 150"; SOAK_MINUTES sets the soak's duration.
LOAD_ARGS ?=
SOAK_MINUTES ?= 10
load: setup
	$(BIN)/python -m benchmarks load $(LOAD_ARGS)

soak: setup
	$(BIN)/python -m benchmarks soak --minutes $(SOAK_MINUTES) $(LOAD_ARGS)

# IDs are GHSA-xxxx-xxxx-xxxx (lower case after the prefix), PYSEC-… or CVE-…; comment lines give no ID.
audit: setup
	$(BIN)/pip-audit --skip-editable $(shell sed -n 's/^\([A-Za-z][A-Za-z0-9-]*\) *#.*/--ignore-vuln \1/p' audit-accepted.txt 2>/dev/null)

# requirements.lock: every package pinned with hashes, for Python 3.11 on Linux x86_64, from pyproject.toml
# including the dev extra. setup installs it first (hash-checked), then the project itself with -e (no hashes
# needed: a separate pip run, and every dependency is already there). Regenerate after changing pyproject.toml.
UV := $(VENV)/tools/bin/uv
LOCK_CMD := uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu -o $(LOCK)
RUN_LOCK_CMD := uv pip compile pyproject.toml -c $(LOCK) --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu -o $(RUN_LOCK)
lock:
	@test -x $(UV) || { $(PYTHON) -m venv $(VENV)/tools && $(VENV)/tools/bin/pip install -q 'uv==0.13.9'; }
	$(VENV)/tools/bin/$(LOCK_CMD) --custom-compile-command "make lock  (= $(LOCK_CMD))"
	$(VENV)/tools/bin/$(RUN_LOCK_CMD) --custom-compile-command "make lock  (runtime only, same versions)"

clean:
	rm -rf $(VENV) data .pytest_cache
