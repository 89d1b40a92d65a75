# Beatbook — the two commands: `make run` and `make test`. Everything else is setup they share.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test test-fast bench lint-checks setup setup-dev assets translations messages browser db demo lint clean

run: setup db demo
	@$(FLASK) demo logins
	@echo "Serving Beatbook on http://$(HOST):$(PORT) (web server and job worker)"
	$(BIN)/python scripts/serve.py --host $(HOST) --port $(PORT)

# What CI checks: the same lint as `make lint`, then the whole suite (both engines with TEST_DATABASE_URL).
test: setup-dev browser
	$(MAKE) --no-print-directory lint-checks
	scripts/run_tests.sh $(PYTEST_ARGS)

# The inner loop: no browser, SQLite only (TEST_DATABASE_URL unset), stop at the first failure.
test-fast: setup-dev
	TEST_DATABASE_URL= $(BIN)/pytest -x -q -m 'not browser' $(PYTEST_ARGS)

# Server-side figures with references from the same run (bench/README.md); needs PostgreSQL on 127.0.0.1:5432.
# wrk comes from Debian; Chromium (page weight) as for `make test`. BENCH_ARGS=--quick for a smoke run.
bench: setup-dev browser
	command -v wrk >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk)
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

setup: $(VENV)/.installed assets translations

setup-dev: setup $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Front-end libraries come from npm (package.json + lock) and are copied, never edited, into static/vendor/.
assets: static/vendor/.built

static/vendor/.built: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d webapp/translations

browser: $(VENV)/.installed-dev
	$(BIN)/python scripts/ensure_browser.py

db: setup
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo load --if-empty

# ruff (incl. complexity) and the import contracts (pyproject.toml [tool.importlinter]).
lint: setup-dev
	$(MAKE) --no-print-directory lint-checks

lint-checks:
	$(BIN)/ruff check webapp tests scripts bench
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules static/vendor

# After changing UI strings: refresh the catalogue template and the zh-CN catalogue, then translate.
messages: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o webapp/translations/messages.pot webapp templates templates/_layouts templates/_macros
	$(BIN)/pybabel update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching
