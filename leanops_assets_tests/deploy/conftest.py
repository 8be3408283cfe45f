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
def mlflow_server(services_home):
    env = services.run_script("mlflow_server.sh", "start", services_home)
    yield env
    services.run_script("mlflow_server.sh", "stop", services_home)


@pytest.fixture(scope="session")
def spark_cluster(services_home):
    env = services.run_script("spark_cluster.sh", "start", services_home)
    yield env
    services.run_script("spark_cluster.sh", "stop", services_home)
