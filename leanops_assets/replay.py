"""The main job on the embedded default: replay days of 2013 through the daily pipeline.

    python -m leanops_assets.replay --start 2013-01-01 --days 14

Every run is recorded in the Dagster instance at $DAGSTER_HOME, so `dagster dev` shows them.
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from dagster import DagsterInstance, Definitions

from leanops_assets.partitions import daily_partitions


@dataclass
class DayResult:
    day: str
    success: bool
    seconds: float
    metadata: dict[str, object] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)


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


def _asset_value(result, asset: str, key: str):
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == asset and key in materialization.metadata:
            return materialization.metadata[key].value
    return None


# Per-step logs stay in the instance (and the UI); the terminal shows one line per day.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_day(defs: Definitions, instance: DagsterInstance, day: str) -> DayResult:
    started = time.perf_counter()
    result = defs.resolve_job_def("daily_pipeline").execute_in_process(
        partition_key=day, instance=instance, raise_on_error=False, run_config=QUIET
    )
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    return DayResult(
        day=day,
        success=result.success,
        seconds=time.perf_counter() - started,
        metadata={
            "raw_rows": _asset_value(result, "validated_flights", "raw_rows"),
            "quarantined": _asset_value(result, "validated_flights", "quarantined_rows"),
        },
        failed_checks=failed,
    )


def ensure_reference_data(defs: Definitions, instance: DagsterInstance) -> None:
    defs.resolve_job_def("reference_data").execute_in_process(instance=instance, run_config=QUIET)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2013-01-01", help="first day to replay (YYYY-MM-DD)")
    parser.add_argument("--days", type=int, default=14, help="number of consecutive days")
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        print(
            "replay: DAGSTER_HOME is not set; run it through `make demo` or `make replay`",
            file=sys.stderr,
        )
        return 2
    days = replay_days(args.start, args.days)

    from leanops_assets.definitions import defs

    instance = DagsterInstance.get()
    print(
        f"leanops: replaying {len(days)} days from {days[0]} into {os.environ['DAGSTER_HOME']}",
        flush=True,
    )
    ensure_reference_data(defs, instance)
    results = []
    for index, day in enumerate(days, start=1):
        result = run_day(defs, instance, day)
        results.append(result)
        status = (
            "ok"
            if result.success and not result.failed_checks
            else "GATED: " + ", ".join(result.failed_checks)
        )
        print(
            f"[{index:>3}/{len(days)}] {day}  raw {result.metadata['raw_rows']}  "
            f"quarantined {result.metadata['quarantined']}  {status}  ({result.seconds:.1f}s)",
            flush=True,
        )
    ok = sum(r.success and not r.failed_checks for r in results)
    print(f"leanops: {ok}/{len(results)} days passed every gate. Open the UI to see the runs.")
    return 0 if all(r.success for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
