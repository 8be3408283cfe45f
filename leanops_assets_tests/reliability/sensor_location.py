"""A code location for the sensor tests: the real drift sensor and a cheap stand-in retraining_job."""

from dagster import Definitions, job, op

from leanops_assets.dataset import bundled_dataset
from leanops_assets.monitoring.sensors import build_drift_retraining_sensor
from leanops_assets.resources import MonitoringPolicy


@op
def stand_in() -> None:
    """Does nothing: the tests count runs, they do not execute them."""


@job(name="retraining_job")
def retraining_job() -> None:
    stand_in()


defs = Definitions(
    jobs=[retraining_job],
    sensors=[
        build_drift_retraining_sensor(bundled_dataset(), retraining_job, minimum_interval_seconds=1)
    ],
    resources={
        "monitoring_policy": MonitoringPolicy(
            drift_share_threshold=0.3, live_auc_floor=0.65, evidence_windows=1, cooldown_days=7
        )
    },
)
