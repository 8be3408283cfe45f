"""The real `dagster-daemon run` retrains by itself: days from a landing folder are processed into a
temporary Dagster home, a January champion scores 1 and 8 July (real drift: weather and
late rates), then the daemon process's own sensor requests the retrain, its run queue launches it,
and the promotion moves the champion alias. No daemon code runs in the test process."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests.deploy import services

LANDING = {"resources": {"source": {"config": {"kind": "landing"}}}}
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
DATA_ASSETS = ["raw_flights", "raw_weather", "validated_flights"]
JULY = [f"2013-07-0{d}" for d in range(1, 9)]
# The policy wants two independent 7-day windows breaching: reports on 1 and 8 July.
SCORED = ["2013-07-01", "2013-07-08"]


def day_range(first: str, last: str) -> list[str]:
    from datetime import date, timedelta

    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def land(home, days: list[str]) -> None:
    """The bundled days, delivered as CSV files into the landing folder."""
    from leanops_assets.datasets.flights.source import bundled_day, bundled_table

    for dataset in ("flights", "weather"):
        folder = home / "landing" / dataset
        folder.mkdir(parents=True, exist_ok=True)
        for day in days:
            bundled_day(dataset, day).to_csv(folder / f"{dataset}_{day}.csv", index=False)
    (home / "landing" / "planes").mkdir(parents=True, exist_ok=True)
    bundled_table("planes").to_csv(home / "landing" / "planes" / "planes.csv", index=False)


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


def sensor_runs(instance):
    return instance.get_runs(RunsFilter(tags={"dagster/sensor_name": "drift_retraining_sensor"}))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_daemon_process_requests_launches_and_promotes_a_retrain(
    leanops_home, tmp_path, monkeypatch
):
    from leanops_assets.definitions import defs
    from leanops_assets.replay import champion_version

    monkeypatch.setenv("LEANOPS_TUNING_TRIALS", "2")
    # The first model trains on 12 January days; the promotion floor is configuration.
    monkeypatch.setenv("LEANOPS_PROMOTION_AUC_FLOOR", "0.55")
    shutil.copy(REPO_ROOT / "dagster.yaml", leanops_home / "dagster_home" / "dagster.yaml")
    january = day_range("2013-01-01", "2013-01-14")
    june = day_range("2013-06-10", "2013-06-30")  # a week of look-back, then features
    land(leanops_home, january + june + JULY)

    instance = DagsterInstance.get()
    run(defs, instance, "reference_data")
    # Landing and validation day by day; features as one single-run backfill per period.
    for day in january + june + JULY:
        run(defs, instance, "daily_pipeline", DATA_ASSETS, partition=day)
    run(defs, instance, "daily_pipeline", ["flight_features"], days=january)
    training = {"window_days": 14, "end_day": "2013-01-14", "validation_days": 2, "holdout_days": 2}
    run(defs, instance, "retraining_job", config={"ops": {"training_set": {"config": training}}})
    assert champion_version() == "1"
    run(defs, instance, "daily_pipeline", ["flight_features"], days=june[7:] + JULY)
    for day in SCORED:
        run(defs, instance, "daily_pipeline", ["batch_predictions", "drift_report"], partition=day)
    assert sensor_runs(instance) == []

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
        services.wait_until(lambda: sensor_runs(instance), 300, "the sensor's run request", log)
        [retrain] = sensor_runs(instance)
        assert retrain.job_name == "retraining_job"
        assert retrain.tags["dagster/run_key"] == "retrain-2013-07-08-1"
        assert retrain.tags["leanops/drift_trigger_day"] == "2013-07-08"

        def finished():
            return instance.get_run_by_id(retrain.run_id).is_finished

        services.wait_until(finished, 900, "the retrain to finish", log)
    finally:
        services.stop_process_group(daemon)

    done = instance.get_run_by_id(retrain.run_id)
    assert done.status == DagsterRunStatus.SUCCESS, log.read_text()[-4000:]
    # Through the run queue: enqueued by the sensor, then launched (starting) by the daemon.
    kinds = {
        record.event_log_entry.dagster_event.event_type
        for record in instance.get_records_for_run(retrain.run_id).records
        if record.event_log_entry.dagster_event
    }
    assert {DagsterEventType.RUN_ENQUEUED, DagsterEventType.RUN_STARTING} <= kinds
    ticks = [
        tick
        for state in instance.all_instigator_state()
        if state.name == "drift_retraining_sensor"
        for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id)
    ]
    assert any(retrain.run_id in tick.run_ids for tick in ticks)
    assert champion_version() == "2"
