"""Session-wide fixtures: one SparkSession per test process, a temporary LEANOPS_HOME per test."""

import pytest


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
