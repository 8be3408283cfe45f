"""What drift_report compares: the window's rows and the champion's reference, both scored by
the champion, and the model versions that served the window."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leanops_assets.dataset import Dataset
from leanops_assets.monitoring.policy import DRIFT_WINDOW_DAYS
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.storage import Lake

if TYPE_CHECKING:
    import pandas as pd

    from leanops_assets.monitoring.predict import Champion

# Lake stages of the partitions read: <stage>/<dataset name>/date=D.
VALIDATED_STAGE = "validated"
FEATURES_STAGE = "features"
PREDICTIONS_STAGE = "predictions"


def current_window(
    store: Lake, ds: Dataset, day: str, champion: Champion
) -> tuple[pd.DataFrame, list[str], dict[str, list[str]]]:
    """Features of the drift window, every day scored by the champion itself; the days read;
    the days left out because they failed their gates, with those gates.

    Days served by an earlier champion are re-scored, so score drift and live AUC describe one
    model. Day `day` must be present and must have passed its gates; earlier days are used when
    their features are in the lake (the first days of the year have a shorter window) and
    their validation passed.
    """
    from leanops_assets.monitoring.drift import window_days
    from leanops_assets.monitoring.predict import (
        MODEL_VERSION_COLUMN,
        SCORE_COLUMN,
        positive_scores,
    )

    store.require_passed(VALIDATED_STAGE, ds.name, day, f"the drift report of {day}")
    first = daily_partitions_for(ds.contract).get_first_partition_key()
    days = [
        d
        for d in window_days(day, DRIFT_WINDOW_DAYS, first_day=first)
        if d == day or store.has_partition(FEATURES_STAGE, ds.name, d)
    ]
    gated = store.gated_days(VALIDATED_STAGE, ds.name, days)
    days = [d for d in days if d not in gated]
    current = store.read_partitions(FEATURES_STAGE, ds.name, days)[ds.table.all_columns]
    current[SCORE_COLUMN] = positive_scores(champion.model, current, ds.table).to_numpy()
    current[MODEL_VERSION_COLUMN] = champion.version
    return current, days, gated


def served_versions(store: Lake, dataset_name: str, days: list[str]) -> dict[str, list[str]]:
    """The model versions the prediction log records for each day that has one."""
    from leanops_assets.monitoring.predict import MODEL_VERSION_COLUMN

    return {
        d: sorted(
            store.read_partition(PREDICTIONS_STAGE, dataset_name, d)[MODEL_VERSION_COLUMN]
            .astype(str)
            .unique()
        )
        for d in days
        if store.has_partition(PREDICTIONS_STAGE, dataset_name, d)
    }


def reference_frame(store: Lake, ds: Dataset, champion: Champion) -> tuple[pd.DataFrame, str]:
    """The sample of the champion's own training data, scored by the champion, and its version."""
    from leanops_assets.monitoring.predict import SCORE_COLUMN, positive_scores
    from leanops_assets.monitoring.reference import champion_reference

    reference, version = champion_reference(store, champion, ds.name)
    sample = reference.copy()
    sample[SCORE_COLUMN] = positive_scores(champion.model, sample, ds.table).to_numpy()
    return sample, version
