"""Session-wide fixtures: one SparkSession per test process, a temporary LEANOPS_HOME per test."""

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_mlflow_environment():
    """mlflow.set_tracking_uri / set_registry_uri export MLFLOW_* variables into the process;
    restore them after each test so no store outlives its test or leaks into child processes."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}
    yield
    for key in [k for k in os.environ if k.startswith("MLFLOW_")]:
        if key not in saved:
            del os.environ[key]
    os.environ.update(saved)


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
