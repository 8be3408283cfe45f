"""The model: one scikit-learn Pipeline (column preprocessing, then gradient boosting) that trains and serves.

Only scikit-learn classes go into the Pipeline, so the logged model loads anywhere scikit-learn
does, without this package. scikit-learn is imported inside the functions: importing this module
stays cheap for runs that never train.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from mlflow.models import ModelSignature
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    from leanops_assets.dataset import FeatureTable

# Categories kept per column; rarer ones share one code. Below the booster's 255 bins.
MAX_CATEGORIES = 200
# Types the logged Pipeline holds beyond skops' default trust list: the booster's trees and the
# column transformer's pass-through validation. Reviewed; the files are written by this project.
SKOPS_TRUSTED_TYPES = [
    "functools.partial",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
]


def feature_matrix(frame: pd.DataFrame, table: FeatureTable) -> pd.DataFrame:
    """The model's input columns in a fixed order: categoricals as text or None, numerics as float64."""
    missing = [c for c in table.feature_columns if c not in frame.columns]
    if missing:
        raise KeyError(
            f"model input lacks feature columns {missing}; expected the feature table's columns"
        )
    out = pd.DataFrame(index=frame.index)
    for column in table.categorical:
        values = frame[column].astype(object)
        out[column] = values.where(values.notna(), None).map(lambda v: v if v is None else str(v))
    for column in table.numeric:
        out[column] = pd.to_numeric(frame[column], errors="raise").astype("float64")
    return out


def labels(frame: pd.DataFrame, table: FeatureTable) -> np.ndarray:
    return frame[table.label_column].to_numpy(dtype="int64")


@dataclass(frozen=True)
class InputColumns:
    """The feature columns a model uses: those with at least one value in its training rows."""

    categorical: list[str]
    numeric: list[str]
    ignored: list[str]


def informative_columns(frame: pd.DataFrame, table: FeatureTable) -> InputColumns:
    """Drop columns with no value at all: the booster cannot bin an all-missing column
    (scikit-learn 1.9 fails with "window shape cannot be larger than input array shape")."""
    order = table.feature_columns
    present = frame[order].notna().any()
    categorical = [c for c in table.categorical if present[c]]
    numeric = [c for c in table.numeric if present[c]]
    if not categorical and not numeric:
        raise ValueError(
            "every feature column is empty in the training rows; check the dataset's feature asset"
        )
    return InputColumns(categorical, numeric, [c for c in order if not present[c]])


def build_preprocessor(columns: InputColumns) -> ColumnTransformer:
    """Categoricals to ordinal codes (missing and unseen: -1, which the booster treats as missing);
    numerics pass through, with NaN left for the booster. Empty columns are dropped."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder

    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=-1,
        encoded_missing_value=-1,
        max_categories=MAX_CATEGORIES,
        dtype=np.float64,
    )
    return ColumnTransformer(
        [
            ("categorical", encoder, columns.categorical),
            ("numeric", "passthrough", columns.numeric),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def build_classifier(
    columns: InputColumns,
    params: dict[str, Any],
    max_iter: int,
    seed: int,
    warm_start: bool = False,
) -> HistGradientBoostingClassifier:
    """The booster; the first len(columns.categorical) preprocessed columns are categorical."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=max_iter,
        categorical_features=list(range(len(columns.categorical))) or None,
        early_stopping=False,
        warm_start=warm_start,
        random_state=seed,
        **params,
    )


def build_pipeline(
    columns: InputColumns, params: dict[str, Any], max_iter: int, seed: int
) -> Pipeline:
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            ("preprocess", build_preprocessor(columns)),
            ("classifier", build_classifier(columns, params, max_iter, seed)),
        ]
    )


def fit_pipeline(
    frame: pd.DataFrame, table: FeatureTable, params: dict[str, Any], max_iter: int, seed: int
) -> Pipeline:
    """Fit preprocessing and booster on `frame`, using the columns that have values in it."""
    features = feature_matrix(frame, table)
    pipeline = build_pipeline(informative_columns(features, table), params, max_iter, seed)
    pipeline.fit(features, labels(frame, table))
    return pipeline


def predict_probability(model: Any, frame: pd.DataFrame, table: FeatureTable) -> np.ndarray:
    """P(label = 1) for each row, from a fitted Pipeline or an MLflow pyfunc logged with
    predict_proba."""
    features = feature_matrix(frame, table)
    output = (
        model.predict_proba(features)
        if hasattr(model, "predict_proba")
        else model.predict(features)
    )
    array = np.asarray(output, dtype="float64")
    return array[:, 1] if array.ndim == 2 else array


# What the logged Pipeline needs to load and predict. Listing them spares MLflow from inferring
# them, which loads the model in a subprocess (about 20 s here).
MODEL_PACKAGES = ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "scipy", "cloudpickle")


def model_requirements() -> list[str]:
    """The installed versions of MODEL_PACKAGES, pinned."""
    from importlib.metadata import version

    return [f"{package}=={version(package)}" for package in MODEL_PACKAGES]


def model_signature(columns: InputColumns, table: FeatureTable) -> ModelSignature:
    """Input: every feature column, text or double; those the model uses are required, the empty
    ones optional. Output: the two class probabilities (the pyfunc calls predict_proba)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec

    used = set(columns.categorical) | set(columns.numeric)
    inputs = Schema(
        [ColSpec("string", name, required=name in used) for name in table.categorical]
        + [ColSpec("double", name, required=name in used) for name in table.numeric]
    )
    outputs = Schema([TensorSpec(np.dtype("float64"), (-1, 2))])
    return ModelSignature(inputs=inputs, outputs=outputs)
