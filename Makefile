# SatuPintu — two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python >= 3.12 on PATH (Django 6.1 needs it).
PYTHON ?= $(shell for p in python3.12 python3.13 python3.14 python3 python; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1 && { echo $$p; break; }; \
	done)
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.8
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run serve worker test test-pg bench check-python

help:
	@echo "make run   install, migrate, load the MPP Pekanbaru demo profile, serve on http://$(HOST):$(PORT)"
	@echo "make test  run the whole test suite (SQLite; set DATABASE_URL=postgres://... for PostgreSQL)"

check-python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: SatuPintu needs Python >= 3.12 (Django 6.1). Install python3.12 or set PYTHON=/path/to/python3.12." >&2; exit 1; fi

$(VENV)/.installed: pyproject.toml uv.lock | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(VENV)/bin/uv sync --locked --inexact --quiet --python $(PY)
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_profile mpp-pekanbaru --demo-accounts
	@$(PY) manage.py demo_accounts
	@echo "Serving on http://$(HOST):$(PORT) (task worker and schedule running alongside; Ctrl+C stops all)"
	@trap 'kill 0' EXIT INT TERM; \
	  $(PY) manage.py db_worker --no-reload & \
	  $(PY) manage.py run_schedule & \
	  $(PY) manage.py runserver --noreload $(HOST):$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/catalog_search.py
