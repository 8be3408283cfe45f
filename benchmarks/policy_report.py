"""The retraining-policy benchmark's results: per-policy figures, goals, Markdown table, plot."""

from __future__ import annotations

from pathlib import Path

from policy_sim import PolicyRun


def _share(value: float, low: float, high: float) -> float | None:
    return None if high == low else (value - low) / (high - low)


def summarize(runs: list[PolicyRun], days: list[str], h1: set[str], budget: float) -> dict:
    """Per policy and half: mean daily live AUC, share of every day's gain over never, retrains."""
    halves = {"all": set(days), "h1": h1, "h2": set(days) - h1}
    never = next(r for r in runs if r.policy.kind == "never")
    daily = next(r for r in runs if r.policy.kind == "interval" and r.policy.every == 1)
    rows = []
    for r in runs:
        row = {"name": r.policy.name, "config": r.policy.describe()}
        for half, members in halves.items():
            auc = r.mean_auc(members)
            retrains, daily_retrains = r.retrains_in(members), daily.retrains_in(members)
            gain = _share(auc, never.mean_auc(members), daily.mean_auc(members))
            row[half] = {
                "mean_auc": auc,
                "gain_share": gain,
                "retrains": retrains,
                "retrain_share": retrains / daily_retrains if daily_retrains else None,
                "gain_share_per_retrain_share": (
                    gain / (retrains / daily_retrains)
                    if gain is not None and retrains and daily_retrains
                    else None
                ),
            }
        row.update(
            retrains=len(r.retrain_days),
            promotions=len(r.promotions),
            train_seconds=r.train_seconds,
            retrain_days=r.retrain_days,
            promotion_days=r.promotions,
            rejections=r.rejections,
            trigger_reasons=r.reasons,
            daily={"days": r.days, "live_auc": r.live_auc, "served_by": r.served_by},
        )
        rows.append(row)
    return {"policies": rows, "goals": goals(rows, budget)}


def goals(rows: list[dict], budget: float) -> dict:
    """The issue's goals for the default drift policy, judged on H2, and the best within budget."""
    by_name = {row["name"]: row for row in rows}
    default = by_name.get("drift (default)")
    out: dict = {}
    if default is not None:
        h2 = default["h2"]
        matched = [
            row for row in rows
            if row["config"]["kind"] == "interval" and row["retrains"] == default["retrains"]
        ] or [
            row for row in rows
            if row["config"]["kind"] == "interval" and "matches the default" in row["name"]
        ]  # fmt: skip
        out["default_keeps_95pct_of_gain_h2"] = (
            h2["gain_share"] is not None and h2["gain_share"] >= 0.95
        )
        out["default_within_15pct_retrains_h2"] = (
            h2["retrain_share"] is not None and h2["retrain_share"] <= budget
        )
        if matched:
            out["matched_interval"] = matched[0]["name"]
            out["default_beats_matched_interval_h2"] = h2["mean_auc"] > matched[0]["h2"]["mean_auc"]
    within = [
        row for row in rows
        if row["config"]["kind"] not in ("never",) and row["h2"]["retrain_share"] is not None
        and 0 < row["h2"]["retrain_share"] <= budget
    ]  # fmt: skip
    if within:
        best = max(within, key=lambda row: row["h2"]["mean_auc"])
        out["best_within_budget_h2"] = {
            "name": best["name"],
            "mean_auc": best["h2"]["mean_auc"],
            "gain_share": best["h2"]["gain_share"],
            "retrain_share": best["h2"]["retrain_share"],
        }
    return out


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _days(row: dict, limit: int = 30) -> str:
    days = row["retrain_days"]
    if not days:
        return "none"
    if len(days) > limit:
        return f"{len(days)} days ({days[0][5:]} … {days[-1][5:]})"
    return ", ".join(d[5:] for d in days)


def write_markdown(report: dict, path: Path) -> str:
    lines = [
        "| policy | mean live AUC H1 | H2 | share of every-day gain H1 | H2 | retrains (H1 + H2) "
        "| share of every-day retrains H2 | promotions | training s | retrained on (MM-DD) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["policies"]:
        h1, h2 = row["h1"], row["h2"]
        lines.append(
            f"| {row['name']} | {h1['mean_auc']:.4f} | {h2['mean_auc']:.4f} "
            f"| {_pct(h1['gain_share'])} | {_pct(h2['gain_share'])} "
            f"| {row['retrains']} ({h1['retrains']} + {h2['retrains']}) | {_pct(h2['retrain_share'])} "
            f"| {row['promotions']} | {row['train_seconds']:.0f} | {_days(row)} |"
        )
    goal_lines = [f"- {key}: {value}" for key, value in report["goals"].items()]
    text = "\n".join([*lines, "", "Goals (H2, the judged half):", *goal_lines]) + "\n"
    path.write_text(text)
    return text


def write_plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    import pandas as pd

    fig, ax = plt.subplots(figsize=(13, 6))
    colors = plt.get_cmap("tab20").colors  # more policies than tab10's ten colours
    for index, row in enumerate(report["policies"]):
        series = pd.Series(row["daily"]["live_auc"], index=pd.to_datetime(row["daily"]["days"]))
        smooth = series.rolling(7, min_periods=1).mean()
        (line,) = ax.plot(
            smooth.index, smooth.to_numpy(), linewidth=1.2, label=row["name"],
            color=colors[(2 * index) % 20 + (2 * index) // 20],
        )  # fmt: skip
        if 0 < len(row["retrain_days"]) <= 60:
            marks = pd.to_datetime(row["retrain_days"])
            ax.plot(
                marks, smooth.reindex(marks).to_numpy(), "v", color=line.get_color(), markersize=5
            )
    h2_start = report["protocol"]["h2"][0]
    ax.axvline(pd.Timestamp(h2_start), color="grey", linestyle="--", linewidth=1)
    ax.text(pd.Timestamp(h2_start), ax.get_ylim()[1], " H2 (judged)", va="top", color="grey")
    ax.set_ylabel("daily live ROC AUC (7-day mean)")
    ax.set_title("Retraining policies on the 2013 days: ▼ marks a retrain (every day: not marked)")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
    ax.legend(fontsize=8, ncol=2, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
