"""The product's flight_features asset, run by its own daily_pipeline job with the Spark resource
pointed at MASTER through run configuration (what LEANOPS_SPARK_MASTER does in a deployment):

    python feature_asset_job.py MASTER FIRST_DAY LAST_DAY OUT_DIR

LEANOPS_HOME and DAGSTER_HOME name a home whose lake holds the validated days and their look-back
(the test replays them with the product's own jobs). One process, one JVM: the resource creates
the session. Writes the feature partitions to OUT_DIR/features.parquet, and run.json saying
which master, application and executors did the work."""

from __future__ import annotations

import json
import sys
from pathlib import Path

# A standalone worker of 1 core and 1 GiB (scripts/services/spark_cluster.sh) fits one executor.
CLUSTER_CONFIG = {
    "spark.driver.memory": "1g",
    "spark.executor.memory": "768m",
    "spark.cores.max": "1",
}


def main(master: str, first: str, last: str, out_dir: str) -> int:
    from dagster import AssetKey, DagsterInstance
    from pyspark.sql import SparkSession

    from leanops_assets.definitions import defs
    from leanops_assets.resources import LakeResource

    spark_config = {} if master.startswith("local") else CLUSTER_CONFIG
    config = {
        "resources": {"pyspark": {"config": {"master": master, "spark_config": spark_config}}}
    }
    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def("daily_pipeline").execute_in_process(
            instance=instance,
            asset_selection=[AssetKey("flight_features")],
            tags={
                "dagster/asset_partition_range_start": first,
                "dagster/asset_partition_range_end": last,
            },
            run_config=config,
        )
    assert result.success
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lake = LakeResource().lake()
    days = lake.materialized_days("features", "flights")
    lake.read_partitions("features", "flights", days).to_parquet(out / "features.parquet")
    # The resource's session, still active in this process: where did the asset's job run?
    context = SparkSession.builder.getOrCreate().sparkContext
    info = {
        "master": context.master,
        "app_id": context.applicationId,
        "block_managers": context._jsc.sc().getExecutorMemoryStatus().size(),
        "days": days,
    }
    (out / "run.json").write_text(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
