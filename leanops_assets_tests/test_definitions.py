"""The code location as users load it: `dagster definitions validate`, and the main job's replay."""

import shutil
import subprocess
import sys
from pathlib import Path

from leanops_assets.settings import REPO_ROOT

VENV_BIN = Path(sys.executable).parent


def _env(leanops_home: Path) -> dict[str, str]:
    import os

    dagster_home = leanops_home / "dagster_home"
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    return {**os.environ, "LEANOPS_HOME": str(leanops_home), "DAGSTER_HOME": str(dagster_home)}


def test_dagster_definitions_validate_passes(leanops_home):
    done = subprocess.run(
        [str(VENV_BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=_env(leanops_home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "All code locations passed validation" in done.stderr + done.stdout


def test_replay_materializes_days_into_the_instance_the_ui_reads(leanops_home):
    env = _env(leanops_home)
    done = subprocess.run(
        [sys.executable, "-m", "leanops_assets.replay", "--start", "2013-01-01", "--days", "2"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "[  2/2] 2013-01-02" in done.stdout
    from dagster import AssetKey, DagsterInstance

    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        materialized = instance.get_materialized_partitions(AssetKey("validated_flights"))
        runs = instance.get_runs()
    assert sorted(materialized) == ["2013-01-01", "2013-01-02"]
    assert {r.job_name for r in runs} == {"daily_pipeline", "reference_data"}


def test_replay_refuses_days_outside_2013():
    done = subprocess.run(
        [sys.executable, "-m", "leanops_assets.replay", "--start", "2013-12-30", "--days", "5"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={"DAGSTER_HOME": "/nonexistent", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode != 0
    assert "outside the partitions" in done.stderr + done.stdout
