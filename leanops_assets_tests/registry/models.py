"""Candidates of known strength for the registry tests, logged to MLflow like tuned_model does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leanops_assets.dataset import bundled_dataset
from leanops_assets.resources import MlflowResource
from leanops_assets.storage import Lake
from leanops_assets.training.dataset import read_splits, stored_version
from leanops_assets.training.model import fit_pipeline
from leanops_assets.training.tracking import code_version, configure_mlflow, experiment_for
from leanops_assets.training.workflow import ModelCandidate, log_pipeline, write_candidate

FLIGHTS = bundled_dataset()
TABLE = FLIGHTS.table


def log_single_feature_candidate(lake: Lake, feature: str = "carrier") -> ModelCandidate:
    """A deliberately weak model that sees one feature only, logged to its own MLflow run and left
    in the lake as the candidate registered_model will pick up."""
    return log_fixed_candidate(lake, [feature], label=f"only-{feature}")


def log_fixed_candidate(lake: Lake, features: list[str], label: str) -> ModelCandidate:
    """An untuned model fitted on the training split with only `features`, logged and left as the
    pending candidate, without an Optuna study."""
    splits = read_splits(lake, FLIGHTS.name)
    rows = splits["train"].copy()
    for column in TABLE.feature_columns:
        if column not in features:
            rows[column] = None if column in TABLE.categorical else np.nan
    pipeline = fit_pipeline(rows, TABLE, {"learning_rate": 0.1, "max_leaf_nodes": 8}, 30, seed=0)
    return log_candidate(lake, pipeline, rows, label)


def log_leaky_candidate(lake: Lake, label: str = "leaky") -> ModelCandidate:
    """A model that looks good on its holdout and is worse live: it was fitted on the holdout
    (real labels, memorised by a large booster) and on the train and validation days with their
    labels shuffled, so it learned nothing that carries over to new days. It declares the
    training set's data version like any candidate: the gate cannot see the leak."""
    splits = read_splits(lake, FLIGHTS.name)
    seen = pd.concat([splits["train"], splits["validation"]], ignore_index=True)
    label = TABLE.label_column
    seen[label] = np.random.default_rng(0).permutation(seen[label].to_numpy())
    rows = pd.concat([seen, splits["holdout"]], ignore_index=True)
    pipeline = fit_pipeline(rows, TABLE, {"learning_rate": 0.1, "max_leaf_nodes": 31}, 200, seed=0)
    return log_candidate(lake, pipeline, rows, label)


def log_candidate(lake: Lake, pipeline, rows: pd.DataFrame, label: str) -> ModelCandidate:
    """Log a fitted pipeline to its own MLflow run, as tuned_model does, and leave it in the lake
    as the candidate registered_model will pick up."""
    import mlflow

    splits = read_splits(lake, FLIGHTS.name)
    settings = MlflowResource()
    experiment_id = configure_mlflow(settings, experiment_for(settings, FLIGHTS))
    version = stored_version(lake, FLIGHTS.name)
    with mlflow.start_run(experiment_id=experiment_id, run_name=label) as run:
        info = log_pipeline(pipeline, rows, splits["holdout"].head(5), TABLE, tags={"test": label})
    candidate = ModelCandidate(
        run_id=run.info.run_id,
        experiment_id=experiment_id,
        model_uri=info.model_uri,
        model_id=info.model_id,
        training_data_version=version,
        study_name=label,
        best_trial_number=0,
        best_value=float("nan"),
        code_version=code_version(),
    )
    write_candidate(lake, FLIGHTS.name, candidate)
    return candidate
