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
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy_data import ModelBank, build_lake, day_range, shift_day, tuned_params  # noqa: E402
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
    judge_until: str | None = None  # default: last_day


FULL = Plan("full", "2013-01-01", "2013-03-01", "2013-12-31", "2013-06-30", 60, 3, True)
QUICK = Plan("quick", "2013-01-01", "2013-01-28", "2013-02-07", "2013-02-02", 21, 1, False)


def partial(plan: Plan, until: str) -> Plan:
    """The plan judged to `until` only (the lake still holds the plan's whole span)."""
    span = day_range(shift_day(plan.first_model_end, 1), until)
    return replace(plan, mode=f"{plan.mode} to {until}", judge_until=until,
                   h1_last=span[len(span) // 2 - 1], tune=False)  # fmt: skip


def drift_policy(name: str, threshold: float, evidence: int, cooldown: int, **extra) -> Policy:
    floor = float(default_monitoring()["live_auc_floor"])
    return Policy(name, "drift", drift_threshold=threshold, auc_floor=floor,
                  evidence=evidence, cooldown=cooldown, **extra)  # fmt: skip


def default_drift_policy() -> Policy:
    d = default_monitoring()
    return drift_policy(
        "drift (default)", d["drift_share_threshold"], d["evidence_windows"], d["cooldown_days"]
    )


def calendar_policies(quick: bool) -> list[Policy]:
    intervals = [7] if quick else [7, 14, 30]
    return [
        Policy("never", "never"),
        Policy("every day", "interval", every=1),
        *[Policy(f"every {k} days", "interval", every=k) for k in intervals],
    ]


# (threshold, evidence windows, cooldown days); the default (0.4, 2, 14) is a candidate too.
DRIFT_GRID = [(0.2, 2, 7), (0.3, 2, 7), (0.3, 1, 7)]
# (AUC margin under the champion's holdout AUC, evidence windows, cooldown days)
PERFORMANCE_GRID = [(0.0, 2, 7), (0.02, 2, 7), (0.04, 2, 7), (0.02, 1, 7), (0.04, 1, 14)]


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
                f"performance {m}/{c}/{cd}", "performance", auc_margin=m, evidence=c, cooldown=cd
            ),
            h1_days,
            plan.first_model_end,
        )  # fmt: skip
        for m, c, cd in PERFORMANCE_GRID
    ]
    best_drift, best_perf = pick(drift_runs, h1, daily_h1), pick(perf_runs, h1, daily_h1)
    d, p = best_drift.policy, best_perf.policy
    tuned = [
        drift_policy("drift (tuned on H1)", d.drift_threshold, d.evidence, d.cooldown),
        Policy(
            "performance (tuned on H1)",
            "performance",
            auc_margin=p.auc_margin,
            evidence=p.evidence,
            cooldown=p.cooldown,
        ),  # fmt: skip
        Policy(
            "hybrid drift or performance",
            "hybrid",
            drift_threshold=d.drift_threshold,
            auc_margin=p.auc_margin,
            evidence=d.evidence,
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
    parser.add_argument(
        "--until",
        default=None,
        help="judge only to this day, halves split in the middle, no tuning",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.until:
        plan = partial(plan, args.until)
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
    report["command"] = " ".join(["benchmarks/policies.py", *(argv or sys.argv[1:])])
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
    journal = home / "optuna" / "policy_bench.log"
    journal.unlink(missing_ok=True)  # a fresh study each run: same seed, same trials, same params
    bank.params, bank.iterations = tuned_params(
        bank, plan.first_model_end, plan.tuning_trials, journal
    )
    study_seconds = time.perf_counter() - tuning_started
    until = plan.judge_until or plan.last_day
    days = [d for d in built.days if plan.first_model_end < d <= until]
    h1_days = [d for d in days if d <= plan.h1_last]

    runs = []
    for policy in [*calendar_policies(plan.mode.startswith("quick")), default_drift_policy()]:
        runs.append(replay(bank, policy, days, plan.first_model_end))
        print(f"{policy.name}: {len(runs[-1].retrain_days)} retrains "
              f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    tuning = {"policies": [], "grid": [], "picked": []}
    if plan.tune:
        daily_h1 = runs[1].retrains_in(set(h1_days))
        tuning = tune(bank, plan, h1_days, runs[-1], daily_h1)
        extra = [*tuning["policies"], drift_policy(
            "drift (default), a rejection cools down (old rule)", *(default_monitoring()[k] for k in (
                "drift_share_threshold", "evidence_windows", "cooldown_days")), rejection_cools_down=True)]  # fmt: skip
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
