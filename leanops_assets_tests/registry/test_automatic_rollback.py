"""Automatic rollback end to end: a real Dagster instance, a real MLflow (SQLite) registry, the
project's own pipeline on real feature days, and no manual step."""

from __future__ import annotations

from dagster import AssetKey, DagsterInstance, materialize

from leanops_assets.registry.promotion import version_by_alias
from leanops_assets.resources import MlflowResource, MonitoringPolicy
from leanops_assets.training.tracking import model_name_for
from leanops_assets_tests.flights_defs import (
    batch_predictions,
    champion_history,
    registered_model,
    shadow_comparison,
    training_set,
)
from leanops_assets_tests.registry.models import FLIGHTS, log_fixed_candidate, log_leaky_candidate

NAME = model_name_for(MlflowResource(), FLIGHTS)
# June 3..16 as the training set (holdout June 14..16); June 17..23 are the live days.
TRAINING = {"window_days": 14, "end_day": "2013-06-16", "validation_days": 3, "holdout_days": 3}
LIVE_DAYS = [f"2013-06-{d}" for d in range(17, 24)]
HONEST_FEATURES = ["carrier", "origin", "dest", "sched_dep_hour", "distance"]


def _client():
    from mlflow import MlflowClient

    return MlflowClient(MlflowResource().resolved_tracking_uri())


def _champion() -> str:
    return str(version_by_alias(_client(), NAME, "champion").version)


def test_a_champion_worse_live_than_the_one_it_replaced_is_rolled_back_once(
    feature_lake, registry_resources
):
    instance = DagsterInstance.get()
    policy = MonitoringPolicy(
        shadow_days=5, rollback_auc_margin=0.02, rollback_min_labelled_rows=1500
    )
    resources = {**registry_resources, "monitoring_policy": policy}
    assert materialize(
        [training_set],
        resources=resources,
        run_config={"ops": {"training_set": {"config": TRAINING}}},
        instance=instance,
    ).success

    def register() -> dict:
        result = materialize([registered_model], resources=resources, instance=instance)
        assert result.success
        event = result.asset_materializations_for_node("registered_model")[0]
        return {k: v.value for k, v in event.metadata.items()}

    log_fixed_candidate(feature_lake, HONEST_FEATURES, label="honest")
    assert register()["decision"] == "promoted"
    log_leaky_candidate(feature_lake)
    leaky = register()
    assert leaky["decision"] == "promoted"  # it looks better on its holdout
    assert leaky["holdout_auc"] > leaky["champion_holdout_auc"]
    assert _champion() == "2"

    verdicts = []
    for day in LIVE_DAYS:
        result = materialize(
            [batch_predictions, shadow_comparison],
            partition_key=day,
            resources=resources,
            instance=instance,
        )
        assert result.success, day
        [comparison] = result.asset_materializations_for_node("shadow_comparison")
        verdicts.append((day, {k: v.value for k, v in comparison.metadata.items()}))

    # Scored in shadow on the first 5 live days only; rolled back on the first day with enough
    # outcomes, where version 2 trails version 1 live.
    rolled = [(day, m) for day, m in verdicts if "rolled_back_to" in m]
    assert len(rolled) == 1, [m.get("status") for _, m in verdicts]
    day, metadata = rolled[0]
    assert day in LIVE_DAYS[:5]
    assert metadata["rolled_back_to"] == 1
    assert metadata["labelled_rows"] >= 1500
    assert metadata["shadow_live_auc"] - metadata["champion_live_auc"] > 0.02
    assert _champion() == "1"

    tags = _client().get_model_version(NAME, "2").tags
    assert tags["leanops.rolled_back_to"] == "1"
    assert "live AUC of version 2" in tags["leanops.rolled_back_from_reason"]
    assert _client().get_model_version(NAME, "1").tags["leanops.rolled_back_from"] == "2"

    # The Dagster event, once; the days after the rollback are scored by version 1 alone.
    observations = [
        record.asset_observation
        for record in instance.fetch_observations(AssetKey("registered_model"), limit=10).records
    ]
    assert [o.metadata["event"].value for o in observations] == ["rollback"]
    assert observations[0].metadata["rolled_back_from"].value == "2"
    after = [m for d, m in verdicts if d > day]
    assert all("rolled_back_to" not in m and m["champion_version"] == 1 for m in after)

    # A weaker retrain afterwards is rejected; the history tells all of it, day by day.
    log_fixed_candidate(feature_lake, ["carrier"], label="weak")
    assert register()["decision"] == "rejected"
    history = materialize([champion_history], resources=resources, instance=instance)
    assert history.success
    meta = history.asset_materializations_for_node("champion_history")[0].metadata
    assert (meta["promotions"].value, meta["rejections"].value, meta["rollbacks"].value) == (
        2,
        1,
        1,
    )
    table = feature_lake.read_table("registry", "flights_champion_history")
    assert list(table["day"]) == LIVE_DAYS
    by_day = table.set_index("day")
    assert list(by_day["champion_version"]) == ["2"] * (LIVE_DAYS.index(day) + 1) + ["1"] * (
        len(LIVE_DAYS) - LIVE_DAYS.index(day) - 1
    )
    changed = table[table["change"] != ""]
    assert list(changed["change"]) == ["rollback"]
    assert "live AUC of version 2" in changed.iloc[0]["reason"]
    events = feature_lake.read_table("registry", "flights_champion_events")
    assert list(zip(events["event"], events["version"], events["from_version"], strict=True)) == [
        ("promotion", "1", "none"),
        ("promotion", "2", "1"),
        ("rollback", "1", "2"),
        ("rejection", "3", "1"),
    ]
    assert events.iloc[3]["trained_until"] == "2013-06-16"
