"""The main job on the embedded default: replay days of 2013 through the whole lifecycle.

    python -m leanops_assets.replay --start 2013-05-01 --days 21

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
import os
import sys
import time
import warnings
from datetime import date, timedelta

from dagster import BetaWarning, DagsterInstance, Definitions, PreviewWarning

from leanops_assets.features.schema import DEFAULT_LOOKBACK_DAYS
from leanops_assets.partitions import daily_partitions
from leanops_assets.replay_daemon import SENSOR_NAME, Daemon
from leanops_assets.replay_report import DayResult, Retrain, write_summary
from leanops_assets.settings import leanops_home
from leanops_assets.uptodate import features_up_to_date, freshness, landed_and_validated

# Per-step logs stay in the instance (and the UI); the terminal shows one line per day.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
VALIDATION_ASSETS = ["raw_flights", "raw_weather", "validated_flights"]


def run_config(source: str) -> dict:
    """QUIET, and the source resource's kind (the definitions' default is the bundled year)."""
    return {**QUIET, "resources": {"source": {"config": {"kind": source}}}}


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
    defs: Definitions,
    instance: DagsterInstance,
    day: str,
    assets: list[str] | None = None,
    config: dict = QUIET,
) -> DayResult:
    started = time.perf_counter()
    job = defs.resolve_job_def("daily_pipeline")
    result = job.execute_in_process(
        partition_key=day,
        instance=instance,
        raise_on_error=False,
        run_config=config,
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
    defs: Definitions,
    instance: DagsterInstance,
    first: str,
    last: str,
    assets: list[str],
    config: dict = QUIET,
):
    """One run over a range of days: a single-run backfill, as the UI's backfill would launch."""
    return defs.resolve_job_def("daily_pipeline").execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config=config,
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


def _say(message: str) -> None:
    print(message, flush=True)


def reference_tables(defs: Definitions, instance: DagsterInstance, source: str) -> None:
    if not freshness(defs, instance, [], source).up_to_date("planes", None, []):
        defs.resolve_job_def("reference_data").execute_in_process(
            instance=instance, run_config=run_config(source)
        )


def replay_data_only(days: list[str], until: str, source: str) -> int:
    """Land and validate (and featurize) days, with no model: the data stages alone."""
    warnings.filterwarnings("ignore", category=BetaWarning)
    from leanops_assets.definitions import defs

    instance = DagsterInstance.get()
    assets = VALIDATION_ASSETS + (["flight_features"] if until == "features" else [])
    _say(
        f"leanops: replaying {len(days)} days from {days[0]} up to {until}; state in {leanops_home()}"
    )
    reference_tables(defs, instance, source)
    fresh = freshness(defs, instance, days, source)
    failed = 0
    for index, day in enumerate(days, start=1):
        if landed_and_validated(fresh, day) and (
            until != "features" or features_up_to_date(fresh, day)
        ):
            _say(f"[{index:>3}/{len(days)}] {day}  up to date, skipped")
            continue
        result = run_day(defs, instance, day, assets, run_config(source))
        fresh = freshness(defs, instance, days, source)  # this day's materializations are new
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


def warm_up(
    defs: Definitions,
    instance: DagsterInstance,
    lookback: list[str],
    warmup: list[str],
    source: str,
) -> bool:
    """Land and validate the warm-up days, then their features in one Spark run; days already
    up to date are skipped. False if a day failed."""
    days = lookback + warmup
    reference_tables(defs, instance, source)
    fresh = freshness(defs, instance, days, source)
    for index, day in enumerate(days, start=1):
        if landed_and_validated(fresh, day):
            _say(f"[warm-up {index:>3}/{len(days)}] {day}  up to date, skipped")
            continue
        result = run_day(defs, instance, day, VALIDATION_ASSETS, run_config(source))
        fresh = freshness(defs, instance, days, source)
        _say(
            f"[warm-up {index:>3}/{len(days)}] {day}  landed and validated  ({result.seconds:.1f}s)"
        )
        if not result.success:
            _say(f"leanops: warm-up day {day} failed; open the UI to see why")
            return False
    stale = [day for day in warmup if not features_up_to_date(fresh, day)]
    if not stale:
        _say(f"[warm-up] features for {warmup[0]} .. {warmup[-1]} up to date, skipped")
        return True
    started = time.perf_counter()
    features = run_range(
        defs, instance, stale[0], stale[-1], ["flight_features"], run_config(source)
    )
    _say(
        f"[warm-up] features for {stale[0]} .. {stale[-1]} in one Spark run  "
        f"({time.perf_counter() - started:.1f}s)"
    )
    if not features.success:
        _say("leanops: the warm-up features failed; open the UI to see why")
    return features.success


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2013-05-01", help="first replayed day (YYYY-MM-DD)")
    parser.add_argument(
        "--days", type=int, default=21, help="replayed days (default: three weeks; 92: May to July)"
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
    parser.add_argument(
        "--source",
        choices=["bundled", "landing"],
        default="bundled",
        help="where days come from: the bundled year (default) or $LEANOPS_HOME/landing",
    )
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        _say("replay: DAGSTER_HOME is not set; run it through `make demo` or `make replay`")
        return 2
    days = replay_days(args.start, args.days)
    if args.until != "lifecycle":
        return replay_data_only(days, args.until, args.source)
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
    if not warm_up(defs, instance, lookback, warmup, args.source):
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

    log_path = leanops_home() / "logs" / "code-server.log"
    daemon = Daemon(
        instance, defs.resolve_sensor_def(SENSOR_NAME).minimum_interval_seconds or 30, log_path
    )
    results: list[DayResult] = []
    retrains: list[Retrain] = []
    try:
        for index, day in enumerate(days, start=1):
            result = run_day(defs, instance, day, config=run_config(args.source))
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
            before = result.champion_version  # the day was scored by the current champion
            for run_id in daemon.tick_sensors():
                before = before or champion_version()
                run = instance.get_run_by_id(run_id)
                reason = run.tags.get("leanops/drift_trigger_reason", "")
                _say(f"      sensor requested a retrain: {reason} (its log: {log_path})")
                daemon.drain_queue(lambda msg: _say(f"      ... {msg}"))
                run = instance.get_run_by_id(run_id)
                after = champion_version()
                retrains.append(Retrain(day, reason, run_id, run.status.value, before, after))
                _say(f"      retrain {run.status.value.lower()}: champion v{before} -> v{after}")
    finally:
        daemon.close()

    return write_summary(results, retrains, daemon.last_skip_reason(), _say)


if __name__ == "__main__":
    sys.exit(main())
