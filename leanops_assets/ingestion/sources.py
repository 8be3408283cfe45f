"""Raw sources: a landing folder of daily files (a bundled source is its dataset's source.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from leanops_assets.settings import leanops_home
from leanops_assets.storage import check_day, check_name


class SourceError(ValueError):
    """A source file that cannot be read as the contract expects; the message names the file."""


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
