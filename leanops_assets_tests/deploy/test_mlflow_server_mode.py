"""MLflow server mode: a real `mlflow server` (database backend, proxied artifacts) chosen by
setting MlflowResource.tracking_uri alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leanops_assets.settings import REPO_ROOT

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent


def test_log_register_alias_and_load_champion_through_the_server(mlflow_server, services_home):
    uri = mlflow_server["MLFLOW_TRACKING_URI"]
    assert uri.startswith("http://127.0.0.1:")
    model_name = f"leanops_deploy_{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    done = subprocess.run(
        [sys.executable, str(HERE / "mlflow_client.py"), uri, model_name],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("REPORT "))
    report = json.loads(line.removeprefix("REPORT "))

    assert report["tracking_uri"] == uri
    # Artifacts went through the server (proxied), not to a folder the client chose.
    assert report["artifact_uri"].startswith("mlflow-artifacts:/"), report["artifact_uri"]
    assert report["champion_version"] == report["version"]
    assert report["champion_run_id"] == report["run_id"]
    assert report["predictions_equal"], (
        "the model loaded from models:/NAME@champion predicts differently"
    )
    assert report["rows"] > 500

    # The server really holds them: its database and its artifact folder.
    state = services_home / "services" / "mlflow"
    assert (state / "mlflow.db").stat().st_size > 0
    stored = [p for p in (state / "artifacts").rglob("MLmodel")]
    assert stored, f"no MLmodel file under {state / 'artifacts'}"

    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert client.get_model_version_by_alias(model_name, "champion").version == report["version"]
