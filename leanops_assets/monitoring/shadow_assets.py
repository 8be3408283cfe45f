"""After a promotion: the replaced champion scores in shadow, and shadow_comparison rolls the new
champion back automatically when it does worse live (registry/rollback.py does the move)."""

from typing import TYPE_CHECKING

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from leanops_assets.dataset import PREDICTIONS, SHADOW_COMPARISON, Dataset
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.resources import LakeResource, MlflowResource, MonitoringPolicy
from leanops_assets.storage import Lake

if TYPE_CHECKING:
    import pandas as pd

    from leanops_assets.monitoring.predict import Champion

PREDICTIONS_STAGE = "predictions"


def score_in_shadow(
    store: Lake,
    mlflow: MlflowResource,
    ds: Dataset,
    champion: "Champion",
    day: str,
    features: "pd.DataFrame",
    shadow_days: int,
) -> dict[str, MetadataValue]:
    """In the champion's shadow period, score `features` with the version it replaced too and
    write the shadow log; returns the metadata to show (empty outside the period)."""
    from leanops_assets.monitoring.assets import load_serving
    from leanops_assets.monitoring.predict import (
        PREVIOUS_ALIAS,
        live_metrics,
        prediction_schema,
        score_features,
    )
    from leanops_assets.monitoring.shadow import SHADOW_STAGE, replaced_version, shadow_period

    replaced = replaced_version(champion)
    if replaced is None or day not in shadow_period(champion, shadow_days):
        return {}
    previous = load_serving(mlflow, ds, PREVIOUS_ALIAS)
    if previous.version != replaced:
        return {}  # the champion it replaced is no longer `previous` (a rollback happened)
    log = score_features(previous.model, features, ds.table, previous.version)
    store.write_partition(SHADOW_STAGE, ds.name, day, log, schema=prediction_schema(ds.table))
    metadata = {"shadow_model_version": MetadataValue.int(int(previous.version))}
    auc = live_metrics(log, ds.table).auc
    if auc is not None:
        metadata["shadow_live_auc"] = MetadataValue.float(auc)
    return metadata


def build_shadow_comparison(ds: Dataset) -> AssetsDefinition:
    """The dataset's shadow_comparison: champion against the version it replaced, live."""

    @asset(
        key=ds.key(SHADOW_COMPARISON),
        partitions_def=daily_partitions_for(ds.contract),
        group_name="monitoring",
        kinds={"mlflow"},
        deps=[ds.key(PREDICTIONS)],
        description="After a promotion, the new champion's live AUC against the champion it "
        "replaced on the same rows; rolls the champion back automatically, once, if it does "
        "worse live.",
    )
    def shadow_comparison(
        context: AssetExecutionContext,
        lake: LakeResource,
        mlflow: MlflowResource,
        monitoring_policy: MonitoringPolicy,
    ) -> MaterializeResult:
        return compare_in_shadow(context, lake.lake(), mlflow, ds, monitoring_policy)

    return shadow_comparison


def compare_in_shadow(
    context: AssetExecutionContext,
    store: Lake,
    mlflow: MlflowResource,
    ds: Dataset,
    monitoring_policy: MonitoringPolicy,
) -> MaterializeResult:
    """shadow_comparison's body: compare on the shadow days so far, roll back once if worse."""
    from mlflow import MlflowClient

    from leanops_assets.monitoring.assets import load_serving
    from leanops_assets.monitoring.shadow import (
        SHADOW_STAGE,
        compare_shadow,
        replaced_version,
        shadow_period,
    )
    from leanops_assets.registry.assets import rollback_observation
    from leanops_assets.registry.rollback import rollback_once
    from leanops_assets.training.tracking import configure_mlflow, experiment_for, model_name_for

    day = context.partition_key
    champion = load_serving(mlflow, ds)
    policy = monitoring_policy.resolved(ds)
    period = shadow_period(champion, policy.shadow_days)
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
        and store.has_partition(PREDICTIONS_STAGE, ds.name, d)
        and store.has_partition(SHADOW_STAGE, ds.name, d)
    ]
    served = store.read_partitions(PREDICTIONS_STAGE, ds.name, days)
    shadow = store.read_partitions(SHADOW_STAGE, ds.name, days)
    comparison = compare_shadow(
        served[served["model_version"] == champion.version],
        shadow[shadow["model_version"] == replaced],
        ds.table,
        days,
        policy.rollback_auc_margin,
        policy.rollback_min_labelled_rows,
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
        configure_mlflow(mlflow, experiment_for(mlflow, ds))
        name = model_name_for(mlflow, ds)
        reason = f"automatic rollback on {day}: {comparison.describe()}"
        done = rollback_once(MlflowClient(), name, champion.version, replaced, reason)
        if done is not None:
            context.log.warning(f"{name}: {reason}")
            context.log_event(rollback_observation(done, mlflow, ds))
            metadata["rolled_back_to"] = MetadataValue.int(int(done.to_version))
    return MaterializeResult(metadata=metadata)
