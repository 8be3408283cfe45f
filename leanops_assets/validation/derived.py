"""Columns validation adds to every clean flight: its day, its id and the target."""

from __future__ import annotations

from datetime import date

import pandas as pd

LATE_THRESHOLD_MINUTES = 15


def flight_ids(frame: pd.DataFrame, day: str) -> pd.Series:
    """carrier-flight-origin-YYYY-MM-DD-HHMM: unique per scheduled departure."""
    return (
        frame["carrier"].astype(str)
        + "-"
        + frame["flight"].astype("int64").astype(str)
        + "-"
        + frame["origin"].astype(str)
        + f"-{day}-"
        + frame["sched_dep_time"].astype("int64").map("{:04d}".format)
    )


def add_derived_columns(
    frame: pd.DataFrame,
    day: str,
    threshold_minutes: int = LATE_THRESHOLD_MINUTES,
    outcomes_known: pd.Series | None = None,
) -> pd.DataFrame:
    """Add flight_date, flight_id and is_late (arrives > threshold late, or never arrives).

    is_late is null (unknown) where `outcomes_known` is false: a flight not yet flown is not late.
    """
    out = frame.copy()
    out["flight_date"] = date.fromisoformat(day)
    out["flight_id"] = flight_ids(out, day)
    arr_delay = out["arr_delay"]
    late = (arr_delay.isna() | (arr_delay > threshold_minutes)).astype("Int64")
    known = pd.Series(True, index=out.index) if outcomes_known is None else outcomes_known
    out["is_late"] = late.where(known.to_numpy(), pd.NA)
    return out
