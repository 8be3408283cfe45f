"""Overhead: one day of daily_pipeline through Dagster in process vs the bare library calls."""

from __future__ import annotations

import time

from bare import bare_day
from harness import GOALS, QUIET, Bench, median, quiet_dagster, spark_session

NAME = "overhead"
GOAL = GOALS["overhead_ratio_at_most"]
# The day's partitions both paths write: equal bytes mean both did the same work.
OUTPUTS = (
    ("raw", "flights"),
    ("raw", "weather"),
    ("validated", "flights"),
    ("quarantine", "flights"),
    ("features", "flights"),
    ("predictions", "flights"),
)


def output_hashes(day: str) -> dict[str, str]:
    from leanops_assets.resources import LakeResource
    from leanops_assets.storage import file_sha256

    lake = LakeResource().lake()
    return {
        f"{stage}/{dataset}": file_sha256(lake.partition_path(stage, dataset, day))
        for stage, dataset in OUTPUTS
    }


def child_overhead(args) -> dict:
    """Dagster in-process vs bare, alternating in one process, after one untimed run of each."""
    from dagster import DagsterInstance

    from leanops_assets.resources import LakeResource

    quiet_dagster()
    from leanops_assets.definitions import defs

    instance = DagsterInstance.get()
    job = defs.resolve_job_def("daily_pipeline")
    spark = spark_session()
    day = args.day

    features = LakeResource().lake().partition_path("features", "flights", day)

    def dagster_run() -> float:
        # Both paths build the day's features as a new day's: a stored day whose inputs did not
        # change would only get its labels again (features/labels.py).
        features.unlink(missing_ok=True)
        started = time.perf_counter()
        result = job.execute_in_process(partition_key=day, instance=instance, run_config=QUIET)
        assert result.success, "daily_pipeline failed"
        return time.perf_counter() - started

    def bare_run() -> float:
        features.unlink(missing_ok=True)
        started = time.perf_counter()
        bare_day(day, spark)
        return time.perf_counter() - started

    # one untimed run of each pays first-time costs (JVM code generation, caches); quick skips it
    first = {"dagster": dagster_run(), "bare": bare_run()} if args.warm_first else None
    samples: dict[str, list[float]] = {"dagster": [], "bare": []}
    outputs: dict[str, dict[str, str]] = {}
    for index in range(args.repeats):
        order = (("dagster", dagster_run), ("bare", bare_run))
        for name, fn in order if index % 2 == 0 else reversed(order):
            samples[name].append(fn())
            outputs.setdefault(name, output_hashes(day))  # what each path wrote, timed run 1
    dagster_s, bare_s = median(samples["dagster"]), median(samples["bare"])
    pair_ratios = [d / b for d, b in zip(samples["dagster"], samples["bare"], strict=True)]
    return {
        "day": day,
        "repeats": args.repeats,
        "first_run_untimed": first,
        "dagster_seconds": dagster_s,
        "bare_seconds": bare_s,
        "ratio": dagster_s / bare_s,
        "pair_ratio_median": median(pair_ratios),
        "overhead_seconds": dagster_s - bare_s,
        "samples": samples,
        "outputs": outputs,
        "same_outputs": outputs["dagster"] == outputs["bare"],
        "goal_at_most": GOAL,
        "met": dagster_s / bare_s <= GOAL,
    }


CHILDREN = {"overhead": child_overhead}


def run(bench: Bench, report: dict) -> dict:
    if bench.args.quick:
        return report["quick"]["overhead"]
    return bench.run_child("overhead", day=bench.args.day, repeats=bench.args.repeats)


def summary(o: dict) -> str:
    return (
        f"[overhead] Dagster {o['dagster_seconds']:.2f} s, bare {o['bare_seconds']:.2f} s, "
        f"ratio {o['ratio']:.2f} (goal <= {GOAL}: {'met' if o['met'] else 'NOT MET'})"
    )


def rows(o: dict) -> list[tuple]:
    return [
        (
            "overhead: daily_pipeline in Dagster / bare script, one day",
            f"{o['ratio']:.2f} ({o['dagster_seconds']:.1f} s vs {o['bare_seconds']:.1f} s, "
            f"median of {o['repeats']})",
            f"<= {GOAL}",
            o["met"],
        ),
        (
            "overhead: the bare script writes the same bytes as the assets",
            "yes"
            if o["same_outputs"]
            else "no: "
            + ", ".join(
                k
                for k in o["outputs"]["dagster"]
                if o["outputs"]["dagster"][k] != o["outputs"]["bare"][k]
            ),
            "identical " + ", ".join(o["outputs"]["dagster"]),
            o["same_outputs"],
        ),
    ]


def ratios(o: dict) -> dict:
    return {"overhead_dagster_over_bare": o["ratio"]}


def plot(o: dict, axis) -> None:
    axis.bar(
        ["bare script", "Dagster"],
        [o["bare_seconds"], o["dagster_seconds"]],
        color=["tab:gray", "tab:blue"],
    )
    axis.set_ylabel("seconds, one day (median)")
    axis.set_title(f"overhead: {o['ratio']:.2f}x")
