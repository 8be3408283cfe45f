"""The flight_features asset materialized for real: one partition, then a single-run range.

Days of the first week, whose look-back window reaches before the first partition.
"""

import pyarrow.parquet as pq
from dagster import AssetKey, AssetSpec, DagsterInstance, materialize
from dagster_pyspark import PySparkResource

from leanops_assets.contract import load_contract
from leanops_assets.dataset import bundled_dataset
from leanops_assets.features.lake_io import features_arrow_schema
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.resources import LakeResource
from leanops_assets.settings import LOCAL_SPARK_CONF
from leanops_assets_tests.flights_defs import flight_features

daily_partitions = daily_partitions_for(load_contract())  # flights'

UPSTREAM = [
    AssetSpec("validated_flights", partitions_def=daily_partitions),
    AssetSpec("raw_weather", partitions_def=daily_partitions),
    AssetSpec("planes"),
]


def latest_materializations(instance: DagsterInstance) -> dict[str, object]:
    """The newest materialization of each flight_features partition."""
    records = instance.fetch_materializations(
        AssetKey("flight_features"), limit=100, ascending=True
    ).records
    return {r.partition_key: r.asset_materialization for r in records}


def test_asset_writes_one_partition_and_a_range_in_one_run(leanops_home, fresh_lake):
    resources = {
        "pyspark": PySparkResource(spark_config=LOCAL_SPARK_CONF),
        "lake": LakeResource(root=str(fresh_lake.root)),
    }
    with DagsterInstance.ephemeral() as instance:
        single = materialize(
            [flight_features, *UPSTREAM],
            selection=[flight_features],
            partition_key="2013-01-03",
            resources=resources,
            instance=instance,
        )
        assert single.success
        event = latest_materializations(instance)["2013-01-03"]
        path = fresh_lake.partition_path("features", "flights", "2013-01-03")
        assert (
            pq.read_schema(path)
            .remove_metadata()
            .equals(features_arrow_schema(bundled_dataset().table))
        )
        assert event.metadata["dagster/row_count"].value == pq.read_metadata(path).num_rows
        assert event.metadata["feature_count"].value == 34
        assert 0 <= event.metadata["null_share"].value < 0.2
        assert event.metadata["spark_seconds"].value > 0
        assert "| flight_id" in event.metadata["preview"].value
        assert event.tags["dagster/data_version"] == event.metadata["content_hash"].value

        ranged = materialize(
            [flight_features, *UPSTREAM],
            selection=[flight_features],
            tags={
                "dagster/asset_partition_range_start": "2013-01-02",
                "dagster/asset_partition_range_end": "2013-01-04",
            },
            resources=resources,
            instance=instance,
        )
        assert ranged.success
        by_partition = latest_materializations(instance)
        for day in ("2013-01-02", "2013-01-03", "2013-01-04"):
            metadata = by_partition[day].metadata
            assert metadata["partitions_in_run"].value == 3
            assert metadata["path"].value.endswith(f"date={day}/part.parquet")
            written = fresh_lake.partition_rows("features", "flights", day)
            assert metadata["dagster/row_count"].value == written
        assert (
            by_partition["2013-01-03"].metadata["content_hash"].value
            == event.metadata["content_hash"].value
        ), "a day written inside a range is byte-identical to the same day on its own"
