"""Which retraining policy pays? The same real 2013 days replayed under each, with the product's code.

Policies: never retrain after the first model; every day; every 7, 14 and 30 days; the default
drift-triggered policy (decide() with the MonitoringPolicy defaults); a performance-triggered
policy (live AUC of the champion's own live days against its holdout AUC); a hybrid of both; and
the calendar interval that spends as many retrains as the default. Thresholds are tuned on the
first half (H1, judged days to June 30) and judged on the second (H2, July to December).

    .venv/bin/python benchmarks/policies.py [--quick] [--out benchmarks/results] [--home DIR]

Writes policies.json, policies.md (the table) and policies.png (daily live AUC per policy, a
7-day mean, with retrain markers). See policy_data.py and policy_sim.py for what is shared and
how a day is replayed, policy_loop.py for the calls into the loop's decision code.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy_data import ModelBank, build_lake, day_range, tuned_params  # noqa: E402
from policy_loop import default_monitoring  # noqa: E402
from policy_report import summarize, write_markdown, write_plot  # noqa: E402
from policy_sim import Policy, PolicyRun, replay  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
RETRAIN_BUDGET = 0.15  # the goal: at most this share of the every-day policy's retrains


@dataclass(frozen=True)
class Plan:
    mode: str
    lake_first: str
    first_model_end: str  # the first model's window ends here; judged days start the day after
    last_day: str
    h1_last: str
    window_days: int
    tuning_trials: int
    tune: bool


FULL = Plan("full", "2013-01-01", "2013-03-01", "2013-12-31", "2013-06-30", 60, 3, True)
QUICK = Plan("quick", "2013-01-01", "2013-01-28", "2013-02-07", "2013-02-02", 21, 1, False)


def drift_policy(name: str, threshold: float, consecutive: int, cooldown: int, **extra) -> Policy:
    floor = float(default_monitoring()["live_auc_floor"])
    return Policy(name, "drift", drift_threshold=threshold, auc_floor=floor,
                  consecutive=consecutive, cooldown=cooldown, **extra)  # fmt: skip


def default_drift_policy() -> Policy:
    d = default_monitoring()
    return drift_policy(
        "drift (default)", d["drift_share_threshold"], d["consecutive_days"], d["cooldown_days"]
    )


def calendar_policies(quick: bool) -> list[Policy]:
    intervals = [7] if quick else [7, 14, 30]
    return [
        Policy("never", "never"),
        Policy("every day", "interval", every=1),
        *[Policy(f"every {k} days", "interval", every=k) for k in intervals],
    ]


# (threshold, consecutive days, cooldown days); the default (0.4, 3, 14) is a candidate too.
DRIFT_GRID = [(0.2, 3, 7), (0.3, 3, 7), (0.3, 1, 7)]
PERFORMANCE_GRID = [(0.0, 3, 7), (0.02, 3, 7), (0.04, 3, 7), (0.02, 1, 7), (0.04, 1, 14)]


def pick(runs: list[PolicyRun], h1: set[str], daily_h1: int) -> PolicyRun:
    """Within the retrain budget on H1, the best H1 AUC; else the fewest retrains."""
    within = [r for r in runs if r.retrains_in(h1) <= RETRAIN_BUDGET * daily_h1]
    if within:
        return max(within, key=lambda r: r.mean_auc(h1))
    return min(runs, key=lambda r: r.retrains_in(h1))


def tune(
    bank: ModelBank, plan: Plan, h1_days: list[str], default: PolicyRun, daily_h1: int
) -> dict:
    """Replay each grid point on H1 only; pick the drift and performance settings there (the
    default drift policy's own H1 days are a drift candidate)."""
    h1 = set(h1_days)
    drift_runs = [default] + [
        replay(bank, drift_policy(f"drift {t}/{c}/{cd}", t, c, cd), h1_days, plan.first_model_end)
        for t, c, cd in DRIFT_GRID
    ]
    perf_runs = [
        replay(
            bank,
            Policy(
                f"performance {m}/{c}/{cd}", "performance", auc_margin=m, consecutive=c, cooldown=cd
            ),
            h1_days,
            plan.first_model_end,
        )  # fmt: skip
        for m, c, cd in PERFORMANCE_GRID
    ]
    best_drift, best_perf = pick(drift_runs, h1, daily_h1), pick(perf_runs, h1, daily_h1)
    d, p = best_drift.policy, best_perf.policy
    tuned = [
        drift_policy("drift (tuned on H1)", d.drift_threshold, d.consecutive, d.cooldown),
        Policy(
            "performance (tuned on H1)",
            "performance",
            auc_margin=p.auc_margin,
            consecutive=p.consecutive,
            cooldown=p.cooldown,
        ),  # fmt: skip
        Policy(
            "hybrid drift or performance",
            "hybrid",
            drift_threshold=d.drift_threshold,
            auc_margin=p.auc_margin,
            consecutive=d.consecutive,
            cooldown=d.cooldown,
        ),  # fmt: skip
    ]
    grid = [
        {**r.policy.describe(), "h1_mean_auc": r.mean_auc(h1), "h1_retrains": r.retrains_in(h1)}
        for r in drift_runs + perf_runs
    ]
    return {"policies": tuned, "grid": grid, "picked": [d.name, p.name]}


def matched_interval(runs: list[PolicyRun], days: list[str]) -> Policy | None:
    """The calendar interval spending as many retrains as the default drift policy."""
    default = next(r for r in runs if r.policy.name == "drift (default)")
    n = len(default.retrain_days)
    if n == 0:
        return None
    every = max(1, round(len(days) / (n + 1)))
    if any(r.policy.kind == "interval" and r.policy.every == every for r in runs):
        return None
    return Policy(f"every {every} days (matches the default's retrains)", "interval", every=every)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short span, four policies")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--home", type=Path, default=None, help="reuse this lake (else a temp dir)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="leanops-policy-bench-") as tmp:
        home = args.home or Path(tmp)
        os.environ["LEANOPS_HOME"] = str(home)
        report = run(plan, home, started)
    report["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_at_start": load_start,
        "load_average_at_end": os.getloadavg(),
        "python": platform.python_version(),
    }
    report["command"] = "benchmarks/policies.py" + (" --quick" if args.quick else "")
    report["seconds"]["total"] = time.perf_counter() - started
    # CPU time of this process (the Spark JVM excluded): what an unshared machine would wait for
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report["seconds"]["python_cpu"] = usage.ru_utime + usage.ru_stime
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "policies.json").write_text(json.dumps(report, indent=2))
    markdown = write_markdown(report, args.out / "policies.md")
    write_plot(report, args.out / "policies.png")
    print(markdown)
    print(f"total {report['seconds']['total']:.0f} s; written {args.out}/policies.json|md|png")
    return 0


def run(plan: Plan, home: Path, started: float) -> dict:
    from leanops_assets.storage import Lake

    lake_root = home / "lake"
    built = build_lake(lake_root, day_range(plan.lake_first, plan.last_day))
    features = Lake(lake_root).read_partitions("features", "flights", built.days)
    print(
        f"lake: {len(built.days)} feature days ({time.perf_counter() - started:.0f} s)", flush=True
    )
    bank = ModelBank(features, plan.window_days, params={}, iterations=0)
    tuning_started = time.perf_counter()
    bank.params, bank.iterations = tuned_params(
        bank, plan.first_model_end, plan.tuning_trials, home / "optuna" / "journal.log"
    )
    study_seconds = time.perf_counter() - tuning_started
    days = [d for d in built.days if plan.first_model_end < d <= plan.last_day]
    h1_days = [d for d in days if d <= plan.h1_last]

    runs = []
    for policy in [*calendar_policies(plan.mode == "quick"), default_drift_policy()]:
        runs.append(replay(bank, policy, days, plan.first_model_end))
        print(f"{policy.name}: {len(runs[-1].retrain_days)} retrains "
              f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    tuning = {"policies": [], "grid": [], "picked": []}
    if plan.tune:
        daily_h1 = runs[1].retrains_in(set(h1_days))
        tuning = tune(bank, plan, h1_days, runs[-1], daily_h1)
        extra = [*tuning["policies"], drift_policy(
            "drift (default), rejection retries", *(default_monitoring()[k] for k in (
                "drift_share_threshold", "consecutive_days", "cooldown_days")), retry_rejected=True)]  # fmt: skip
        matched = matched_interval(runs, days)
        for policy in [*extra, *([matched] if matched else [])]:
            runs.append(replay(bank, policy, days, plan.first_model_end))
            print(f"{policy.name}: {len(runs[-1].retrain_days)} retrains "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    report = summarize(runs, days, set(h1_days), RETRAIN_BUDGET)
    report.update(
        mode=plan.mode,
        measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        protocol={
            "window_days": plan.window_days,
            "first_model_window_end": plan.first_model_end,
            "judged_days": [days[0], days[-1], len(days)],
            "h1": [h1_days[0], h1_days[-1], len(h1_days)],
            "h2": [days[len(h1_days)], days[-1], len(days) - len(h1_days)],
            "fixed_params": bank.params,
            "fixed_iterations": bank.iterations,
            "tuning_study_trials": plan.tuning_trials,
            "lake_days_rejected_by_validation": built.rejected,
            "models_trained": len(bank.models),
            "drift_reports": len(bank.drift),
        },
        tuning={"grid": tuning["grid"], "picked": tuning["picked"]},
        seconds={
            "land_and_validate": built.land_validate_seconds,
            "features": built.feature_seconds,
            "tuning_study": study_seconds,
            "fits": sum(m.fit_seconds for m in bank.models.values()),
            "drift_reports": bank.drift_seconds,
        },
    )
    return report


if __name__ == "__main__":
    sys.exit(main())
