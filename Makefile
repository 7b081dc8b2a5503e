# make serve / make test work from a fresh clone: they build .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: venv serve test lint format bench soak wrk browser clean

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

test: $(STAMP) browser
	$(BIN)/ruff check mockjobs tests app.py
	$(BIN)/python -m pytest -n 2 $(ARGS)

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

bench: $(STAMP) wrk
	$(BIN)/python -m bench $(ARGS)

# A real server at 64 connections for a minute, a worker SIGKILLed mid-run; fails on a lost job or a 5xx.
soak: $(STAMP)
	$(BIN)/python -m bench.soak $(ARGS)

clean:
	rm -rf $(VENV) dist build *.egg-info .pytest_cache .ruff_cache
