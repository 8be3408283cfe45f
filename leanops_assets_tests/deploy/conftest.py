"""Fixtures for the deployment modes: real PostgreSQL, MLflow server and Spark standalone cluster,
each started through scripts/services/ and stopped at the end. Nothing is skipped: a service that
cannot start fails the tests that need it, with the script's message."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from leanops_assets_tests.deploy import services


@pytest.fixture(scope="session")
def services_home():
    """LEANOPS_HOME of the services: world-traversable, since PostgreSQL runs as its own user."""
    home = Path(tempfile.mkdtemp(prefix="leanops-services-"))
    home.chmod(0o755)
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(services_home):
    env = services.run_script("postgres.sh", "start", services_home)
    yield env
    services.run_script("postgres.sh", "stop", services_home)


@pytest.fixture(scope="session")
def mlflow_server(services_home, postgres):
    """The MLflow server on the PostgreSQL database `mlflow`, artifacts proxied to its folder."""
    env = services.run_script(
        "mlflow_server.sh",
        "start",
        services_home,
        MLFLOW_BACKEND_STORE_URI=postgres["LEANOPS_MLFLOW_BACKEND_URI"],
    )
    yield env
    services.run_script("mlflow_server.sh", "stop", services_home)


@pytest.fixture(scope="session")
def spark_cluster(services_home):
    env = services.run_script("spark_cluster.sh", "start", services_home)
    yield env
    services.run_script("spark_cluster.sh", "stop", services_home)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Playwright), for the tests of the UI pages."""
    from leanops_assets_tests.deploy.webui import chromium

    with chromium() as launched:
        yield launched


# Real Spark features of June 8-23 2013 (a 7-day look-back over June 1-7), and the training
# window over them that the scaled-out tests train on: 10 days to tune, 3 to validate, 3 held out.
FEATURE_INPUT_DAYS = [f"2013-06-{d:02d}" for d in range(1, 24)]
FEATURE_LOOKBACK_DAYS = 7
TRAINING_WINDOW = {"window_days": 16, "validation_days": 3, "holdout_days": 3}


@pytest.fixture(scope="session")
def spark_feature_lake(spark, tmp_path_factory) -> Path:
    """A lake of real Spark feature days, built once; tests copy it before writing to it."""
    from leanops_assets.storage import Lake
    from leanops_assets_tests.training.spark_features import write_spark_features

    root = tmp_path_factory.mktemp("spark_feature_lake") / "lake"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEANOPS_HOME", str(root.parent))
        write_spark_features(spark, Lake(root), FEATURE_INPUT_DAYS, FEATURE_LOOKBACK_DAYS)
    return root


@pytest.fixture
def feature_lake_copy(spark_feature_lake, tmp_path, monkeypatch) -> Path:
    """A private copy of the feature lake under a fresh LEANOPS_HOME (its lake)."""
    home = tmp_path / "leanops_home"
    shutil.copytree(spark_feature_lake, home / "lake")
    monkeypatch.setenv("LEANOPS_HOME", str(home))
    return home / "lake"
