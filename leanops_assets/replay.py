"""The main job: replay a dataset's days through the whole lifecycle (default: the bundled flights).

    python -m leanops_assets.replay --start 2013-07-01 --days 14 --first-model-until 2013-03-31
    python -m leanops_assets.replay --dataset tickets --source landing --start 2025-01-01 --days 14

1. Warm-up: the days before --start (or up to --first-model-until) are landed, validated and
   turned into features.
2. If there is no champion yet, the retraining job trains and registers the first one on them.
   With --first-model-until, the --warmup-days before --start are then landed and featurized:
   the champion meets the replayed days months after it was trained, as a deployment that has
   not retrained since.
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
import warnings
from datetime import date, timedelta

from dagster import BetaWarning, DagsterInstance, PreviewWarning

from leanops_assets.components import dataset_by_name
from leanops_assets.dataset_defs import DRIFT_SENSOR_INTERVAL_ENV
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.replay_daemon import Daemon
from leanops_assets.replay_plan import plan_data_replay, plan_replay
from leanops_assets.replay_report import DayResult, Retrain, write_summary
from leanops_assets.replay_runs import (
    champion_version,
    deliver_outcomes,
    first_model,
    latest_decision,
    replay_data_only,
    run_config,
    run_day,
    say,
    warm_up,
)
from leanops_assets.settings import leanops_home

REPLAY_SENSOR_INTERVAL_SECONDS = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", default="flights", help="a dataset of the code location (default: flights)"
    )
    parser.add_argument("--start", default="2013-05-01", help="first replayed day (YYYY-MM-DD)")
    parser.add_argument(
        "--days", type=int, default=21, help="replayed days (default: three weeks; 92: May to July)"
    )
    parser.add_argument(
        "--warmup-days", type=int, default=35, help="days before --start used for the first model"
    )
    parser.add_argument(
        "--first-model-until",
        default=None,
        help="last day the first model learns from (default: the day before --start); an earlier "
        "day replays a champion that has not retrained since",
    )
    parser.add_argument(
        "--until",
        choices=["validation", "features", "lifecycle"],
        default="lifecycle",
        help="how far each day goes: land and validate, add features, or the whole lifecycle (default)",
    )
    parser.add_argument(
        "--outcome-lag-days",
        type=int,
        default=1,
        help="a replayed day is delivered without its outcomes, which arrive this many days later "
        "(bundled source; default 1; 0: with the day). A landing folder delivers what its files hold",
    )
    parser.add_argument(
        "--source",
        choices=["bundled", "landing"],
        default="bundled",
        help="where days come from: the dataset's bundled source (default) or "
        "$LEANOPS_HOME/landing/<table>/<table>_YYYY-MM-DD.csv|parquet",
    )
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        say("replay: DAGSTER_HOME is not set; run it through `make demo` or `make replay`")
        return 2
    # A replayed day stands for a whole day, in which the drift sensor ticks many times: its
    # minimum interval (5 s live) must not make the replay wait between days. Set before the
    # definitions load, here and in the code server the replay starts.
    os.environ.setdefault(DRIFT_SENSOR_INTERVAL_ENV, str(REPLAY_SENSOR_INTERVAL_SECONDS))
    ds = dataset_by_name(args.dataset)
    partitions = set(daily_partitions_for(ds.contract).get_partition_keys())
    lookback = ds.table.lookback_days
    if args.until != "lifecycle":
        days, before = plan_data_replay(
            args.start,
            args.days,
            partitions,
            features=args.until == "features",
            lookback_days=lookback,
        )
        return replay_data_only(ds, days, args.until, args.source, before)
    plan = plan_replay(
        args.start, args.days, args.warmup_days, partitions, lookback, args.first_model_until
    )
    days = plan.days

    # The terminal shows progress; Dagster's beta notices and job-building warnings would bury it.
    warnings.filterwarnings("ignore", category=BetaWarning)
    warnings.filterwarnings("ignore", category=PreviewWarning)
    warnings.filterwarnings(
        "ignore",
        message=f"Asset job {ds.scoped('daily_pipeline')} materializes assets with varying",
    )
    from leanops_assets.definitions import defs

    instance = DagsterInstance.get()
    say(
        f"leanops: {ds.name}: {len(plan.warmup)} warm-up days, then {len(days)} days from {days[0]}; state in {leanops_home()}"
    )
    if not warm_up(ds, defs, instance, plan.warmup_lookback, plan.warmup, args.source):
        return 1
    if not first_model(ds, defs, instance, plan):
        return 1
    if plan.recent:
        say(
            f"leanops: the champion has not retrained since {plan.first_model_until}; "
            f"landing the {len(plan.recent)} days before {days[0]} (history, not scored)"
        )
        if not warm_up(
            ds, defs, instance, plan.recent_lookback, plan.recent, args.source, label="since"
        ):
            return 1
    say(f"leanops: champion is version {champion_version(ds)}")

    log_path = leanops_home() / "logs" / "code-server.log"
    sensor = defs.resolve_sensor_def(ds.scoped("drift_retraining_sensor"))
    daemon = Daemon(instance, sensor.name, sensor.minimum_interval_seconds or 30, log_path)
    results: dict[str, DayResult] = {}
    retrains: list[Retrain] = []
    lag = args.outcome_lag_days if args.source != "landing" else 0

    def config(today: str) -> dict:
        """Outcomes are known up to `lag` days before today."""
        known = (date.fromisoformat(today) - timedelta(days=lag)).isoformat() if lag else ""
        return run_config(args.source, known)

    def outcomes_arrive(owed: str, today: str) -> None:
        delivered = deliver_outcomes(ds, defs, instance, owed, config(today))
        results[owed].live_auc = delivered.live_auc
        results[owed].success &= delivered.success
        auc = "-" if delivered.live_auc is None else f"{delivered.live_auc:.3f}"
        say(f"      outcomes of {owed} arrived: live AUC {auc}  ({delivered.seconds:.1f}s)")

    try:
        for index, day in enumerate(days, start=1):
            owed = (date.fromisoformat(day) - timedelta(days=lag)).isoformat()
            if lag and owed in results:
                outcomes_arrive(owed, day)
            result = run_day(ds, defs, instance, day, config=config(day))
            results[day] = result
            status = (
                "ok"
                if result.success and not result.failed_checks
                else "checks: " + ", ".join(result.failed_checks)
            )
            auc = "-" if result.live_auc is None else f"{result.live_auc:.3f}"
            drift = "-" if result.drift_share is None else f"{result.drift_share:.2f}"
            say(
                f"[{index:>3}/{len(days)}] {day}  rows {result.raw_rows}  champion v{result.champion_version}  "
                f"live AUC {auc}  drift {drift}  {status}  ({result.seconds:.1f}s)"
            )
            before = result.champion_version  # the day was scored by the current champion
            for run_id in daemon.tick_sensors():
                before = before or champion_version(ds)
                run = instance.get_run_by_id(run_id)
                reason = run.tags.get("leanops/drift_trigger_reason", "")
                say(f"      sensor requested a retrain: {reason} (its log: {log_path})")
                daemon.drain_queue(lambda msg: say(f"      ... {msg}"))
                run = instance.get_run_by_id(run_id)
                after = champion_version(ds)
                retrains.append(Retrain(day, reason, run_id, run.status.value, before, after))
                say(f"      retrain {run.status.value.lower()}: champion v{before} -> v{after}")
                say(f"      {latest_decision(ds)}")
        # The outcomes still owed arrive after the last day, so every day has its live quality.
        after = (date.fromisoformat(days[-1]) + timedelta(days=lag)).isoformat()
        for owed in [d for d in days[-lag:] if d in results] if lag else []:
            outcomes_arrive(owed, after)
    finally:
        daemon.close()

    return write_summary(ds.name, list(results.values()), retrains, daemon.last_skip_reason(), say)


if __name__ == "__main__":
    sys.exit(main())
