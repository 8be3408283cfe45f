"""Champion history: which version served each day, and why the champion changed.

Built from what the registry records on each version (decision and rollback tags, written by
promotion.py and rollback.py) and from the model version the prediction log holds for each day.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

TAG = "leanops."


@dataclass(frozen=True)
class VersionRecord:
    version: str
    tags: dict[str, str]


def registry_events(versions: list[VersionRecord]) -> pd.DataFrame:
    """Every promotion, rejection and rollback, oldest first: at, event, version, from, reason."""
    rows = []
    for record in versions:
        tags = record.tags
        decision = tags.get(f"{TAG}decision")
        if decision in ("promoted", "rejected"):
            rows.append(
                {
                    "at": tags.get(f"{TAG}decided_at", ""),
                    "event": "promotion" if decision == "promoted" else "rejection",
                    "version": record.version,
                    "from_version": tags.get(f"{TAG}champion_at_decision", "none"),
                    "trained_until": tags.get(f"{TAG}holdout_last_day", ""),
                    "reason": tags.get(f"{TAG}decision_reason", ""),
                }
            )
        if f"{TAG}rolled_back_to_at" in tags:
            rows.append(
                {
                    "at": tags[f"{TAG}rolled_back_to_at"],
                    "event": "rollback",
                    "version": record.version,
                    "from_version": tags.get(f"{TAG}rolled_back_from", ""),
                    "trained_until": tags.get(f"{TAG}holdout_last_day", ""),
                    "reason": tags.get(f"{TAG}rolled_back_to_reason", ""),
                }
            )
    columns = ["at", "event", "version", "from_version", "trained_until", "reason"]
    events = pd.DataFrame(rows, columns=columns)
    return events.sort_values(["at", "version"], kind="stable").reset_index(drop=True)


def daily_champions(served: dict[str, list[str]], events: pd.DataFrame) -> pd.DataFrame:
    """One row per scored day: the version(s) that served it and, where it changed, why.

    A change is named by the registry event that made the new version champion (its latest
    promotion or rollback to it); rejections are listed on the day their training data ended.
    """
    rows, before = [], None
    for day in sorted(served):
        versions = served[day]
        serving = ",".join(versions)
        change, reason = "", ""
        if before is not None and serving != before:
            made = events[
                events["event"].isin(["promotion", "rollback"])
                & (events["version"] == versions[-1])
            ]
            if not made.empty:
                change, reason = made.iloc[-1]["event"], made.iloc[-1]["reason"]
        rejected = events[(events["event"] == "rejection") & (events["trained_until"] == day)]
        rows.append(
            {
                "day": day,
                "champion_version": serving,
                "change": change,
                "reason": reason,
                "rejected": ",".join(rejected["version"]),
            }
        )
        before = serving
    return pd.DataFrame(rows, columns=["day", "champion_version", "change", "reason", "rejected"])


def served_by_day(frames: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """The distinct model versions of each day's prediction log, in numeric order."""
    return {
        day: sorted(frame["model_version"].astype(str).unique(), key=int)
        for day, frame in frames.items()
    }
