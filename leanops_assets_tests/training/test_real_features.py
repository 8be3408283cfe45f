"""Training and registry on the real Spark features, built from validated days in the lake."""

from __future__ import annotations

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from leanops_assets.dataset import bundled_dataset
from leanops_assets.resources import LakeResource, MlflowResource, PromotionPolicy, TuningResource
from leanops_assets.training.tracking import mlflow_tracking_for, model_name_for
from leanops_assets_tests.flights_defs import registered_model, training_set, tuned_model
from leanops_assets_tests.training.spark_features import write_spark_features

LOOKBACK_DAYS = 7
INPUT_DAYS = [d.date().isoformat() for d in pd.date_range("2013-06-01", "2013-06-23")]


@pytest.mark.slow
def test_lifecycle_on_spark_features(spark, leanops_home):
    import mlflow

    from leanops_assets.storage import Lake

    write_spark_features(spark, Lake(leanops_home / "lake"), INPUT_DAYS, LOOKBACK_DAYS)

    result = materialize(
        [training_set, tuned_model, registered_model],
        resources={
            "lake": LakeResource(),
            "mlflow": MlflowResource(),
            "tuning": TuningResource(n_trials=4),
            "promotion": PromotionPolicy(auc_floor=0.55),
            "mlflow_tracking": mlflow_tracking_for(bundled_dataset()),
        },
        run_config={
            "ops": {
                "training_set": {
                    "config": {"window_days": 16, "validation_days": 3, "holdout_days": 3}
                },
                "tuned_model": {
                    "config": {
                        "iterations_per_step": 20,
                        "max_steps": 4,
                        "threads": 1,
                        "importance_rows": 0,
                    }
                },
            }
        },
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    registered = next(
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == "registered_model"
    )
    assert registered.metadata["decision"].value == "promoted"
    assert registered.metadata["holdout_auc"].value > 0.55

    # The champion learned from the weather, plane and rate columns the hand-made tests leave empty.
    name = model_name_for(MlflowResource(), bundled_dataset())
    info = mlflow.models.get_model_info(f"models:/{name}@champion")
    required = {c.name for c in info.signature.inputs.inputs if c.required}
    assert {"temp", "plane_seats", "route_late_rate", "carrier"} <= required
