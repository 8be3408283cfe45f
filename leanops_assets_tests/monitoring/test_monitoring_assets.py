"""batch_predictions and drift_report materialized by Dagster with real resources: a lake and a
SQLite MLflow registry in a temporary home, a champion registered there, real July feature days."""

from dataclasses import replace

import pandas as pd
import pytest
from dagster import AssetCheckSeverity, DagsterInstance, build_sensor_context, materialize
from sklearn.metrics import log_loss, roc_auc_score

from leanops_assets.monitoring.assets import (
    DRIFT_CHECK_NAME,
    build_monitoring_assets,
    drift_check_result,
)
from leanops_assets.monitoring.predict import (
    TRAINING_DATA_VERSION_TAG,
    ChampionNotFoundError,
    load_champion,
    prediction_columns,
    score_features,
)
from leanops_assets.monitoring.sensors import build_drift_retraining_sensor
from leanops_assets.resources import LakeResource, MlflowResource, MonitoringPolicy
from leanops_assets.storage import Lake
from leanops_assets.training.dataset import stored_version
from leanops_assets.training.model import feature_matrix
from leanops_assets_tests.flights_defs import batch_predictions, drift_report
from leanops_assets_tests.monitoring.frames import FLIGHTS, TABLE, register_champion, train_pipeline

ALL_COLUMNS, DATE_COLUMN, LABEL_COLUMN = TABLE.all_columns, TABLE.date_column, TABLE.label_column

MODEL_NAME = "leanops_monitoring_test"
JULY = [f"2013-07-0{d}" for d in range(1, 8)]


@pytest.fixture(scope="module")
def registry(tmp_path_factory, january_model) -> str:
    """A SQLite MLflow store with the January model registered as version 1, alias champion."""
    uri, _ = register_champion(january_model, tmp_path_factory.mktemp("mlflow"), MODEL_NAME)
    return uri


def write_lake(lake: Lake, weeks: dict) -> None:
    """January as the training splits, the first week of July as feature partitions."""
    january = weeks["jan_train"]
    day = january[DATE_COLUMN].astype(str)
    splits = {
        "train": january[day <= "2013-01-10"],
        "validation": january[(day > "2013-01-10") & (day <= "2013-01-12")],
        "holdout": january[day > "2013-01-12"],
    }
    for name, frame in splits.items():
        lake.write_table("training", f"flights_{name}", frame[ALL_COLUMNS].reset_index(drop=True))
    july = weeks["jul_wk1"]
    for date_value, frame in july.groupby(july[DATE_COLUMN].astype(str)):
        lake.write_partition("features", "flights", date_value, frame.reset_index(drop=True))


def test_load_champion_says_what_to_do_without_one(registry):
    with pytest.raises(ChampionNotFoundError, match="materialize registered_model"):
        load_champion(registry, registry, "no_such_model")


def test_a_champion_version_is_loaded_once_and_a_new_champion_at_once(tmp_path, january_model):
    """A day's run asks for the champion four times; its model is read from the store once per
    process. Moving the alias serves the new version on the next call."""
    from mlflow import MlflowClient

    name = "leanops_load_once"
    uri, first_version = register_champion(january_model, tmp_path, name)
    first = load_champion(uri, uri, name)
    again = load_champion(uri, uri, name)
    assert first_version == first.version == again.version == "1"
    assert again.model is first.model

    _, second_version = register_champion(january_model, tmp_path, name)
    newer = load_champion(uri, uri, name)
    assert (second_version, newer.version) == ("2", "2")
    assert newer.model is not first.model
    MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(
        name, "champion", "1"
    )
    assert load_champion(uri, uri, name).model is first.model


# The January model predicts no July flight late: Evidently's precision is undefined, and says so.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_predictions_drift_report_check_and_sensor(leanops_home, weeks, january_model, registry):
    from mlflow import MlflowClient

    lake = Lake(leanops_home / "lake")
    write_lake(lake, weeks)
    client = MlflowClient(tracking_uri=registry, registry_uri=registry)
    client.set_model_version_tag(
        MODEL_NAME, "1", TRAINING_DATA_VERSION_TAG, stored_version(lake, "flights")
    )
    policy = MonitoringPolicy(evidence_windows=1)
    resources = {
        "lake": LakeResource(),
        "mlflow": MlflowResource(tracking_uri=registry, model_name=MODEL_NAME),
        "monitoring_policy": policy,
    }
    instance = DagsterInstance.get()
    day = JULY[-1]

    # Earlier days of the window: the same scoring function the asset uses.
    for earlier in JULY[:-1]:
        features = lake.read_partition("features", "flights", earlier)
        lake.write_partition(
            "predictions", "flights", earlier, score_features(january_model, features, TABLE, "1")
        )

    first = materialize(
        [batch_predictions], partition_key=day, resources=resources, instance=instance
    )
    assert first.success
    event = first.asset_materializations_for_node("batch_predictions")[0]
    log = lake.read_partition("predictions", "flights", day)
    features = lake.read_partition("features", "flights", day)
    assert list(log.columns) == prediction_columns(TABLE)
    assert len(log) == len(features) == event.metadata["dagster/row_count"].value
    assert (log["model_version"] == "1").all()
    truth = features[LABEL_COLUMN]
    proba = january_model.predict_proba(feature_matrix(features, TABLE))[:, 1]
    assert event.metadata["live_auc"].value == pytest.approx(roc_auc_score(truth, proba))
    assert event.metadata["log_loss"].value == pytest.approx(log_loss(truth, proba))
    assert event.metadata["label_rate"].value == pytest.approx(truth.mean())
    assert event.metadata["model_version"].value == "1"
    assert "scored_at" in event.metadata

    # Idempotent: scoring the same day with the same champion writes the same bytes.
    again = materialize(
        [batch_predictions], partition_key=day, resources=resources, instance=instance
    )
    assert (
        again.asset_materializations_for_node("batch_predictions")[0].tags["dagster/data_version"]
        == event.tags["dagster/data_version"]
        == event.metadata["content_hash"].value
    )
    pd.testing.assert_frame_equal(lake.read_partition("predictions", "flights", day), log)

    drift = materialize([drift_report], partition_key=day, resources=resources, instance=instance)
    assert drift.success
    metadata = drift.asset_materializations_for_node("drift_report")[0].metadata
    assert metadata["drift_share"].value > 0.4  # flights' threshold: the built-in one
    assert {"temp", "origin_late_rate"} <= set(metadata["drifted_columns"].value)
    assert metadata["window_start"].value == "2013-07-01"
    assert metadata["window_days"].value == 7
    assert metadata["current_rows"].value == len(weeks["jul_wk1"])
    assert metadata["reference_rows"].value == 5000
    assert metadata["reference_version"].value == stored_version(lake, "flights")
    assert metadata["champion_version"].value == 1
    # The project's pipeline trained on January still ranks July flights a little (0.63 measured):
    # the drift share, not the AUC floor, is what breaches; the AUC is the champion's on the week.
    week = weeks["jul_wk1"]
    expected_auc = roc_auc_score(
        week[LABEL_COLUMN], january_model.predict_proba(feature_matrix(week, TABLE))[:, 1]
    )
    assert metadata["live_auc"].value == pytest.approx(expected_auc, abs=1e-9)
    report = leanops_home / "reports" / "flights" / "drift" / f"{day}.html"
    assert metadata["report"].value == str(report)
    assert report.stat().st_size > 10_000

    [check] = drift.get_asset_check_evaluations()
    assert check.check_name == DRIFT_CHECK_NAME
    assert check.passed is False
    assert check.severity == AssetCheckSeverity.WARN
    assert check.metadata["observed_drift_share"].value == metadata["drift_share"].value
    assert check.metadata["expected_max_drift_share"].value == 0.4

    # The sensor reads the real materialization and asks for a retrain.
    sensor = build_drift_retraining_sensor(FLIGHTS)
    context = build_sensor_context(instance=instance, resources={"monitoring_policy": policy})
    result = sensor(context)
    assert [r.run_key for r in result.run_requests] == [f"retrain-{day}-1"]

    # A dataset whose defs.yaml sets `monitoring: {drift_share_threshold: 0.95}` is judged by
    # its own threshold: the same week passes its check.
    lenient = replace(FLIGHTS, monitoring_defaults=(("drift_share_threshold", 0.95),))
    [_, lenient_drift, _] = build_monitoring_assets(lenient)
    judged = materialize([lenient_drift], partition_key=day, resources=resources, instance=instance)
    [check] = judged.get_asset_check_evaluations()
    assert check.metadata["expected_max_drift_share"].value == 0.95
    assert check.metadata["observed_drift_share"].value == metadata["drift_share"].value
    assert check.passed is True


def test_drift_check_passes_within_threshold():
    result = drift_check_result(0.2, 0.3, ["temp"])
    assert result.passed is True
    assert result.severity == AssetCheckSeverity.WARN
    assert result.metadata["observed_drift_share"].value == 0.2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_drift_reference_stays_the_champions_training_data_after_a_rejected_retrain(
    leanops_home, weeks, january_model, registry
):
    """A retrain whose model was rejected leaves its own training set in the lake; drift is still
    measured against the data the champion learned from, identified by its recorded version."""
    from mlflow import MlflowClient

    lake = Lake(leanops_home / "lake")
    write_lake(lake, weeks)
    january_version = stored_version(lake, "flights")
    client = MlflowClient(tracking_uri=registry, registry_uri=registry)
    client.set_model_version_tag(MODEL_NAME, "1", TRAINING_DATA_VERSION_TAG, january_version)
    resources = {
        "lake": LakeResource(),
        "mlflow": MlflowResource(tracking_uri=registry, model_name=MODEL_NAME),
        "monitoring_policy": MonitoringPolicy(),
    }
    instance = DagsterInstance.ephemeral()
    day = JULY[-1]
    for scored_day in JULY:
        features = lake.read_partition("features", "flights", scored_day)
        lake.write_partition(
            "predictions",
            "flights",
            scored_day,
            score_features(january_model, features, TABLE, "1"),
        )

    def drift_metadata() -> dict:
        result = materialize(
            [drift_report], partition_key=day, resources=resources, instance=instance
        )
        return result.asset_materializations_for_node("drift_report")[0].metadata

    before = drift_metadata()
    assert before["reference_version"].value == january_version

    # The rejected challenger's training set: the July week itself, now the lake's training set.
    july = weeks["jul_wk1"]
    july_day = july[DATE_COLUMN].astype(str)
    for name, frame in {
        "train": july[july_day <= "2013-07-05"],
        "validation": july[july_day == "2013-07-06"],
        "holdout": july[july_day == "2013-07-07"],
    }.items():
        lake.write_table("training", f"flights_{name}", frame[ALL_COLUMNS].reset_index(drop=True))
    assert stored_version(lake, "flights") != january_version

    after = drift_metadata()
    assert after["reference_version"].value == january_version
    assert after["drift_share"].value == before["drift_share"].value
    assert after["drift_share"].value > 0.4

    # A champion whose training data is nowhere to be found is refused, naming what is missing.
    client.set_model_version_tag(MODEL_NAME, "1", TRAINING_DATA_VERSION_TAG, "f" * 64)
    refused = materialize(
        [drift_report],
        partition_key=day,
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )
    assert not refused.success
    failure = refused.failure_data_for_node("drift_report").error.cause.message
    assert "ffffffffffff" in failure and "version 1" in failure


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_a_drift_window_is_scored_by_one_model(leanops_home, weeks, january_model, registry):
    """Six days of the window were served by an earlier champion (one fitted on those very
    days); the report's live AUC and score drift are the current champion's over the whole week."""
    from mlflow import MlflowClient

    lake = Lake(leanops_home / "lake")
    write_lake(lake, weeks)
    client = MlflowClient(tracking_uri=registry, registry_uri=registry)
    client.set_model_version_tag(
        MODEL_NAME, "1", TRAINING_DATA_VERSION_TAG, stored_version(lake, "flights")
    )
    earlier_champion = train_pipeline(weeks["jul_wk1"])
    for served_day in JULY:
        model, version = (january_model, "1") if served_day == JULY[-1] else (earlier_champion, "0")
        features = lake.read_partition("features", "flights", served_day)
        lake.write_partition(
            "predictions", "flights", served_day, score_features(model, features, TABLE, version)
        )
    result = materialize(
        [drift_report],
        partition_key=JULY[-1],
        resources={
            "lake": LakeResource(),
            "mlflow": MlflowResource(tracking_uri=registry, model_name=MODEL_NAME),
            "monitoring_policy": MonitoringPolicy(),
        },
        instance=DagsterInstance.ephemeral(),
    )
    metadata = result.asset_materializations_for_node("drift_report")[0].metadata
    week = weeks["jul_wk1"]
    champion_auc = roc_auc_score(
        week[LABEL_COLUMN], january_model.predict_proba(feature_matrix(week, TABLE))[:, 1]
    )
    assert metadata["live_auc"].value == pytest.approx(champion_auc, abs=1e-9)
    assert metadata["champion_version"].value == 1
    assert metadata["served_model_versions"].value == ["0", "1"]
    assert metadata["rescored_days"].value == JULY[:-1]
