"""Realistic feature partitions for training and registry tests, built with pandas from the real year.

Only the schedule and route features are computed; every other feature column is left all-null, as
the pipeline must tolerate. The calendar columns (weekday, month, day_of_year) stay null too: over
the tests' three-week window they only let the model memorise each day's delay rate, and the
holdout ranking of test models becomes noise. The Spark `flight_features` asset replaces this in
integration tests.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import numpy as np
import pandas as pd

from leanops_assets.contract import load_contract
from leanops_assets.dataset import bundled_dataset
from leanops_assets.datasets.flights.source import bundled_day
from leanops_assets.storage import Lake
from leanops_assets.validation.derived import add_derived_columns

FLIGHTS = bundled_dataset()
TABLE = FLIGHTS.table


def days_between(first: str, count: int) -> list[str]:
    start = date.fromisoformat(first)
    return [(start + timedelta(days=i)).isoformat() for i in range(count)]


def handmade_feature_day(day: str) -> pd.DataFrame:
    """One day of the feature table with a subset of features computed by hand, the rest null."""
    return _feature_day(day).copy()


@cache
def _feature_day(day: str) -> pd.DataFrame:
    raw = add_derived_columns(bundled_day("flights", day), day, load_contract())
    when = date.fromisoformat(day)
    out = pd.DataFrame(
        {"flight_id": raw["flight_id"], TABLE.date_column: when, "is_late": raw["is_late"]}
    )
    out["carrier"] = raw["carrier"].astype(object)
    out["origin"] = raw["origin"].astype(object)
    out["dest"] = raw["dest"].astype(object)
    out["route"] = (raw["origin"] + "-" + raw["dest"]).astype(object)
    for column in TABLE.categorical:
        if column not in out:
            out[column] = pd.Series([None] * len(raw), dtype=object)
    sched = raw["sched_dep_time"].astype("int64")
    out["sched_dep_hour"] = (sched // 100).astype("float64")
    out["sched_dep_minute_of_day"] = ((sched // 100) * 60 + sched % 100).astype("float64")
    out["distance"] = raw["distance"].astype("float64")
    out["origin_hour_scheduled_flights"] = (
        raw.groupby(["origin", "hour"])["flight"].transform("size").astype("float64")
    )
    for column in TABLE.numeric:
        if column not in out:
            out[column] = np.nan
    return out[TABLE.all_columns].drop_duplicates("flight_id").reset_index(drop=True)


def handmade_features(days: list[str]) -> dict[str, pd.DataFrame]:
    return {day: handmade_feature_day(day) for day in days}


def write_feature_days(lake: Lake, frames: dict[str, pd.DataFrame]) -> None:
    for day, frame in frames.items():
        lake.write_partition("features", "flights", day, frame)
