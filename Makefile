# publisher: the two set-up commands are `make publish` and `make test`; everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SOURCES ?= sources
OUTPUT  ?= output
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help publish test hostile lint format check bench clean distclean java chromium daisyplayer i18n bytecode
ACE_DIR := tools/ace
ACE     := $(ACE_DIR)/node_modules/.bin/ace-cli
ACE_VERSION := 1.4.6
AXE_DIR := tools/axe
AXE     := $(AXE_DIR)/node_modules/axe-core/axe.min.js
AXE_VERSION := 4.14.1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

# --- environment -----------------------------------------------------------------------------
# The venv is (re)built from pyproject.toml: a stamp per dependency set, older than pyproject => stale.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "publisher needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[cluster]'
	@touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint,cluster,proof,studio]'
	@touch $@ $(VENV)/.stamp-run

# The package is installed editable, so pip compiles none of its modules, and where Python may not
# write bytecode (PYTHONDONTWRITEBYTECODE, as in many containers and on this project's machines)
# every command compiled all ~170 of them again: 0.15-0.2 s of each run (measured on an edit).
# Compiled here, only those changed since (a stat per file when none has).
bytecode: | $(BIN)/python
	@$(BIN)/python -m compileall -q src/publisher

java: ## Make sure a Java runtime (for EPUBCheck) is installed
	@command -v java >/dev/null 2>&1 || { echo "Installing Debian default-jre-headless for EPUBCheck"; \
	  $(SUDO) apt-get update -qq && $(APT_INSTALL) default-jre-headless; }

chromium: ## Make sure Debian's Chromium (for DAISY Ace) is installed
	@command -v chromium >/dev/null 2>&1 || { echo "Installing Debian chromium for DAISY Ace"; \
	  $(SUDO) apt-get update -qq && $(APT_INSTALL) chromium; }

daisyplayer: ## Make sure Debian's daisy-player and tmux (the DAISY 2.02 player test) are installed
	@command -v daisy-player >/dev/null 2>&1 && command -v tmux >/dev/null 2>&1 || { \
	  echo "Installing Debian daisy-player and tmux for the DAISY player test"; \
	  $(SUDO) apt-get update -qq && $(APT_INSTALL) daisy-player tmux; }

# DAISY Ace with the puppeteer runner, project-local (Electron's binary cannot be downloaded here)
$(ACE): | chromium
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(APT_INSTALL) nodejs npm; }
	PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix $(ACE_DIR) @daisy/ace-cli@$(ACE_VERSION)

# axe-core, injected into the web pages by tests/test_site.py (which drives Debian's Chromium)
$(AXE):
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(APT_INSTALL) nodejs npm; }
	npm install --silent --no-audit --no-fund --prefix $(AXE_DIR) axe-core@$(AXE_VERSION)

# --- the two commands from the README ------------------------------------------------------
publish: $(VENV)/.stamp-run bytecode ## Set up .venv if needed, then publish every file in sources/ into output/
	$(BIN)/publisher publish $(SOURCES) --output $(OUTPUT)

test: $(VENV)/.stamp-dev bytecode java $(ACE) $(AXE) daisyplayer ## Set up .venv with test tools if needed, then run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# --- everything else -------------------------------------------------------------------------
hostile: $(VENV)/.stamp-dev bytecode java ## The hostile-input suite (hostile sources, EPUBs, SVGs, images, a shared /tmp, full disks, kills)
	$(BIN)/python -m pytest tests/test_hostile.py tests/test_hostile_files.py tests/test_hostile_machine.py $(PYTEST_ARGS)

lint: $(VENV)/.stamp-dev ## ruff (lint + format check), mypy, and the layering contracts (import-linter)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.stamp-dev ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

check: $(VENV)/.stamp-dev java $(ACE) ## EPUBCheck + DAISY Ace + overlay/tag checks on everything in output/
	$(BIN)/publisher check $(OUTPUT)

bench: $(VENV)/.stamp-dev bytecode ## Benchmarks: publish vs raw Piper in one run, intelligibility, Dask cluster vs --jobs
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/cluster.py

clean: ## Remove output/ and caches (keeps .venv)
	rm -rf $(OUTPUT) .cache .pytest_cache .mypy_cache .ruff_cache

distclean: clean ## Also remove .venv
	rm -rf $(VENV)

# --- message catalogues (src/publisher/i18n/locales) -------------------------------------------------
I18N := src/publisher/i18n
i18n: $(VENV)/.stamp-run ## Extract messages (pot), merge them into every .po, compile the .mo files
	$(BIN)/pybabel extract -F $(I18N)/babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ --no-location \
	  --sort-output --omit-header -o $(I18N)/locales/publisher.pot src
	$(BIN)/pybabel update -i $(I18N)/locales/publisher.pot -d $(I18N)/locales -D publisher -w 100 \
	  --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(I18N)/locales -D publisher --statistics
