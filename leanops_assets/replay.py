"""The main job on the embedded default: replay days of 2013 through the whole lifecycle.

    python -m leanops_assets.replay --start 2013-05-01 --days 92

1. Warm-up: the days before --start are landed, validated and turned into features.
2. If there is no champion yet, the retraining job trains and registers the first one.
3. Each replayed day runs the daily pipeline (ingest, validate, features, predictions, drift).
   Then the drift retraining sensor is evaluated by the Dagster daemon's own code, and the
   retrains it requests are launched through the run queue, as the daemon would.
4. A summary and a plot of live AUC and drift share over time, with retrain markers.

Every run, check, sensor tick and model version lands in the instance at $DAGSTER_HOME and the
MLflow store under $LEANOPS_HOME, so `dagster dev` shows all of it afterwards.
"""

import argparse
import json
import logging
import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from dagster import (
    BetaWarning,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    PreviewWarning,
    RunsFilter,
)

from leanops_assets.features.schema import DEFAULT_LOOKBACK_DAYS
from leanops_assets.partitions import daily_partitions
from leanops_assets.settings import REPO_ROOT, leanops_home

# Per-step logs stay in the instance (and the UI); the terminal shows one line per day.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
VALIDATION_ASSETS = ["raw_flights", "raw_weather", "validated_flights"]
SENSOR_NAME = "drift_retraining_sensor"
_ACTIVE = {
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
}


@dataclass
class DayResult:
    day: str
    success: bool
    seconds: float
    raw_rows: int | None = None
    quarantined: int | None = None
    live_auc: float | None = None
    drift_share: float | None = None
    champion_version: str | None = None
    failed_checks: list[str] = field(default_factory=list)


@dataclass
class Retrain:
    day: str
    reason: str
    run_id: str
    status: str
    champion_before: str | None
    champion_after: str | None


def replay_days(start: str, days: int) -> list[str]:
    first = date.fromisoformat(start)
    keys = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    valid = set(daily_partitions.get_partition_keys())
    outside = [k for k in keys if k not in valid]
    if outside:
        raise SystemExit(
            f"replay: days {outside[0]} .. {outside[-1]} are outside the partitions (2013)"
        )
    return keys


def _metadata(result, asset: str, key: str):
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == asset and key in materialization.metadata:
            return materialization.metadata[key].value
    return None


def run_day(
    defs: Definitions, instance: DagsterInstance, day: str, assets: list[str] | None = None
) -> DayResult:
    started = time.perf_counter()
    job = defs.resolve_job_def("daily_pipeline")
    result = job.execute_in_process(
        partition_key=day,
        instance=instance,
        raise_on_error=False,
        run_config=QUIET,
        asset_selection=None if assets is None else [_key(a) for a in assets],
    )
    return DayResult(
        day=day,
        success=result.success,
        seconds=time.perf_counter() - started,
        raw_rows=_metadata(result, "validated_flights", "raw_rows"),
        quarantined=_metadata(result, "validated_flights", "quarantined_rows"),
        live_auc=_metadata(result, "batch_predictions", "live_auc"),
        drift_share=_metadata(result, "drift_report", "drift_share"),
        champion_version=_metadata(result, "batch_predictions", "model_version"),
        failed_checks=[e.check_name for e in result.get_asset_check_evaluations() if not e.passed],
    )


def run_range(
    defs: Definitions, instance: DagsterInstance, first: str, last: str, assets: list[str]
):
    """One run over a range of days: a single-run backfill, as the UI's backfill would launch."""
    return defs.resolve_job_def("daily_pipeline").execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config=QUIET,
        asset_selection=[_key(a) for a in assets],
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )


def _key(name: str):
    from dagster import AssetKey

    return AssetKey(name)


def champion_version() -> str | None:
    from mlflow import MlflowClient

    from leanops_assets.registry.promotion import version_by_alias
    from leanops_assets.resources import MlflowResource

    settings = MlflowResource()
    client = MlflowClient(tracking_uri=settings.resolved_tracking_uri())
    version = version_by_alias(client, settings.model_name, "champion")
    return None if version is None else str(version.version)


class Daemon:
    """The sensor and run-queue daemons' own iterations, run on demand against the workspace
    that `dagster dev -w workspace.yaml` loads, so ticks and runs are the UI's own."""

    def __init__(self, instance: DagsterInstance, min_interval_seconds: float):
        from dagster._core.workspace.context import WorkspaceProcessContext
        from dagster._core.workspace.load_target import WorkspaceFileTarget

        self.instance = instance
        self.min_interval = min_interval_seconds
        self.last_tick = 0.0
        self.log = logging.getLogger("leanops.replay")
        self.context = WorkspaceProcessContext(
            instance, WorkspaceFileTarget(paths=[str(REPO_ROOT / "workspace.yaml")])
        )

    def close(self) -> None:
        self.context.__exit__(None, None, None)

    def tick_sensors(self) -> list[str]:
        """One sensor tick; returns the ids of the runs it submitted."""
        from dagster._daemon.sensor import execute_sensor_iteration

        wait = self.min_interval - (time.monotonic() - self.last_tick)
        if wait > 0:  # the daemon would not tick sooner either
            time.sleep(wait)
        before = {
            r.run_id
            for r in self.instance.get_runs(RunsFilter(tags={"dagster/sensor_name": SENSOR_NAME}))
        }
        list(execute_sensor_iteration(self.context, self.log, None, None))
        self.last_tick = time.monotonic()
        after = self.instance.get_runs(RunsFilter(tags={"dagster/sensor_name": SENSOR_NAME}))
        return [r.run_id for r in after if r.run_id not in before]

    def last_skip_reason(self) -> str | None:
        state = next(
            (s for s in self.instance.all_instigator_state() if s.name == SENSOR_NAME),
            None,
        )
        if state is None:
            return None
        ticks = self.instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
        return ticks[0].skip_reason if ticks else None

    def drain_queue(self, progress) -> None:
        """Launch queued runs the way the run-queue daemon does, and wait for them to finish."""
        from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
            QueuedRunCoordinatorDaemon,
        )

        queue = QueuedRunCoordinatorDaemon(interval_seconds=1)
        started = time.monotonic()
        while True:
            list(queue.run_iteration(self.context))
            active = self.instance.get_runs(RunsFilter(statuses=list(_ACTIVE)))
            if not active:
                return
            progress(f"{len(active)} run(s) in progress, {time.monotonic() - started:.0f}s")
            time.sleep(2)


def plot_history(days: list[DayResult], retrains: list[Retrain], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    when = [date.fromisoformat(d.day) for d in days]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    ax.plot(when, [d.live_auc for d in days], color="tab:blue", marker=".", label="live ROC AUC")
    ax.set_ylabel("live ROC AUC", color="tab:blue")
    ax.set_ylim(0.4, 1.0)
    share = ax.twinx()
    share.plot(
        when, [d.drift_share for d in days], color="tab:orange", marker=".", label="drift share"
    )
    share.set_ylabel("share of drifted features", color="tab:orange")
    share.set_ylim(0, 1)
    for retrain in retrains:
        ax.axvline(date.fromisoformat(retrain.day), color="tab:red", linestyle="--", alpha=0.8)
        ax.annotate(
            f"retrain\n{retrain.status.lower()}",
            (date.fromisoformat(retrain.day), 0.95),
            fontsize=8,
            color="tab:red",
            ha="left",
        )
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    ax.set_title("leanops replay: live quality and drift of the champion, with retrains")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _say(message: str) -> None:
    print(message, flush=True)


def replay_data_only(days: list[str], until: str) -> int:
    """Land and validate (and featurize) days, with no model: the data stages alone."""
    warnings.filterwarnings("ignore", category=BetaWarning)
    from leanops_assets.definitions import defs

    instance = DagsterInstance.get()
    assets = VALIDATION_ASSETS + (["flight_features"] if until == "features" else [])
    _say(
        f"leanops: replaying {len(days)} days from {days[0]} up to {until}; state in {leanops_home()}"
    )
    defs.resolve_job_def("reference_data").execute_in_process(instance=instance, run_config=QUIET)
    failed = 0
    for index, day in enumerate(days, start=1):
        result = run_day(defs, instance, day, assets)
        failed += not result.success
        status = (
            "ok"
            if result.success and not result.failed_checks
            else "checks: " + ", ".join(result.failed_checks)
        )
        _say(
            f"[{index:>3}/{len(days)}] {day}  raw {result.raw_rows}  quarantined {result.quarantined}  "
            f"{status}  ({result.seconds:.1f}s)"
        )
    _say(f"leanops: {len(days) - failed}/{len(days)} days succeeded. Open the UI to see the runs.")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2013-05-01", help="first replayed day (YYYY-MM-DD)")
    parser.add_argument(
        "--days", type=int, default=92, help="replayed days (default: May through July)"
    )
    parser.add_argument(
        "--warmup-days", type=int, default=35, help="days before --start used for the first model"
    )
    parser.add_argument(
        "--until",
        choices=["validation", "features", "lifecycle"],
        default="lifecycle",
        help="how far each day goes: land and validate, add features, or the whole lifecycle (default)",
    )
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        _say("replay: DAGSTER_HOME is not set; run it through `make demo` or `make replay`")
        return 2
    days = replay_days(args.start, args.days)
    if args.until != "lifecycle":
        return replay_data_only(days, args.until)
    warmup = replay_days(
        (date.fromisoformat(args.start) - timedelta(days=args.warmup_days)).isoformat(),
        args.warmup_days,
    )
    # the first warm-up day's features look back this many days, which must be validated
    first = date.fromisoformat(warmup[0])
    lookback = [
        (first - timedelta(days=back)).isoformat()
        for back in range(DEFAULT_LOOKBACK_DAYS, 0, -1)
        if first - timedelta(days=back) >= date(2013, 1, 1)
    ]

    # The terminal shows progress; Dagster's beta notices and job-building warnings would bury it.
    warnings.filterwarnings("ignore", category=BetaWarning)
    warnings.filterwarnings("ignore", category=PreviewWarning)
    warnings.filterwarnings(
        "ignore", message="Asset job daily_pipeline materializes assets with varying"
    )
    from leanops_assets.definitions import defs

    instance = DagsterInstance.get()
    _say(
        f"leanops: {len(warmup)} warm-up days, then {len(days)} days from {days[0]}; state in {leanops_home()}"
    )
    defs.resolve_job_def("reference_data").execute_in_process(instance=instance, run_config=QUIET)
    for index, day in enumerate(lookback + warmup, start=1):
        result = run_day(defs, instance, day, VALIDATION_ASSETS)
        _say(
            f"[warm-up {index:>3}/{len(lookback + warmup)}] {day}  landed and validated  ({result.seconds:.1f}s)"
        )
        if not result.success:
            _say(f"leanops: warm-up day {day} failed; open the UI to see why")
            return 1
    started = time.perf_counter()
    features = run_range(defs, instance, warmup[0], warmup[-1], ["flight_features"])
    _say(
        f"[warm-up] features for {warmup[0]} .. {warmup[-1]} in one Spark run  ({time.perf_counter() - started:.1f}s)"
    )
    if not features.success:
        _say("leanops: the warm-up features failed; open the UI to see why")
        return 1

    if champion_version() is None:
        _say("leanops: no champion yet: training the first model (retraining_job)...")
        initial = defs.resolve_job_def("retraining_job").execute_in_process(
            instance=instance,
            run_config=QUIET,
            tags={"leanops/trigger": "initial model"},
            raise_on_error=False,
        )
        if not initial.success or champion_version() is None:
            _say(
                "leanops: the first model did not become champion; see the retraining_job run in the UI"
            )
            return 1
    _say(f"leanops: champion is version {champion_version()}")

    daemon = Daemon(instance, defs.resolve_sensor_def(SENSOR_NAME).minimum_interval_seconds or 30)
    results: list[DayResult] = []
    retrains: list[Retrain] = []
    try:
        for index, day in enumerate(days, start=1):
            result = run_day(defs, instance, day)
            results.append(result)
            status = (
                "ok"
                if result.success and not result.failed_checks
                else "checks: " + ", ".join(result.failed_checks)
            )
            auc = "-" if result.live_auc is None else f"{result.live_auc:.3f}"
            drift = "-" if result.drift_share is None else f"{result.drift_share:.2f}"
            _say(
                f"[{index:>3}/{len(days)}] {day}  rows {result.raw_rows}  champion v{result.champion_version}  "
                f"live AUC {auc}  drift {drift}  {status}  ({result.seconds:.1f}s)"
            )
            before = champion_version()
            for run_id in daemon.tick_sensors():
                run = instance.get_run_by_id(run_id)
                reason = run.tags.get("leanops/drift_trigger_reason", "")
                _say(f"      sensor requested a retrain: {reason}")
                daemon.drain_queue(lambda msg: _say(f"      ... {msg}"))
                run = instance.get_run_by_id(run_id)
                after = champion_version()
                retrains.append(Retrain(day, reason, run_id, run.status.value, before, after))
                _say(f"      retrain {run.status.value.lower()}: champion v{before} -> v{after}")
    finally:
        daemon.close()

    reports = leanops_home() / "reports"
    plot = reports / "replay.png"
    plot_history(results, retrains, plot)
    summary = {
        "days_processed": len(results),
        "days_failed": [r.day for r in results if not r.success],
        "retrains": [asdict(r) for r in retrains],
        "champion_versions": sorted(
            {r.champion_version for r in results if r.champion_version}, key=int
        ),
        "live_auc": {r.day: r.live_auc for r in results},
        "drift_share": {r.day: r.drift_share for r in results},
        "plot": str(plot),
    }
    (reports / "replay.json").write_text(json.dumps(summary, indent=2))
    _say("")
    _say(f"leanops: {len(results)} days processed, {len(summary['days_failed'])} failed")
    for retrain in retrains:
        _say(
            f"  retrain on {retrain.day} ({retrain.status.lower()}): {retrain.reason}; "
            f"champion v{retrain.champion_before} -> v{retrain.champion_after}"
        )
    if not retrains:
        _say(f"  no retrain: {daemon.last_skip_reason() or 'the sensor never fired'}")
    _say(f"  champion versions used: {', '.join('v' + v for v in summary['champion_versions'])}")
    _say(f"  plot: {plot}   summary: {reports / 'replay.json'}")
    return 0 if not summary["days_failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
