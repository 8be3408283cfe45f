"""How lean is the feature stage? Times the real read-build-write path on real 2013 flights.

(a) one incremental day early (day 30) vs late (day 300) in the year: the cost must not grow
    with history (goal: ratio <= 1.1);
(b) a single-run backfill of 90 days vs 90 separate one-day runs (the Spark session is shared,
    so this understates what 90 separate Dagster runs would each pay to start);
(c) one incremental day vs recomputing all history up to day 300 (goal: >= 20x cheaper).

Each measurement is repeated and the median is kept; the 90 one-day runs are done --sweep-repeats
times (default once, they dominate the run time). Results: benchmarks/results/features.json.

    .venv/bin/python benchmarks/features_benchmark.py [--repeats 3] [--sweep-repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "benchmarks" / "results" / "features.json"
YEAR_START = date(2013, 1, 1)


def nth_day(n: int) -> str:
    """Day n of 2013, counting 2013-01-01 as day 1."""
    return (YEAR_START + timedelta(days=n - 1)).isoformat()


def prepare_lake(root: Path, last_day: int) -> None:
    from leanops_assets.ingestion.sources import bundled_day, bundled_table
    from leanops_assets.storage import Lake
    from leanops_assets.validation.derived import add_derived_columns

    lake = Lake(root)
    for n in range(1, last_day + 1):
        day = nth_day(n)
        lake.write_partition(
            "validated", "flights", day, add_derived_columns(bundled_day("flights", day), day)
        )
        lake.write_partition("raw", "weather", day, bundled_day("weather", day))
    lake.write_table("raw", "planes", bundled_table("planes"))


def spark_session():
    from pyspark.sql import SparkSession

    from leanops_assets.settings import LOCAL_SPARK_CONF

    builder = SparkSession.builder
    for key, value in LOCAL_SPARK_CONF.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median_of(repeats: int, fn) -> tuple[float, list[float]]:
    samples = [timed(fn) for _ in range(repeats)]
    return statistics.median(samples), samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sweep-repeats", type=int, default=1)
    parser.add_argument("--backfill-days", type=int, default=90)
    args = parser.parse_args()

    from leanops_assets.features.lake_io import materialize_feature_days
    from leanops_assets.storage import Lake

    with tempfile.TemporaryDirectory(prefix="leanops-features-bench-") as tmp:
        os.environ["LEANOPS_HOME"] = str(Path(tmp) / "home")
        load_at_start = os.getloadavg()[0]
        root = Path(tmp) / "lake"
        started = time.perf_counter()
        prepare_lake(root, 300)
        print(f"lake with 300 validated days prepared in {time.perf_counter() - started:.0f} s")
        lake = Lake(root)
        spark = spark_session()

        def run(days: list[str]) -> None:
            materialize_feature_days(spark, lake, days)

        # Warm the JVM (code generation, JIT) so the first measurement is not penalised.
        for _ in range(2):
            run([nth_day(100)])

        # Interleaved, so neither day is timed while the JVM is still warming up more than the other.
        day30_samples, day300_samples = [], []
        for _ in range(args.repeats):
            day30_samples.append(timed(lambda: run([nth_day(30)])))
            day300_samples.append(timed(lambda: run([nth_day(300)])))
        day30, day300 = statistics.median(day30_samples), statistics.median(day300_samples)
        print(
            f"(a) one day: day 30 {day30:.2f} s, day 300 {day300:.2f} s, ratio {day300 / day30:.2f}"
        )

        span = [nth_day(n) for n in range(201, 201 + args.backfill_days)]
        backfill, backfill_samples = median_of(args.repeats, lambda: run(span))

        def sweep() -> None:
            for day in span:
                run([day])

        per_day, per_day_samples = median_of(args.sweep_repeats, sweep)
        print(
            f"(b) {len(span)} days: one run {backfill:.1f} s, {len(span)} runs {per_day:.1f} s, "
            f"separate / single {per_day / backfill:.1f}x"
        )

        history = [nth_day(n) for n in range(1, 301)]
        recompute, recompute_samples = median_of(args.repeats, lambda: run(history))
        print(
            f"(c) day 300 alone {day300:.2f} s vs all 300 days {recompute:.1f} s: "
            f"incremental is {recompute / day300:.1f}x cheaper"
        )
        spark.stop()

    result = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_at_start": load_at_start,
            "load_average_1m_at_end": os.getloadavg()[0],
            "python": platform.python_version(),
        },
        "repeats": args.repeats,
        "one_day": {
            "day_30_seconds": day30,
            "day_300_seconds": day300,
            "day_300_over_day_30": day300 / day30,
            "goal_at_most": 1.1,
            "samples": {"day_30": day30_samples, "day_300": day300_samples},
        },
        "backfill": {
            "days": len(span),
            "single_run_seconds": backfill,
            "separate_runs_seconds": per_day,
            "separate_over_single": per_day / backfill,
            "samples": {"single_run": backfill_samples, "separate_runs": per_day_samples},
        },
        "incremental_vs_recompute": {
            "one_day_seconds": day300,
            "recompute_300_days_seconds": recompute,
            "recompute_over_incremental": recompute / day300,
            "goal_at_least": 20,
            "samples": recompute_samples,
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
