"""Spark cluster mode: a real standalone master and worker. An aggregation over the real year of
flights gives the same answer on the cluster as on the local session; the product's
flight_features asset, run by its own job with the Spark resource pointed at the master, writes
the same feature partitions as in local mode.

The Spark work runs in subprocesses: one JVM holds one SparkContext, and this process may
already hold the session-wide local one. To compare another computation, add it to
spark_job.JOBS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests.deploy import services, spark_job

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
# Two feature days with their whole 7-day look-back replayed before them.
FEATURE_DAYS = ["2013-01-09", "2013-01-10"]
REPLAYED_DAYS = 10  # 2013-01-01 .. 2013-01-10


def _spark_env(**extra) -> dict[str, str]:
    return {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1", **extra}


def _master_apps(spark_cluster) -> dict[str, dict]:
    with urllib.request.urlopen(
        spark_cluster["SPARK_MASTER_WEBUI_URL"] + "/json/", timeout=10
    ) as r:
        state = json.load(r)
    return {a["id"]: a for a in state.get("completedapps", []) + state.get("activeapps", [])}


def test_cluster_aggregation_over_real_flights_equals_local(spark_cluster, spark, tmp_path):
    master = spark_cluster["SPARK_MASTER_URL"]
    assert master.startswith("spark://127.0.0.1:")
    env = _spark_env()
    done = subprocess.run(
        [sys.executable, str(HERE / "spark_job.py"), master, str(tmp_path / "cluster")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-6000:]
    run = json.loads((tmp_path / "cluster" / "run.json").read_text())
    assert run["master"] == master
    # The driver plus at least one executor on the worker: the work left this process.
    assert run["block_managers"] >= 2, run

    apps = _master_apps(spark_cluster)
    assert run["app_id"] in apps, (run["app_id"], apps)

    assert spark.sparkContext.master.startswith("local")
    for name, compute in spark_job.JOBS.items():
        local = compute(spark)
        cluster = pd.read_parquet(tmp_path / "cluster" / f"{name}.parquet")
        assert len(local) > 0, name
        pd.testing.assert_frame_equal(
            cluster.reset_index(drop=True),
            local.reset_index(drop=True),
            check_exact=False,
            rtol=1e-9,
        )

    flights = spark_job.real_flights()
    totals = spark_job.delay_by_carrier_and_origin(spark)
    assert int(totals["flights"].sum()) == len(flights) == 336776


def test_the_flight_features_asset_on_the_cluster_equals_local_mode(spark_cluster, tmp_path):
    """The asset itself (SparkResource with `master` set by run config), not a copy of its work:
    over the same replayed, validated days, the cluster and local[2] write equal features."""
    from leanops_assets.datasets.flights.source import bundled_day

    master = spark_cluster["SPARK_MASTER_URL"]
    home = tmp_path / "replayed"
    (home / "dagster_home").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster_home" / "dagster.yaml")
    replay = subprocess.run(
        services.replay_argv(REPLAYED_DAYS),
        cwd=REPO_ROOT,
        env=_spark_env(LEANOPS_HOME=str(home), DAGSTER_HOME=str(home / "dagster_home")),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert replay.returncode == 0, replay.stdout[-3000:] + replay.stderr[-3000:]

    features, runs = {}, {}
    for mode, spark_master in (("local", "local[2]"), ("cluster", master)):
        copy = tmp_path / mode
        shutil.copytree(home, copy)
        done = subprocess.run(
            [sys.executable, str(HERE / "feature_asset_job.py"), spark_master, *FEATURE_DAYS,
             str(tmp_path / f"{mode}-out")],
            cwd=REPO_ROOT,
            env=_spark_env(LEANOPS_HOME=str(copy), DAGSTER_HOME=str(copy / "dagster_home")),
            capture_output=True,
            text=True,
            timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, (mode, done.stdout[-2000:] + done.stderr[-6000:])
        runs[mode] = json.loads((tmp_path / f"{mode}-out" / "run.json").read_text())
        features[mode] = pd.read_parquet(tmp_path / f"{mode}-out" / "features.parquet")

    assert runs["local"]["master"] == "local[2]"
    assert runs["cluster"]["master"] == master
    assert runs["cluster"]["block_managers"] >= 2, runs  # an executor on the worker
    assert runs["cluster"]["app_id"] in _master_apps(spark_cluster)
    assert runs["local"]["days"] == runs["cluster"]["days"] == FEATURE_DAYS
    departures = sum(len(bundled_day("flights", day)) for day in FEATURE_DAYS)
    assert len(features["local"]) == departures
    pd.testing.assert_frame_equal(
        features["cluster"].reset_index(drop=True),
        features["local"].reset_index(drop=True),
        check_exact=False,
        rtol=1e-9,
    )
