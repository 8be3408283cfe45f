"""Ingestion: raw days land in the lake exactly as the source gave them.

One raw asset per dataset (its daily rows) and one per reference table of its contract: daily
`raw_<table>` for a table joined as of a time, an unpartitioned `<table>` for one joined by key.
"""

from datetime import UTC, date, datetime
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    DataVersion,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from leanops_assets.contract import Contract
from leanops_assets.dataset import Dataset
from leanops_assets.metadata import preview, written_file_metadata
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.resources import LakeResource, SourceResource

LANDING_CHECK = "landing_files_within_partitions"


def _landing_dir(source: SourceResource) -> Path:
    from leanops_assets.ingestion import sources  # pandas loads in runs, not with the definitions

    return Path(source.landing_dir) if source.landing_dir else sources.default_landing_dir()


def land_day(ds: Dataset, table: str, day: str, source: SourceResource, lake: LakeResource):
    """One day of `table` (the dataset's rows or a daily reference table) written to raw/<table>."""
    from leanops_assets.ingestion import bundled, sources

    if source.kind == "landing":
        try:
            frame, path = sources.landing_day(_landing_dir(source), table, day)
        except sources.SourceError as exc:
            raise Failure(description=str(exc), allow_retries=False) from exc
        origin = str(path)
    else:
        scale = source.scale if source.kind == "synthetic" else None
        frame, origin = bundled.bundled_rows(ds, table, day, scale)
        if table == ds.name and source.outcomes_known_until and day > source.outcomes_known_until:
            frame = frame.drop(columns=list(ds.contract.outcome_columns), errors="ignore")
            origin += f", before its outcomes (known until {source.outcomes_known_until})"
    written = lake.lake().write_partition("raw", table, day, frame)
    metadata = {
        **written_file_metadata(written),
        "source": MetadataValue.text(origin),
        "preview": preview(frame),
    }
    return written, metadata


def land_table(ds: Dataset, table: str, source: SourceResource, lake: LakeResource):
    """A whole table joined by key, from <landing>/<table>/<table>.csv|parquet or the bundle."""
    from leanops_assets.ingestion import bundled, sources

    if source.kind != "landing":
        frame, origin = bundled.bundled_whole_table(ds, table)
    else:
        folder = _landing_dir(source) / table
        present = [p for p in (folder / f"{table}.parquet", folder / f"{table}.csv") if p.exists()]
        if not present:
            raise FileNotFoundError(
                f"no {table} file in {folder}: expected {table}.csv or {table}.parquet"
            )
        frame, origin = sources.read_landing_file(present[0]), str(present[0])
    written = lake.lake().write_table("raw", table, frame)
    metadata = {
        **written_file_metadata(written),
        "source": MetadataValue.text(origin),
        "preview": preview(frame),
    }
    return written, metadata


def _last_partition_day(contract: Contract) -> date:
    """Today (UTC) for open-ended partitions: today's file becomes a partition tomorrow."""
    today = datetime.now(UTC).date()
    return min(contract.partition_end, today) if contract.partition_end else today


def _files_outside_partitions(source: SourceResource, contract: Contract) -> list[str]:
    """Landing files dated before the first day or after the last: no partition reads them."""
    from leanops_assets.ingestion import sources

    last = _last_partition_day(contract)
    return [
        str(f.path)
        for f in sources.landing_files(_landing_dir(source), contract.name)
        if not contract.partition_start <= date.fromisoformat(f.day) <= last
    ]


def landing_check(source: SourceResource, contract: Contract) -> AssetCheckResult:
    """Every landing file of the dataset is read by some partition (a warning otherwise)."""
    outside, unread = [], []
    if source.kind == "landing":
        from leanops_assets.ingestion.sources import unread_landing_files

        outside = _files_outside_partitions(source, contract)
        unread = [str(p) for p in unread_landing_files(_landing_dir(source), contract.name)]
    return AssetCheckResult(
        check_name=LANDING_CHECK,
        passed=not outside and not unread,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "observed_files_outside": MetadataValue.json(outside),
            "observed_unread_files": MetadataValue.json(unread),
            "expected": MetadataValue.text(
                f"files dated {contract.partition_start} .. {_last_partition_day(contract)}"
                if source.kind == "landing"
                else "bundled source: no landing folder"
            ),
        },
    )


def _raw_asset(ds: Dataset) -> AssetsDefinition:
    landing = AssetCheckSpec(
        LANDING_CHECK,
        asset=ds.key(ds.raw_asset),
        description="Every landing file is read: named <dataset>_YYYY-MM-DD.csv|parquet and "
        "dated from the first day to today.",
    )

    @asset(
        key=ds.key(ds.raw_asset),
        partitions_def=daily_partitions_for(ds.contract),
        group_name="ingestion",
        kinds={"pandas", "parquet"},
        code_version="1",
        check_specs=[landing],
        description="One day of rows, exactly as the source delivered it.",
    )
    def _raw(
        context: AssetExecutionContext, source: SourceResource, lake: LakeResource
    ) -> MaterializeResult:
        written, metadata = land_day(ds, ds.name, context.partition_key, source, lake)
        return MaterializeResult(
            metadata=metadata,
            data_version=DataVersion(written.content_hash),
            check_results=[landing_check(source, ds.contract)],
        )

    return _raw


def _daily_reference(ds: Dataset, table: str) -> AssetsDefinition:
    @asset(
        key=ds.key(ds.reference_asset(table)),
        partitions_def=daily_partitions_for(ds.contract),
        group_name="ingestion",
        kinds={"pandas", "parquet"},
        code_version="1",
        description=f"One day of the reference table {table}, exactly as the source delivered it.",
    )
    def _reference_day(
        context: AssetExecutionContext, source: SourceResource, lake: LakeResource
    ) -> MaterializeResult:
        written, metadata = land_day(ds, table, context.partition_key, source, lake)
        return MaterializeResult(metadata=metadata, data_version=DataVersion(written.content_hash))

    return _reference_day


def _keyed_reference(ds: Dataset, table: str) -> AssetsDefinition:
    @asset(
        key=ds.key(ds.reference_asset(table)),
        group_name="ingestion",
        kinds={"pandas", "parquet"},
        code_version="1",
        description=f"Reference table {table}, joined by key: the whole table as delivered.",
    )
    def _reference_table(source: SourceResource, lake: LakeResource) -> MaterializeResult:
        written, metadata = land_table(ds, table, source, lake)
        return MaterializeResult(metadata=metadata, data_version=DataVersion(written.content_hash))

    return _reference_table


def build_ingestion_assets(ds: Dataset) -> list[AssetsDefinition]:
    """The dataset's raw asset, then one asset per reference table of its contract, in order."""
    references = [
        _daily_reference(ds, table) if ds.reference_is_daily(table) else _keyed_reference(ds, table)
        for table in ds.contract.references
    ]
    return [_raw_asset(ds), *references]
