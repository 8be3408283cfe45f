"""The dg CLI from the repository root with the venv active: `dg check defs`, `dg list defs`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from leanops_assets.settings import REPO_ROOT

from .conftest import services

pytestmark = pytest.mark.slow

VENV_BIN = os.path.dirname(sys.executable)


def _dg(*args: str, home) -> subprocess.CompletedProcess:
    # What `source .venv/bin/activate` does, for a child process.
    env = {
        **os.environ,
        "VIRTUAL_ENV": os.path.dirname(VENV_BIN),
        "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
        "LEANOPS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),
    }
    return subprocess.run(
        [os.path.join(VENV_BIN, "dg"), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dg_check_defs_passes(leanops_home):
    done = _dg("check", "defs", home=leanops_home)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "All definitions loaded successfully" in done.stdout + done.stderr


def test_dg_list_defs_shows_every_definition(leanops_home):
    done = _dg("list", "defs", "--json", home=leanops_home)
    assert done.returncode == 0, done.stderr[-3000:]
    listed = json.loads(done.stdout)
    expected = services.expected_definitions()
    assert {a["asset_key"] for a in listed["assets"]} == expected["assets"]
    assert {c["key"] for c in listed["asset_checks"]} == expected["asset_checks"]
    assert {j["name"] for j in listed["jobs"]} == expected["jobs"]
    assert {s["name"] for s in listed["schedules"]} == expected["schedules"]
    assert {s["name"] for s in listed["sensors"]} == expected["sensors"]
    listed_edges = {(dep, a["asset_key"]) for a in listed["assets"] for dep in a["dependency_keys"]}
    assert listed_edges == expected["edges"]
