"""A dataset's bundled source: the `source.py` in its folder, which offers `bundled_day(table,
day)` for a daily table, `bundled_table(table)` for a table joined by key and, optionally,
`scaled_day(table, day, scale)` for the synthetic source and ORIGIN to name the source."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

import pandas as pd
from dagster import Failure

from leanops_assets.contract import DATASETS_DIR
from leanops_assets.dataset import Dataset


def bundled_source(ds: Dataset) -> ModuleType:
    """The dataset's source.py; a dataset without one is read from a landing folder."""
    path = ds.folder / "source.py"
    if not path.exists():
        raise Failure(
            description=f"dataset {ds.name!r} has no bundled source ({path} does not exist); "
            'set the source resource\'s kind="landing" and deliver its files to the landing folder',
            allow_retries=False,
        )
    if ds.folder.parent == DATASETS_DIR:  # a bundled package: imported once, like its features
        return importlib.import_module(f"leanops_assets.datasets.{ds.folder.name}.source")
    spec = importlib.util.spec_from_file_location(f"dataset_{ds.name}_source", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def origin(source: ModuleType, ds: Dataset) -> str:
    return getattr(source, "ORIGIN", f"{ds.name} bundled source")


def bundled_rows(ds: Dataset, table: str, day: str, scale: int | None) -> tuple[pd.DataFrame, str]:
    """A bundled day of `table` and where it came from; scaled `scale`-fold when scale is set."""
    source = bundled_source(ds)
    if scale is None:
        return source.bundled_day(table, day), f"{origin(source, ds)} {table}, {day}"
    if not hasattr(source, "scaled_day"):
        raise Failure(
            description=f"dataset {ds.name!r}: its source.py has no scaled_day(table, day, scale) "
            'for the synthetic source; use kind="bundled" or kind="landing"',
            allow_retries=False,
        )
    frame = source.scaled_day(table, day, scale)
    if table != ds.name:  # only the dataset's own rows are scaled
        return frame, f"{origin(source, ds)} {table}, {day}"
    return frame, f"{origin(source, ds)} {table}, {day}, x{scale} synthetic"


def bundled_whole_table(ds: Dataset, table: str) -> tuple[pd.DataFrame, str]:
    source = bundled_source(ds)
    return source.bundled_table(table), f"{origin(source, ds)} {table}"
