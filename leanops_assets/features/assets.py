"""The feature asset: validated days plus their look-back window in, one feature partition per day out.

A backfill of a range runs as one Spark job (single-run backfill policy). Each partition gets its
own metadata (rows, nulls, preview, content hash). Dagster 1.13 records one data version per
step, so only a single-partition run carries the partition's content hash as its data version;
a range run leaves the data version to Dagster and puts each content hash in the metadata.
"""

from typing import TYPE_CHECKING

from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    TimeWindowPartitionMapping,
    asset,
)
from dagster_pyspark import PySparkResource

from leanops_assets.dataset import Dataset, FeatureTable
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.resources import LakeResource
from leanops_assets.storage import WrittenFile

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

PREVIEW_ROWS = 10


def partition_metadata(
    rows: "pa.Table", written: WrittenFile, table: FeatureTable
) -> dict[str, object]:
    """What a person looks at for one feature day: size, nulls, a preview, where and which bytes."""
    frame = rows.to_pandas(date_as_object=True)
    features = frame[table.feature_columns]
    null_share = float(features.isna().to_numpy().mean()) if len(features) else 0.0
    by_column = features.isna().mean().sort_values(ascending=False)
    return {
        "dagster/row_count": MetadataValue.int(written.rows),
        "feature_count": MetadataValue.int(len(table.feature_columns)),
        "null_share": MetadataValue.float(round(null_share, 6)),
        "null_share_by_column": MetadataValue.md(
            by_column[by_column > 0].round(4).rename("null share").to_frame().to_markdown()
        ),
        "preview": MetadataValue.md(frame.head(PREVIEW_ROWS).to_markdown(index=False)),
        "path": MetadataValue.path(str(written.path)),
        "bytes": MetadataValue.int(written.bytes),
        "content_hash": MetadataValue.text(written.content_hash),
    }


def build_feature_assets(ds: Dataset) -> list[AssetsDefinition]:
    """The dataset's feature asset: each day from its validated rows, their look-back days
    and the reference tables."""
    table = ds.table
    lookback = table.lookback_days
    references = [AssetDep(ds.key(ds.reference_asset(t))) for t in ds.contract.references]

    @asset(
        key=ds.key(ds.features_asset),
        partitions_def=daily_partitions_for(ds.contract),
        group_name="features",
        kinds={"spark", "parquet"},
        code_version=ds.features_code_version,
        backfill_policy=BackfillPolicy.single_run(),
        deps=[
            AssetDep(
                ds.key(ds.validated_asset),
                # The first days' look-back reaches before the first day: those days are absent.
                partition_mapping=TimeWindowPartitionMapping(
                    start_offset=-lookback,
                    end_offset=0,
                    allow_nonexistent_upstream_partitions=True,
                ),
            ),
            *references,
        ],
        description="Point-in-time features per day of rows, as the contract declares them: "
        "the rows' own columns, joined reference tables and trailing rates.",
    )
    def _features(
        context: AssetExecutionContext, pyspark: PySparkResource, lake: LakeResource
    ) -> MaterializeResult:
        return feature_result(context, ds, pyspark.spark_session, lake)

    return [_features]


def feature_result(
    context: AssetExecutionContext, ds: Dataset, spark: "SparkSession", lake: LakeResource
) -> MaterializeResult:
    """Build and write the run's days; metadata per partition and for the run."""
    from leanops_assets.features.lake_io import materialize_feature_days

    days = list(context.partition_keys)
    table = ds.table

    def add_day_metadata(day: str, rows: "pa.Table", written: WrittenFile) -> None:
        context.add_asset_metadata(partition_metadata(rows, written, table), partition_key=day)

    run = materialize_feature_days(
        spark,
        lake.lake(),
        ds,
        days,
        table.lookback_days,
        progress=context.log.info,
        on_day=add_day_metadata,
    )
    context.log.info(
        f"wrote {sum(w.rows for w in run.written.values())} feature rows for {len(days)} day(s) "
        f"{days[0]}..{days[-1]} in {run.spark_seconds:.1f} s ({len(run.batches)} Spark "
        f"batch(es); labels refreshed only: {len(run.relabelled_days)} day(s))"
    )
    run_metadata = {
        "spark_seconds": MetadataValue.float(round(run.spark_seconds, 3)),
        "partitions_in_run": MetadataValue.int(len(days)),
        # a long backfill is built in batches that fit the driver (batches.BATCH_ROWS)
        "spark_batches": MetadataValue.int(len(run.batches)),
        # small batches run as one Spark task, with no shuffle (features/one_task.py)
        "spark_one_task_batches": MetadataValue.int(run.one_task_batches),
        # days whose inputs changed only in their outcomes: labels refreshed, no Spark build
        "relabelled_days": MetadataValue.json(run.relabelled_days),
        "lookback_days": MetadataValue.int(table.lookback_days),
        "validated_days_read": MetadataValue.text(
            f"{run.row_days[0]}..{run.row_days[-1]} ({len(run.row_days)} days)"
        ),
        # look-back days that failed their gates count as days without rows
        "gated_days_excluded": MetadataValue.json(run.gated_days),
        # reference rows that broke their contract (the raw tables keep them)
        "reference_rows_left_out": MetadataValue.json(run.reference_rows_left_out),
    }
    if run.gated_days:
        context.log.warning(f"left out validated days that failed their gates: {run.gated_days}")
    if len(days) == 1:
        return MaterializeResult(
            metadata=run_metadata, data_version=DataVersion(run.written[days[0]].content_hash)
        )
    return MaterializeResult(metadata=run_metadata)
