"""Monitoring of a second dataset, rentals (leanops_assets_tests/datasets/rentals/): its own asset
keys, check and sensor beside the flights', and scoring and drift on a hand-built feature frame
whose expected values are written below."""

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dagster import AssetCheckKey, AssetKey, Definitions, define_asset_job

from leanops_assets.dataset import bundled_dataset, contract_dataset
from leanops_assets.monitoring.assets import build_monitoring_assets
from leanops_assets.monitoring.drift import compute_drift, monitored_features
from leanops_assets.monitoring.predict import live_metrics, score_features
from leanops_assets.monitoring.sensors import build_drift_retraining_sensor
from leanops_assets.resources import LakeResource, MlflowResource, MonitoringPolicy

# The prefix is explicit: contract_dataset leaves it empty today (the component defaults it to
# the name), and a second dataset beside flights needs its own.
RENTALS = contract_dataset(
    Path("leanops_assets_tests/datasets/rentals/contract.yaml"), key_prefix=("rentals",)
)
TABLE = RENTALS.table


def test_rentals_get_their_own_keys_check_and_sensor_beside_flights():
    flights = bundled_dataset()
    rentals_assets = build_monitoring_assets(RENTALS)
    assert [a.key for a in rentals_assets] == [
        AssetKey(["rentals", "batch_predictions"]),
        AssetKey(["rentals", "drift_report"]),
        AssetKey(["rentals", "shadow_comparison"]),
    ]
    predictions, drift, shadow = rentals_assets
    assert set(predictions.asset_deps[predictions.key]) == {
        AssetKey(["rentals", "rentals_features"]),
        AssetKey(["rentals", "registered_model"]),
    }
    assert set(drift.asset_deps[drift.key]) == {
        AssetKey(["rentals", "batch_predictions"]),
        AssetKey(["rentals", "rentals_features"]),
        AssetKey(["rentals", "training_set"]),
        AssetKey(["rentals", "registered_model"]),
    }
    assert set(shadow.asset_deps[shadow.key]) == {AssetKey(["rentals", "batch_predictions"])}
    assert drift.check_keys == {
        AssetCheckKey(AssetKey(["rentals", "drift_report"]), "drift_within_threshold")
    }
    assert predictions.partitions_def.get_first_partition_key() == "2024-03-01"

    sensor = build_drift_retraining_sensor(RENTALS)
    assert sensor.name == "rentals_drift_retraining_sensor"
    assert sensor.job_name == "rentals_retraining_job"

    # Both datasets' monitoring loads in one code location.
    jobs = [
        define_asset_job(ds.scoped("retraining_job"), selection=[ds.key("batch_predictions")])
        for ds in (flights, RENTALS)
    ]
    defs = Definitions(
        assets=[*build_monitoring_assets(flights), *rentals_assets],
        jobs=jobs,
        sensors=[
            build_drift_retraining_sensor(ds, job)
            for ds, job in zip((flights, RENTALS), jobs, strict=True)
        ],
        resources={
            "lake": LakeResource(),
            "mlflow": MlflowResource(),
            "monitoring_policy": MonitoringPolicy(),
        },
    )
    Definitions.validate_loadable(defs)
    assert defs.resolve_sensor_def("drift_retraining_sensor").job_name == "retraining_job"
    assert (
        defs.resolve_sensor_def("rentals_drift_retraining_sensor").job_name
        == "rentals_retraining_job"
    )


class DockedBikesModel:
    """A stand-in champion whose scores the test can write down: P(long) = docked_bikes / 10,
    predicted long from 0.5. It checks it receives the rentals' feature matrix."""

    classes_ = np.array([0, 1])

    def _score(self, matrix: pd.DataFrame) -> np.ndarray:
        assert list(matrix.columns) == TABLE.feature_columns
        assert matrix["docked_bikes"].dtype == "float64"
        return matrix["docked_bikes"].to_numpy() / 10

    def predict_proba(self, matrix: pd.DataFrame) -> np.ndarray:
        score = self._score(matrix)
        return np.column_stack([1 - score, score])

    def predict(self, matrix: pd.DataFrame) -> np.ndarray:
        return (self._score(matrix) >= 0.5).astype("int64")


def rentals_features(stations: list[str], temp_shift: float, rows: int = 20) -> pd.DataFrame:
    """A rentals-shaped feature frame (TABLE.all_columns): long exactly when 5 or more bikes
    were docked; the station mix and temperature are the knobs of drift."""
    docked = [i % 10 for i in range(rows)]
    return pd.DataFrame(
        {
            "rental_key": [f"r{i:02d}" for i in range(rows)],
            "rental_day": [date(2024, 3, 4)] * rows,
            "is_long": [int(d >= 5) for d in docked],
            "station": [stations[i % len(stations)] for i in range(rows)],
            "bike_type": ["city" if i % 2 else "ebike" for i in range(rows)],
            "hour": [float(7 + i % 12) for i in range(rows)],
            "minute_of_day": [float(420 + 37 * i) for i in range(rows)],
            "weekday": [float(i % 7) for i in range(rows)],
            "month": [float(3 + i % 2) for i in range(rows)],
            "day_of_year": [float(61 + i % 4) for i in range(rows)],
            "docked_bikes": [float(d) for d in docked],
            "temp_c": [float(i % 10) + temp_shift for i in range(rows)],
            "station_long_rate": [0.25 * (i % 5) for i in range(rows)],
            "station_damaged_rate": [np.nan] * rows,  # no returns seen yet: not testable
        }
    )[TABLE.all_columns]


def test_score_features_and_live_metrics_on_rentals():
    frame = rentals_features(["north", "south"], 0.0, rows=4)
    frame["docked_bikes"] = [1.0, 5.0, 8.0, 2.0]
    frame["is_long"] = pd.array([0, 1, 1, pd.NA], dtype="Int64")  # r03's bike is still out

    log = score_features(DockedBikesModel(), frame, TABLE, "7")

    expected = pd.DataFrame(
        {
            "rental_key": ["r00", "r01", "r02", "r03"],
            "rental_day": [date(2024, 3, 4)] * 4,
            "score": [0.1, 0.5, 0.8, 0.2],
            "predicted": pd.array([0, 1, 1, 0], dtype="int8"),
            "model_version": ["7"] * 4,
            "is_long": pd.array([0, 1, 1, pd.NA], dtype="Int8"),
        }
    )
    pd.testing.assert_frame_equal(log, expected, check_dtype=False)
    assert log["predicted"].dtype == "int8"

    metrics = live_metrics(log, TABLE)
    assert (metrics.rows, metrics.labelled_rows) == (4, 3)
    assert metrics.positive_rate == 0.5
    assert metrics.mean_score == pytest.approx(0.4)
    assert metrics.label_rate == pytest.approx(2 / 3)
    assert metrics.auc == 1.0
    assert metrics.accuracy == 1.0


def scored(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(score=frame["docked_bikes"] / 10)


def test_compute_drift_on_rentals():
    reference = scored(rentals_features(["north", "south"], 0.0))
    # Every rental now starts at the east station, 20 degrees warmer; the rest is unchanged.
    current = scored(rentals_features(["east"], 20.0))

    numeric, categorical, without_data = monitored_features(current, reference, TABLE)
    assert categorical == ["station", "bike_type"]
    assert numeric == ["hour", "minute_of_day", "weekday", "month", "day_of_year",
                       "docked_bikes", "temp_c", "station_long_rate"]  # fmt: skip
    assert without_data == ["station_damaged_rate"]

    outcome = compute_drift(current, reference, TABLE, 0.3)
    assert outcome.drifted_columns == ["station", "temp_c"]
    assert outcome.drift_share == pytest.approx(2 / 10)
    scores = {c.column: c.score for c in outcome.columns}
    assert scores["station"] == pytest.approx(0.8326, abs=1e-4)  # sqrt(ln 2): disjoint stations
    # 20 degrees over the reference's standard deviation of 0, 1, ..., 9 (2.872).
    assert scores["temp_c"] == pytest.approx(20 / np.std(np.arange(10)))
    assert scores["docked_bikes"] == 0.0
    assert not outcome.prediction_drift.drifted
    assert outcome.labelled and outcome.live_auc == 1.0
    assert (outcome.current_rows, outcome.reference_rows) == (20, 20)

    # The table says what is monitored: a column it leaves out does not count.
    calm = compute_drift(current, reference, replace(TABLE, not_monitored=("temp_c",)), 0.3)
    assert calm.drifted_columns == ["station"]
    assert calm.drift_share == pytest.approx(1 / 9)


def test_the_rentals_sensor_reads_only_the_rentals_drift_report():
    from dagster import AssetMaterialization, DagsterInstance, build_sensor_context

    policy = MonitoringPolicy(evidence_windows=1)
    sensor = build_drift_retraining_sensor(RENTALS)
    with DagsterInstance.ephemeral() as instance:

        def report(key: AssetKey, day: str) -> None:
            instance.report_runless_asset_event(
                AssetMaterialization(asset_key=key, partition=day, metadata={"drift_share": 0.9})
            )

        def tick(cursor: str | None = None):
            context = build_sensor_context(
                instance=instance, cursor=cursor, resources={"monitoring_policy": policy}
            )
            return sensor(context)

        report(AssetKey("drift_report"), "2024-03-04")  # the flights' report: not rentals'
        first = tick()
        assert first.run_requests == []
        assert first.skip_reason.skip_message.startswith("no drift_report materializations")

        report(AssetKey(["rentals", "drift_report"]), "2024-03-05")
        second = tick(first.cursor)
        assert [r.run_key for r in second.run_requests] == ["retrain-2024-03-05-1"]
