"""The replay's make rule (uptodate.py), against a real Dagster instance: a partition is skipped
only while its code version and its inputs are those it was built from."""

from dagster import DagsterInstance, DailyPartitionsDefinition, Definitions, asset, materialize

from leanops_assets.uptodate import Freshness

DAYS = DailyPartitionsDefinition(start_date="2013-01-01")
DAY = "2013-01-02"


def _assets(code_version: str):
    @asset(partitions_def=DAYS)
    def validated() -> int:
        return 1

    @asset(partitions_def=DAYS, code_version=code_version, deps=[validated])
    def features() -> int:
        return 2

    return validated, features


def _up_to_date(instance, code_version: str, day: str = DAY) -> bool:
    defs = Definitions(assets=list(_assets(code_version)))
    return Freshness(instance, defs, [day]).up_to_date("features", day, [("validated", day)])


def test_a_partition_is_rebuilt_after_a_new_code_version_or_a_newer_input():
    with DagsterInstance.ephemeral() as instance:
        validated, features = _assets("1")
        assert not _up_to_date(instance, "1"), "never built"
        materialize([validated, features], partition_key=DAY, instance=instance)
        assert _up_to_date(instance, "1"), "built from these inputs by this code: skipped"
        assert not _up_to_date(instance, "2"), "the features' code changed"
        assert not _up_to_date(instance, "1", "2013-01-03"), "another day was never built"

        materialize([validated], partition_key=DAY, instance=instance)  # its input again
        assert not _up_to_date(instance, "1"), "an input is newer than the partition"
        materialize([features], partition_key=DAY, instance=instance)
        assert _up_to_date(instance, "1")


def test_the_assets_a_replay_may_skip_carry_a_code_version():
    # With none, a build by older code would look current: the rule compares None with None.
    from dagster import AssetKey

    from leanops_assets.definitions import defs

    for name in ("raw_flights", "raw_weather", "planes", "validated_flights", "flight_features"):
        key = AssetKey(name)
        assert defs.resolve_assets_def(key).code_versions_by_key.get(key) is not None, name
