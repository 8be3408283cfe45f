# Two commands do all the set-up:  `make demo` (the lifecycle on real flights, then the UI)
# and `make test` (lint and the whole test suite). Both create .venv from requirements.lock.
SHELL := /bin/bash
LEANOPS_HOME ?= $(CURDIR)/.leanops
export LEANOPS_HOME
export DAGSTER_HOME := $(LEANOPS_HOME)/dagster_home
# Spark binds to loopback; services started here never listen elsewhere.
export SPARK_LOCAL_IP ?= 127.0.0.1
VENV := .venv/bin
# Two weeks of July met by a champion trained on March 2013 that never retrained since: the
# warm-up, the first champion, the drift the sensor sees, the retrain it requests by itself on
# 07-08 and its promotion or rejection, then the summary, in minutes.
# FIRST_MODEL_UNTIL= (empty) trains the first model on the days just before START instead.
# DATASET=<name> SOURCE=landing replays another dataset's landing files (README: Bring your own
# dataset); a dataset folder outside the package is found through LEANOPS_DATASETS_DIR.
DATASET ?= flights
SOURCE ?= bundled
START ?= 2013-07-01
DAYS ?= 14
WARMUP_DAYS ?= 35
FIRST_MODEL_UNTIL ?= 2013-03-31
REPLAY_ARGS = --dataset $(DATASET) --source $(SOURCE) --start $(START) --days $(DAYS) \
	--warmup-days $(WARMUP_DAYS) $(if $(FIRST_MODEL_UNTIL),--first-model-until $(FIRST_MODEL_UNTIL))
PORT ?= 3000
BENCH_ARGS ?=

.PHONY: setup demo replay ui test lint home test-services bench

setup:
	@bash scripts/setup.sh

home:
	@mkdir -p "$(DAGSTER_HOME)" && cp dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"

replay: setup home
	$(VENV)/python -m leanops_assets.replay $(REPLAY_ARGS)

ui: setup home
	$(VENV)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

# The UI is served even when some days failed: it shows why.
demo: setup home
	$(VENV)/python -m leanops_assets.replay $(REPLAY_ARGS) || \
		echo "leanops: the replay reported failures; the UI shows them"
	$(VENV)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/hadolint Dockerfile

# Programs the deployment tests run for real, from Debian's packages: PostgreSQL, Chromium, and
# podman, buildah, runc, debootstrap and podman-compose to build and run the image (no Docker engine).
test-services:
	@bash scripts/services/postgres.sh install
	@bash scripts/services/chromium.sh install >/dev/null
	@bash scripts/services/containers.sh install

test: lint test-services
	$(VENV)/pytest

# Every measure of benchmarks/run_all.py (overhead, load, launch, scale, features, ...), in one
# report under benchmarks/results/, then the retraining policies (policies.md);
# BENCH_ARGS=--quick for a short run, --only NAME,... for some.
bench: setup
	$(VENV)/python benchmarks/run_all.py $(BENCH_ARGS)
	$(VENV)/python benchmarks/policies.py $(filter --quick,$(BENCH_ARGS))
