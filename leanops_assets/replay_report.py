"""The replay's summary: replay.json and a plot of live quality and drift, with retrains."""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from leanops_assets.settings import leanops_home
from leanops_assets.storage import write_text_atomic


@dataclass
class DayResult:
    day: str
    success: bool
    seconds: float
    raw_rows: int | None = None
    quarantined: int | None = None
    live_auc: float | None = None
    drift_share: float | None = None
    champion_version: str | None = None
    failed_checks: list[str] = field(default_factory=list)


@dataclass
class Retrain:
    day: str
    reason: str
    run_id: str
    status: str
    champion_before: str | None
    champion_after: str | None


def plot_history(days: list[DayResult], retrains: list[Retrain], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    when = [date.fromisoformat(d.day) for d in days]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    ax.plot(when, [d.live_auc for d in days], color="tab:blue", marker=".", label="live ROC AUC")
    ax.set_ylabel("live ROC AUC", color="tab:blue")
    ax.set_ylim(0.4, 1.0)
    share = ax.twinx()
    share.plot(
        when, [d.drift_share for d in days], color="tab:orange", marker=".", label="drift share"
    )
    share.set_ylabel("share of drifted features", color="tab:orange")
    share.set_ylim(0, 1)
    for retrain in retrains:
        ax.axvline(date.fromisoformat(retrain.day), color="tab:red", linestyle="--", alpha=0.8)
        ax.annotate(
            f"retrain\n{retrain.status.lower()}",
            (date.fromisoformat(retrain.day), 0.95),
            fontsize=8,
            color="tab:red",
            ha="left",
        )
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    ax.set_title("leanops replay: live quality and drift of the champion, with retrains")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_summary(
    dataset: str,
    results: list[DayResult],
    retrains: list[Retrain],
    last_skip_reason: str | None,
    say: Callable[[str], None],
) -> int:
    """Write reports/<dataset>/replay.json and replay.png (beside the dataset's drift reports),
    print the summary; 1 if a day failed."""
    reports = leanops_home() / "reports" / dataset
    plot = reports / "replay.png"
    plot_history(results, retrains, plot)
    summary = {
        "dataset": dataset,
        "days_processed": len(results),
        "days_failed": [r.day for r in results if not r.success],
        "retrains": [asdict(r) for r in retrains],
        "champion_versions": sorted(
            {r.champion_version for r in results if r.champion_version}, key=int
        ),
        "live_auc": {r.day: r.live_auc for r in results},
        "drift_share": {r.day: r.drift_share for r in results},
        "plot": str(plot),
    }
    write_text_atomic(json.dumps(summary, indent=2), reports / "replay.json")
    say("")
    say(f"leanops: {len(results)} days processed, {len(summary['days_failed'])} failed")
    for retrain in retrains:
        say(
            f"  retrain on {retrain.day} ({retrain.status.lower()}): {retrain.reason}; "
            f"champion v{retrain.champion_before} -> v{retrain.champion_after}"
        )
    if not retrains:
        say(f"  no retrain: {last_skip_reason or 'the sensor never fired'}")
    say(f"  champion versions used: {', '.join('v' + v for v in summary['champion_versions'])}")
    say(f"  plot: {plot}   summary: {reports / 'replay.json'}")
    return 0 if not summary["days_failed"] else 1
