"""Is leanops lean? One command measures what the platform costs over the bare computation.

    .venv/bin/python benchmarks/run_all.py            # every measure
    .venv/bin/python benchmarks/run_all.py --quick    # k=1 only, 1 repeat, no `dagster dev`
    .venv/bin/python benchmarks/run_all.py --only features,load

Each measure is one module of this folder (see MEASURES); they share harness.py (timing, peak
memory, temporary state, child processes) and report.py (report.json, report.md, report.png).
Every measurement runs against a temporary LEANOPS_HOME and DAGSTER_HOME; the project's own
state is only read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import earlier  # noqa: E402
import features  # noqa: E402
import launch  # noqa: E402
import load  # noqa: E402
import overhead  # noqa: E402
import replayed_day  # noqa: E402
import report  # noqa: E402
import scale  # noqa: E402
import warmup  # noqa: E402
from harness import RESULTS, Bench, bench_env, say, spark_session  # noqa: E402

# In run order. A measure is a module with NAME, run(bench, report) -> dict, summary(result),
# rows(result) -> [(name, value, goal, met)], and optionally ratios(result), plot(result, axes)
# and CHILDREN (sections run in fresh processes). The retraining-policy benchmark joins here.
MEASURES = [warmup, overhead, replayed_day, scale, load, launch, features, earlier]
NEEDS_SETUP = {"overhead", "scale"}


def child_quick(args) -> dict:
    """Quick mode: setup, overhead and scale k=1 in one process (one interpreter, one JVM)."""
    setup = warmup.child_setup(args)
    timing = overhead.child_overhead(args)
    args.scale = 1
    return {"setup": setup, "overhead": timing, "scale": scale.child_scale(args, spark_session())}


CHILDREN = {"quick": child_quick}
for _measure in MEASURES:
    CHILDREN.update(getattr(_measure, "CHILDREN", {}))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="k=1 only, 1 repeat, no dagster dev, no replay"
    )
    parser.add_argument("--only", default="", help="comma-separated measures (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each side")
    parser.add_argument("--scales", default="1,10,100", help="k of the scale measure")
    parser.add_argument("--feature-scales", default="1,10,100", help="k of the features measure")
    parser.add_argument(
        "--feature-days", type=int, default=300, help="history the features recompute"
    )
    parser.add_argument(
        "--sweep-days", type=int, default=90, help="features: one-day runs vs one run"
    )
    parser.add_argument("--warmup-days", type=int, default=21)
    parser.add_argument("--replay-start", default="2013-05-01", help="replayed_day: first day")
    parser.add_argument("--replay-days", type=int, default=10, help="replayed_day: days")
    parser.add_argument("--replay-warmup-days", type=int, default=35)
    parser.add_argument("--replay-trials", type=int, default=12, help="the replay's tuning budget")
    parser.add_argument("--trials", type=int, default=3, help="Optuna trials of the first model")
    parser.add_argument("--no-dev", action="store_true", help="skip the dagster dev launch latency")
    parser.add_argument("--out", type=Path, default=RESULTS)
    for hidden in ("--child", "--child-out", "--day", "--lake", "--start"):
        parser.add_argument(hidden, default="", help=argparse.SUPPRESS)
    for hidden, default in (
        ("--scale", 1),
        ("--bare-warmup", 0),
        ("--warm-first", 1),
        ("--history-days", 300),
    ):
        parser.add_argument(hidden, type=int, default=default, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.scales, args.no_dev, args.trials = 1, "1", True, 1
        args.warmup_days = min(args.warmup_days, 8)
        args.feature_scales, args.feature_days, args.sweep_days = "1", 20, 0
    args.day = args.day or (date(2013, 1, 1) + timedelta(days=args.warmup_days)).isoformat()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.child:
        Path(args.child_out).write_text(json.dumps(CHILDREN[args.child](args)))
        return 0

    names = set(args.only.split(",")) if args.only else {m.NAME for m in MEASURES}
    if names & NEEDS_SETUP:
        names.add(warmup.NAME)
    unknown = names - {m.NAME for m in MEASURES}
    if unknown:
        raise SystemExit(
            f"unknown measure(s) {sorted(unknown)}; known: {[m.NAME for m in MEASURES]}"
        )
    measures = [m for m in MEASURES if m.NAME in names]
    load_at_start = os.getloadavg()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {"mode": "quick" if args.quick else "full"}
    with tempfile.TemporaryDirectory(prefix="leanops-bench-") as tmp:
        bench = Bench(args, Path(tmp), bench_env(Path(tmp), args.trials))
        if args.quick and names & NEEDS_SETUP:
            say(f"[quick] {args.warmup_days} warm-up days, overhead and k=1 in one process ...")
            results["quick"] = bench.run_child(
                "quick",
                warmup_days=args.warmup_days,
                bare_warmup=1,
                day=args.day,
                warm_first=0,
                repeats=1,
            )
        for measure in measures:
            say(f"[{measure.NAME}] ...")
            results[measure.NAME] = measure.run(bench, results)
            say(measure.summary(results[measure.NAME]))
    results.pop("quick", None)
    results["machine"] = report.machine(load_at_start)
    results["ratios"] = {}
    for measure in measures:
        if hasattr(measure, "ratios"):
            results["ratios"].update(measure.ratios(results[measure.NAME]))
    paths = report.write(results, measures, args.out)
    say("")
    for name, value in results["ratios"].items():
        say(f"ratio {name}: {'-' if value is None else f'{value:.3f}'}")
    say("report: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
