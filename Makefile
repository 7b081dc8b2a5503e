# make serve / make test work from a fresh clone: they build .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: venv serve test lint format bench wrk browser redis clean node clients clients-js clients-arcgis

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)
	$(BIN)/mockjobs serve $(ARGS)

# Debian's chromium drives the HTML tests through Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; browser tests will be skipped"; }

# Real clients of tests/clients (README: Clients tested). ArcGIS REST JS from npm at the
# versions of the committed lockfile (node_modules in the clone, npm's cache in ~/.npm); Esri's
# `arcgis` in a venv of its own, cached outside the clone and rebuilt only when missing.
JS_CLIENTS   := tests/clients/js
JS_STAMP     := $(JS_CLIENTS)/node_modules/.installed
ARCGIS_VENV  ?= $(HOME)/.cache/mockjobs/arcgis-venv
ARCGIS_STAMP := $(ARCGIS_VENV)/.installed-arcgis-2.4.4

node:
	@command -v node >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null; } \
	  || { echo "error: could not install node (apt-get install nodejs)"; exit 1; }
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; } \
	  || { echo "error: could not install npm (apt-get install npm)"; exit 1; }

$(JS_STAMP): $(JS_CLIENTS)/package.json $(JS_CLIENTS)/package-lock.json | node
	cd $(JS_CLIENTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(ARCGIS_STAMP):
	rm -rf $(ARCGIS_VENV)
	$(PYTHON) -m venv $(ARCGIS_VENV)
	$(ARCGIS_VENV)/bin/pip install -q --upgrade pip
	$(ARCGIS_VENV)/bin/pip install -q 'arcgis==2.4.4' six
	touch $@

clients-js: $(JS_STAMP)
clients-arcgis: $(ARCGIS_STAMP)
clients: clients-js clients-arcgis


# Debian's redis-server: the tests start their own on a free loopback port (never a system one).
redis:
	@command -v redis-server >/dev/null 2>&1 || test -x /usr/bin/redis-server || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
	  || { echo "error: could not install redis-server (apt-get install redis-server)"; exit 1; }; }

test: $(STAMP) browser redis clients
	$(BIN)/ruff check mockjobs tests app.py
	REQUIRE_CLIENTS=1 ARCGIS_VENV=$(ARCGIS_VENV) $(BIN)/python -m pytest -n 2 $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mockjobs tests app.py
	$(BIN)/ruff format --check mockjobs tests app.py

format: $(STAMP)
	$(BIN)/ruff format mockjobs tests app.py
	$(BIN)/ruff check --fix mockjobs tests app.py

# Debian's wrk is the load generator of the bench (`make bench ARGS=--quick` for a smoke run).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
	  || { echo "error: could not install wrk (apt-get install wrk)"; exit 1; }; }

bench: $(STAMP) wrk redis
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) dist build *.egg-info .pytest_cache .ruff_cache $(JS_CLIENTS)/node_modules
