"""The champion served by the real `mlflow models serve`, answering /invocations over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from leanops_assets.dataset import bundled_dataset
from leanops_assets.registry.promotion import gate_candidate
from leanops_assets.resources import MlflowResource
from leanops_assets.training.dataset import WindowSpec, build_training_set
from leanops_assets.training.model import feature_matrix
from leanops_assets.training.tracking import model_name_for
from leanops_assets_tests.deploy import services

SERVED_FEATURES = ["carrier", "origin", "dest", "route", "sched_dep_hour", "distance"]


@pytest.mark.slow
def test_champion_serves_predictions_over_http(feature_lake, fixed_candidate, tmp_path):
    import mlflow

    flights = bundled_dataset()
    splits, _, version = build_training_set(feature_lake, flights, WindowSpec(21, None, 4, 4))
    candidate = fixed_candidate(feature_lake, SERVED_FEATURES, "served")
    settings = MlflowResource()
    name = model_name_for(settings, flights)
    client = mlflow.MlflowClient(settings.resolved_tracking_uri())
    report = gate_candidate(client, name, candidate, splits, version, flights.table, 0.5, 0.02)
    assert report.decision.promoted

    rows = splits["holdout"].sample(n=6, random_state=1)
    features = feature_matrix(rows, flights.table)
    payload = {
        "dataframe_split": {
            "columns": list(features.columns),
            "data": features.astype(object).where(features.notna(), None).values.tolist(),
        }
    }
    expected = mlflow.pyfunc.load_model(f"models:/{name}@champion").predict(features)

    port = services.free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    # The server execs `uvicorn` by name: the environment's bin folder goes first on PATH, as in
    # an activated virtual environment.
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": settings.resolved_tracking_uri(),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(bin_dir / "mlflow"),
        *("models", "serve", "-m", f"models:/{name}@champion"),
        *("--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "--workers", "1"),
    ]
    with open(log, "wb") as sink:
        server = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        services.wait_http(f"{url}/ping", 180, process=server, log=log)
        request = urllib.request.Request(
            f"{url}/invocations",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            predictions = np.asarray(json.loads(response.read())["predictions"], dtype="float64")
        assert predictions.shape == (6, 2)
        np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-9)
        np.testing.assert_allclose(predictions, expected, rtol=1e-9)

        # A request without a column the model was fitted on is refused with the column's name.
        broken = {"dataframe_split": {**payload["dataframe_split"]}}
        keep = [i for i, c in enumerate(features.columns) if c != "sched_dep_hour"]
        broken["dataframe_split"]["columns"] = [features.columns[i] for i in keep]
        broken["dataframe_split"]["data"] = [
            [row[i] for i in keep] for row in payload["dataframe_split"]["data"]
        ]
        bad = urllib.request.Request(
            f"{url}/invocations",
            data=json.dumps(broken).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad, timeout=60)
        assert refused.value.code == 400 and "sched_dep_hour" in refused.value.read().decode()
    finally:
        services.stop_process_group(server)
