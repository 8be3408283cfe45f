"""Assembles every stage's assets, checks, jobs, schedules, sensors and resources."""

from dagster import (
    AssetSelection,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
    define_asset_job,
    in_process_executor,
    map_asset_specs,
)

from leanops_assets.contract import load_contract
from leanops_assets.features.assets import flight_features
from leanops_assets.ingestion.assets import planes, raw_flights, raw_weather
from leanops_assets.monitoring.assets import batch_predictions, drift_report
from leanops_assets.monitoring.sensors import build_drift_retraining_sensor
from leanops_assets.monitoring.shadow_assets import shadow_comparison
from leanops_assets.partitions import daily_partitions
from leanops_assets.registry.assets import (
    champion_history,
    registered_model,
    rollback_champion_job,
)
from leanops_assets.resources import (
    FlightsSourceResource,
    LakeResource,
    MlflowResource,
    MonitoringPolicy,
    PromotionPolicy,
    SparkResource,
    TuningResource,
)
from leanops_assets.training.assets import training_set, tuned_model
from leanops_assets.training.tracking import mlflow_tracking_resource
from leanops_assets.validation.assets import validated_flights

# A bad contract fails here, when the code location loads, naming the field.
load_contract()

DAILY_ASSETS = [
    "raw_flights",
    "raw_weather",
    "validated_flights",
    "flight_features",
    "batch_predictions",
    "drift_report",
    "shadow_comparison",
]

# Downstream daily assets follow their parents: when a day's parent is re-materialized (a fix,
# a late file, outcomes delivered later), the automation daemon rebuilds that day. Unlike
# `eager()`, this is not limited to the latest partition: corrections arrive for earlier days.
# It waits for the parents' blocking checks (a gated day is not built upon).
# A new champion does not re-score history: model assets are ignored as triggers.
MODEL_ASSETS = AssetSelection.assets("training_set", "registered_model")
FOLLOW_PARENTS = (
    AutomationCondition.any_deps_updated().ignore(MODEL_ASSETS).since_last_handled()
    & ~AutomationCondition.any_deps_missing()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
    & AutomationCondition.all_deps_blocking_checks_passed()
).with_label("follow parents")

daily_assets = map_asset_specs(
    lambda spec: spec.replace_attributes(automation_condition=FOLLOW_PARENTS),
    [validated_flights, flight_features, batch_predictions, drift_report, shadow_comparison],
)

daily_pipeline = define_asset_job(
    "daily_pipeline",
    selection=DAILY_ASSETS,
    partitions_def=daily_partitions,
    description="One day: land, validate, build features, score with the champion, report drift.",
)
reference_data = define_asset_job(
    "reference_data",
    selection=["planes"],
    description="Reference tables that are not partitioned by day.",
)
retraining_job = define_asset_job(
    "retraining_job",
    selection=["training_set", "tuned_model", "registered_model"],
    description="Rebuild the training window, tune, register, and promote if the gates pass.",
)

# Off by default: the bundled source replays history and has no file for yesterday. Turn it on
# when a landing folder receives a file every day; each tick builds the previous day.
daily_schedule = build_schedule_from_partitioned_job(
    daily_pipeline,
    name="daily_pipeline_schedule",
    description="Each day, build the previous day's partition of every daily asset.",
    default_status=DefaultScheduleStatus.STOPPED,
)
# Dagster's own automation sensor starts stopped; this one runs whenever the daemon runs, so a
# re-delivered file rebuilds its day without anyone switching a toggle.
follow_parents_sensor = AutomationConditionSensorDefinition(
    "follow_parents_sensor",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates every asset's automation condition (daily assets follow their parents).",
)
weekly_retrain_schedule = ScheduleDefinition(
    name="weekly_retrain_schedule",
    job=retraining_job,
    cron_schedule="0 3 * * 1",
    description="Optional: retrain every Monday regardless of drift. Off by default.",
    default_status=DefaultScheduleStatus.STOPPED,
)

defs = Definitions(
    assets=[
        raw_flights,
        raw_weather,
        planes,
        *daily_assets,
        training_set,
        tuned_model,
        registered_model,
        champion_history,
    ],
    jobs=[daily_pipeline, reference_data, retraining_job, rollback_champion_job],
    schedules=[daily_schedule, weekly_retrain_schedule],
    sensors=[
        # 5 s is the daemon's own loop period: it ticks the sensor on every loop, and the
        # replay, which ticks once per replayed day, waits only after a day shorter than that.
        build_drift_retraining_sensor(retraining_job, minimum_interval_seconds=5),
        follow_parents_sensor,
    ],
    resources={
        "lake": LakeResource(),
        "source": FlightsSourceResource(),
        "pyspark": SparkResource(),
        "mlflow": MlflowResource(),
        "mlflow_tracking": mlflow_tracking_resource,
        "tuning": TuningResource(),
        "promotion": PromotionPolicy(),
        "monitoring_policy": MonitoringPolicy(),
    },
    # One process per run: every asset in a run shares one SparkSession and pays imports once.
    executor=in_process_executor,
)
