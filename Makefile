# Barnkompass – the two commands a newcomer needs:
#   make demo   sets everything up and serves the demo municipality Ekby on http://127.0.0.1:5000
#   make test   sets everything up and runs the whole suite on SQLite, then on PostgreSQL
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := instance/demo.sqlite
DEMO_ENV := BARNKOMPASS_DEMO_MODE=true BARNKOMPASS_DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DB) BARNKOMPASS_INSTANCE_PATH=$(CURDIR)/instance
BARNKOMPASS_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export BARNKOMPASS_TEST_DATABASE_URL

.PHONY: lint chromium demo demo-reset demo-data test test-sqlite test-postgresql bench install install-test translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo-data: install
	@mkdir -p instance
	@$(DEMO_ENV) $(BIN)/barnkompass demo-needs-reload; status=$$?; \
	if [ $$status -eq 0 ]; then \
	  echo "Loading the demo municipality Ekby ..."; \
	  rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm; \
	  $(DEMO_ENV) $(BIN)/barnkompass db upgrade && $(DEMO_ENV) $(BIN)/barnkompass seed-demo; \
	elif [ $$status -eq 10 ]; then \
	  $(DEMO_ENV) $(BIN)/barnkompass db upgrade; \
	else \
	  echo "Could not check the demo database (exit $$status); try 'make demo-reset'"; exit $$status; \
	fi

demo: demo-data
	@echo "Open http://127.0.0.1:5000 and pick a persona (every password is: demo)."
	$(DEMO_ENV) $(BIN)/barnkompass serve --host 127.0.0.1 --port 5000

demo-reset: install
	@mkdir -p instance
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(DEMO_ENV) $(BIN)/barnkompass db upgrade
	$(DEMO_ENV) $(BIN)/barnkompass seed-demo

# The suite runs twice: SQLite (the embedded default), then PostgreSQL (production). Under CI=true
# nothing may be skipped: a missing PostgreSQL fails the run.
# Browser tests drive the system's Chromium (never a downloaded one): installed with apt when we are root.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing Chromium for the browser tests (apt-get install -y chromium)"; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)) || exit 1; \
	  else \
	    echo "Chromium is missing: run 'sudo apt-get install -y chromium' (browser tests are skipped without it; under CI they fail)"; \
	  fi; \
	fi

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-test chromium lint
	@set -o pipefail; start=$$(date +%s); \
	echo "== phase 1: SQLite"; \
	BARNKOMPASS_TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS) || exit $$?; \
	mid=$$(date +%s); \
	if $(BIN)/python -m tests.pg_available; then \
	  echo "== phase 2: PostgreSQL"; \
	  BARNKOMPASS_TEST_DB=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS) || exit $$?; \
	  pg="$$(( $$(date +%s) - mid ))s"; \
	else \
	  if [ "$${CI:-}" = "true" ]; then echo "PostgreSQL is not reachable at $$BARNKOMPASS_TEST_DATABASE_URL: under CI nothing may be skipped."; exit 1; fi; \
	  echo "SKIPPED phase 2: PostgreSQL is not reachable at $$BARNKOMPASS_TEST_DATABASE_URL (start it, or set BARNKOMPASS_TEST_DATABASE_URL)"; \
	  pg="skipped"; \
	fi; \
	end=$$(date +%s); \
	echo "== times: SQLite $$(( mid - start ))s, PostgreSQL $$pg, total $$(( end - start ))s"

test-sqlite: install-test
	BARNKOMPASS_TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgresql: install-test
	BARNKOMPASS_TEST_DB=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS)

# The Child's Plan in figures (statements per request, milliseconds, PDF seconds and size) on a throwaway
# SQLite database; BENCH_ARGS=--postgresql runs it on a PostgreSQL database of its own.
bench: install-test
	$(BIN)/python -m tests.benchmarks.plan_benchmark $(BENCH_ARGS)

# Extract the translatable strings and update the catalogues; then edit the .po files and compile.
translations: install-test
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k "pgettext:1c,2" -k "lazy_pgettext:1c,2" -o coordination/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i coordination/translations/messages.pot -d coordination/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d coordination/translations

clean:
	rm -rf $(VENV) build dist *.egg-info
