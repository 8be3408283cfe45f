"""Monitoring assets of a dataset: the daily prediction log and the daily Evidently drift report
(and, in shadow_assets.py, the shadow comparison after a promotion)."""

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
    AssetsDefinition,
    BetaWarning,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    TimeWindowPartitionMapping,
    asset,
)

from leanops_assets.dataset import (
    DRIFT_REPORT,
    PREDICTIONS,
    REGISTERED_MODEL,
    TRAINING_SET,
    Dataset,
)
from leanops_assets.monitoring.policy import DRIFT_WINDOW_DAYS
from leanops_assets.monitoring.shadow_assets import build_shadow_comparison
from leanops_assets.monitoring.window import (
    FEATURES_STAGE,
    PREDICTIONS_STAGE,
    current_window,
    reference_frame,
    served_versions,
)
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.resources import LakeResource, MlflowResource, MonitoringPolicy
from leanops_assets.training.tracking import mlflow_model_version_link, model_name_for

# pandas, scikit-learn and Evidently load in the runs that score and report, not with the
# definitions: the helpers below import them where they are used.
if TYPE_CHECKING:
    from leanops_assets.monitoring.drift import DriftOutcome
    from leanops_assets.monitoring.predict import Champion, LiveMetrics

DRIFT_CHECK_NAME = "drift_within_threshold"

# The window reaches before the first partition for the first days of the year: allowed.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", BetaWarning)
    _WINDOW = TimeWindowPartitionMapping(
        start_offset=-(DRIFT_WINDOW_DAYS - 1),
        end_offset=0,
        allow_nonexistent_upstream_partitions=True,
    )


def load_serving(mlflow: MlflowResource, ds: Dataset, alias: str = "champion") -> "Champion":
    """The dataset's model version under `alias` (default: the champion), from the registry."""
    from leanops_assets.monitoring.predict import load_champion

    tracking_uri = mlflow.resolved_tracking_uri()
    return load_champion(
        tracking_uri, mlflow.registry_uri or tracking_uri, model_name_for(mlflow, ds), alias
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


def _drift_metadata(
    outcome: "DriftOutcome",
    champion: "Champion",
    reference_version: str,
    days: list[str],
    served: dict[str, list[str]],
    rescored: list[str],
) -> dict[str, MetadataValue]:
    return {
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
    }


def build_monitoring_assets(ds: Dataset) -> list[AssetsDefinition]:
    """The dataset's batch_predictions, drift_report (with its check) and shadow_comparison."""
    table = ds.table
    partitions = daily_partitions_for(ds.contract)

    @asset(
        key=ds.key(PREDICTIONS),
        partitions_def=partitions,
        group_name="monitoring",
        kinds={"mlflow", "parquet"},
        deps=[ds.key(ds.features_asset), ds.key(REGISTERED_MODEL)],
        description="The day's rows scored by the champion (and, after a promotion, by the "
        "champion it replaced, in shadow): the prediction log, with live quality.",
    )
    def batch_predictions(
        context: AssetExecutionContext,
        lake: LakeResource,
        mlflow: MlflowResource,
        monitoring_policy: MonitoringPolicy,
    ) -> MaterializeResult:
        from leanops_assets.monitoring.predict import (
            live_metrics,
            prediction_schema,
            score_features,
        )
        from leanops_assets.monitoring.shadow_assets import score_in_shadow

        day = context.partition_key
        store = lake.lake()
        store.require_passed("validated", ds.name, day, f"batch_predictions of {day}")
        features = store.read_partition(FEATURES_STAGE, ds.name, day)
        if features.empty:
            raise ValueError(
                f"feature partition {day} ({store.partition_path(FEATURES_STAGE, ds.name, day)}) "
                f"has no rows; there is nothing to score"
            )
        champion = load_serving(mlflow, ds)
        log = score_features(champion.model, features, table, champion.version)
        written = store.write_partition(
            PREDICTIONS_STAGE, ds.name, day, log, schema=prediction_schema(table)
        )
        metrics = live_metrics(log, table)
        context.log.info(f"scored {len(log)} rows of {day} with {champion.uri}")
        shadow = score_in_shadow(
            store, mlflow, ds, champion, day, features, monitoring_policy.resolved(ds).shadow_days
        )
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

    @asset(
        key=ds.key(DRIFT_REPORT),
        partitions_def=partitions,
        group_name="monitoring",
        kinds={"evidently", "html"},
        deps=[
            AssetDep(ds.key(PREDICTIONS), partition_mapping=_WINDOW),
            AssetDep(ds.key(ds.features_asset), partition_mapping=_WINDOW),
            ds.key(TRAINING_SET),
            ds.key(REGISTERED_MODEL),
        ],
        check_specs=[
            AssetCheckSpec(
                DRIFT_CHECK_NAME,
                asset=ds.key(DRIFT_REPORT),
                description="The share of drifted features is at most the policy's threshold.",
            )
        ],
        description="Evidently report of the week ending on the day against the champion's "
        "training data.",
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
        champion = load_serving(mlflow, ds)
        current, days, gated = current_window(store, ds, day, champion)
        reference, reference_version = reference_frame(store, ds, champion)
        threshold = monitoring_policy.resolved(ds).drift_share_threshold
        outcome = compute_drift(current, reference, table, threshold, day_timestamp(day))
        reports = monitoring_policy.resolved_reports_dir() / ds.name / "drift"
        path = outcome.save_html(reports / f"{day}.html")
        served = served_versions(store, ds.name, days)
        rescored = [d for d, versions in served.items() if versions != [champion.version]]
        metadata = _drift_metadata(outcome, champion, reference_version, days, served, rescored)
        metadata["report"] = MetadataValue.path(str(path))
        metadata["columns"] = MetadataValue.md(_column_table(outcome))
        metadata["gated_days_excluded"] = MetadataValue.json(gated)
        if outcome.live_auc is not None:
            metadata["live_auc"] = MetadataValue.float(outcome.live_auc)
        context.log.info(
            f"drift share {outcome.drift_share:.3f} over {days[0]}..{day}; report at {path}"
        )
        return MaterializeResult(
            metadata=metadata,
            check_results=[
                drift_check_result(outcome.drift_share, threshold, outcome.drifted_columns)
            ],
            data_version=DataVersion(_drift_version(outcome, champion, reference_version)),
        )

    return [batch_predictions, drift_report, build_shadow_comparison(ds)]
