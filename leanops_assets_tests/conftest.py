"""Session-wide fixtures: one SparkSession per test process, a temporary LEANOPS_HOME per test."""

import os
import sys

import pytest


def _mlflow_store_globals():
    """mlflow's process-wide tracking and registry modules, if mlflow is imported yet."""
    if "mlflow" not in sys.modules:
        return []
    from mlflow.tracking._model_registry import utils as registry
    from mlflow.tracking._tracking_service import utils as tracking

    return [(registry, "_registry_uri"), (tracking, "_tracking_uri")]


@pytest.fixture(autouse=True)
def _isolated_mlflow_environment():
    """mlflow.set_tracking_uri / set_registry_uri keep the store in module globals and export
    MLFLOW_* variables; restore both after each test so no store outlives its test (a client
    built later with only a tracking URI would read an earlier test's registry) or leaks into
    child processes."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}
    stores = {(module, name): getattr(module, name) for module, name in _mlflow_store_globals()}
    yield
    for key in [k for k in os.environ if k.startswith("MLFLOW_")]:
        if key not in saved:
            del os.environ[key]
    os.environ.update(saved)
    for module, name in _mlflow_store_globals():
        setattr(module, name, stores.get((module, name)))


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    from leanops_assets.settings import LOCAL_SPARK_CONF

    builder = SparkSession.builder
    for key, value in LOCAL_SPARK_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    yield session
    session.stop()


@pytest.fixture
def leanops_home(tmp_path, monkeypatch):
    home = tmp_path / "leanops_home"
    home.mkdir()
    monkeypatch.setenv("LEANOPS_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    (home / "dagster_home").mkdir()
    return home
