"""Training and registry on a second dataset (the test `rentals`), beside flights in one lake."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from leanops_assets.dataset import contract_dataset
from leanops_assets.registry.assets import build_registry_assets, build_rollback_job
from leanops_assets.resources import LakeResource, MlflowResource, PromotionPolicy, TuningResource
from leanops_assets.storage import Lake
from leanops_assets.training.assets import build_training_assets
from leanops_assets.training.dataset import (
    TrainingSetError,
    WindowSpec,
    read_splits,
    select_window,
    stored_version,
)
from leanops_assets.training.model import (
    feature_matrix,
    fit_pipeline,
    informative_columns,
    model_signature,
    predict_probability,
)
from leanops_assets.training.tracking import mlflow_tracking_for
from leanops_assets_tests.flights_defs import training_set

RENTALS = contract_dataset(
    Path("leanops_assets_tests/datasets/rentals/contract.yaml"), key_prefix=("rentals",)
)
TABLE = RENTALS.table
DAYS = [(date(2024, 3, 1) + timedelta(days=i)).isoformat() for i in range(10)]
STATIONS = ["north", "south", "east"]


def rental_day(day: str, rows: int = 30) -> pd.DataFrame:
    """A feature day of rentals: north's rentals are long, a few others too; temp_c is empty."""
    i = np.arange(rows)
    station = [STATIONS[k % 3] for k in i]
    frame = pd.DataFrame(
        {
            "rental_key": [f"{day}-{k:02d}" for k in i],
            "rental_day": date.fromisoformat(day),
            "is_long": [int(s == "north" or k % 7 == 4) for k, s in zip(i, station, strict=True)],
            "station": pd.Series(station, dtype=object),
            "bike_type": pd.Series([["city", "ebike", None][k % 3 // 2] for k in i], dtype=object),
            "hour": (6 + i % 12).astype("float64"),
            "minute_of_day": (6 + i % 12) * 60.0,
            "weekday": float(date.fromisoformat(day).weekday()),
            "month": 3.0,
            "day_of_year": float(date.fromisoformat(day).timetuple().tm_yday),
            "docked_bikes": (i % 5).astype("float64"),
            "temp_c": np.nan,
            "station_long_rate": [0.9 if s == "north" else 0.1 for s in station],
            "station_damaged_rate": 0.05,
        }
    )
    return frame[TABLE.all_columns]


def write_rental_days(lake: Lake) -> None:
    for day in DAYS:
        lake.write_partition("features", "rentals", day, rental_day(day))
    # The day after: no outcome known yet, so it is not trained on.
    unknown = rental_day("2024-03-11").assign(is_long=pd.NA)
    lake.write_partition("features", "rentals", "2024-03-11", unknown)


def test_the_model_fits_and_predicts_on_the_rentals_feature_table():
    rows = pd.concat([rental_day(d) for d in DAYS[:6]], ignore_index=True)
    columns = informative_columns(feature_matrix(rows, TABLE), TABLE)
    assert columns.categorical == ["station", "bike_type"]
    assert columns.ignored == ["temp_c"]  # all empty: the booster could not bin it
    assert "temp_c" not in columns.numeric and len(columns.numeric) == 8

    pipeline = fit_pipeline(
        rows, TABLE, {"learning_rate": 0.2, "max_leaf_nodes": 8, "min_samples_leaf": 5}, 30, 0
    )
    day = rental_day(DAYS[-1])
    p = predict_probability(pipeline, day, TABLE)
    assert p.shape == (30,) and ((p >= 0) & (p <= 1)).all()
    north = day["station"] == "north"
    assert p[north].min() > p[~north].max() - 0.5 and p[north].mean() > 0.8 > p[~north].mean()

    signature = model_signature(columns, TABLE)
    inputs = {c.name: c.required for c in signature.inputs.inputs}
    assert list(inputs) == TABLE.feature_columns
    assert inputs["station"] and not inputs["temp_c"]
    with pytest.raises(KeyError, match=r"\['station'\]"):
        feature_matrix(day.drop(columns="station"), TABLE)


def test_window_errors_name_the_datasets_feature_asset():
    with pytest.raises(TrainingSetError, match="features/rentals; materialize rentals_features"):
        select_window([], WindowSpec(), RENTALS)


def test_two_datasets_training_sets_live_side_by_side(feature_lake, feature_days):
    write_rental_days(feature_lake)
    rentals_training, rentals_tuned = build_training_assets(RENTALS)
    assert rentals_training.key == AssetKey(["rentals", "training_set"])
    assert rentals_training.dependency_keys == {AssetKey(["rentals", "rentals_features"])}
    assert "rentals_mlflow_tracking" in rentals_tuned.required_resource_keys

    config = {"window_days": 14, "validation_days": 3, "holdout_days": 3}
    flights_run = materialize(
        [training_set],
        resources={"lake": LakeResource()},
        run_config={"ops": {"training_set": {"config": config}}},
        instance=DagsterInstance.ephemeral(),
    )
    rentals_config = {"window_days": 11, "validation_days": 2, "holdout_days": 2}
    rentals_run = materialize(
        [rentals_training],
        resources={"lake": LakeResource()},
        run_config={"ops": {"rentals__training_set": {"config": rentals_config}}},
        instance=DagsterInstance.ephemeral(),
    )
    assert flights_run.success and rentals_run.success
    [event] = rentals_run.asset_materializations_for_node("rentals__training_set")
    meta = {k: v.value for k, v in event.metadata.items()}
    assert meta["source"] == "features/rentals"
    assert meta["window"] == "2024-03-01 .. 2024-03-10"  # 2024-03-11 has no outcome yet
    assert meta["train_days"] == "2024-03-01 .. 2024-03-06"
    assert meta["holdout_days"] == "2024-03-09 .. 2024-03-10"
    assert (meta["train_rows"], meta["validation_rows"], meta["holdout_rows"]) == (180, 60, 60)
    assert meta["train_label_rate"] == 0.4333  # 13 of 30 a day: 10 north, rentals 4, 11 and 25

    rentals = read_splits(feature_lake, "rentals")
    flights = read_splits(feature_lake, "flights")
    assert list(rentals["train"].columns) == TABLE.all_columns
    assert rentals["holdout"]["rental_key"].iloc[0] == "2024-03-09-00"
    assert "flight_id" in flights["train"].columns and len(flights["holdout"]) > 1000
    assert meta["data_version"] == stored_version(feature_lake, "rentals")
    assert stored_version(feature_lake, "rentals") != stored_version(feature_lake, "flights")
    for split in ("train", "validation", "holdout"):
        for name in ("flights", "rentals"):
            assert feature_lake.table_path("training", f"{name}_{split}").exists()


def test_rentals_model_is_tuned_and_registered_under_its_own_names(leanops_home):
    import mlflow

    lake = Lake(leanops_home / "lake")
    write_rental_days(lake)
    training = build_training_assets(RENTALS)
    registry = build_registry_assets(RENTALS)
    result = materialize(
        [*training, registry[0]],
        resources={
            "lake": LakeResource(),
            "mlflow": MlflowResource(),
            "tuning": TuningResource(n_trials=2, seed=1),
            "promotion": PromotionPolicy(auc_floor=0.5),
            "rentals_mlflow_tracking": mlflow_tracking_for(RENTALS),
        },
        run_config={
            "ops": {
                "rentals__training_set": {
                    "config": {"window_days": 10, "validation_days": 2, "holdout_days": 2}
                },
                "rentals__tuned_model": {
                    "config": {
                        "iterations_per_step": 5,
                        "max_steps": 2,
                        "threads": 1,
                        "importance_rows": 50,
                    }
                },
            }
        },
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    [tuned] = result.asset_materializations_for_node("rentals__tuned_model")
    assert tuned.metadata["study"].value.startswith("leanops_rentals-")
    [registered] = result.asset_materializations_for_node("rentals__registered_model")
    assert registered.asset_key == AssetKey(["rentals", "registered_model"])
    assert registered.metadata["model_name"].value == "leanops_rentals"
    assert registered.metadata["decision"].value == "promoted"
    checks = {(e.asset_key, e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    key = AssetKey(["rentals", "registered_model"])
    assert checks == {
        (key, "holdout_auc_above_floor"): True,
        (key, "not_worse_than_champion"): True,
    }

    client = mlflow.MlflowClient(MlflowResource().resolved_tracking_uri())
    experiment = client.get_experiment_by_name("leanops-rentals")
    run = client.get_run(tuned.metadata["mlflow_run_id"].value)
    assert run.info.experiment_id == experiment.experiment_id
    assert str(client.get_model_version_by_alias("leanops_rentals", "champion").version) == "1"
    assert lake.table_path("training", "rentals_tuned_model").exists()
    assert build_rollback_job(RENTALS).name == "rentals_rollback_champion_job"
