"""MLflow server mode: the product's own training, promotion, scoring and rollback against a real
`mlflow server` (PostgreSQL backend, proxied artifacts), chosen by LEANOPS_MLFLOW_TRACKING_URI
alone, on real Spark features."""

from __future__ import annotations

import threading
import time

import pytest
from dagster import DagsterInstance, materialize

from leanops_assets.dataset import bundled_dataset
from leanops_assets.registry.locking import registry_lock
from leanops_assets.resources import (
    LakeResource,
    MlflowResource,
    MonitoringPolicy,
    PromotionPolicy,
    TuningResource,
)
from leanops_assets.storage import Lake
from leanops_assets.training.tracking import mlflow_tracking_for
from leanops_assets_tests.flights_defs import (
    batch_predictions,
    registered_model,
    rollback_champion_job,
    training_set,
    tuned_model,
)
from leanops_assets_tests.registry.models import log_single_feature_candidate

from .conftest import FEATURE_INPUT_DAYS, TRAINING_WINDOW, services

pytestmark = pytest.mark.slow

NAME = "leanops_flights_delay"  # the default model name: the server is this session's own
SCORED_DAY = FEATURE_INPUT_DAYS[-1]
RUN_CONFIG = {
    "ops": {
        "training_set": {"config": TRAINING_WINDOW},
        "tuned_model": {
            "config": {
                "iterations_per_step": 10,
                "max_steps": 3,
                "threads": 1,
                "importance_rows": 0,
            }
        },
    }
}


def _resources() -> dict:
    # Every setting empty: the environment (LEANOPS_MLFLOW_TRACKING_URI, LEANOPS_TUNING_TRIALS)
    # points them at the server and the budget, as in a deployment.
    return {
        "lake": LakeResource(),
        "mlflow": MlflowResource(),
        "tuning": TuningResource(),
        "promotion": PromotionPolicy(auc_floor=0.5),
        "monitoring_policy": MonitoringPolicy(),
        "mlflow_tracking": mlflow_tracking_for(bundled_dataset()),
    }


def _metadata(result, asset: str) -> dict:
    event = next(
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == asset
    )
    return {k: v.value for k, v in event.metadata.items()}


def _aliases(client) -> dict[str, str]:
    return {a: str(v) for a, v in client.get_registered_model(NAME).aliases.items()}


def test_product_trains_promotes_scores_and_rolls_back_through_the_server(
    mlflow_server, postgres, services_home, feature_lake_copy, monkeypatch
):
    from mlflow import MlflowClient

    uri = mlflow_server["LEANOPS_MLFLOW_TRACKING_URI"]
    assert uri.startswith("http://127.0.0.1:")
    monkeypatch.setenv("LEANOPS_MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("LEANOPS_TUNING_TRIALS", "3")
    assert MlflowResource().resolved_tracking_uri() == uri
    resources, instance = _resources(), DagsterInstance.ephemeral()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    # A first champion: a one-feature model, so the tuned one has something to beat.
    built = materialize(
        [training_set],
        resources=resources,
        run_config={"ops": {"training_set": RUN_CONFIG["ops"]["training_set"]}},
        instance=instance,
    )
    assert built.success
    log_single_feature_candidate(Lake(feature_lake_copy), "carrier")
    first = materialize([registered_model], resources=resources, instance=instance)
    assert first.success
    assert _metadata(first, "registered_model")["decision"] == "promoted"
    assert _aliases(client) == {"champion": "1"}

    # tuned_model and registered_model, through the server.
    second = materialize([tuned_model, registered_model], resources=resources, instance=instance)
    assert second.success
    tuned, registered = _metadata(second, "tuned_model"), _metadata(second, "registered_model")
    assert tuned["trials_this_run"] == 3
    assert (registered["model_version"], registered["decision"]) == ("2", "promoted")
    assert registered["holdout_auc"] > registered["champion_holdout_auc"]
    assert {e.check_name: e.passed for e in second.get_asset_check_evaluations()} == {
        "holdout_auc_above_floor": True,
        "not_worse_than_champion": True,
    }
    assert _aliases(client) == {"champion": "2", "previous": "1"}
    version = client.get_model_version(NAME, "2")
    assert version.run_id == tuned["mlflow_run_id"]
    assert version.tags["leanops.decision"] == "promoted"
    # The run's artifacts went through the server (proxied) into its own folder.
    run = client.get_run(tuned["mlflow_run_id"])
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/"), run.info.artifact_uri
    stored = list((services_home / "services" / "mlflow" / "artifacts").rglob("MLmodel"))
    assert len(stored) >= 2, stored
    # The registry lives in the server's PostgreSQL database.
    rows = services.pg_query(
        postgres,
        "mlflow",
        "SELECT alias, version FROM registered_model_aliases WHERE name = %s",
        NAME,
    )
    assert dict(rows) == {"champion": 2, "previous": 1}

    # batch_predictions loads the champion through the server; each row names its version.
    scored = materialize(
        [batch_predictions], resources=resources, instance=instance, partition_key=SCORED_DAY
    )
    assert scored.success
    predictions = Lake(feature_lake_copy).read_partition("predictions", "flights", SCORED_DAY)
    features = Lake(feature_lake_copy).read_partition("features", "flights", SCORED_DAY)
    assert len(predictions) == len(features) > 500
    assert set(predictions["model_version"]) == {"2"}
    assert _metadata(scored, "batch_predictions")["model_version"] == "2"

    # The rollback waits for the registry lock (held here by another "promotion"), then moves
    # the champion alias back.
    held, seen = threading.Event(), {}

    def hold_the_lock():
        with registry_lock(uri):
            held.set()
            time.sleep(3)
            seen["champion_while_held"] = _aliases(client)["champion"]
            seen["released_at"] = time.monotonic()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    held.wait(timeout=30)
    rolled = rollback_champion_job.execute_in_process(
        run_config={"ops": {"rollback_champion_op": {"config": {"reason": "live AUC fell"}}}},
        resources={"mlflow": MlflowResource()},
        instance=instance,
    )
    finished_at = time.monotonic()
    holder.join()
    assert rolled.success
    assert seen["champion_while_held"] == "2"
    assert finished_at > seen["released_at"]
    assert _aliases(client) == {"champion": "1"}
    assert client.get_model_version(NAME, "1").tags["leanops.rolled_back_to_reason"] == (
        "live AUC fell"
    )
    rows = services.pg_query(
        postgres,
        "mlflow",
        "SELECT alias, version FROM registered_model_aliases WHERE name = %s",
        NAME,
    )
    assert dict(rows) == {"champion": 1}
