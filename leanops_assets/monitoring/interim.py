"""Interim stand-ins for the training stage's pinned functions (shared brief, rule 5).

The training branch writes `feature_matrix(frame, table)` and `predict_probability(model, frame,
table)` (training/model.py), `stored_version` and `read_splits(lake, dataset_name)`
(training/dataset.py) in parallel. Until they merge, monitoring calls these, with the same
names, signatures and behaviour. At integration the lead deletes this module and imports them
from training/ (monitoring/assets.py holds the interim `model_name_for` of training/tracking.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leanops_assets.storage import Lake, file_sha256
from leanops_assets.training.dataset import (
    SPLITS,
    TRAINING_STAGE,
    TrainingSetError,
    combined_version,
)

if TYPE_CHECKING:
    from leanops_assets.dataset import FeatureTable


def feature_matrix(frame: pd.DataFrame, table: FeatureTable) -> pd.DataFrame:
    """The model's input columns in a fixed order: categoricals as text or None, numerics as float64."""
    missing = [c for c in table.feature_columns if c not in frame.columns]
    if missing:
        raise KeyError(f"model input lacks feature columns {missing}")
    out = pd.DataFrame(index=frame.index)
    for column in table.categorical:
        values = frame[column].astype(object)
        out[column] = values.where(values.notna(), None).map(lambda v: v if v is None else str(v))
    for column in table.numeric:
        out[column] = pd.to_numeric(frame[column], errors="raise").astype("float64")
    return out


def predict_probability(model: Any, frame: pd.DataFrame, table: FeatureTable) -> np.ndarray:
    """P(label = 1) for each row, from a fitted Pipeline or a pyfunc logged with predict_proba."""
    features = feature_matrix(frame, table)
    output = (
        model.predict_proba(features)
        if hasattr(model, "predict_proba")
        else model.predict(features)
    )
    array = np.asarray(output, dtype="float64")
    return array[:, 1] if array.ndim == 2 else array


def stored_version(lake: Lake, dataset_name: str) -> str:
    """The data version of the dataset's training set now in the lake (training/<d>_<split>)."""
    hashes = {}
    for name in SPLITS:
        path = lake.table_path(TRAINING_STAGE, f"{dataset_name}_{name}")
        if not path.exists():
            raise TrainingSetError(
                f"training split {name} is not in the lake ({path}); materialize training_set first"
            )
        hashes[name] = file_sha256(path)
    return combined_version(hashes)


def read_splits(lake: Lake, dataset_name: str) -> dict[str, pd.DataFrame]:
    return {name: lake.read_table(TRAINING_STAGE, f"{dataset_name}_{name}") for name in SPLITS}
