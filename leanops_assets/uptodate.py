"""Which partitions the replay can skip: the make rule, read from the Dagster instance.

A partition is up to date when its latest materialization carries the asset's current code
version and is newer than the latest materialization of each of its inputs; a raw partition, when
its landing file (for the landing source) is not newer than it. Anything else is rebuilt.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, Definitions

from leanops_assets.dataset import Dataset

CODE_VERSION_TAG = "dagster/code_version"
_PAGE = 1000


@dataclass(frozen=True)
class Latest:
    storage_id: int
    timestamp: float
    code_version: str | None


def latest_materializations(
    instance: DagsterInstance, asset: str, partitions: Iterable[str] | None
) -> dict[str | None, Latest]:
    """The latest materialization of each partition (None: an unpartitioned asset)."""
    latest: dict[str | None, Latest] = {}
    wanted = None if partitions is None else sorted(set(partitions))
    cursor = None
    while True:
        result = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey.from_user_string(asset), asset_partitions=wanted),
            limit=_PAGE,
            cursor=cursor,
            ascending=False,
        )
        for record in result.records:
            materialization = record.asset_materialization
            if materialization is None or materialization.partition in latest:
                continue
            latest[materialization.partition] = Latest(
                record.storage_id, record.timestamp, materialization.tags.get(CODE_VERSION_TAG)
            )
        if not result.has_more:
            return latest
        cursor = result.cursor


class Freshness:
    """Answers "is this partition up to date?" for a set of assets and partitions, from a few
    queries to the instance."""

    def __init__(
        self,
        instance: DagsterInstance,
        defs: Definitions,
        partitions: Iterable[str],
        landing_file: Callable[[str, str], Path | None] = lambda asset, day: None,
    ):
        self.instance = instance
        self.defs = defs
        self.partitions = sorted(set(partitions))
        self.landing_file = landing_file
        self._latest: dict[str, dict[str | None, Latest]] = {}

    def _of(self, asset: str) -> dict[str | None, Latest]:
        if asset not in self._latest:
            key = AssetKey.from_user_string(asset)
            partitioned = self.defs.resolve_assets_def(key).partitions_def is not None
            self._latest[asset] = latest_materializations(
                self.instance, asset, self.partitions if partitioned else None
            )
        return self._latest[asset]

    def _code_version(self, asset: str) -> str | None:
        key = AssetKey.from_user_string(asset)
        return self.defs.resolve_assets_def(key).code_versions_by_key.get(key)

    def up_to_date(
        self, asset: str, day: str | None, inputs: Iterable[tuple[str, str | None]]
    ) -> bool:
        """`inputs`: the (asset, partition) pairs the partition was built from."""
        own = self._of(asset).get(day)
        if own is None or own.code_version != self._code_version(asset):
            return False
        landing = self.landing_file(asset, day) if day else None
        if landing is not None and (
            not landing.exists() or landing.stat().st_mtime > own.timestamp
        ):
            return False
        for upstream, partition in inputs:
            theirs = self._of(upstream).get(partition)
            if theirs is None or theirs.storage_id > own.storage_id:
                return False
        return True


def _name(ds: Dataset, asset: str) -> str:
    return ds.key(asset).to_user_string()


def landed_assets(ds: Dataset) -> dict[str, str]:
    """Asset (as a user string) -> its landing folder: the raw rows and daily reference tables."""
    landed = {_name(ds, ds.raw_asset): ds.name}
    landed.update({_name(ds, ds.reference_asset(t)): t for t in ds.daily_references})
    return landed


def freshness(
    ds: Dataset, defs: Definitions, instance: DagsterInstance, days: list[str], source: str
):
    """Which of `days` are up to date (see uptodate.py); landing files count as raw's input."""
    from leanops_assets.ingestion.sources import default_landing_dir

    landed = landed_assets(ds)

    def landing_file(asset: str, day: str):
        if source != "landing" or asset not in landed:
            return None
        folder = default_landing_dir() / landed[asset]
        found = [folder / f"{landed[asset]}_{day}.{ext}" for ext in ("csv", "parquet")]
        return next((path for path in found if path.exists()), found[0])

    return Freshness(instance, defs, days, landing_file)


def landed_and_validated(ds: Dataset, fresh: Freshness, day: str) -> bool:
    raw = _name(ds, ds.raw_asset)
    return all(fresh.up_to_date(asset, day, []) for asset in landed_assets(ds)) and (
        fresh.up_to_date(_name(ds, ds.validated_asset), day, [(raw, day)])
    )


def features_up_to_date(ds: Dataset, fresh: Freshness, day: str) -> bool:
    first = max(
        date.fromisoformat(day) - timedelta(days=ds.table.lookback_days),
        ds.contract.partition_start,
    )
    window = [
        (first + timedelta(days=i)).isoformat()
        for i in range((date.fromisoformat(day) - first).days + 1)
    ]
    inputs: list[tuple[str, str | None]] = [(_name(ds, ds.validated_asset), d) for d in window]
    for table in ds.contract.references:
        reference = _name(ds, ds.reference_asset(table))
        inputs.append((reference, day if ds.reference_is_daily(table) else None))
    return fresh.up_to_date(_name(ds, ds.features_asset), day, inputs)
