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

CODE_VERSION_TAG = "dagster/code_version"
LANDED = {"raw_flights": "flights", "raw_weather": "weather"}  # asset: landing folder
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
            AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=wanted),
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
            key = AssetKey(asset)
            partitioned = self.defs.resolve_assets_def(key).partitions_def is not None
            self._latest[asset] = latest_materializations(
                self.instance, asset, self.partitions if partitioned else None
            )
        return self._latest[asset]

    def _code_version(self, asset: str) -> str | None:
        key = AssetKey(asset)
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


def freshness(defs: Definitions, instance: DagsterInstance, days: list[str], source: str):
    """Which of `days` are up to date (see uptodate.py); landing files count as raw's input."""
    from leanops_assets.ingestion.sources import default_landing_dir

    def landing_file(asset: str, day: str):
        if source != "landing" or asset not in LANDED:
            return None
        folder = default_landing_dir() / LANDED[asset]
        found = [folder / f"{LANDED[asset]}_{day}.{ext}" for ext in ("csv", "parquet")]
        return next((path for path in found if path.exists()), found[0])

    return Freshness(instance, defs, days, landing_file)


def landed_and_validated(fresh, day: str) -> bool:
    return (
        fresh.up_to_date("raw_flights", day, [])
        and fresh.up_to_date("raw_weather", day, [])
        and fresh.up_to_date("validated_flights", day, [("raw_flights", day)])
    )


def features_up_to_date(fresh, day: str) -> bool:
    from leanops_assets.features.schema import DEFAULT_LOOKBACK_DAYS

    first = max(date.fromisoformat(day) - timedelta(days=DEFAULT_LOOKBACK_DAYS), date(2013, 1, 1))
    window = [
        (first + timedelta(days=i)).isoformat()
        for i in range((date.fromisoformat(day) - first).days + 1)
    ]
    inputs = [("validated_flights", d) for d in window] + [("raw_weather", day), ("planes", None)]
    return fresh.up_to_date("flight_features", day, inputs)
