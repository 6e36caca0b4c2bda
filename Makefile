# CareDispatch: `make demo` serves a seeded demo district; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# numba's compiled search, compiled again when its sources change (numba's own cache does not
# notice a change in sisrcore.py compiled into fleet.py).
WARM   := $(VENV)/.warm-$(shell cat routing/sisrcore.py routing/fleet.py | cksum | cut -d' ' -f1)
PORT   ?= 5000
export PORT

.PHONY: install demo serve worker test lint bench fuzz clean errors-doc

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "CareDispatch needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet -e '.[fast]' \
	  || echo "numba not installed: plain VRPTW days get the pure-Python search"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

$(WARM): $(STAMP) routing/sisrcore.py routing/fleet.py
	$(PY) -c 'from routing import fleet; fleet.warm()' \
	  || echo "numba not installed: plain VRPTW days get the pure-Python search"
	rm -f $(VENV)/.warm-* && touch $(WARM)

install: $(STAMP) $(WARM)

## demo: install, migrate, seed the demo district once, plan today, serve on 127.0.0.1:$(PORT)
demo: $(STAMP) $(WARM)
	CAREDISPATCH_DEMO=1 $(PY) -m dispatch.cli demo-setup
	CAREDISPATCH_DEMO=1 $(PY) -m dispatch.cli logins
	CAREDISPATCH_DEMO=1 $(VENV)/bin/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 --no-control-socket \
	  --access-logfile - wsgi:app

serve: $(STAMP)
	$(VENV)/bin/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 --no-control-socket wsgi:app

worker: $(STAMP)
	$(PY) -m dispatch.cli worker

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

## test: everything the tests need (PostgreSQL and Redis on 127.0.0.1), then the whole suite
test: $(STAMP) $(WARM) lint
	$(PY) -m pytest

## fuzz: schemathesis with many more examples than make test (every operation, role, database)
fuzz: $(STAMP)
	SCHEMATHESIS_EXAMPLES=$${SCHEMATHESIS_EXAMPLES:-60} $(PY) -m pytest tests/api/test_schemathesis.py -q

## errors-doc: docs/errors.md from the error catalogue (dispatch/error_codes/)
errors-doc: $(STAMP)
	$(PY) -m dispatch.error_codes.doc > docs/errors.md

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
