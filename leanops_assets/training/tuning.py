"""The Optuna study: TPE over the booster's settings, pruned on validation AUC while boosting grows.

The study lives in persistent storage under a name derived from the training data version, so
tuning the same training data again resumes it. Optuna and scikit-learn are imported inside the
functions.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leanops_assets.training.model import (
    InputColumns,
    build_classifier,
    build_preprocessor,
    feature_matrix,
    informative_columns,
    labels,
)
from leanops_assets.training.study_storage import WORKER_ATTR, fail_abandoned_trials, worker_id

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

    from leanops_assets.dataset import FeatureTable


@dataclass(frozen=True)
class TuningPlan:
    """Budget and schedule of one tuning session."""

    n_trials: int = 20
    timeout_seconds: float | None = None
    seed: int = 13
    iterations_per_step: int = 25
    max_steps: int = 8
    # Trials that finish before the pruner compares. Steps count from 1 and the pruner skips
    # steps below the warm-up: 2 leaves every trial's first report alone (a slow learning rate
    # starts low) and prunes from the second.
    pruner_startup_trials: int = 3
    pruner_warmup_steps: int = 2
    sampler_startup_trials: int = 5
    threads: int | None = None


@dataclass
class TuningOutcome:
    study_name: str
    best_trial_number: int
    best_value: float
    best_params: dict[str, Any]
    best_iterations: int
    new_trials: list[int]
    history: pd.DataFrame = field(repr=False)

    def count(self, state: str, new_only: bool = False) -> int:
        rows = (
            self.history[self.history["number"].isin(self.new_trials)] if new_only else self.history
        )
        return int((rows["state"] == state).sum())


def study_name(prefix: str, data_version: str) -> str:
    """One study per training data version: same data, same study, resumed."""
    return f"{prefix}-{data_version[:16]}"


def search_space(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 8, 64, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 10, 200, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-4, 10.0, log=True),
        "max_features": trial.suggest_float("max_features", 0.5, 1.0),
    }


@dataclass(frozen=True)
class PreparedData:
    """Preprocessing fitted once on train; every trial boosts on the same encoded matrices."""

    columns: InputColumns
    x_train: np.ndarray
    y_train: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray


def prepare(train: pd.DataFrame, validation: pd.DataFrame, table: FeatureTable) -> PreparedData:
    features = feature_matrix(train, table)
    columns = informative_columns(features, table)
    preprocessor = build_preprocessor(columns)
    x_train = preprocessor.fit_transform(features)
    x_validation = preprocessor.transform(feature_matrix(validation, table))
    y_validation = labels(validation, table)
    if len(np.unique(y_validation)) < 2:
        raise ValueError(
            "the validation split has a single label value; AUC is undefined; widen it"
        )
    return PreparedData(columns, x_train, labels(train, table), x_validation, y_validation)


def make_objective(data: PreparedData, plan: TuningPlan) -> Callable[[optuna.Trial], float]:
    """Grow the booster step by step with warm_start; report validation AUC at each step so the
    pruner can stop a weak trial early. The value is the best AUC seen; its iteration count is
    kept as the trial's `best_iterations` attribute."""

    def objective(trial: optuna.Trial) -> float:
        import optuna
        from sklearn.metrics import roc_auc_score

        params = search_space(trial)
        # Recorded once every parameter is drawn, so a retry of an abandoned trial repeats them all.
        trial.set_user_attr(WORKER_ATTR, worker_id())
        model = build_classifier(
            data.columns, params, plan.iterations_per_step, plan.seed, warm_start=True
        )
        best_auc, best_iterations = -np.inf, 0
        for step in range(1, plan.max_steps + 1):
            iterations = step * plan.iterations_per_step
            model.set_params(max_iter=iterations)
            model.fit(data.x_train, data.y_train)
            auc = float(
                roc_auc_score(data.y_validation, model.predict_proba(data.x_validation)[:, 1])
            )
            if auc > best_auc:
                best_auc, best_iterations = auc, iterations
            trial.set_user_attr("best_iterations", best_iterations)
            trial.report(auc, step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"validation AUC {auc:.4f} at {iterations} iterations")
        return best_auc

    return objective


def thread_limit(threads: int | None):
    """Cap the native thread pools (OpenMP of the booster) at `threads`; None leaves them alone."""
    if threads is None:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def run_study(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    table: FeatureTable,
    name: str,
    storage: Any,
    plan: TuningPlan,
    on_trial_end: Callable[[FrozenTrial], None] | None = None,
) -> TuningOutcome:
    """Create or resume the study `name` in `storage` and run up to plan.n_trials more trials.

    The sampler's seed is offset by the number of trials already in the study: a resumed session
    explores new points instead of replaying the first session's, and the same history and seed
    give the same trials.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = prepare(train, validation, table)
    exists = name in optuna.study.get_all_study_names(storage)
    done_before = len(optuna.load_study(study_name=name, storage=storage).trials) if exists else 0
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(
            seed=plan.seed + done_before, n_startup_trials=plan.sampler_startup_trials
        ),
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=plan.pruner_startup_trials, n_warmup_steps=plan.pruner_warmup_steps
        ),
    )
    if not hasattr(storage, "heartbeat_interval"):
        fail_abandoned_trials(study)
    numbers_before = {t.number for t in study.trials}
    callbacks = [lambda _study, trial: on_trial_end(trial)] if on_trial_end else []
    with thread_limit(plan.threads):
        study.optimize(
            make_objective(data, plan),
            n_trials=plan.n_trials,
            timeout=plan.timeout_seconds,
            callbacks=callbacks,
        )
    trials = study.trials
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in trials):
        raise RuntimeError(
            f"study {name} has no complete trial after {len(trials)} trials "
            f"(all pruned or failed); raise n_trials or timeout_seconds in the tuning resource"
        )
    best = study.best_trial
    return TuningOutcome(
        study_name=name,
        best_trial_number=best.number,
        best_value=float(best.value),
        best_params=dict(best.params),
        best_iterations=int(best.user_attrs["best_iterations"]),
        # Another worker on the same study adds trials meanwhile: only this process's are new.
        new_trials=sorted(
            t.number
            for t in trials
            if t.number not in numbers_before and t.user_attrs.get(WORKER_ATTR) == worker_id()
        ),
        history=trial_history(trials),
    )


def trial_history(trials: list[FrozenTrial]) -> pd.DataFrame:
    rows = []
    for t in trials:
        steps = sorted(t.intermediate_values)
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "value": t.value,
                "last_step_auc": t.intermediate_values[steps[-1]] if steps else None,
                "steps": len(steps),
                "best_iterations": t.user_attrs.get("best_iterations"),
                **t.params,
            }
        )
    return pd.DataFrame(rows)
