"""After a promotion: the replaced champion scores in shadow, and shadow_comparison rolls the new
champion back automatically when it does worse live (registry/rollback.py does the move)."""

from typing import TYPE_CHECKING

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from leanops_assets.partitions import daily_partitions
from leanops_assets.resources import LakeResource, MlflowResource, MonitoringPolicy
from leanops_assets.storage import Lake

if TYPE_CHECKING:
    import pandas as pd

    from leanops_assets.monitoring.predict import Champion

PREDICTIONS = ("predictions", "flights")


def score_in_shadow(
    store: Lake,
    mlflow: MlflowResource,
    champion: "Champion",
    day: str,
    features: "pd.DataFrame",
    shadow_days: int,
) -> dict[str, MetadataValue]:
    """In the champion's shadow period, score `features` with the version it replaced too and
    write the shadow log; returns the metadata to show (empty outside the period)."""
    from leanops_assets.monitoring.assets import load_serving
    from leanops_assets.monitoring.predict import (
        PREDICTION_SCHEMA,
        PREVIOUS_ALIAS,
        live_metrics,
        score_features,
    )
    from leanops_assets.monitoring.shadow import (
        SHADOW_PREDICTIONS,
        replaced_version,
        shadow_period,
    )

    replaced = replaced_version(champion)
    if replaced is None or day not in shadow_period(champion, shadow_days):
        return {}
    previous = load_serving(mlflow, PREVIOUS_ALIAS)
    if previous.version != replaced:
        return {}  # the champion it replaced is no longer `previous` (a rollback happened)
    log = score_features(previous.model, features, previous.version)
    store.write_partition(*SHADOW_PREDICTIONS, day, log, schema=PREDICTION_SCHEMA)
    metadata = {"shadow_model_version": MetadataValue.int(int(previous.version))}
    auc = live_metrics(log).auc
    if auc is not None:
        metadata["shadow_live_auc"] = MetadataValue.float(auc)
    return metadata


@asset(
    name="shadow_comparison",
    partitions_def=daily_partitions,
    group_name="monitoring",
    kinds={"mlflow"},
    deps=["batch_predictions"],
    description="After a promotion, the new champion's live AUC against the champion it replaced "
    "on the same flights; rolls the champion back automatically, once, if it does worse live.",
)
def shadow_comparison(
    context: AssetExecutionContext,
    lake: LakeResource,
    mlflow: MlflowResource,
    monitoring_policy: MonitoringPolicy,
) -> MaterializeResult:
    from mlflow import MlflowClient

    from leanops_assets.monitoring.assets import load_serving
    from leanops_assets.monitoring.shadow import (
        SHADOW_PREDICTIONS,
        compare_shadow,
        replaced_version,
        shadow_period,
    )
    from leanops_assets.registry.assets import rollback_observation
    from leanops_assets.registry.rollback import rollback_once
    from leanops_assets.training.tracking import configure_mlflow

    day = context.partition_key
    store = lake.lake()
    champion = load_serving(mlflow)
    period = shadow_period(champion, monitoring_policy.shadow_days)
    replaced = replaced_version(champion)
    metadata: dict[str, MetadataValue] = {
        "champion_version": MetadataValue.int(int(champion.version)),
    }
    if replaced is None or day not in period:
        window = f"{period[0]}..{period[-1]}" if period else "none recorded"
        metadata["status"] = MetadataValue.text(
            f"{day} is not in a shadow period of champion version {champion.version} "
            f"(shadow days {window}, replaced version: {replaced or 'none'})"
        )
        return MaterializeResult(metadata=metadata)

    days = [
        d
        for d in period
        if d <= day
        and store.has_partition(*PREDICTIONS, d)
        and store.has_partition(*SHADOW_PREDICTIONS, d)
    ]
    served = store.read_partitions(*PREDICTIONS, days)
    shadow = store.read_partitions(*SHADOW_PREDICTIONS, days)
    comparison = compare_shadow(
        served[served["model_version"] == champion.version],
        shadow[shadow["model_version"] == replaced],
        days,
        monitoring_policy.rollback_auc_margin,
        monitoring_policy.rollback_min_labelled_rows,
    )
    metadata |= {
        "shadow_model_version": MetadataValue.int(int(replaced)),
        "shadow_days_compared": MetadataValue.int(len(days)),
        "labelled_rows": MetadataValue.int(comparison.labelled_rows),
        "status": MetadataValue.text(comparison.describe()),
    }
    for key, value in (
        ("champion_live_auc", comparison.champion_auc),
        ("shadow_live_auc", comparison.shadow_auc),
        ("shadow_auc_gap", comparison.gap),
    ):
        if value is not None:
            metadata[key] = MetadataValue.float(value)
    if comparison.worse_live:
        configure_mlflow(mlflow)
        reason = f"automatic rollback on {day}: {comparison.describe()}"
        done = rollback_once(MlflowClient(), mlflow.model_name, champion.version, replaced, reason)
        if done is not None:
            context.log.warning(f"{mlflow.model_name}: {reason}")
            context.log_event(rollback_observation(done, mlflow))
            metadata["rolled_back_to"] = MetadataValue.int(int(done.to_version))
    return MaterializeResult(metadata=metadata)
