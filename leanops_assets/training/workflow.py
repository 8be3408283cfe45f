"""Tune, refit the best trial, log everything to the active MLflow run, and hand the result on.

`tuned_model` calls `tune_and_log`; `registered_model` reads the `ModelCandidate` it leaves in the
lake. mlflow, optuna and scikit-learn are imported inside the functions.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from leanops_assets.storage import Lake
from leanops_assets.training.dataset import TRAINING_STAGE, split_table
from leanops_assets.training.model import (
    SKOPS_TRUSTED_TYPES,
    feature_matrix,
    fit_pipeline,
    informative_columns,
    labels,
    model_requirements,
    model_signature,
)
from leanops_assets.training.study_storage import open_storage
from leanops_assets.training.tracking import TrialRunLogger
from leanops_assets.training.tuning import (
    TuningOutcome,
    TuningPlan,
    run_study,
    study_name,
    thread_limit,
)

if TYPE_CHECKING:
    from leanops_assets.dataset import FeatureTable

CANDIDATE_DATASET = "tuned_model"
MODEL_ARTIFACT_NAME = "model"


@dataclass(frozen=True)
class ModelCandidate:
    """The tuned model waiting for the registry: where it is logged and what produced it."""

    run_id: str
    experiment_id: str
    model_uri: str
    model_id: str
    training_data_version: str
    study_name: str
    best_trial_number: int
    best_value: float
    code_version: str

    @property
    def version(self) -> str:
        """Data version of the candidate: changes when the data or the best trial changes."""
        text = f"{self.training_data_version}|{self.study_name}|{self.best_trial_number}"
        return hashlib.sha256(text.encode()).hexdigest()


def write_candidate(lake: Lake, dataset_name: str, candidate: ModelCandidate) -> None:
    table = split_table(dataset_name, CANDIDATE_DATASET)
    lake.write_table(TRAINING_STAGE, table, pd.DataFrame([asdict(candidate)]))


def read_candidate(lake: Lake, dataset_name: str) -> ModelCandidate:
    table = split_table(dataset_name, CANDIDATE_DATASET)
    path = lake.table_path(TRAINING_STAGE, table)
    if not path.exists():
        raise FileNotFoundError(
            f"no tuned model candidate at {path}; materialize tuned_model first"
        )
    frame = lake.read_table(TRAINING_STAGE, table)
    if len(frame) != 1:
        raise ValueError(f"{path} holds {len(frame)} rows, expected 1; re-materialize tuned_model")
    row = frame.iloc[0].to_dict()
    row["best_trial_number"] = int(row["best_trial_number"])
    row["best_value"] = float(row["best_value"])
    return ModelCandidate(**row)


@dataclass
class TunedResult:
    candidate: ModelCandidate
    outcome: TuningOutcome
    importances: pd.DataFrame | None


def permutation_importances(
    pipeline: Any,
    frame: pd.DataFrame,
    table: FeatureTable,
    rows: int,
    seed: int,
    threads: int | None = None,
) -> pd.DataFrame:
    """Drop in holdout ROC AUC when one feature is shuffled, on a sample of `rows` rows."""
    from sklearn.inspection import permutation_importance

    sample = frame.sample(n=min(rows, len(frame)), random_state=seed)
    result = permutation_importance(
        pipeline,
        feature_matrix(sample, table),
        labels(sample, table),
        scoring="roc_auc",
        n_repeats=3,
        random_state=seed,
        n_jobs=threads,
    )
    drops = pd.DataFrame(
        {
            "feature": table.feature_columns,
            "auc_drop_mean": result.importances_mean.round(5),
            "auc_drop_std": result.importances_std.round(5),
        }
    )
    return drops.sort_values("auc_drop_mean", ascending=False, kind="stable").reset_index(drop=True)


def log_pipeline(
    pipeline: Any,
    fit_rows: pd.DataFrame,
    example_rows: pd.DataFrame,
    table: FeatureTable,
    tags: dict[str, str],
) -> Any:
    """Log a fitted Pipeline to the active MLflow run: skops format, a signature that requires the
    columns it was fitted on, an input example, a pyfunc that returns class probabilities, and
    pinned requirements. Returns MLflow's ModelInfo."""
    import mlflow

    return mlflow.sklearn.log_model(
        pipeline,
        name=MODEL_ARTIFACT_NAME,
        signature=model_signature(
            informative_columns(feature_matrix(fit_rows, table), table), table
        ),
        input_example=feature_matrix(example_rows, table),
        pyfunc_predict_fn="predict_proba",
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
        pip_requirements=model_requirements(),
        tags=tags,
    )


def tune_and_log(
    splits: dict[str, pd.DataFrame],
    table: FeatureTable,
    training_data_version: str,
    study_prefix: str,
    storage_url: str,
    journal_path: Path | None,
    plan: TuningPlan,
    code_version: str,
    importance_rows: int = 2000,
) -> TunedResult:
    """Run (or resume) the study with each trial as a child of the active MLflow run, refit the
    best trial on train + validation, and log parameters, summary and model to the active run."""
    import mlflow

    parent = mlflow.active_run()
    if parent is None:
        raise RuntimeError("tune_and_log needs an active MLflow run to log into; start one first")
    client = mlflow.MlflowClient()
    name = study_name(study_prefix, training_data_version)
    logger = TrialRunLogger(client, parent.info.experiment_id, parent.info.run_id, name)
    outcome = run_study(
        splits["train"],
        splits["validation"],
        table,
        name,
        open_storage(storage_url, journal_path),
        plan,
        on_trial_end=logger,
    )
    fit_rows = pd.concat([splits["train"], splits["validation"]], ignore_index=True)
    with thread_limit(plan.threads):
        pipeline = fit_pipeline(
            fit_rows, table, outcome.best_params, outcome.best_iterations, plan.seed
        )
        importances = (
            permutation_importances(pipeline, splits["holdout"], table, importance_rows, plan.seed)
            if importance_rows > 0
            else None
        )

    mlflow.log_params({f"best_{k}": v for k, v in outcome.best_params.items()})
    mlflow.log_params(
        {
            "best_iterations": outcome.best_iterations,
            "n_trials_requested": plan.n_trials,
            "iterations_per_step": plan.iterations_per_step,
            "max_steps": plan.max_steps,
            "seed": plan.seed,
        }
    )
    mlflow.log_metrics(
        {
            "best_validation_auc": outcome.best_value,
            "trials_complete": outcome.count("COMPLETE"),
            "trials_pruned": outcome.count("PRUNED"),
            "trials_failed": outcome.count("FAIL"),
            "trials_this_session": len(outcome.new_trials),
        }
    )
    mlflow.set_tags(
        {
            "leanops.training_data_version": training_data_version,
            "leanops.code_version": code_version,
            "optuna.study": name,
            "optuna.best_trial": str(outcome.best_trial_number),
        }
    )
    mlflow.log_table(outcome.history, artifact_file="optuna/trial_history.json")
    if importances is not None:
        mlflow.log_table(importances, artifact_file="importance/permutation.json")
    info = log_pipeline(
        pipeline,
        fit_rows,
        splits["holdout"].head(5),
        table,
        tags={"leanops.training_data_version": training_data_version, "optuna.study": name},
    )
    candidate = ModelCandidate(
        run_id=parent.info.run_id,
        experiment_id=parent.info.experiment_id,
        model_uri=info.model_uri,
        model_id=info.model_id,
        training_data_version=training_data_version,
        study_name=name,
        best_trial_number=outcome.best_trial_number,
        best_value=outcome.best_value,
        code_version=code_version,
    )
    return TunedResult(candidate, outcome, importances)
