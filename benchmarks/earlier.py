"""Figures read from the project's own state (only read): the last replay's closed loop and the
share of pruned trials in the project's Optuna journal."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from harness import REPO, Bench

NAME = "earlier"


def _home() -> Path:
    return Path(os.environ.get("LEANOPS_HOME") or REPO / ".leanops")


def replay_summary(home: Path) -> dict | None:
    path = home / "reports" / "flights" / "replay.json"  # the bundled dataset's
    if not path.exists():
        return None
    summary = json.loads(path.read_text())
    keys = ("day", "status", "reason", "champion_before", "champion_after")
    return {
        "path": str(path),
        "days_processed": summary.get("days_processed"),
        "days_failed": len(summary.get("days_failed", [])),
        "retrains": [{k: r.get(k) for k in keys} for r in summary.get("retrains", [])],
        "champion_versions": summary.get("champion_versions"),
    }


def project_pruning(home: Path) -> dict | None:
    """Share of pruned trials in the project's own Optuna journal (read from a copy)."""
    journal = home / "optuna" / "journal.log"
    if not journal.exists():
        return None
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "journal.log"
        shutil.copy(journal, copy)
        storage = JournalStorage(JournalFileBackend(str(copy)))
        studies = {}
        for summary in optuna.get_all_study_summaries(storage):
            trials = optuna.load_study(study_name=summary.study_name, storage=storage).trials
            pruned = sum(t.state.name == "PRUNED" for t in trials)
            studies[summary.study_name] = {
                "trials": len(trials),
                "pruned": pruned,
                "pruned_share": pruned / len(trials) if trials else None,
            }
    return {"journal": str(journal), "studies": studies}


def run(bench: Bench, report: dict) -> dict:
    return {"replay": replay_summary(_home()), "project_optuna": project_pruning(_home())}


def summary(result: dict) -> str:
    r = result["replay"]
    return "[earlier] " + (
        "no replay.json" if r is None else f"replay of {r['days_processed']} days"
    )


def rows(result: dict) -> list[tuple]:
    out = []
    for name, study in ((result.get("project_optuna") or {}).get("studies") or {}).items():
        share = "-" if study["pruned_share"] is None else f"{study['pruned_share']:.0%}"
        out.append(
            (
                f"optuna: pruned trials, project study {name}",
                f"{study['pruned']} of {study['trials']} ({share})",
                "",
                None,
            )
        )
    r = result["replay"]
    if r:
        champions = ", ".join("v" + str(v) for v in r["champion_versions"] or [])
        value = (
            f"{r['days_processed']} days, {r['days_failed']} failed, "
            f"{len(r['retrains'])} retrain(s), champions {champions}"
        )
        out.append(("closed loop (replay.json)", value, "", None))
    else:
        out.append(
            (
                "closed loop",
                "no $LEANOPS_HOME/reports/flights/replay.json (run `make replay`)",
                "",
                None,
            )
        )
    return out
