"""Monitoring assets: the daily prediction log and the daily Evidently drift report."""

import hashlib
import json
import warnings
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    BetaWarning,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    TimeWindowPartitionMapping,
    asset,
)

from leanops_assets.features.schema import ALL_COLUMNS
from leanops_assets.monitoring.policy import DRIFT_WINDOW_DAYS
from leanops_assets.partitions import daily_partitions
from leanops_assets.resources import LakeResource, MlflowResource, MonitoringPolicy
from leanops_assets.storage import Lake
from leanops_assets.training.tracking import mlflow_model_version_link

# pandas, scikit-learn and Evidently load in the runs that score and report, not with the
# definitions: the helpers below import them where they are used.
if TYPE_CHECKING:
    import pandas as pd

    from leanops_assets.monitoring.drift import DriftOutcome
    from leanops_assets.monitoring.predict import Champion, LiveMetrics

FEATURES = ("features", "flights")
PREDICTIONS = ("predictions", "flights")
DRIFT_CHECK_NAME = "drift_within_threshold"

# The window reaches before the first partition for the first days of the year: allowed.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", BetaWarning)
    _WINDOW = TimeWindowPartitionMapping(
        start_offset=-(DRIFT_WINDOW_DAYS - 1),
        end_offset=0,
        allow_nonexistent_upstream_partitions=True,
    )


def load_serving(mlflow: MlflowResource, alias: str = "champion") -> "Champion":
    """The model version under `alias` (default: the champion), loaded from the registry."""
    from leanops_assets.monitoring.predict import load_champion

    tracking_uri = mlflow.resolved_tracking_uri()
    return load_champion(
        tracking_uri, mlflow.registry_uri or tracking_uri, mlflow.model_name, alias
    )


def _champion_metadata(champion: "Champion", mlflow: MlflowResource) -> dict[str, MetadataValue]:
    metadata = {
        "model_version": MetadataValue.text(champion.version),
        "champion_version": MetadataValue.int(int(champion.version)),  # plotted per day
        "model_uri": MetadataValue.text(champion.uri),
    }
    if champion.run_id:
        metadata["mlflow_run_id"] = MetadataValue.text(champion.run_id)
    metadata["mlflow_model"] = mlflow_model_version_link(mlflow, champion.name, champion.version)
    return metadata


def _live_metadata(metrics: "LiveMetrics") -> dict[str, MetadataValue]:
    names = {
        "rows": "dagster/row_count",
        "labelled_rows": "labelled_rows",
        "positive_rate": "positive_rate",
        "mean_score": "mean_score",
        "label_rate": "label_rate",
        "auc": "live_auc",
        "log_loss": "log_loss",
        "accuracy": "accuracy",
    }
    out: dict[str, MetadataValue] = {}
    for field_name, value in metrics.as_dict().items():
        if value is None:
            continue
        key = names[field_name]
        out[key] = (
            MetadataValue.int(value) if isinstance(value, int) else MetadataValue.float(value)
        )
    return out


@asset(
    name="batch_predictions",
    partitions_def=daily_partitions,
    group_name="monitoring",
    kinds={"mlflow", "parquet"},
    deps=["flight_features", "registered_model"],
    description="The day's flights scored by the champion (and, after a promotion, by the champion "
    "it replaced, in shadow): the prediction log, with live quality.",
)
def batch_predictions(
    context: AssetExecutionContext,
    lake: LakeResource,
    mlflow: MlflowResource,
    monitoring_policy: MonitoringPolicy,
) -> MaterializeResult:
    from leanops_assets.monitoring.predict import PREDICTION_SCHEMA, live_metrics, score_features
    from leanops_assets.monitoring.shadow_assets import score_in_shadow

    day = context.partition_key
    store = lake.lake()
    features = store.read_partition(*FEATURES, day)
    if features.empty:
        raise ValueError(
            f"feature partition {day} ({store.partition_path(*FEATURES, day)}) has no rows; "
            f"there is nothing to score"
        )
    champion = load_serving(mlflow)
    log = score_features(champion.model, features, champion.version)
    written = store.write_partition(*PREDICTIONS, day, log, schema=PREDICTION_SCHEMA)
    metrics = live_metrics(log)
    context.log.info(f"scored {len(log)} flights of {day} with {champion.uri}")
    shadow = score_in_shadow(store, mlflow, champion, day, features, monitoring_policy.shadow_days)
    return MaterializeResult(
        metadata={
            **_live_metadata(metrics),
            **_champion_metadata(champion, mlflow),
            **shadow,
            "scored_at": MetadataValue.timestamp(datetime.now(UTC)),
            "path": MetadataValue.path(str(written.path)),
            "content_hash": MetadataValue.text(written.content_hash),
            "preview": MetadataValue.md(log.head(10).to_markdown(index=False)),
        },
        data_version=DataVersion(written.content_hash),
    )


def current_window(store: Lake, day: str, champion: "Champion") -> "tuple[pd.DataFrame, list[str]]":
    """Features of the drift window, every day scored by the champion itself.

    Days served by an earlier champion are re-scored, so score drift and live AUC describe one
    model. Day `day` must be present; earlier days are used when their features are in the lake
    (the first days of the year have a shorter window).
    """
    from leanops_assets.monitoring.drift import window_days
    from leanops_assets.monitoring.predict import (
        MODEL_VERSION_COLUMN,
        SCORE_COLUMN,
        positive_scores,
    )

    first = daily_partitions.get_first_partition_key()
    days = [
        d
        for d in window_days(day, DRIFT_WINDOW_DAYS, first_day=first)
        if d == day or store.has_partition(*FEATURES, d)
    ]
    current = store.read_partitions(*FEATURES, days)[ALL_COLUMNS]
    current[SCORE_COLUMN] = positive_scores(champion.model, current).to_numpy()
    current[MODEL_VERSION_COLUMN] = champion.version
    return current, days


def served_versions(store: Lake, days: list[str]) -> "dict[str, list[str]]":
    """The model versions the prediction log records for each day that has one."""
    from leanops_assets.monitoring.predict import MODEL_VERSION_COLUMN

    return {
        d: sorted(store.read_partition(*PREDICTIONS, d)[MODEL_VERSION_COLUMN].astype(str).unique())
        for d in days
        if store.has_partition(*PREDICTIONS, d)
    }


def reference_frame(store: Lake, champion: "Champion") -> "tuple[pd.DataFrame, str]":
    """The sample of the champion's own training data, scored by the champion, and its version."""
    from leanops_assets.monitoring.predict import SCORE_COLUMN, positive_scores
    from leanops_assets.monitoring.reference import champion_reference

    reference, version = champion_reference(store, champion)
    sample = reference.copy()
    sample[SCORE_COLUMN] = positive_scores(champion.model, sample).to_numpy()
    return sample, version


def _drift_version(outcome: "DriftOutcome", champion: "Champion", reference_version: str) -> str:
    summary = {
        "drift_share": outcome.drift_share,
        "columns": {c.column: c.score for c in outcome.columns},
        "score": outcome.prediction_drift.score,
        "live_auc": outcome.live_auc,
        "rows": outcome.current_rows,
        "champion": champion.version,
        "reference": reference_version,
    }
    return hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()


def _column_table(outcome: "DriftOutcome") -> str:
    rows = [*outcome.columns, outcome.prediction_drift]
    lines = ["| column | method | score | threshold | drifted |", "|---|---|---|---|---|"]
    lines += [
        f"| {c.column} | {c.method} | {c.score:.3f} | {c.threshold:g} | {'yes' if c.drifted else 'no'} |"
        for c in sorted(rows, key=lambda c: c.score / c.threshold, reverse=True)
    ]
    return "\n".join(lines)


def drift_check_result(
    drift_share: float, threshold: float, drifted: list[str]
) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=DRIFT_CHECK_NAME,
        passed=drift_share <= threshold,
        severity=AssetCheckSeverity.WARN,
        description=f"drift share {drift_share:.3f} (expected at most {threshold:.3f})",
        metadata={
            "observed_drift_share": MetadataValue.float(drift_share),
            "expected_max_drift_share": MetadataValue.float(threshold),
            "drifted_columns": MetadataValue.json(drifted),
        },
    )


@asset(
    name="drift_report",
    partitions_def=daily_partitions,
    group_name="monitoring",
    kinds={"evidently", "html"},
    deps=[
        AssetDep("batch_predictions", partition_mapping=_WINDOW),
        AssetDep("flight_features", partition_mapping=_WINDOW),
        "training_set",
        "registered_model",
    ],
    check_specs=[
        AssetCheckSpec(
            DRIFT_CHECK_NAME,
            asset="drift_report",
            description="The share of drifted features is at most the policy's threshold.",
        )
    ],
    description="Evidently report of the week ending on the day against the champion's training data.",
)
def drift_report(
    context: AssetExecutionContext,
    lake: LakeResource,
    mlflow: MlflowResource,
    monitoring_policy: MonitoringPolicy,
) -> MaterializeResult:
    from leanops_assets.monitoring.drift import compute_drift, day_timestamp

    day = context.partition_key
    store = lake.lake()
    champion = load_serving(mlflow)
    current, days = current_window(store, day, champion)
    reference, reference_version = reference_frame(store, champion)
    threshold = monitoring_policy.drift_share_threshold
    outcome = compute_drift(current, reference, threshold, timestamp=day_timestamp(day))
    path = outcome.save_html(monitoring_policy.resolved_reports_dir() / "drift" / f"{day}.html")

    served = served_versions(store, days)
    rescored = [d for d, versions in served.items() if versions != [champion.version]]
    metadata = {
        "drift_share": MetadataValue.float(outcome.drift_share),
        "drifted_columns": MetadataValue.json(outcome.drifted_columns),
        "drifted_count": MetadataValue.int(len(outcome.drifted_columns)),
        "monitored_columns": MetadataValue.int(len(outcome.columns)),
        "columns_without_data": MetadataValue.json(outcome.columns_without_data),
        "prediction_drift_psi": MetadataValue.float(outcome.prediction_drift.score),
        "prediction_drifted": MetadataValue.bool(outcome.prediction_drift.drifted),
        "window_start": MetadataValue.text(days[0]),
        "window_end": MetadataValue.text(days[-1]),
        "window_days": MetadataValue.int(len(days)),
        "current_rows": MetadataValue.int(outcome.current_rows),
        "reference_rows": MetadataValue.int(outcome.reference_rows),
        "reference_version": MetadataValue.text(reference_version),
        "champion_version": MetadataValue.int(int(champion.version)),
        "served_model_versions": MetadataValue.json(
            sorted({v for vs in served.values() for v in vs})
        ),
        "rescored_days": MetadataValue.json(rescored),
        "report": MetadataValue.path(str(path)),
        "columns": MetadataValue.md(_column_table(outcome)),
    }
    if outcome.live_auc is not None:
        metadata["live_auc"] = MetadataValue.float(outcome.live_auc)
    context.log.info(
        f"drift share {outcome.drift_share:.3f} over {days[0]}..{day}; report at {path}"
    )
    return MaterializeResult(
        metadata=metadata,
        check_results=[drift_check_result(outcome.drift_share, threshold, outcome.drifted_columns)],
        data_version=DataVersion(_drift_version(outcome, champion, reference_version)),
    )
