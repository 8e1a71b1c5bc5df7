# learnnet — the two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
# The first Python >= 3.11 on the PATH (python3 itself when new enough); or make run PYTHON=…
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python3 python3.14 python3.13 python3.12 python3.11; do \
  if $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
  echo $$p; break; fi; done)
endif
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app learnnet
STAMP := $(VENV)/.installed
CATALOGS := $(wildcard learnnet/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint format bench install translations extract-messages browser clean nodejs js pdf-libs screenshots python-check

RUN_STAMP := $(VENV)/.installed-run

## make install: everything, with the test and development tools (what `make test` needs).
install: $(STAMP)

$(STAMP): pyproject.toml | python-check
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev,production]'
	touch $(STAMP) $(RUN_STAMP)

## Only what running needs (`make run`); a full install counts too.
$(RUN_STAMP): pyproject.toml | python-check
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then touch $@; else \
	  $(PYTHON) -m venv $(VENV) && \
	  $(PY) -m pip install --quiet --upgrade pip && \
	  $(PY) -m pip install --quiet -e . && touch $@; fi

## A clear message instead of a failing pip when no Python >= 3.11 is found.
python-check:
	@if [ ! -x $(PY) ] && ! $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	    >/dev/null 2>&1; then \
	  echo "learnnet needs Python 3.11 or newer ($(if $(PYTHON),$(PYTHON) is not one,none on the PATH))."; \
	  echo "Install one (macOS: brew install python@3.12; Debian/Ubuntu: apt install python3), or"; \
	  echo "name it: make run PYTHON=/path/to/python3.12"; exit 1; fi

translations: $(COMPILED)

learnnet/translations/%/LC_MESSAGES/messages.mo: learnnet/translations/%/LC_MESSAGES/messages.po | $(RUN_STAMP)
	$(VENV)/bin/pybabel compile -i $< -o $@ --statistics 2>&1 | tail -1

## make run: set up, migrate, load the demo when empty, serve on http://127.0.0.1:5000
## (another port: make run PORT=5050 — port 5000 is taken on many Macs). No root and no
## system packages: on macOS and any Linux with Python >= 3.11. Without Pango (WeasyPrint's
## library) the PDF links say what to install; their print versions work.
run: $(RUN_STAMP) translations
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@echo
	@echo "  learnnet runs at http://$(HOST):$(PORT)/"
	@echo "  Demo logins:"
	@$(FLASK) demo --logins | sed 's/^/    /'
	@echo "  Another port: make run PORT=5050. Start the demo over: $(FLASK) demo --reset"
	@echo "  Demo member's personal link (no password):"
	@LEARNNET_BASE_URL=http://$(HOST):$(PORT) $(FLASK) member-link --demo | sed 's/^/    /'
	@echo "  Mail is written to instance/outbox/ as .eml files by the mail-worker beside the app."
	@echo
	@# The mail-worker runs in the background and stops when the app stops (Ctrl-C).
	@$(FLASK) mail-worker & worker=$$!; \
	  $(FLASK) run --host $(HOST) --port $(PORT) & app=$$!; \
	  trap 'kill $$app $$worker 2>/dev/null; wait $$app $$worker 2>/dev/null' EXIT INT TERM; \
	  wait $$app

## make test: set up and run the whole suite (SQLite; PostgreSQL too when LEARNNET_TEST_DATABASE_URL is set),
## one pytest worker per core (TEST_WORKERS=0 runs it in one process); a test file stays on one worker.
TEST_WORKERS ?= auto
test: install translations browser js pdf-libs
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## Browser tests drive Debian's chromium; install it when missing (needs root or sudo).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

## WeasyPrint (PDF certificates) needs Pango, HarfBuzz's subsetter and fonts; install them when
## missing (Debian/Ubuntu, needs root or sudo). Only `make test` needs them (the PDF tests);
## `make run` works without (learnnet/pdf.py gives the command for other systems).
pdf-libs:
	@if ! /sbin/ldconfig -p | grep -q 'libpangoft2-1.0.so.0' \
	  || ! /sbin/ldconfig -p | grep -q 'libharfbuzz-subset.so.0' \
	  || [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
	  echo "Installing Debian's Pango, HarfBuzz and fonts for the PDF certificates…"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation >/dev/null; \
	fi

JS := tests/js
JS_STAMP := $(JS)/node_modules/.package-lock.json

## The iCalendar tests also parse with Mozilla's ical.js under node; install Debian's nodejs and npm when node is missing (needs root or sudo).
nodejs:
	@if ! command -v node >/dev/null 2>&1; then \
	  echo "Installing Debian's nodejs and npm for the iCalendar tests…"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; \
	fi

## tests/js/node_modules: installed from package-lock.json when missing or older than it.
js: $(JS_STAMP)

$(JS_STAMP): $(JS)/package-lock.json $(JS)/package.json | nodejs
	npm ci --prefix $(JS) --no-audit --no-fund
	@touch $@

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r learnnet

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install translations
	$(PY) -m tests.bench.run

## make screenshots: the README's pictures in docs/img/, from the demo in Chromium (Dutch; phone 375 px, others 1280 px).
screenshots: install translations browser
	$(PY) -m tests.screenshots

## After changing user-facing strings: extract them and merge into the catalogues.
extract-messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o learnnet/translations/messages.pot --no-location --sort-output .
	$(VENV)/bin/pybabel update -i learnnet/translations/messages.pot -d learnnet/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(JS)/node_modules
