"""One tuning worker process: the project's own run_study on a study shared through an RDB.

    python optuna_worker.py LAKE_ROOT STORAGE_URL SEED N_TRIALS

Reads the training set that training_set left in the lake (shared by every worker), opens the
storage as tuned_model does (TuningResource.storage through open_storage), and joins the study
tuned_model would resume for that training data (study_name of its data version). Each worker
gets its own sampler seed, so two workers do not propose the same first trials. Prints one JSON
line: the study name, the best value the worker saw and the trials it ran.
"""

from __future__ import annotations

import json
import sys

from leanops_assets.dataset import bundled_dataset
from leanops_assets.resources import MlflowResource, TuningResource
from leanops_assets.storage import Lake
from leanops_assets.training.dataset import read_splits, stored_version
from leanops_assets.training.study_storage import open_storage
from leanops_assets.training.tracking import model_name_for
from leanops_assets.training.tuning import TuningPlan, run_study, study_name

# A small budget: each trial boosts 3 x 10 iterations, one native thread per worker.
PLAN = {"iterations_per_step": 10, "max_steps": 3, "threads": 1}


def main(lake_root: str, storage_url: str, seed: int, n_trials: int) -> int:
    lake = Lake(lake_root)
    flights = bundled_dataset()
    splits = read_splits(lake, flights.name)
    tuning = TuningResource(storage=storage_url, n_trials=n_trials, seed=seed)
    outcome = run_study(
        splits["train"],
        splits["validation"],
        flights.table,
        study_name(model_name_for(MlflowResource(), flights), stored_version(lake, flights.name)),
        open_storage(tuning.resolved_storage(), journal_path=None),
        TuningPlan(n_trials=tuning.resolved_trials(), seed=tuning.seed, **PLAN),
    )
    report = {
        "study": outcome.study_name,
        "best_value": outcome.best_value,
        "new_trials": outcome.new_trials,
    }
    print("REPORT " + json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
