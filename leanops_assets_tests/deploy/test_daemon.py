"""The real `dagster-daemon run` retrains by itself: days from a landing folder are processed into a
temporary Dagster home, a January champion scores 1 and 8 July (real drift: weather and
late rates), then the daemon process's own sensor requests the retrain, its run queue launches it,
and the promotion moves the champion alias. Then a corrected file for 8 July is delivered and
landed, and the daemon's own automation tick rebuilds that day's validated rows, features,
predictions and drift report. No daemon code runs in the test process.
The days and the champion are drift_loop's; test_stack.py runs the same loop in containers."""

from __future__ import annotations

import os
import shutil
import subprocess

import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests.deploy import drift_loop, services
from leanops_assets_tests.deploy.drift_loop import JANUARY, JULY, SCORED, SUMMER_FEATURES

LANDING = {"resources": {"source": {"config": {"kind": "landing"}}}}
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run(defs, instance, job: str, assets=None, partition=None, days=None, config=None):
    from dagster import AssetKey

    tags = {}
    if days:
        tags = {
            "dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1],
        }
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance,
        partition_key=partition,
        tags=tags,
        run_config={**LANDING, **QUIET, **(config or {})},
        asset_selection=None if assets is None else [AssetKey(a) for a in assets],
        raise_on_error=False,
    )
    assert result.success, f"{job} {partition or days} failed"


# What the automation rebuilds for a corrected day whose later days have no features yet.
FOLLOWERS = ["validated_flights", "flight_features", "batch_predictions", "drift_report"]
CORRECTED_ROWS = 979  # 8 July 2013 has 1,004 departures; the corrected file drops 25 of them


def redeliver_a_corrected_day(defs, instance, home, day: str):
    """Replaces the day's landing file with a corrected one and lands it (as the daily schedule
    would); returns a probe of what the daemon's automation has rebuilt since, with its runs."""
    path = home / "landing" / "flights" / f"flights_{day}.csv"
    frame = pd.read_csv(path)
    assert len(frame) == CORRECTED_ROWS + 25
    frame.head(CORRECTED_ROWS).to_csv(path, index=False)
    keys = [AssetKey(name) for name in FOLLOWERS]
    before = {key: _latest_storage_id(instance, key, day) for key in keys}
    run(defs, instance, "daily_pipeline", ["raw_flights"], partition=day)

    def rebuilt():
        newer = {}
        for key in keys:
            record = _latest_record(instance, key, day)
            if record is None or record.storage_id <= before[key]:
                return None
            newer[key] = instance.get_run_by_id(record.run_id)
        return newer

    return rebuilt


def _latest_record(instance, key, day: str):
    from dagster import AssetRecordsFilter

    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1, ascending=False
    ).records
    return records[0] if records else None


def _latest_storage_id(instance, key, day: str) -> int:
    record = _latest_record(instance, key, day)
    return record.storage_id if record else 0


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_daemon_process_requests_launches_and_promotes_a_retrain(
    leanops_home, tmp_path, monkeypatch
):
    from leanops_assets.dataset import bundled_dataset
    from leanops_assets.definitions import defs
    from leanops_assets.replay import champion_version

    for key, value in drift_loop.ENV.items():
        monkeypatch.setenv(key, value)
    shutil.copy(REPO_ROOT / "dagster.yaml", leanops_home / "dagster_home" / "dagster.yaml")
    drift_loop.land(leanops_home, drift_loop.LANDED)

    instance = DagsterInstance.get()
    run(defs, instance, "reference_data")
    # Landing and validation day by day; features as one single-run backfill per period.
    for day in drift_loop.LANDED:
        run(defs, instance, "daily_pipeline", drift_loop.DATA_ASSETS, partition=day)
    run(defs, instance, "daily_pipeline", ["flight_features"], days=JANUARY)
    training = {"ops": {"training_set": {"config": drift_loop.FIRST_CHAMPION_WINDOW}}}
    run(defs, instance, "retraining_job", config=training)
    assert champion_version(bundled_dataset()) == "1"
    run(defs, instance, "daily_pipeline", ["flight_features"], days=SUMMER_FEATURES)
    for day in SCORED:
        run(defs, instance, "daily_pipeline", ["batch_predictions", "drift_report"], partition=day)
    # The rest of 8 July's drift window is scored, as in daily operation: the automation rebuilds
    # a drift report only when every day of its window has predictions.
    for day in [d for d in JULY if d not in SCORED]:
        run(defs, instance, "daily_pipeline", ["batch_predictions"], partition=day)
    assert drift_loop.sensor_runs(instance) == []

    log = tmp_path / "daemon.log"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with log.open("w") as sink:
        daemon = subprocess.Popen(
            [str(services.VENV_BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=REPO_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        services.wait_until(
            lambda: drift_loop.sensor_runs(instance), 300, "the sensor's run request", log
        )
        [retrain] = drift_loop.sensor_runs(instance)

        def finished():
            return instance.get_run_by_id(retrain.run_id).is_finished

        services.wait_until(finished, 900, "the retrain to finish", log)
        corrected = redeliver_a_corrected_day(defs, instance, leanops_home, SCORED[-1])
        services.wait_until(corrected, 600, "the automation to rebuild the corrected day", log)
    finally:
        services.stop_process_group(daemon)
    rebuilt = corrected()
    assert {key.to_user_string() for key in rebuilt} == set(FOLLOWERS)
    assert all(run.tags.get("dagster/from_automation_condition") for run in rebuilt.values())
    lake = leanops_home / "lake"
    kept = [
        len(pd.read_parquet(lake / stage / "flights" / f"date={SCORED[-1]}" / "part.parquet"))
        for stage in ("validated", "quarantine")
    ]
    assert sum(kept) == CORRECTED_ROWS  # every row of the corrected file, none of the old one

    done = instance.get_run_by_id(retrain.run_id)
    assert done.status == DagsterRunStatus.SUCCESS, log.read_text()[-4000:]
    drift_loop.assert_requested_by_the_sensor_through_the_queue(instance, done)
    from leanops_assets.dataset import bundled_dataset
    from leanops_assets.resources import MlflowResource
    from leanops_assets.training.tracking import model_name_for

    settings = MlflowResource()
    assert champion_version(bundled_dataset()) == "2", drift_loop.registry_summary(
        settings.client(), model_name_for(settings, bundled_dataset())
    )
