"""Drift of a window of scored rows against the champion's training reference, with Evidently.

Choices, measured on the bundled 2013 flights (see leanops_assets_tests/monitoring/test_monitoring_drift.py):

- Window: the 7 partition days ending at D (about 6,000 rows there). A week holds every weekday
  once, so the weekday mix and weekend schedules compare like with like; a single day has one
  weekday and about 900 rows, and its drift verdict swings with that day's weather.
- Reference: a fixed-size random sample (5,000 rows, fixed seed) of the champion's training
  rows, so verdicts do not change with the length of the training window and re-runs are
  identical.
- Tests are distances, not p-values, so a large window does not make every tiny shift
  "significant": normed Wasserstein (distance / reference std) for numeric features,
  Jensen-Shannon distance for categorical ones, PSI for the model score.
- Numeric threshold 0.5 reference standard deviations, not Evidently's 0.1: weather and the
  7-day rolling rates are autocorrelated, so one week is a handful of weather regimes. Against
  a January-February reference, a February week taken from inside it flags 14 of 30 features
  at 0.1 but 2 at 0.5; against the first two weeks of January, a July week flags 17 of 30 at
  0.5 (temperature, dew point, late and cancel rates, destinations, routes).
- Calendar features (the contract's `features.not_monitored`, such as month or day_of_year) are
  deterministic in the date: any window after the training window has "drifted" in them by
  construction, so they are left out of the drift share. Columns with no values on one side are
  reported, not tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from leanops_assets.monitoring.policy import DRIFT_WINDOW_DAYS
from leanops_assets.monitoring.predict import SCORE_COLUMN
from leanops_assets.storage import write_text_atomic

if TYPE_CHECKING:
    from leanops_assets.dataset import FeatureTable

REFERENCE_SAMPLE_ROWS = 5000
REFERENCE_SAMPLE_SEED = 2013

NUMERIC_METHOD = "wasserstein"
NUMERIC_THRESHOLD = 0.5
CATEGORICAL_METHOD = "jensenshannon"
CATEGORICAL_THRESHOLD = 0.1
SCORE_METHOD = "psi"
SCORE_THRESHOLD = 0.1


def window_days(
    day: str, length: int = DRIFT_WINDOW_DAYS, first_day: str | None = None
) -> list[str]:
    """The `length` partition days ending at `day`, oldest first, none before `first_day`."""
    end = date.fromisoformat(day)
    start = end - timedelta(days=length - 1)
    if first_day is not None:
        start = max(start, date.fromisoformat(first_day))
    return [
        (start + timedelta(days=offset)).isoformat() for offset in range((end - start).days + 1)
    ]


def reference_sample(
    reference: pd.DataFrame, rows: int = REFERENCE_SAMPLE_ROWS, seed: int = REFERENCE_SAMPLE_SEED
) -> pd.DataFrame:
    """A fixed-size, reproducible sample of the reference; all of it when it is smaller."""
    if len(reference) <= rows:
        return reference.reset_index(drop=True)
    return reference.sample(n=rows, random_state=seed).sort_index().reset_index(drop=True)


def monitored_features(
    current: pd.DataFrame, reference: pd.DataFrame, table: FeatureTable
) -> tuple[list[str], list[str], list[str]]:
    """(numeric, categorical, without_data): the features the drift share is taken over.

    The table's unmonitored (calendar) features are left out; a feature with no values in either
    frame cannot be tested.
    """
    numeric, categorical, without_data = [], [], []
    for column in table.feature_columns:
        if column in table.not_monitored:
            continue
        for frame, side in ((current, "current"), (reference, "reference")):
            if column not in frame.columns:
                raise KeyError(f"feature column {column!r} is missing from the {side} frame")
        if current[column].isna().all() or reference[column].isna().all():
            without_data.append(column)
        elif column in table.categorical:
            categorical.append(column)
        else:
            numeric.append(column)
    return numeric, categorical, without_data


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    method: str
    threshold: float
    score: float

    @property
    def drifted(self) -> bool:
        # Every method used here is a distance: at or over the threshold means drift.
        return self.score >= self.threshold


@dataclass(frozen=True)
class DriftOutcome:
    drift_share: float
    drifted_columns: list[str]
    columns: list[ColumnDrift]
    columns_without_data: list[str]
    prediction_drift: ColumnDrift
    live_auc: float | None
    labelled: bool
    current_rows: int
    reference_rows: int
    snapshot: Any = field(repr=False, compare=False)

    def save_html(self, path: Path) -> Path:
        return write_text_atomic(self.snapshot.get_html_str(as_iframe=False), path)


def arrived_outcomes_auc(current: pd.DataFrame, label_column: str) -> float | None:
    """ROC AUC of the score over the window's rows whose outcome has arrived: the newest days of
    a window are often still unlabelled, and the policy must not go blind to quality then."""
    if label_column not in current.columns:
        return None
    arrived = current[current[label_column].notna()]
    if not labels_complete(arrived, label_column):
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(arrived[label_column].astype("int64"), arrived[SCORE_COLUMN]))


def labels_complete(frame: pd.DataFrame, label_column: str) -> bool:
    """Quality can be measured: every row has its label and both classes occur."""
    if label_column not in frame.columns or frame[label_column].isna().any():
        return False
    return frame[label_column].nunique() == 2


def _column_drift(
    current: pd.DataFrame, reference: pd.DataFrame, column: str, kind: str, method: str,
    threshold: float,
) -> ColumnDrift:  # fmt: skip
    """One column's distance, by Evidently's own stattest, on the values both sides hold."""
    import numpy as np
    from evidently.legacy.calculations.stattests import get_stattest

    ref = reference[column].replace([-np.inf, np.inf], np.nan).dropna()
    cur = current[column].replace([-np.inf, np.inf], np.nan).dropna()
    result = get_stattest(ref, cur, kind, method)(ref, cur, kind, threshold)
    return ColumnDrift(column, method, threshold, float(result.drift_score))


def measure_drift(
    current: pd.DataFrame, reference: pd.DataFrame, table: FeatureTable
) -> tuple[list[ColumnDrift], ColumnDrift, list[str]]:
    """(feature drifts, score drift, features without data): the numbers the drift decision uses.

    The stattests are the ones the Evidently report runs (compute_drift checks that the report's
    share agrees), without the report's charts, which cost about 90 % of its time.
    """
    numeric, categorical, without_data = monitored_features(current, reference, table)
    columns = [
        *(_column_drift(current, reference, c, "cat", CATEGORICAL_METHOD, CATEGORICAL_THRESHOLD)
          for c in categorical),
        *(_column_drift(current, reference, c, "num", NUMERIC_METHOD, NUMERIC_THRESHOLD)
          for c in numeric),
    ]  # fmt: skip
    score = _column_drift(current, reference, SCORE_COLUMN, "num", SCORE_METHOD, SCORE_THRESHOLD)
    return columns, score, without_data


def drift_share(columns: list[ColumnDrift]) -> float:
    return sum(c.drifted for c in columns) / len(columns) if columns else 0.0


def compute_drift(
    current: pd.DataFrame,
    reference: pd.DataFrame,
    table: FeatureTable,
    drift_share_threshold: float,
    timestamp: datetime | None = None,
) -> DriftOutcome:
    """Run the Evidently report: data drift per feature, score drift, and quality when labelled.

    Both frames hold the table's feature columns, `score` (the champion's probability of
    label = 1) and, when known, the label. Quality is computed only when every current row has
    its label.
    """
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import ClassificationQuality

    from leanops_assets.monitoring.drift_table import DriftTablePreset

    for frame, side in ((current, "current"), (reference, "reference")):
        if frame.empty:
            raise ValueError(f"the {side} frame has no rows; drift needs rows on both sides")
        if SCORE_COLUMN not in frame.columns:
            raise KeyError(f"the {side} frame has no {SCORE_COLUMN!r} column; score it first")

    label = table.label_column
    columns, prediction_drift, without_data = measure_drift(current, reference, table)
    features = [c.column for c in columns]
    numeric = [c.column for c in columns if c.method == NUMERIC_METHOD]
    categorical = [c.column for c in columns if c.method == CATEGORICAL_METHOD]
    labelled = labels_complete(current, label) and labels_complete(reference, label)
    keep = [*features, SCORE_COLUMN, *([label] if labelled else [])]

    definition = DataDefinition(
        numerical_columns=[*numeric, SCORE_COLUMN],
        categorical_columns=categorical,
        classification=(
            [BinaryClassification(target=label, prediction_probas=SCORE_COLUMN, pos_label=1)]
            if labelled
            else None
        ),
    )

    def dataset(frame: pd.DataFrame) -> Any:
        data = frame[keep].copy()
        if labelled:
            data[label] = data[label].astype("int64")
        return Dataset.from_pandas(data, data_definition=definition)

    items: list[Any] = [
        DriftTablePreset(
            columns=features,
            drift_share=drift_share_threshold,
            num_method=NUMERIC_METHOD,
            num_threshold=NUMERIC_THRESHOLD,
            cat_method=CATEGORICAL_METHOD,
            cat_threshold=CATEGORICAL_THRESHOLD,
        ),
        ValueDrift(column=SCORE_COLUMN, method=SCORE_METHOD, threshold=SCORE_THRESHOLD),
    ]
    if labelled:
        items.append(ClassificationQuality(conf_matrix=True))
    snapshot = Report(items).run(dataset(current), dataset(reference), timestamp=timestamp)

    report_share: float | None = None
    live_auc: float | None = None
    for metric in snapshot.dict()["metrics"]:
        kind = metric["config"]["type"].rsplit(":", 1)[-1]
        if kind == "DriftedColumnsCount":
            report_share = float(metric["value"]["share"])
        elif kind == "RocAuc":
            live_auc = float(metric["value"])
    if live_auc is None:
        live_auc = arrived_outcomes_auc(current, label)
    share = drift_share(columns)
    if report_share is None or abs(report_share - share) > 1e-9:
        raise RuntimeError(
            f"the Evidently report's drift share {report_share} disagrees with the measured {share}"
        )
    return DriftOutcome(
        drift_share=share,
        drifted_columns=[c.column for c in columns if c.drifted],
        columns=columns,
        columns_without_data=without_data,
        prediction_drift=prediction_drift,
        live_auc=live_auc,
        labelled=labelled,
        current_rows=len(current),
        reference_rows=len(reference),
        snapshot=snapshot,
    )


def day_timestamp(day: str) -> datetime:
    """The report's timestamp: the end of the partition day, so a re-run renders the same report."""
    return datetime.combine(date.fromisoformat(day), time(23, 59, 59))
