"""Reliability fixtures: the training tests' real feature days, and child processes run from files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leanops_assets_tests.features.conftest import flight_data, fresh_lake, input_lake_root
from leanops_assets_tests.registry import models
from leanops_assets_tests.training.conftest import feature_days, feature_lake

__all__ = [  # fixtures (and the models helper) shared with the features, training, registry tests
    "feature_days",
    "feature_lake",
    "flight_data",
    "fresh_lake",
    "input_lake_root",
    "models",
]


def start_child(
    folder: Path, name: str, source: str, args: list[str], env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Run `source` as a script file (never `python -c`: pyspark, imported by Great Expectations,
    exits early when __main__ has no file) with the current environment plus `env`.

    stderr goes to a file (read it with `stderr_tail`): a pipe nobody reads while the test waits
    would fill up and stall the child, and a kill would then hit an idle process."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / f"{name}.py"
    script.write_text(source)
    log = folder / f"{name}.{time.monotonic_ns()}.stderr"
    with open(log, "w") as stderr:
        child = subprocess.Popen(
            [sys.executable, str(script), *args],
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    child.stderr_path = log
    return child


def stderr_tail(child: subprocess.Popen, chars: int = 3000) -> str:
    return child.stderr_path.read_text(errors="replace")[-chars:]


def wait_for(child: subprocess.Popen, word: str) -> None:
    """Read the child's next line of stdout and check it is `word` ("ready", "done")."""
    line = child.stdout.readline()
    assert line.strip() == word, f"child said {line!r}: {stderr_tail(child)}"


def time_one_loop(child: subprocess.Popen) -> float:
    """Seconds from the child's "ready" to its first "done": how long one loop of its work takes."""
    wait_for(child, "ready")
    started = time.monotonic()
    wait_for(child, "done")
    return time.monotonic() - started


def kill_while_working(child: subprocess.Popen, seconds: float) -> None:
    """SIGKILL a looping child `seconds` after its "ready"; it must still be at work then."""
    wait_for(child, "ready")
    time.sleep(seconds)
    assert child.poll() is None, f"the child stopped early: {stderr_tail(child)}"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)


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
