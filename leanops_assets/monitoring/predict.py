"""Scoring a day's rows with the champion, and the live metrics of the prediction log."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

# Interim: training/model.py's pinned functions once the training branch merges.
from leanops_assets.training.model import feature_matrix, predict_probability

if TYPE_CHECKING:
    from leanops_assets.dataset import FeatureTable

CHAMPION_ALIAS = "champion"
PREVIOUS_ALIAS = "previous"  # the champion the current one replaced; scored in shadow for a while
# Tag the training stage sets on the model's run (or the registry on the version): the data
# version of the training splits the model learned from (leanops_assets.training.dataset).
TRAINING_DATA_VERSION_TAG = "leanops.training_data_version"

SCORE_COLUMN = "score"
PREDICTED_COLUMN = "predicted"
MODEL_VERSION_COLUMN = "model_version"


def prediction_columns(table: FeatureTable) -> list[str]:
    """The prediction log's columns: id, date, score, decision, model version, label."""
    return [
        table.id_column,
        table.date_column,
        SCORE_COLUMN,
        PREDICTED_COLUMN,
        MODEL_VERSION_COLUMN,
        table.label_column,
    ]


def prediction_schema(table: FeatureTable) -> pa.Schema:
    return pa.schema(
        [
            pa.field(table.id_column, pa.string(), nullable=False),
            pa.field(table.date_column, pa.date32(), nullable=False),
            pa.field(SCORE_COLUMN, pa.float64(), nullable=False),
            pa.field(PREDICTED_COLUMN, pa.int8(), nullable=False),
            pa.field(MODEL_VERSION_COLUMN, pa.string(), nullable=False),
            pa.field(table.label_column, pa.int8(), nullable=True),
        ]
    )


class ChampionNotFoundError(LookupError):
    """The registry has no model version under the champion alias."""


@dataclass(frozen=True)
class Champion:
    name: str
    version: str
    run_id: str | None
    training_data_version: str | None
    model: Any
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@lru_cache(maxsize=4)
def _load_model_version(
    registry_uri: str, model_name: str, version: str, run_id: str | None, created: int | None
) -> Any:
    """A registered version's model, loaded once per process: a version's artifacts never change
    (a day's run loaded the same champion four times, 0.1 s each). The run id and creation time
    in the key tell a re-created registry's version 1 from the old one."""
    import mlflow.sklearn

    return mlflow.sklearn.load_model(f"models:/{model_name}/{version}")


def load_champion(
    tracking_uri: str, registry_uri: str, model_name: str, alias: str = CHAMPION_ALIAS
) -> Champion:
    """Resolve the alias (default: champion) once, then load exactly that version.

    Loading by the resolved version (not by the alias a second time) guarantees that the version
    recorded next to the scores is the one that produced them, even if the alias moves meanwhile.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(registry_uri or tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri or tracking_uri)
    try:
        version = client.get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        raise ChampionNotFoundError(
            f"registered model {model_name!r} has no {alias!r} alias in the registry at "
            f"{registry_uri or tracking_uri}; materialize registered_model first ({exc.message})"
        ) from exc
    training_data_version = version.tags.get(TRAINING_DATA_VERSION_TAG)
    if training_data_version is None and version.run_id:
        run_tags = client.get_run(version.run_id).data.tags
        training_data_version = run_tags.get(TRAINING_DATA_VERSION_TAG)
    model = _load_model_version(
        registry_uri or tracking_uri,
        model_name,
        str(version.version),
        version.run_id,
        version.creation_timestamp,
    )
    return Champion(
        name=model_name,
        version=str(version.version),
        run_id=version.run_id,
        training_data_version=training_data_version,
        model=model,
        tags=dict(version.tags),
    )


def positive_scores(model: Any, features: pd.DataFrame, table: FeatureTable) -> pd.Series:
    """The model's probability of label = 1 for each row.

    The input is the training stage's `feature_matrix`: the very column order and types the
    champion was fitted on.
    """
    classes = [int(c) for c in model.classes_]
    if classes != [0, 1]:
        raise ValueError(
            f"the model's classes are {classes}; expected [0, 1] ({table.label_column} = 0 or 1)"
        )
    proba = predict_probability(model, features, table)
    return pd.Series(proba, index=features.index, name=SCORE_COLUMN, dtype="float64")


def score_features(
    model: Any, features: pd.DataFrame, table: FeatureTable, model_version: str
) -> pd.DataFrame:
    """The prediction log for a feature frame: one row per row, in the frame's order.

    `predicted` is the model's own decision (`predict`), so a tuned decision threshold inside
    the pipeline is honoured. The label is carried over where the features already know it.
    """
    label = table.label_column
    predicted = model.predict(feature_matrix(features, table))
    labels = (
        features[label].astype("Int8")
        if label in features.columns
        else pd.Series(pd.NA, index=features.index, dtype="Int8")
    )
    log = pd.DataFrame(
        {
            table.id_column: features[table.id_column].astype(str).to_numpy(),
            table.date_column: features[table.date_column].to_numpy(),
            SCORE_COLUMN: positive_scores(model, features, table).to_numpy(),
            PREDICTED_COLUMN: pd.Series(predicted).astype("int8").to_numpy(),
            MODEL_VERSION_COLUMN: str(model_version),
            label: labels.to_numpy(),
        }
    )
    return log[prediction_columns(table)]


@dataclass(frozen=True)
class LiveMetrics:
    rows: int
    labelled_rows: int
    positive_rate: float  # share predicted positive
    mean_score: float
    label_rate: float | None  # share actually positive, among labelled rows
    auc: float | None  # None when the labelled rows hold a single class
    log_loss: float | None
    accuracy: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def live_metrics(predictions: pd.DataFrame, table: FeatureTable) -> LiveMetrics:
    """Quality of a prediction log against the labels it carries (rows without one are skipped)."""
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    if predictions.empty:
        raise ValueError("the prediction log has no rows; there is nothing to measure")
    label = table.label_column
    labelled = predictions[predictions[label].notna()]
    rows = len(predictions)
    base = {
        "rows": rows,
        "labelled_rows": len(labelled),
        "positive_rate": float(predictions[PREDICTED_COLUMN].mean()),
        "mean_score": float(predictions[SCORE_COLUMN].mean()),
    }
    if labelled.empty:
        return LiveMetrics(**base, label_rate=None, auc=None, log_loss=None, accuracy=None)
    truth = labelled[label].astype("int64").to_numpy()
    scores = labelled[SCORE_COLUMN].to_numpy()
    two_classes = len(set(truth.tolist())) == 2
    return LiveMetrics(
        **base,
        label_rate=float(truth.mean()),
        auc=float(roc_auc_score(truth, scores)) if two_classes else None,
        log_loss=float(log_loss(truth, scores, labels=[0, 1])),
        accuracy=float(accuracy_score(truth, labelled[PREDICTED_COLUMN].astype("int64"))),
    )
