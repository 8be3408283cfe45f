"""Scale: one day at k times the real flights (synthetic source), bare, in a fresh process:
seconds, peak RSS of the process tree (Python + Spark JVM) and rows per second per stage."""

from __future__ import annotations

import resource
import time

from bare import bare_day
from harness import GOALS, STAGES, Bench, PeakSampler, gib, say, spark_session

NAME = "scale"
PANELS = 2  # seconds per stage, peak memory
MAX_SECONDS, MAX_GIB = GOALS["k100_seconds_at_most"], GOALS["k100_peak_rss_gib_at_most"]


def child_scale(args, spark=None) -> dict:
    sampler = PeakSampler()
    started = time.perf_counter()
    # the stages' libraries (pandas, GX, scikit-learn, MLflow) are counted as start-up
    import leanops_assets.features.lake_io  # noqa: F401
    import leanops_assets.monitoring.drift  # noqa: F401
    import leanops_assets.validation.rules  # noqa: F401
    from leanops_assets.resources import LakeResource

    fresh_process = spark is None
    spark = spark or spark_session()
    startup = time.perf_counter() - started
    startup_rss = sampler.peak()
    stages: dict[str, dict] = {}

    def hook(name: str, seconds: float, rows: int) -> None:
        stages[name] = {
            "seconds": seconds,
            "rows": rows,
            "rows_per_second": rows / seconds if seconds else None,
            "peak_rss_bytes": sampler.peak(),
        }
        sampler.reset()

    # A new day's build, as in the overhead measure: that measure stored this day at k=1, and a
    # stored day whose inputs did not change would only get its labels again (features/labels.py).
    LakeResource().lake().partition_path("features", "flights", args.day).unlink(missing_ok=True)
    sampler.reset()
    counts = bare_day(args.day, spark, kind="synthetic", scale=args.scale, stage_hook=hook)
    sampler.stop()
    total = sum(s["seconds"] for s in stages.values())
    peak = max([startup_rss, *(s["peak_rss_bytes"] for s in stages.values())])
    result = {
        "scale": args.scale,
        "day": args.day,
        "process": "fresh" if fresh_process else "shared with setup and overhead (quick mode)",
        "raw_rows": stages["ingest"]["rows"],
        "features_relabelled_days": counts["features_relabelled_days"],
        "startup_seconds": startup,
        "stages": stages,
        "end_to_end_seconds": total,
        "end_to_end_with_startup_seconds": total + startup,
        "rows_per_second": stages["ingest"]["rows"] / total,
        "peak_rss_bytes": peak,
        "python_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    if args.scale == 100:
        result["met"] = total <= MAX_SECONDS and gib(peak) <= MAX_GIB
    return result


CHILDREN = {"scale": child_scale}


def run(bench: Bench, report: dict) -> dict:
    if bench.args.quick:
        return {"1": report["quick"]["scale"]}
    results = {}
    for k in [int(k) for k in bench.args.scales.split(",")]:
        say(f"[scale] k={k} ...")
        results[str(k)] = bench.run_child("scale", day=bench.args.day, scale=k)
    return results


def summary(scales: dict) -> str:
    return "\n".join(
        f"[scale] k={k}: {r['raw_rows']} rows in {r['end_to_end_seconds']:.1f} s "
        f"(+{r['startup_seconds']:.1f} s start-up), peak RSS {gib(r['peak_rss_bytes']):.2f} GiB; "
        + ", ".join(f"{n} {r['stages'][n]['seconds']:.1f} s" for n in STAGES)
        for k, r in scales.items()
    )


def rows(scales: dict) -> list[tuple]:
    out = []
    for k, s in scales.items():
        goal = f"<= {MAX_SECONDS:.0f} s, <= {MAX_GIB:.0f} GiB" if k == "100" else ""
        out.append(
            (
                f"scale k={k}: {s['raw_rows']} rows, end to end",
                f"{s['end_to_end_seconds']:.1f} s (+{s['startup_seconds']:.1f} s start-up), "
                f"{s['rows_per_second']:.0f} rows/s, peak RSS {gib(s['peak_rss_bytes']):.2f} GiB",
                goal,
                s.get("met"),
            )
        )
        stages = ", ".join(
            f"{n} {s['stages'][n]['seconds']:.1f} s / {gib(s['stages'][n]['peak_rss_bytes']):.2f} GiB"
            for n in STAGES
        )
        out.append((f"scale k={k}: per stage (seconds / peak RSS)", stages, "", None))
    return out


def ratios(scales: dict) -> dict:
    base = scales.get("1")
    return {
        f"scale_k{k}_seconds_over_k1": r["end_to_end_seconds"] / base["end_to_end_seconds"]
        for k, r in scales.items()
        if base and k != "1"
    }


def plot(scales: dict, seconds_axis, memory_axis) -> None:
    labels = [f"k={k}" for k in scales]
    bottom = [0.0] * len(scales)
    for name in STAGES:
        values = [s["stages"][name]["seconds"] for s in scales.values()]
        seconds_axis.bar(labels, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    seconds_axis.axhline(MAX_SECONDS, color="tab:red", linestyle="--", linewidth=1)
    seconds_axis.set_ylabel("seconds per stage")
    seconds_axis.set_title("one day at scale k")
    seconds_axis.legend(fontsize=8)
    memory_axis.bar(labels, [gib(s["peak_rss_bytes"]) for s in scales.values()], color="tab:purple")
    memory_axis.axhline(MAX_GIB, color="tab:red", linestyle="--", linewidth=1)
    memory_axis.set_ylabel("peak RSS, GiB (Python + JVM)")
    memory_axis.set_title("memory at scale k")
