"""The drift retrain loop's data, shared by test_daemon.py (the daemon on the host) and
test_stack.py (the daemon in its container): which days arrive, which champion they start from,
and what the daemon's own sensor must then have done.

A January champion (12 days to train on, 2 tuning trials, a 0.55 promotion floor) scores
1 and 8 July, whose drift is real (weather, late rates): two independent 7-day windows breach, so
the default policy asks for `retrain-2013-07-08-1`. The retrain's default 60-day window ends on
8 July and finds the features of 17 June .. 8 July (their look-back starts on 10 June)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, DagsterRun, RunsFilter


def day_range(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def spans(days: list[str]) -> list[tuple[str, str]]:
    """The (first, last) day of each run of consecutive days."""
    runs: list[list[str]] = []
    for day in sorted(days):
        following = runs and date.fromisoformat(day) - date.fromisoformat(runs[-1][-1])
        if following == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return [(run[0], run[-1]) for run in runs]


JANUARY = day_range("2013-01-01", "2013-01-14")
JUNE = day_range("2013-06-10", "2013-06-30")  # a week of look-back, then features
JULY = day_range("2013-07-01", "2013-07-08")
LANDED = JANUARY + JUNE + JULY
# Features of the summer: after June's week of look-back.
SUMMER_FEATURES = JUNE[7:] + JULY
# The policy wants two independent 7-day windows breaching: reports on 1 and 8 July.
SCORED = ["2013-07-01", "2013-07-08"]
DATA_ASSETS = ["raw_flights", "raw_weather", "validated_flights"]
FIRST_CHAMPION_WINDOW = {
    "window_days": 14,
    "end_day": "2013-01-14",
    "validation_days": 2,
    "holdout_days": 2,
}
# The first model trains on 12 January days: the promotion floor is lowered (configuration).
ENV = {"LEANOPS_TUNING_TRIALS": "2", "LEANOPS_PROMOTION_AUC_FLOOR": "0.55"}
RETRAIN_RUN_KEY = "retrain-2013-07-08-1"
TRIGGER_DAY = "2013-07-08"
SENSOR = "drift_retraining_sensor"


def land(home: Path, days: list[str]) -> None:
    """The bundled days, delivered as CSV files into the landing folder of LEANOPS_HOME."""
    from leanops_assets.datasets.flights.source import bundled_day, bundled_table

    for dataset in ("flights", "weather"):
        folder = home / "landing" / dataset
        folder.mkdir(parents=True, exist_ok=True)
        for day in days:
            bundled_day(dataset, day).to_csv(folder / f"{dataset}_{day}.csv", index=False)
    (home / "landing" / "planes").mkdir(parents=True, exist_ok=True)
    bundled_table("planes").to_csv(home / "landing" / "planes" / "planes.csv", index=False)


def sensor_runs(instance: DagsterInstance) -> list[DagsterRun]:
    return instance.get_runs(RunsFilter(tags={"dagster/sensor_name": SENSOR}))


def assert_requested_by_the_sensor_through_the_queue(
    instance: DagsterInstance, retrain: DagsterRun
) -> None:
    """The retrain is the sensor's (its run key, its trigger day, one of its ticks) and went
    through the run queue: enqueued, then started by the daemon."""
    assert retrain.job_name == "retraining_job"
    assert retrain.tags["dagster/run_key"] == RETRAIN_RUN_KEY
    assert retrain.tags["leanops/drift_trigger_day"] == TRIGGER_DAY
    kinds = {
        record.event_log_entry.dagster_event.event_type
        for record in instance.get_records_for_run(retrain.run_id).records
        if record.event_log_entry.dagster_event
    }
    assert {DagsterEventType.RUN_ENQUEUED, DagsterEventType.RUN_STARTING} <= kinds
    ticks = [
        tick
        for state in instance.all_instigator_state()
        if state.name == SENSOR
        for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id)
    ]
    assert any(retrain.run_id in tick.run_ids for tick in ticks)


def registry_summary(client, model: str) -> str:
    """Each version's gate decision, reason and scores: what a failed promotion assertion shows."""
    from leanops_assets.registry.promotion import TAG_PREFIX

    keys = ("decision", "decision_reason", "holdout_auc", "best_validation_auc", "fit_last_day")
    return "\n".join(
        f"v{v.version} "
        + " ".join(f"{k}={v.tags.get(TAG_PREFIX + k)!r}" for k in keys)
        + f" data={v.tags.get(TAG_PREFIX + 'training_data_version', '')[:12]}"
        for v in sorted(
            client.search_model_versions(f"name = '{model}'"), key=lambda v: int(v.version)
        )
    )
