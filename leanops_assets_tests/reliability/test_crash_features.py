"""SIGKILL while Spark builds and writes a range of feature partitions: each day's file is the
previous complete one or the new complete one, never torn; a re-run is byte-identical."""

from __future__ import annotations

import pytest

from .conftest import kill_while_working, stderr_tail, time_one_loop

DAYS = ["2013-01-04", "2013-01-05", "2013-01-06"]
BUILDER = """
import sys
from dagster import AssetSpec, DagsterInstance, materialize
from dagster_pyspark import PySparkResource
from leanops_assets_tests.flights_defs import flight_features
from leanops_assets.contract import load_contract
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.resources import LakeResource
from leanops_assets.settings import LOCAL_SPARK_CONF
import leanops_assets.features.lake_io as lake_io

# Every loop builds with Spark, as after a changed input: unchanged days would only be relabelled.
lake_io.relabelled = lambda *args, **kwargs: None

daily_partitions = daily_partitions_for(load_contract())  # flights'

root, first, last, loops = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
upstream = [
    AssetSpec("validated_flights", partitions_def=daily_partitions),
    AssetSpec("raw_weather", partitions_def=daily_partitions),
    AssetSpec("planes"),
]
resources = {
    "pyspark": PySparkResource(spark_config={**LOCAL_SPARK_CONF, "spark.ui.enabled": "false"}),
    "lake": LakeResource(root=root),
}
print("ready", flush=True)
for _ in range(loops):
    result = materialize(
        [flight_features, *upstream], selection=[flight_features], resources=resources,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    print("done", flush=True)
"""


def _read(lake) -> dict[str, bytes]:
    return {
        day: lake.partition_path("features", "flights", day).read_bytes()
        for day in DAYS
        if lake.has_partition("features", "flights", day)
    }


@pytest.mark.slow
def test_sigkill_during_a_spark_feature_range(leanops_home, fresh_lake, child_factory):
    import pyarrow.parquet as pq

    args = [str(fresh_lake.root), DAYS[0], DAYS[-1]]
    first = child_factory("features", BUILDER, [*args, "1"])
    duration = time_one_loop(first)
    assert first.wait(timeout=120) == 0
    reference = _read(fresh_lake)
    assert set(reference) == set(DAYS)

    for fraction in (0.7, 1.2):  # Spark at work or writing, and inside the second loop
        looping = child_factory("features", BUILDER, [*args, "50"])  # busy whenever killed
        kill_while_working(looping, duration * fraction)
        assert _read(fresh_lake) == reference, "a feature partition differs from a complete write"
        for day in DAYS:
            folder = fresh_lake.partition_path("features", "flights", day).parent
            pq.read_table(folder / "part.parquet")
            assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == [
                "part.parquet"
            ]

    rerun = child_factory("features", BUILDER, [*args, "1"])
    rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr_tail(rerun)
    assert _read(fresh_lake) == reference
    for day in DAYS:  # the re-run cleared what killed writers left behind
        folder = fresh_lake.partition_path("features", "flights", day).parent
        assert [p.name for p in folder.iterdir()] == ["part.parquet"]
