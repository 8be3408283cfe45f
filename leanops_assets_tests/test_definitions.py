"""The code location as users load it: `dagster definitions validate`, and the main job's replay."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests import expected_lineage

VENV_BIN = Path(sys.executable).parent


def _env(leanops_home: Path) -> dict[str, str]:
    import os

    dagster_home = leanops_home / "dagster_home"
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return {**inherited, "LEANOPS_HOME": str(leanops_home), "DAGSTER_HOME": str(dagster_home)}


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


def _lineage_of(defs) -> dict:
    """What the definitions hold, in expected_lineage's shape."""
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    return {
        "assets": {k.to_user_string() for k in keys},
        "asset_checks": {
            f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys
        },
        "jobs": {job.name for job in defs.jobs or []},
        "schedules": {s.name for s in defs.schedules or []},
        "sensors": {s.name for s in defs.get_repository_def().sensor_defs},
        "edges": {
            (parent.to_user_string(), k.to_user_string())
            for k in keys
            for parent in graph.get(k).parent_keys
        },
        "groups": {k.to_user_string(): graph.get(k).group_name for k in keys},
        "daily": {k.to_user_string() for k in keys if graph.get(k).is_partitioned},
    }


def test_definitions_hold_the_expected_lineage():
    from leanops_assets.definitions import defs

    found = _lineage_of(defs)
    expected = {
        **expected_lineage.expected_definitions(),
        "daily": set(expected_lineage.daily_assets()),
    }
    for part, want in expected.items():
        got = found[part]
        if isinstance(want, set):
            assert got == want, (
                f"{part}: missing {sorted(want - got)}, unexpected {sorted(got - want)}"
            )
        else:
            assert got == want, part


# Every code-location load and every launched run pays for what the definitions import.
LOADED_ONLY_BY_RUNS = [
    "pandas",
    "pyarrow",
    "numpy",
    "sklearn",
    "mlflow",
    "evidently",
    "optuna",
    "great_expectations",
    "matplotlib",
]


def test_loading_the_definitions_leaves_heavy_libraries_to_the_runs(leanops_home, tmp_path):
    script = tmp_path / "load.py"
    script.write_text(
        "import json, sys\n"
        "from leanops_assets.definitions import defs\n"
        "defs.resolve_all_job_defs()\n"
        f"print(json.dumps([m for m in {LOADED_ONLY_BY_RUNS!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        env=_env(leanops_home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def _replay(env, *args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "leanops_assets.replay", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_data_replay_lands_its_look_back_days_first_into_the_instance_the_ui_reads(leanops_home):
    # A fresh home, a week after the data's first day: the first day's features read the 7 days
    # before it, which land first; no warm-up (35 days before, outside the data) is needed.
    env = _env(leanops_home)
    done = _replay(env, "--start", "2013-01-08", "--days", "2", "--until", "features")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "[look-back 1/7] 2013-01-01" in done.stdout
    assert "[  2/2] 2013-01-09" in done.stdout
    from dagster import AssetKey, DagsterInstance

    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        validated = instance.get_materialized_partitions(AssetKey("validated_flights"))
        featurized = instance.get_materialized_partitions(AssetKey("flight_features"))
        runs = instance.get_runs()
    assert sorted(validated) == [f"2013-01-{d:02d}" for d in range(1, 10)]
    assert sorted(featurized) == ["2013-01-08", "2013-01-09"]
    assert {r.job_name for r in runs} == {"daily_pipeline", "reference_data"}


def test_replay_refuses_days_before_the_first_day():
    done = subprocess.run(
        [sys.executable, "-m", "leanops_assets.replay", "--start", "2012-12-30", "--days", "5"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={"DAGSTER_HOME": "/nonexistent", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode != 0
    assert "outside the partitions" in done.stderr + done.stdout


def test_the_automation_sensor_runs_by_default_over_the_daily_assets():
    from dagster import AssetKey, DefaultSensorStatus

    from leanops_assets.definitions import defs

    sensor = defs.get_sensor_def("follow_parents_sensor")
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    targeted = sensor.asset_selection.resolve(defs.resolve_asset_graph())
    daily = ["validated_flights", "flight_features", "batch_predictions", "drift_report"]
    assert {AssetKey(name) for name in daily} <= targeted


def test_the_drift_sensor_ticks_at_most_every_5_s_live_and_every_second_in_a_replay(monkeypatch):
    import pytest

    from leanops_assets import replay
    from leanops_assets.dataset import bundled_dataset
    from leanops_assets.dataset_defs import DRIFT_SENSOR_INTERVAL_ENV, build_dataset_defs

    def interval() -> int:
        sensors = build_dataset_defs(bundled_dataset()).sensors
        return next(
            s for s in sensors if s.name == "drift_retraining_sensor"
        ).minimum_interval_seconds

    monkeypatch.delenv(DRIFT_SENSOR_INTERVAL_ENV, raising=False)
    assert interval() == 5
    monkeypatch.setenv(DRIFT_SENSOR_INTERVAL_ENV, str(replay.REPLAY_SENSOR_INTERVAL_SECONDS))
    assert interval() == 1
    monkeypatch.setenv(DRIFT_SENSOR_INTERVAL_ENV, "0.5")
    with pytest.raises(ValueError, match="LEANOPS_DRIFT_SENSOR_INTERVAL_SECONDS='0.5'"):
        interval()
