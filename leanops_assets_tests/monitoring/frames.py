"""Feature frames built from the real bundled days, with a subset of features computed by hand.

The remaining feature columns (holiday distance and hourly volume) are left
missing: monitoring must cope with columns the features stage fills and these tests do not.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from leanops_assets.contract import load_contract
from leanops_assets.dataset import bundled_dataset
from leanops_assets.datasets.flights.source import bundled_day, bundled_table
from leanops_assets.validation.derived import add_derived_columns

FLIGHTS = bundled_dataset()
TABLE = FLIGHTS.table
# The weather at the origin in the departure hour (joined as of the prediction time).
WEATHER_COLUMNS = next(
    list(join.columns.values())
    for join in FLIGHTS.contract.features.joins
    if join.table == "weather"
)


@cache
def _planes() -> pd.DataFrame:
    planes = bundled_table("planes")
    return planes.rename(
        columns={
            "type": "plane_type",
            "manufacturer": "plane_manufacturer",
            "seats": "plane_seats",
            "engines": "plane_engines",
            "year": "plane_year",
        }
    )[["tailnum", "plane_type", "plane_manufacturer", "plane_seats", "plane_engines", "plane_year"]]


LOOK_BACK_DAYS = 7


@cache
def _flights_day(day: str) -> pd.DataFrame:
    flights = add_derived_columns(bundled_day("flights", day), day, load_contract())
    flights["is_cancelled"] = flights["dep_time"].isna().astype("int64")
    flights["route"] = flights["origin"] + "-" + flights["dest"]
    return flights


def _rolling_rates(day: str) -> dict[str, pd.DataFrame]:
    """Late and cancel rates per key over the LOOK_BACK_DAYS strictly before `day`."""
    when = date.fromisoformat(day)
    prior_days = [
        (when - timedelta(days=back)).isoformat()
        for back in range(1, LOOK_BACK_DAYS + 1)
        if (when - timedelta(days=back)).year == when.year
    ]
    rates = {}
    if not prior_days:
        return rates
    prior = pd.concat([_flights_day(prior) for prior in prior_days], ignore_index=True)
    for key in ("carrier", "origin", "route", "tailnum"):
        rates[key] = (
            prior.groupby(key)[["is_late", "is_cancelled"]]
            .mean()
            .rename(columns={"is_late": f"{key}_late_rate", "is_cancelled": f"{key}_cancel_rate"})
            .reset_index()
        )
    return rates


@cache
def _feature_day(day: str) -> pd.DataFrame:
    flights = _flights_day(day)
    when = date.fromisoformat(day)
    out = pd.DataFrame(
        {
            "flight_id": flights["flight_id"],
            "flight_date": flights["flight_date"],
            "is_late": flights["is_late"].astype("int64"),
            "carrier": flights["carrier"],
            "origin": flights["origin"],
            "dest": flights["dest"],
            "route": flights["route"],
            "tailnum": flights["tailnum"],
            "hour": flights["hour"],
            "sched_dep_hour": (flights["sched_dep_time"] // 100).astype("float64"),
            "sched_dep_minute_of_day": (
                (flights["sched_dep_time"] // 100) * 60 + flights["sched_dep_time"] % 100
            ).astype("float64"),
            "weekday": float(when.weekday()),
            "month": float(when.month),
            "day_of_year": float(when.timetuple().tm_yday),
            "distance": flights["distance"].astype("float64"),
        }
    )
    weather = bundled_day("weather", day)[["origin", "hour", *WEATHER_COLUMNS]]
    weather = weather.drop_duplicates(["origin", "hour"])
    out = out.merge(weather, on=["origin", "hour"], how="left")
    out = out.merge(_planes(), on="tailnum", how="left")
    for key, rates in _rolling_rates(day).items():
        out = out.merge(rates, on=key, how="left")
    out["plane_age"] = (when.year - out["plane_year"]).astype("float64")
    for column in TABLE.numeric:
        if column not in out:
            out[column] = np.nan
        out[column] = out[column].astype("float64")
    for column in TABLE.categorical:
        out[column] = out[column].astype("object")
    return out[TABLE.all_columns]


def feature_day(day: str) -> pd.DataFrame:
    """One day of the feature table, as the features stage lays it out (TABLE.all_columns)."""
    return _feature_day(day).copy()


def feature_days(first: str, count: int) -> pd.DataFrame:
    start = date.fromisoformat(first)
    days = [(start + timedelta(days=offset)).isoformat() for offset in range(count)]
    return pd.concat([feature_day(day) for day in days], ignore_index=True)


def train_pipeline(frame: pd.DataFrame):
    """The project's own pipeline (training/model.py: ordinal encoding and gradient boosting) with
    fixed, untuned parameters, like the champion the registry serves."""
    from leanops_assets.dataset import bundled_dataset
    from leanops_assets.training.model import fit_pipeline

    table = bundled_dataset().table
    return fit_pipeline(frame, table, {"learning_rate": 0.1, "max_leaf_nodes": 15}, 100, seed=0)


def register_champion(model, folder: Path, name: str) -> tuple[str, str]:
    """Log `model` into a SQLite MLflow store under `folder` (created on first use), register it
    as a new version of `name` and point the champion alias at it. Returns (store URI, version).
    """
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    from leanops_assets.training.model import SKOPS_TRUSTED_TYPES

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name(name)
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment(name, artifact_location=(folder / "artifacts").as_uri())
    )
    with mlflow.start_run(experiment_id=experiment_id):
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name=name,
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
        )
    version = str(info.registered_model_version)
    client.set_registered_model_alias(name, "champion", version)
    return uri, version
