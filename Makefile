# Two commands do all the set-up:  `make demo` (the lifecycle on real flights, then the UI)
# and `make test` (lint and the whole test suite). Both create .venv from requirements.lock.
SHELL := /bin/bash
LEANOPS_HOME ?= $(CURDIR)/.leanops
export LEANOPS_HOME
export DAGSTER_HOME := $(LEANOPS_HOME)/dagster_home
# Spark binds to loopback; services started here never listen elsewhere.
export SPARK_LOCAL_IP ?= 127.0.0.1
VENV := .venv/bin
START ?= 2013-01-01
DAYS ?= 14
PORT ?= 3000

.PHONY: setup demo replay ui test lint home

setup:
	@bash scripts/setup.sh

home:
	@mkdir -p "$(DAGSTER_HOME)" && cp dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"

replay: setup home
	$(VENV)/python -m leanops_assets.replay --start $(START) --days $(DAYS)

ui: setup home
	$(VENV)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

demo: replay ui

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

test: lint
	$(VENV)/pytest
