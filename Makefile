# One-word targets for the routine jobs. `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CACHE_DIR ?= $(HOME)/.cache/bangfu
# The virtual environment lives outside the clone, keyed by the dependency lists in
# pyproject.toml: a changed list builds a new environment, an unchanged one is reused.
DEPS_HASH := $(shell python3 -c 'import tomllib,hashlib,json; p=tomllib.load(open("pyproject.toml","rb"))["project"]; print(hashlib.sha256(json.dumps([p["dependencies"], p.get("optional-dependencies", {})], sort_keys=True).encode()).hexdigest()[:12])')
VENV := $(CACHE_DIR)/venv-$(DEPS_HASH)
PY := $(VENV)/bin/python
BANGFU := $(VENV)/bin/bangfu
SERVICES := python3 ops/services.py

# Tests get their own Neo4j and Redis (other ports, other state) so they never wipe the demo.
TEST_ENV := BANGFU_STATE_DIR=$(CURDIR)/.local/test BANGFU_NEO4J_PORT=7688 BANGFU_REDIS_PORT=6380 \
	BANGFU_NEO4J_HEAP=2g BANGFU_NEO4J_PAGECACHE_MIB=1024 BANGFU_ENV_FILE=$(CURDIR)/.local/test/secrets.env
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000

.PHONY: help venv up down status demo seed test unit lint typecheck fmt bench clean worker beat

help:
	@echo "make demo   - set up everything, seed a county, serve the app (Ctrl-C stops)"
	@echo "make test   - set up everything, run the whole test suite against real services"
	@echo "make up / down / status - local Neo4j and Redis in the background"
	@echo "make worker / beat - a Celery worker / the nightly schedule in the foreground"
	@echo "make lint / typecheck / fmt / unit / bench / clean"

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed
	@# Re-point the shared environment at this clone (cheap; deps are already there).
	@$(PY) -m pip install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1

up: venv
	$(SERVICES) sysdeps
	$(SERVICES) up
	$(BANGFU) schema

down:
	$(SERVICES) down

status:
	$(SERVICES) status

seed: up
	$(BANGFU) seed --scale county --seed 1 --csv-dir .local/data/county

demo: seed
	@$(BANGFU) user demo
	@$(PY) -m api.demo --host $(DEMO_HOST) --port $(DEMO_PORT)

# The test services are stopped afterwards so that another clone's `make test` finds the ports
# free; starting them again costs ~10 s.
test: venv
	$(SERVICES) sysdeps
	$(TEST_ENV) $(SERVICES) up
	$(TEST_ENV) $(PY) -m pytest tests; status=$$?; $(TEST_ENV) $(SERVICES) down >/dev/null; exit $$status

unit: venv
	$(PY) -m pytest tests/unit -q

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy bangfu graph matching ml verification api workers

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: venv
	$(VENV)/bin/celery -A workers.celery_app worker --loglevel=INFO --concurrency=2

beat: venv
	$(VENV)/bin/celery -A workers.celery_app beat --loglevel=INFO

bench: venv
	$(PY) bench/load_province.py --scale province

clean: down
	rm -rf .local
