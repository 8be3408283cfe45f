"""The code location: every dataset folder's component (datasets/<name>/defs.yaml), and the
resources, sensors and executor they share."""

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
    in_process_executor,
)

from leanops_assets.components import load_dataset_defs
from leanops_assets.resources import (
    LakeResource,
    MlflowResource,
    MonitoringPolicy,
    PromotionPolicy,
    SourceResource,
    SparkResource,
    TuningResource,
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


def shared_defs() -> Definitions:
    """What every dataset shares: the follow-parents sensor, the resources, the executor."""
    return Definitions(
        sensors=[follow_parents_sensor],
        resources={
            "lake": LakeResource(),
            "source": SourceResource(),
            "pyspark": SparkResource(),
            "mlflow": MlflowResource(),
            "tuning": TuningResource(),
            "promotion": PromotionPolicy(),
            "monitoring_policy": MonitoringPolicy(),
        },
        # One process per run: every asset in a run shares one SparkSession and pays imports once.
        executor=in_process_executor,
    )


def code_location_defs() -> Definitions:
    """Every dataset's definitions with the shared ones; a bad contract or defs.yaml fails here,
    when the code location loads, naming the file."""
    return Definitions.merge(load_dataset_defs(), shared_defs())


defs = code_location_defs()
