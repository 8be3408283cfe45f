"""One dataset's definitions: every stage's assets, its jobs, schedules and sensors.

The LeanopsDataset component (components.py) calls `build_dataset_defs` for each
datasets/<name>/defs.yaml; definitions.py adds the resources all datasets share.
"""

from __future__ import annotations

import os

from dagster import (
    AssetSelection,
    AutomationCondition,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
    define_asset_job,
    map_asset_specs,
)

from leanops_assets.dataset import (
    DRIFT_REPORT,
    PREDICTIONS,
    REGISTERED_MODEL,
    SHADOW_COMPARISON,
    TRAINING_SET,
    TUNED_MODEL,
    Dataset,
)
from leanops_assets.features.assets import build_feature_assets
from leanops_assets.ingestion.assets import build_ingestion_assets
from leanops_assets.monitoring.assets import build_monitoring_assets
from leanops_assets.monitoring.sensors import build_drift_retraining_sensor
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.registry.assets import build_registry_assets, build_rollback_job
from leanops_assets.training.assets import build_training_assets
from leanops_assets.training.tracking import mlflow_tracking_for
from leanops_assets.validation.assets import build_validation_assets


def follow_parents(ds: Dataset) -> AutomationCondition:
    """Downstream daily assets follow their parents: when a day's parent is re-materialized (a
    fix, a late file, outcomes delivered later), the automation daemon rebuilds that day. Unlike
    `eager()`, this is not limited to the latest partition: corrections arrive for earlier days.
    It waits for the parents' blocking checks (a gated day is not built upon). A new champion
    does not re-score history: model assets are ignored as triggers."""
    models = AssetSelection.assets(ds.key(TRAINING_SET), ds.key(REGISTERED_MODEL))
    return (
        AutomationCondition.any_deps_updated().ignore(models).since_last_handled()
        & ~AutomationCondition.any_deps_missing()
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
        & AutomationCondition.all_deps_blocking_checks_passed()
    ).with_label("follow parents")


def daily_asset_keys(ds: Dataset) -> list:
    """Every daily asset of the dataset, in the order one day builds them."""
    references = [ds.key(ds.reference_asset(t)) for t in ds.daily_references]
    names = [ds.validated_asset, ds.features_asset, PREDICTIONS, DRIFT_REPORT, SHADOW_COMPARISON]
    return [ds.key(ds.raw_asset), *references, *[ds.key(n) for n in names]]


def static_reference_keys(ds: Dataset) -> list:
    return [ds.key(ds.reference_asset(t)) for t in ds.table_references]


# The drift sensor's minimum interval (default 5 s); a replay, whose days pass in seconds, sets 1.
DRIFT_SENSOR_INTERVAL_ENV = "LEANOPS_DRIFT_SENSOR_INTERVAL_SECONDS"


def drift_sensor_interval() -> int:
    value = os.environ.get(DRIFT_SENSOR_INTERVAL_ENV) or "5"
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{DRIFT_SENSOR_INTERVAL_ENV}={value!r}: give whole seconds, at least 1")
    return int(value)


def build_dataset_defs(ds: Dataset, sensor_interval_seconds: int | None = None) -> Definitions:
    """The dataset's assets, checks, jobs, schedules and sensors; resources come from the caller.
    The drift sensor's minimum interval defaults to drift_sensor_interval()."""
    partitions = daily_partitions_for(ds.contract)
    ingestion = build_ingestion_assets(ds)
    followers = {ds.key(n) for n in (ds.validated_asset, ds.features_asset)} | {
        ds.key(n) for n in (PREDICTIONS, DRIFT_REPORT, SHADOW_COMPARISON)
    }
    condition = follow_parents(ds)
    daily = map_asset_specs(
        lambda spec: (
            spec.replace_attributes(automation_condition=condition)
            if spec.key in followers
            else spec
        ),
        [*build_validation_assets(ds), *build_feature_assets(ds), *build_monitoring_assets(ds)],
    )
    daily_pipeline = define_asset_job(
        ds.scoped("daily_pipeline"),
        selection=daily_asset_keys(ds),
        partitions_def=partitions,
        description="One day: land, validate, build features, score with the champion, report drift.",
    )
    retraining_job = define_asset_job(
        ds.scoped("retraining_job"),
        selection=[ds.key(TRAINING_SET), ds.key(TUNED_MODEL), ds.key(REGISTERED_MODEL)],
        description="Rebuild the training window, tune, register, and promote if the gates pass.",
    )
    jobs = [daily_pipeline, retraining_job, build_rollback_job(ds)]
    if static_reference_keys(ds):
        jobs.append(
            define_asset_job(
                ds.scoped("reference_data"),
                selection=static_reference_keys(ds),
                description="Reference tables that are not partitioned by day.",
            )
        )
    return Definitions(
        assets=[
            *ingestion,
            *daily,
            *build_training_assets(ds),
            *build_registry_assets(ds),
        ],
        jobs=jobs,
        schedules=[
            # Off by default: the bundled source replays history and has no file for
            # yesterday. Turn it on when a landing folder receives a file every day.
            build_schedule_from_partitioned_job(
                daily_pipeline,
                name=ds.scoped("daily_pipeline_schedule"),
                description="Each day, build the previous day's partition of every daily asset.",
                default_status=DefaultScheduleStatus.STOPPED,
            ),
            ScheduleDefinition(
                name=ds.scoped("weekly_retrain_schedule"),
                job=retraining_job,
                cron_schedule="0 3 * * 1",
                description="Optional: retrain every Monday regardless of drift. Off by default.",
                default_status=DefaultScheduleStatus.STOPPED,
            ),
        ],
        sensors=[
            # 5 s is the daemon's own loop period: it ticks the sensor on every loop, and the
            # replay, which ticks once per replayed day, waits only after a day shorter than that.
            build_drift_retraining_sensor(
                ds, retraining_job, sensor_interval_seconds or drift_sensor_interval()
            ),
        ],
        resources={ds.scoped("mlflow_tracking"): mlflow_tracking_for(ds)},
    )
