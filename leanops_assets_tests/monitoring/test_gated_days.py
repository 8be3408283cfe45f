"""Gated days stay gated for scoring and drift: a day whose validation failed still has the
features of an earlier, passing delivery in the lake; no model may score them or count them."""

from dagster import DagsterInstance, materialize

from leanops_assets.monitoring.predict import TRAINING_DATA_VERSION_TAG, score_features
from leanops_assets.resources import LakeResource, MlflowResource, MonitoringPolicy
from leanops_assets.storage import Lake
from leanops_assets.training.dataset import stored_version
from leanops_assets_tests.flights_defs import batch_predictions, drift_report
from leanops_assets_tests.monitoring.frames import TABLE
from leanops_assets_tests.monitoring.test_monitoring_assets import (
    JULY,
    MODEL_NAME,
    registry,  # noqa: F401 (fixture)
    write_lake,
)

GATE = "daily_volume_within_band"


def _fail_validation(lake: Lake, day: str) -> None:
    """The day re-delivered and gated: its validated file carries the failed gate."""
    rows = lake.read_partition("features", "flights", day)[[TABLE.id_column]]
    lake.write_partition("validated", "flights", day, rows, failed_gates=[GATE])


def _setup(leanops_home, weeks, registry_uri):  # noqa: ANN001
    from mlflow import MlflowClient

    lake = Lake(leanops_home / "lake")
    write_lake(lake, weeks)
    client = MlflowClient(tracking_uri=registry_uri, registry_uri=registry_uri)
    client.set_model_version_tag(
        MODEL_NAME, "1", TRAINING_DATA_VERSION_TAG, stored_version(lake, "flights")
    )
    resources = {
        "lake": LakeResource(),
        "mlflow": MlflowResource(tracking_uri=registry_uri, model_name=MODEL_NAME),
        "monitoring_policy": MonitoringPolicy(),
    }
    return lake, resources


def test_a_gated_day_is_not_scored(leanops_home, weeks, registry):  # noqa: F811
    lake, resources = _setup(leanops_home, weeks, registry)
    day = JULY[-1]
    _fail_validation(lake, day)

    result = materialize(
        [batch_predictions],
        partition_key=day,
        resources=resources,
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )

    assert not result.success
    message = result.get_step_failure_events()[0].event_specific_data.error.to_string()
    assert day in message and GATE in message
    assert not lake.has_partition("predictions", "flights", day)


def test_a_drift_window_leaves_out_a_gated_day(leanops_home, weeks, january_model, registry):  # noqa: F811
    lake, resources = _setup(leanops_home, weeks, registry)
    for day in JULY:
        features = lake.read_partition("features", "flights", day)
        lake.write_partition(
            "predictions", "flights", day, score_features(january_model, features, TABLE, "1")
        )
    _fail_validation(lake, JULY[2])

    result = materialize(
        [drift_report],
        partition_key=JULY[-1],
        resources=resources,
        instance=DagsterInstance.ephemeral(),
    )

    metadata = result.asset_materializations_for_node("drift_report")[0].metadata
    window = weeks["jul_wk1"]
    kept = window[window[TABLE.date_column].astype(str) != JULY[2]]
    assert metadata["current_rows"].value == len(kept)
    assert metadata["gated_days_excluded"].value == {JULY[2]: [GATE]}
