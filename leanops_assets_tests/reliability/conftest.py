"""Reliability fixtures: the training tests' real feature days, and child processes run from files."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _load(name: str, path: Path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


TESTS = Path(__file__).resolve().parents[1]
_training = _load("leanops_training_conftest", TESTS / "training" / "conftest.py")
feature_days = _training.feature_days
feature_lake = _training.feature_lake
models = _load("leanops_registry_models", TESTS / "registry" / "models.py")


def start_child(
    folder: Path, name: str, source: str, args: list[str], env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Run `source` as a script file (never `python -c`: pyspark, imported by Great Expectations,
    exits early when __main__ has no file) with the current environment plus `env`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / f"{name}.py"
    script.write_text(source)
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def child_factory(tmp_path):
    """start_child, killing (SIGKILL) whatever the test left running."""
    started: list[subprocess.Popen] = []

    def start(name: str, source: str, args: list[str], env: dict[str, str] | None = None):
        child = start_child(tmp_path / "scripts", name, source, args, env)
        started.append(child)
        return child

    yield start
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)


_features = _load("leanops_features_conftest", TESTS / "features" / "conftest.py")
flight_data = _features.flight_data
input_lake_root = _features.input_lake_root
fresh_lake = _features.fresh_lake
