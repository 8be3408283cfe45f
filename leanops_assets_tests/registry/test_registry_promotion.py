"""registered_model with real MLflow, Optuna and scikit-learn: gates, aliases, tags, rollback."""

from __future__ import annotations

import numpy as np
import pytest
from dagster import DagsterInstance, materialize

from leanops_assets.registry.gates import evaluate_gates, score_probabilities
from leanops_assets.registry.promotion import RegistryError, version_by_alias
from leanops_assets.registry.rollback import rollback_champion
from leanops_assets.resources import MlflowResource
from leanops_assets.training.tracking import model_name_for
from leanops_assets_tests.flights_defs import (
    registered_model,
    rollback_champion_job,
    training_set,
    tuned_model,
)
from leanops_assets_tests.registry.models import FLIGHTS, TABLE

NAME = model_name_for(MlflowResource(), FLIGHTS)
RUN_CONFIG = {
    "ops": {
        "training_set": {"config": {"window_days": 21, "validation_days": 4, "holdout_days": 4}},
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


def test_gates_report_observed_and_expected():
    floor, versus = evaluate_gates(0.70, None, auc_floor=0.65, max_auc_drop=0.02)
    assert floor.passed and versus.passed and versus.observed is None
    floor, versus = evaluate_gates(0.60, 0.70, auc_floor=0.65, max_auc_drop=0.02)
    assert not floor.passed and floor.observed == 0.60 and floor.expected == ">= 0.65"
    assert not versus.passed and versus.observed == pytest.approx(-0.10)
    _, within = evaluate_gates(0.69, 0.70, auc_floor=0.65, max_auc_drop=0.02)
    assert within.passed


def test_scores_include_calibration():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=4000)
    y = (rng.uniform(size=4000) < p).astype(int)
    scores = score_probabilities(y, p)
    assert 0.7 < scores.auc < 0.9 and 0.15 < scores.brier < 0.2
    table = scores.reliability
    assert len(table) == 10 and table["rows"].sum() == 4000
    assert np.allclose(table["mean_predicted"], table["observed_rate"], atol=0.06)


def _client():
    from mlflow import MlflowClient

    return MlflowClient(MlflowResource().resolved_tracking_uri())


def _alias(client, alias: str) -> str | None:
    held = version_by_alias(client, NAME, alias)
    return str(held.version) if held is not None else None


def _checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def _meta(result) -> dict:
    event = next(
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == "registered_model"
    )
    return {k: v.value for k, v in event.metadata.items()}


def _train_and_register(resources, instance):
    result = materialize(
        [training_set, tuned_model, registered_model],
        resources=resources,
        run_config=RUN_CONFIG,
        instance=instance,
    )
    assert result.success
    return result


def _register(resources, instance):
    result = materialize([registered_model], resources=resources, instance=instance)
    assert result.success
    return result


def test_weaker_challenger_is_rejected_and_champion_stays(
    feature_lake, registry_resources, weak_candidate
):
    instance = DagsterInstance.ephemeral()
    first = _train_and_register(registry_resources, instance)
    meta = _meta(first)
    assert meta["model_version"] == "1" and meta["decision"] == "promoted"
    assert _checks(first) == {"holdout_auc_above_floor": True, "not_worse_than_champion": True}
    assert meta["holdout_auc"] > 0.58 and 0 < meta["holdout_brier"] < 0.25
    assert "mean_predicted" in meta["reliability"]
    client = _client()
    assert _alias(client, "champion") == "1"

    weak_candidate(feature_lake, "carrier")
    second = _register(registry_resources, instance)
    meta = _meta(second)
    assert meta["model_version"] == "2" and meta["decision"] == "rejected"
    assert meta["holdout_auc"] < meta["champion_holdout_auc"] - 0.02
    assert _checks(second) == {"holdout_auc_above_floor": True, "not_worse_than_champion": False}
    assert _alias(client, "champion") == "1"
    assert _alias(client, "challenger") == "2"
    assert _alias(client, "previous") is None
    tags = client.get_model_version(NAME, "2").tags
    assert tags["leanops.decision"] == "rejected"
    assert "not_worse_than_champion" in tags["leanops.decision_reason"]
    assert tags["leanops.champion_at_decision"] == "1"

    # Registering the same candidate again reuses its version and decides the same way.
    third = _register(registry_resources, instance)
    assert _meta(third)["model_version"] == "2" and _meta(third)["decision"] == "rejected"
    assert _alias(client, "champion") == "1"


def test_better_challenger_is_promoted_and_rollback_restores_previous(
    feature_lake, registry_resources, weak_candidate
):
    instance = DagsterInstance.ephemeral()
    materialize(
        [training_set],
        resources=registry_resources,
        run_config={"ops": {"training_set": RUN_CONFIG["ops"]["training_set"]}},
        instance=instance,
    )
    weak_candidate(feature_lake, "carrier")
    first = _register(registry_resources, instance)
    assert _meta(first)["decision"] == "promoted" and _meta(first)["model_version"] == "1"

    better = _train_and_register(registry_resources, instance)
    meta = _meta(better)
    assert meta["model_version"] == "2" and meta["decision"] == "promoted"
    assert meta["holdout_auc"] > meta["champion_holdout_auc"]
    assert meta["previous_champion"] == "1"
    client = _client()
    assert _alias(client, "champion") == "2"
    assert _alias(client, "previous") == "1"
    assert client.get_model_version(NAME, "2").tags["leanops.decision"] == "promoted"

    rolled = rollback_champion_job.execute_in_process(
        run_config={"ops": {"rollback_champion_op": {"config": {"reason": "late-rate spike"}}}},
        resources={"mlflow": MlflowResource()},
        instance=instance,
    )
    assert rolled.success
    assert _alias(client, "champion") == "1"
    assert _alias(client, "previous") is None
    restored = client.get_model_version(NAME, "1").tags
    assert restored["leanops.rolled_back_to_reason"] == "late-rate spike"
    assert restored["leanops.rolled_back_from"] == "2" and restored["leanops.rolled_back_to_at"]
    assert client.get_model_version(NAME, "2").tags["leanops.rolled_back_to"] == "1"
    observation = next(
        e for e in rolled.all_events if e.event_type_value == "ASSET_OBSERVATION"
    ).event_specific_data.asset_observation
    assert observation.metadata["champion_version"].value == "1"

    # No `previous` left: a rollback must name its version; naming one works.
    with pytest.raises(RegistryError, match="pass the version"):
        rollback_champion(client, NAME)
    again = rollback_champion(client, NAME, "2", reason="spike was a data glitch")
    assert (again.from_version, again.to_version) == ("1", "2")
    assert _alias(client, "champion") == "2"


def _holdout_auc(candidate, lake) -> float:
    """The candidate's holdout AUC, measured here with scikit-learn, not by the gate."""
    import mlflow
    from sklearn.metrics import roc_auc_score

    from leanops_assets.training.model import feature_matrix

    holdout = lake.read_table("training", "flights_holdout")
    model = mlflow.sklearn.load_model(candidate.model_uri)
    scores = model.predict_proba(feature_matrix(holdout, TABLE))[:, 1]
    return roc_auc_score(holdout["is_late"], scores)


def test_small_drops_do_not_compound_into_a_large_one(feature_lake, registry_resources):
    """Three models, each a little weaker than the last on the same holdout: each step is within
    the allowed drop, the two together are not, so the third is rejected."""
    from leanops_assets.resources import PromotionPolicy
    from leanops_assets.training.workflow import write_candidate
    from leanops_assets_tests.registry.models import log_fixed_candidate

    instance = DagsterInstance.ephemeral()
    materialize(
        [training_set],
        resources=registry_resources,
        run_config={"ops": {"training_set": RUN_CONFIG["ops"]["training_set"]}},
        instance=instance,
    )
    chain = [
        log_fixed_candidate(feature_lake, ["carrier", "origin", "sched_dep_hour"], label="three"),
        log_fixed_candidate(feature_lake, ["carrier", "sched_dep_hour"], label="two"),
        log_fixed_candidate(feature_lake, ["carrier"], label="one"),
    ]
    aucs = [_holdout_auc(c, feature_lake) for c in chain]
    assert aucs[0] > aucs[1] > aucs[2], aucs
    step = max(aucs[0] - aucs[1], aucs[1] - aucs[2]) + 0.001
    assert aucs[0] - aucs[2] > step  # the precondition: the steps add up to more than one
    resources = {
        **registry_resources,
        "promotion": PromotionPolicy(auc_floor=0.5, max_auc_drop=step),
    }

    decisions = []
    for candidate in chain:
        write_candidate(feature_lake, "flights", candidate)
        decisions.append(_meta(_register(resources, instance))["decision"])
    assert decisions == ["promoted", "promoted", "rejected"]
    assert _alias(_client(), "champion") == "2"


def test_a_holdout_from_another_training_set_is_refused(feature_lake, registry_resources):
    """The candidate learned from one training set; the lake now holds another, whose holdout
    may hold days the candidate trained on: the gate refuses to score it."""
    from leanops_assets_tests.registry.models import log_fixed_candidate

    instance = DagsterInstance.ephemeral()

    def build(window: int) -> None:
        config = {"window_days": window, "validation_days": 4, "holdout_days": 4}
        assert materialize(
            [training_set],
            resources=registry_resources,
            run_config={"ops": {"training_set": {"config": config}}},
            instance=instance,
        ).success

    build(21)
    log_fixed_candidate(feature_lake, TABLE.feature_columns, label="all")
    build(14)
    refused = materialize(
        [registered_model], resources=registry_resources, instance=instance, raise_on_error=False
    )
    assert not refused.success
    message = refused.failure_data_for_node("registered_model").error.cause.message
    assert "training data" in message and "tuned_model" in message
    assert version_by_alias(_client(), NAME, "champion") is None
