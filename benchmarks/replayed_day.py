"""Replayed day: where a day of `python -m leanops_assets.replay` spends its wall time.

The replay itself runs (its own warm-up, first model, days, sensor ticks and retrains) in a fresh
home. Timers wrapped around library calls attribute each day's seconds to: the asset steps (from
the run's own STEP_START / STEP_SUCCESS events), GX validation, the Spark feature run and its
jobs, Evidently, champion loads, the event-log writes, the run's start and end, the sensor tick
(and any wait for its minimum interval) and retrains. Goals: the median day, sensor tick
included, <= 5 s; a retrain <= 60 s.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections import defaultdict

from harness import GOALS, Bench, bench_env, median

NAME = "replayed_day"
DAY_GOAL = GOALS["replayed_day_median_seconds_at_most"]
RETRAIN_GOAL = GOALS["retrain_seconds_at_most"]
PROBES = {
    "gx_validation": ("leanops_assets.validation.rules", "validate_partition"),
    "spark_features": ("leanops_assets.features.lake_io", "materialize_feature_days"),
    "evidently": ("leanops_assets.monitoring.drift", "compute_drift"),
    "model_loads": ("leanops_assets.monitoring.predict", "load_champion"),
    "scoring": ("leanops_assets.monitoring.predict", "score_features"),
}


class Recorder:
    """Seconds and counts per label, for the day being replayed."""

    def __init__(self):
        self.days: list[dict] = []
        self.current: dict = defaultdict(float)

    def add(self, label: str, seconds: float) -> None:
        self.current[label] += seconds
        self.current[label + "_count"] += 1

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - started)

        setattr(owner, name, timed)


def _spark_jobs() -> int:
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    return 0 if session is None else len(session.sparkContext.statusTracker().getJobIdsForGroup())


def child_replayed_day(args) -> dict:
    from dagster import DagsterInstance

    from leanops_assets import replay

    recorder = Recorder()
    for label, (module, name) in PROBES.items():
        recorder.wrap(importlib.import_module(module), name, label)
    recorder.wrap(DagsterInstance, "handle_new_event", "event_log")
    recorder.wrap(replay.Daemon, "tick_sensors", "sensor_tick")
    recorder.wrap(replay.Daemon, "drain_queue", "retrain")
    recorder.wrap(replay, "deliver_outcomes", "outcomes")  # the previous day's, a day late
    original_run_day = replay.run_day

    def run_day(ds, defs, instance, day, assets=None, *more, **options):
        if assets is not None:  # warm-up days are not replayed days
            return original_run_day(ds, defs, instance, day, assets, *more, **options)
        recorder.current = defaultdict(float, day=day, started=time.perf_counter())
        recorder.days.append(recorder.current)
        jobs = _spark_jobs()
        result = original_run_day(ds, defs, instance, day, assets, *more, **options)
        recorder.current["run"] = result.seconds
        recorder.current["spark_jobs"] = _spark_jobs() - jobs
        return result

    replay.run_day = run_day
    wall = time.perf_counter()
    code = replay.main(
        [
            "--start",
            args.start,
            "--days",
            str(args.replay_days),
            "--warmup-days",
            str(args.warmup_days),
        ]
    )
    wall = time.perf_counter() - wall
    if code != 0:
        raise RuntimeError(f"the replay exited with {code}; its lines above say why")
    instance = DagsterInstance.get()
    days = []
    for index, record in enumerate(recorder.days):
        record = dict(record)
        started = record.pop("started")
        # a day's wall time: from its run's start to the next day's (the last: its own parts)
        if index + 1 < len(recorder.days):
            record["day_seconds"] = recorder.days[index + 1]["started"] - started
        else:
            record["day_seconds"] = sum(record.get(k, 0) for k in ("run", "sensor_tick", "retrain"))
        record["steps"] = step_seconds(instance, record["day"])
        record["run_outside_steps"] = record["run"] - sum(record["steps"].values())
        days.append(record)
    return summarize(days, code, wall, args)


def step_seconds(instance, day: str) -> dict[str, float]:
    """Seconds of each step of the day's full daily_pipeline run, from its own events (its
    oldest run: the outcomes a day later rebuild the day in a second run)."""
    from dagster import DagsterEventType, RunsFilter

    runs = instance.get_runs(RunsFilter(job_name="daily_pipeline", tags={"dagster/partition": day}))
    if not runs:
        return {}
    starts, seconds = {}, {}
    for record in instance.all_logs(runs[-1].run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = record.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            seconds[event.step_key] = record.timestamp - starts.get(
                event.step_key, record.timestamp
            )
    return seconds


def summarize(days: list[dict], code: int, wall: float, args) -> dict:
    day_seconds = [d["day_seconds"] for d in days]
    retrains = [d["retrain"] for d in days if d.get("retrain")]
    worst_retrain = max(retrains) if retrains else None
    return {
        "start": args.start,
        "days": len(days),
        "warmup_days": args.warmup_days,
        "exit_code": code,
        "wall_seconds": wall,
        "per_day": days,
        "median_day_seconds": median(day_seconds),
        "median_day_goal_at_most": DAY_GOAL,
        "met": median(day_seconds) <= DAY_GOAL,
        "retrain_seconds": retrains,
        "retrain_goal_at_most": RETRAIN_GOAL,
        "retrain_met": None if worst_retrain is None else worst_retrain <= RETRAIN_GOAL,
    }


CHILDREN = {"replayed_day": child_replayed_day}


def run(bench: Bench, report: dict) -> dict | None:
    args = bench.args
    if args.quick:  # a replay needs a real first model: minutes of tuning, too long for --quick
        return None
    env = bench_env(bench.tmp, args.trials, name="-replay")
    env["LEANOPS_TUNING_TRIALS"] = str(args.replay_trials)
    return bench.run_child(
        "replayed_day",
        timeout=3600,
        env=env,
        start=args.replay_start,
        replay_days=args.replay_days,
        warmup_days=args.replay_warmup_days,
    )


COLUMNS = (
    ("day", "day_seconds"),
    ("run", "run"),
    ("outside steps", "run_outside_steps"),
    ("outcomes", "outcomes"),
    ("GX", "gx_validation"),
    ("Spark", "spark_features"),
    ("jobs", "spark_jobs"),
    ("Evidently", "evidently"),
    ("model loads", "model_loads"),
    ("events", "event_log"),
    ("event writes", "event_log_count"),
    ("tick", "sensor_tick"),
    ("retrain", "retrain"),
)


def breakdown(result: dict) -> str:
    """The per-day table the benchmark prints: seconds (counts for jobs and event writes)."""
    lines = ["  " + " ".join(f"{name:>12}" for name, _ in [("date", ""), *COLUMNS])]
    for d in result["per_day"]:
        cells = [f"{d['day']:>12}"]
        for _, key in COLUMNS:
            value = d.get(key, 0)
            cells.append(
                f"{value:>12.0f}" if key.endswith(("count", "jobs")) else f"{value:>12.2f}"
            )
        lines.append("  " + " ".join(cells))
    steps = defaultdict(list)
    for d in result["per_day"]:
        for step, seconds in d["steps"].items():
            steps[step].append(seconds)
    lines.append(
        "  GX, Spark, Evidently, model loads and events: the day's run and the outcome run of "
        "the day before it"
    )
    lines.append(
        "  median step seconds: "
        + ", ".join(f"{step} {median(values):.2f}" for step, values in sorted(steps.items()))
    )
    return "\n".join(lines)


def summary(result: dict | None) -> str:
    if result is None:
        return "[replayed_day] skipped (--quick)"
    retrains = ", ".join(f"{s:.0f} s" for s in result["retrain_seconds"]) or "none"
    return (
        f"[replayed_day] {result['days']} days from {result['start']}: median day "
        f"{result['median_day_seconds']:.2f} s (goal <= {DAY_GOAL:.0f}: "
        f"{'met' if result['met'] else 'NOT MET'}); retrains {retrains}\n" + breakdown(result)
    )


def rows(result: dict | None) -> list[tuple]:
    if result is None:
        return [("replayed day", "not measured (--quick)", "", None)]
    out = [
        (
            f"replayed day: median of {result['days']} days from {result['start']}, sensor tick included",
            f"{result['median_day_seconds']:.2f} s",
            f"<= {DAY_GOAL:.0f} s",
            result["met"],
        )
    ]
    if result["retrain_seconds"]:
        out.append(
            (
                "replayed day: a retrain the sensor requested",
                ", ".join(f"{s:.0f} s" for s in result["retrain_seconds"]),
                f"<= {RETRAIN_GOAL:.0f} s",
                result["retrain_met"],
            )
        )
    return out


def ratios(result: dict | None) -> dict:
    return {} if result is None else {"replayed_day_median_seconds": result["median_day_seconds"]}
