"""The training set: a trailing window of feature days with known outcomes, split by time into
train, validation, holdout. Rows whose outcome has not arrived are left out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from leanops_assets.storage import Lake, check_day, file_sha256

if TYPE_CHECKING:
    from leanops_assets.dataset import Dataset, FeatureTable

FEATURE_STAGE = "features"
VALIDATED_STAGE = "validated"
TRAINING_STAGE = "training"
SPLITS = ("train", "validation", "holdout")


class TrainingSetError(ValueError):
    """The feature lake cannot give the requested window or split; the message says what to do."""


@dataclass(frozen=True)
class WindowSpec:
    """How many days to use, where the window ends, and how many trailing days each later split takes."""

    window_days: int = 60
    end_day: str | None = None
    validation_days: int = 7
    holdout_days: int = 7


@dataclass(frozen=True)
class SplitDays:
    train: list[str]
    validation: list[str]
    holdout: list[str]

    def as_dict(self) -> dict[str, list[str]]:
        return {"train": self.train, "validation": self.validation, "holdout": self.holdout}


def split_table(dataset_name: str, split: str) -> str:
    """The lake table of a dataset's split (or candidate): Dataset.lake_table's naming."""
    return f"{dataset_name}_{split}"


def select_window(available_days: list[str], spec: WindowSpec, ds: Dataset) -> list[str]:
    """The materialized days inside the calendar window [end - window_days + 1, end].

    The window ends at `spec.end_day` if given, else at the latest materialized day.
    """
    if spec.window_days < 3:
        raise TrainingSetError(
            f"window_days={spec.window_days}: need at least 3 days (one per split)"
        )
    if not available_days:
        raise TrainingSetError(
            f"no feature partitions in the lake at {FEATURE_STAGE}/{ds.name}; "
            f"materialize {ds.features_asset} first"
        )
    days = sorted(available_days)
    end = date.fromisoformat(check_day(spec.end_day) if spec.end_day else days[-1])
    start = end - timedelta(days=spec.window_days - 1)
    window = [d for d in days if start <= date.fromisoformat(d) <= end]
    if not window:
        raise TrainingSetError(
            f"no feature partitions between {start} and {end}; materialized days run from "
            f"{days[0]} to {days[-1]}; change end_day or materialize {ds.features_asset} for that range"
        )
    return window


def split_days(window: list[str], spec: WindowSpec, ds: Dataset) -> SplitDays:
    """Time-ordered split: the last holdout_days days, the validation_days before them, the rest train."""
    need = spec.validation_days + spec.holdout_days + 1
    if spec.validation_days < 1 or spec.holdout_days < 1:
        raise TrainingSetError("validation_days and holdout_days must each be at least 1")
    if len(window) < need:
        raise TrainingSetError(
            f"the window {window[0]}..{window[-1]} holds {len(window)} materialized feature days; "
            f"validation_days={spec.validation_days} and holdout_days={spec.holdout_days} need at least "
            f"{need}; materialize more {ds.features_asset} days or lower the split sizes"
        )
    holdout = window[-spec.holdout_days :]
    validation = window[-need + 1 : -spec.holdout_days]
    train = window[: -need + 1]
    return SplitDays(train=train, validation=validation, holdout=holdout)


def labelled_rows(frame: pd.DataFrame, table: FeatureTable) -> pd.DataFrame:
    """The rows whose outcome is known: a row whose outcome has not arrived has no label to learn from."""
    if frame.empty:
        return frame
    label = table.label_column
    labelled = frame.loc[frame[label].notna()].copy()
    labelled[label] = labelled[label].astype("int64")
    return labelled


def split_frame(
    frame: pd.DataFrame, days: SplitDays, table: FeatureTable
) -> dict[str, pd.DataFrame]:
    """Rows of each split in a stable order (day, then id), in the feature table's columns."""
    columns = table.all_columns
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise TrainingSetError(
            f"feature frame lacks columns {missing}; expected the feature table's columns"
        )
    day_text = pd.to_datetime(frame[table.date_column]).dt.strftime("%Y-%m-%d")
    order = [table.date_column, table.id_column]
    out = {}
    for name, members in days.as_dict().items():
        part = frame.loc[day_text.isin(members), columns]
        out[name] = part.sort_values(order, kind="stable").reset_index(drop=True)
    if out["train"][table.label_column].nunique() < 2:
        raise TrainingSetError(
            f"the train split {days.train[0]}..{days.train[-1]} has a single label value; "
            f"widen the window"
        )
    return out


def split_summary(splits: dict[str, pd.DataFrame], table: FeatureTable) -> pd.DataFrame:
    """One row per split: first and last day, rows, label rate."""
    rows = []
    for name, part in splits.items():
        dates = pd.to_datetime(part[table.date_column])
        rows.append(
            {
                "split": name,
                "first_day": dates.min().strftime("%Y-%m-%d") if len(part) else "",
                "last_day": dates.max().strftime("%Y-%m-%d") if len(part) else "",
                "days": int(dates.dt.normalize().nunique()),
                "rows": len(part),
                "label_rate": round(float(part[table.label_column].mean()), 4)
                if len(part)
                else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def combined_version(split_hashes: dict[str, str]) -> str:
    """One data version for the three split files: a hash of their content hashes."""
    text = "|".join(f"{name}={split_hashes[name]}" for name in SPLITS)
    return hashlib.sha256(text.encode()).hexdigest()


def write_splits(lake: Lake, dataset_name: str, splits: dict[str, pd.DataFrame]) -> str:
    """Write each split as an unpartitioned lake table of the dataset; return the combined data
    version."""
    hashes = {
        name: lake.write_table(
            TRAINING_STAGE, split_table(dataset_name, name), splits[name]
        ).content_hash
        for name in SPLITS
    }
    return combined_version(hashes)


def stored_version(lake: Lake, dataset_name: str) -> str:
    """The data version of the dataset's training set now in the lake (what write_splits returned)."""
    hashes = {}
    for name in SPLITS:
        path = lake.table_path(TRAINING_STAGE, split_table(dataset_name, name))
        if not path.exists():
            raise TrainingSetError(
                f"training split {name} is not in the lake ({path}); materialize training_set first"
            )
        hashes[name] = file_sha256(path)
    return combined_version(hashes)


def read_splits(lake: Lake, dataset_name: str) -> dict[str, pd.DataFrame]:
    return {
        name: lake.read_table(TRAINING_STAGE, split_table(dataset_name, name)) for name in SPLITS
    }


def trainable_days(lake: Lake, dataset_name: str) -> list[str]:
    """Feature days whose validated day did not fail its gates: a day that passed once, was
    featurized, then failed on a re-delivery keeps stale features that must not be trained on."""
    return [
        day
        for day in lake.materialized_days(FEATURE_STAGE, dataset_name)
        if not lake.has_partition(VALIDATED_STAGE, dataset_name, day)
        or not lake.failed_gates(VALIDATED_STAGE, dataset_name, day)
    ]


def build_training_set(
    lake: Lake, ds: Dataset, spec: WindowSpec
) -> tuple[dict[str, pd.DataFrame], SplitDays, str]:
    """Read the window from the dataset's feature lake, split it, write the splits; return them
    and the version."""
    table = ds.table
    window = select_window(trainable_days(lake, ds.name), spec, ds)
    frame = labelled_rows(lake.read_partitions(FEATURE_STAGE, ds.name, window), table)
    with_outcomes = set(pd.to_datetime(frame[table.date_column]).dt.strftime("%Y-%m-%d"))
    days = split_days([day for day in window if day in with_outcomes], spec, ds)
    splits = split_frame(frame, days, table)
    return splits, days, write_splits(lake, ds.name, splits)
