"""Spark cluster mode: a real standalone master and worker; an aggregation over the real year of
flights and the project's own flight_features job give the same answer on the cluster as on the
local session.

The cluster-side work runs in a subprocess: one JVM holds one SparkContext, and this process may
already hold the session-wide local one. To compare another computation, add it to
spark_job.JOBS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests.deploy import spark_job

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent


def test_cluster_aggregation_over_real_flights_equals_local(spark_cluster, spark, tmp_path):
    master = spark_cluster["SPARK_MASTER_URL"]
    assert master.startswith("spark://127.0.0.1:")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
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

    with urllib.request.urlopen(
        spark_cluster["SPARK_MASTER_WEBUI_URL"] + "/json/", timeout=10
    ) as r:
        state = json.load(r)
    apps = {a["id"] for a in state.get("completedapps", []) + state.get("activeapps", [])}
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
