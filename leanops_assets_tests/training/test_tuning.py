"""The Optuna study (pruning, resuming, reproducibility) and the tuned_model asset with real MLflow."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from dagster import DagsterInstance, materialize

from leanops_assets.dataset import bundled_dataset
from leanops_assets.resources import LakeResource, MlflowResource, TuningResource
from leanops_assets.training.study_storage import open_storage
from leanops_assets.training.tracking import experiment_for, mlflow_tracking_for
from leanops_assets.training.tuning import TuningPlan, run_study
from leanops_assets.training.workflow import read_candidate
from leanops_assets_tests.flights_defs import training_set, tuned_model
from leanops_assets_tests.training.handmade_features import FLIGHTS, TABLE

PLAN = TuningPlan(n_trials=8, seed=7, iterations_per_step=10, max_steps=4, threads=1)


def _splits(feature_days: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    days = sorted(feature_days)
    train = pd.concat([feature_days[d] for d in days[:12]], ignore_index=True)
    validation = pd.concat([feature_days[d] for d in days[12:16]], ignore_index=True)
    return train, validation


def test_study_prunes_resumes_and_reproduces(tmp_path: Path, feature_days):
    train, validation = _splits(feature_days)
    storage = open_storage("", tmp_path / "journal.log")
    first = run_study(train, validation, TABLE, "flights-v1", storage, PLAN)
    assert len(first.history) == 8 and first.new_trials == list(range(8))
    assert first.count("PRUNED") >= 1, first.history
    assert first.count("COMPLETE") >= PLAN.pruner_startup_trials
    assert 0.55 < first.best_value < 0.9

    # Same name, same storage: the study resumes; the best can only stay or improve.
    again = open_storage("", tmp_path / "journal.log")
    second = run_study(
        train,
        validation,
        TABLE,
        "flights-v1",
        again,
        TuningPlan(**{**PLAN.__dict__, "n_trials": 3}),
    )
    assert len(second.history) == 11 and second.new_trials == [8, 9, 10]
    assert second.best_value >= first.best_value
    # The resumed session samples new points instead of replaying the first session's.
    old_points = first.history[["learning_rate", "max_leaf_nodes"]].apply(tuple, axis=1)
    new_points = second.history.iloc[8:][["learning_rate", "max_leaf_nodes"]].apply(tuple, axis=1)
    assert not set(new_points) & set(old_points)

    # A fresh study with the same seed and data reproduces the first session exactly.
    replay = run_study(
        train, validation, TABLE, "flights-v1", open_storage("", tmp_path / "other.log"), PLAN
    )
    pd.testing.assert_frame_equal(replay.history, first.history)


def _resources(n_trials: int) -> dict:
    return {
        "lake": LakeResource(),
        "mlflow": MlflowResource(),
        "tuning": TuningResource(n_trials=n_trials, seed=3),
        "mlflow_tracking": mlflow_tracking_for(bundled_dataset()),
    }


TUNED_CONFIG = {"iterations_per_step": 10, "max_steps": 3, "threads": 1, "importance_rows": 500}
RUN_CONFIG = {
    "ops": {
        "training_set": {"config": {"window_days": 21, "validation_days": 4, "holdout_days": 4}},
        "tuned_model": {"config": TUNED_CONFIG},
    }
}


def _meta(result, asset: str) -> dict:
    event = next(
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == asset
    )
    return {k: v.value for k, v in event.metadata.items()}


def test_tuned_model_resumes_its_study_and_logs_to_mlflow(feature_lake, leanops_home):
    import mlflow

    instance = DagsterInstance.ephemeral()
    first = materialize(
        [training_set, tuned_model],
        resources=_resources(3),
        run_config=RUN_CONFIG,
        instance=instance,
    )
    assert first.success
    meta1 = _meta(first, "tuned_model")
    assert meta1["trials_total"] == 3 and meta1["trials_this_run"] == 3
    assert meta1["training_data_version"] == _meta(first, "training_set")["data_version"]
    assert (
        "number | state" in meta1["trial_history"]
        and "auc_drop_mean" in meta1["permutation_importance"]
    )

    second = materialize(
        [tuned_model],
        resources=_resources(3),
        run_config={"ops": {"tuned_model": {"config": TUNED_CONFIG}}},
        instance=instance,
    )
    assert second.success
    meta2 = _meta(second, "tuned_model")
    assert meta2["study"] == meta1["study"]
    assert meta2["trials_total"] == 6 and meta2["trials_this_run"] == 3
    assert meta2["best_validation_auc"] >= meta1["best_validation_auc"]

    # One MLflow parent run per materialization, linked to its Dagster run, trials as children.
    client = mlflow.MlflowClient(MlflowResource().resolved_tracking_uri())
    experiment = client.get_experiment_by_name(experiment_for(MlflowResource(), FLIGHTS))
    assert experiment.artifact_location == (leanops_home / "mlflow" / "artifacts").as_uri()
    for result, meta in ((first, meta1), (second, meta2)):
        parent = client.get_run(meta["mlflow_run_id"])
        assert parent.info.status == "FINISHED"
        assert parent.data.tags["dagster_run_id"] == result.run_id
        assert parent.data.tags["leanops.training_data_version"] == meta["training_data_version"]
        assert parent.data.tags["leanops.code_version"]
        assert parent.data.metrics["best_validation_auc"] == meta["best_validation_auc"]
        assert any(k.startswith("best_learning_rate") for k in parent.data.params)
        children = client.search_runs(
            [experiment.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
        )
        assert len(children) == 3
        assert {c.data.tags["optuna.state"] for c in children} <= {"COMPLETE", "PRUNED"}
        assert all(client.get_metric_history(c.info.run_id, "validation_auc") for c in children)

    # The candidate in the lake points at the second run's model, which scores the holdout.
    candidate = read_candidate(feature_lake, "flights")
    assert candidate.run_id == meta2["mlflow_run_id"]
    from leanops_assets.training.model import predict_probability

    holdout = feature_lake.read_table("training", "flights_holdout")
    scores = predict_probability(mlflow.pyfunc.load_model(candidate.model_uri), holdout, TABLE)
    assert scores.shape == (len(holdout),) and ((scores > 0) & (scores < 1)).all()


def test_study_resumes_in_an_rdb_storage(tmp_path: Path, feature_days):
    train, validation = _splits(feature_days)
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    plan = TuningPlan(n_trials=2, seed=1, iterations_per_step=10, max_steps=2, threads=1)
    first = run_study(
        train, validation, TABLE, "flights-rdb", open_storage(url, tmp_path / "unused"), plan
    )
    second = run_study(
        train, validation, TABLE, "flights-rdb", open_storage(url, tmp_path / "unused"), plan
    )
    assert len(first.history) == 2 and len(second.history) == 4
    assert second.best_value >= first.best_value
    assert not (tmp_path / "unused").exists()


def test_tuned_model_without_training_set_fails_clearly_and_marks_its_run(leanops_home):
    import mlflow

    result = materialize(
        [tuned_model],
        resources=_resources(1),
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error
    assert "materialize training_set first" in failure.cause.message
    client = mlflow.MlflowClient(MlflowResource().resolved_tracking_uri())
    experiment = client.get_experiment_by_name(experiment_for(MlflowResource(), FLIGHTS))
    (run,) = client.search_runs(
        [experiment.experiment_id], f"tags.dagster_run_id = '{result.run_id}'"
    )
    assert run.info.status == "FAILED"


def test_mlflow_run_of_a_run_that_never_tuned_is_not_left_running(leanops_home):
    import mlflow

    result = materialize(
        [training_set, tuned_model],
        resources=_resources(1),
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    client = mlflow.MlflowClient(MlflowResource().resolved_tracking_uri())
    experiment = client.get_experiment_by_name(experiment_for(MlflowResource(), FLIGHTS))
    (run,) = client.search_runs(
        [experiment.experiment_id], f"tags.dagster_run_id = '{result.run_id}'"
    )
    assert run.info.status == "KILLED"
