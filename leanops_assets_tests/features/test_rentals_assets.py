"""The rentals as a second dataset of the code location: raw (landing), validated and feature
assets built by the stage factories, materialized by Dagster for two days into the lake.

Expected values are worked out by hand from the rows of rentals.py (lookback 2 days, prior 2).
"""

import pytest
from dagster import AssetKey, DagsterInstance, materialize
from dagster_pyspark import PySparkResource

from leanops_assets.features.assets import build_feature_assets
from leanops_assets.ingestion.assets import build_ingestion_assets
from leanops_assets.resources import LakeResource, SourceResource
from leanops_assets.settings import LOCAL_SPARK_CONF
from leanops_assets.storage import Lake
from leanops_assets.validation.assets import build_validation_assets
from leanops_assets_tests.features.rentals import (
    RENTALS,
    rentals_dataset,
    write_landing_day,
    write_landing_observations,
)

DAYS = ["2024-03-01", "2024-03-02"]


def _assets():
    ds = rentals_dataset()
    return [*build_ingestion_assets(ds), *build_validation_assets(ds), *build_feature_assets(ds)]


def test_rentals_assets_have_their_keys_and_the_feature_deps():
    assets = _assets()
    assert [a.key.to_user_string() for a in assets] == [
        "rentals/raw_rentals",
        "rentals/raw_station_weather",
        "rentals/validated_rentals",
        "rentals/rentals_features",
    ]
    validated, features = assets[2], assets[3]
    assert set(validated.dependency_keys) == {AssetKey(["rentals", "raw_rentals"])}
    assert [c.name for c in validated.check_specs] == [
        "schema_matches_contract",
        "keys_not_null",
        "quarantined_share_within_limit",
        "daily_volume_within_band",
    ]
    assert set(features.dependency_keys) == {
        AssetKey(["rentals", "validated_rentals"]),
        AssetKey(["rentals", "raw_station_weather"]),
    }
    mapping = features.get_partition_mapping(AssetKey(["rentals", "validated_rentals"]))
    assert mapping.start_offset == -2 and mapping.end_offset == 0  # the contract's lookback
    assert features.code_versions_by_key[features.key] == "1"


def test_two_rentals_days_materialize_into_the_lake(leanops_home):
    landing = leanops_home / "landing"
    for day in DAYS:
        write_landing_day(landing, day, [r for r in RENTALS if r[3].startswith(day)])
        write_landing_observations(landing, day)
    resources = {
        "lake": LakeResource(),
        "source": SourceResource(kind="landing"),
        "pyspark": PySparkResource(spark_config=LOCAL_SPARK_CONF),
    }
    with DagsterInstance.ephemeral() as instance:
        for day in DAYS:
            result = materialize(
                _assets(), partition_key=day, resources=resources, instance=instance
            )
            assert result.success, day
            assert all(check.passed for check in result.get_asset_check_evaluations()), day
            found = {
                e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
            }
            assert found == {a.key.to_user_string() for a in _assets()}

    lake = Lake(leanops_home / "lake")
    rows = {
        (stage, table): [lake.partition_rows(stage, table, day) for day in DAYS]
        for stage, table in [
            ("raw", "rentals"),
            ("raw", "station_weather"),
            ("validated", "rentals"),
            ("quarantine", "rentals"),
            ("features", "rentals"),
        ]
    }
    assert rows == {
        ("raw", "rentals"): [4, 4],
        ("raw", "station_weather"): [2, 0],  # no observation on the 2nd
        ("validated", "rentals"): [4, 4],
        ("quarantine", "rentals"): [0, 0],
        ("features", "rentals"): [4, 4],
    }
    first = lake.read_partition("features", "rentals", DAYS[0]).set_index("rental_key")
    assert first.loc["r01", "temp_c"] == 7.5  # 22:00 known at 22:10; the 99 of 22:20 left out
    assert first["station_long_rate"].isna().all(), "no day before the first"
    second = lake.read_partition("features", "rentals", DAYS[1]).set_index("rental_key")
    # Over 03-01: north r01 long and damaged, r02, r03 long; south r04; overall 2/4 long, 1/4 damaged
    assert second.loc["r05", "station_long_rate"] == pytest.approx((2 + 2 * 0.5) / (3 + 2))
    assert second.loc["r05", "station_damaged_rate"] == pytest.approx((1 + 2 * 0.25) / (3 + 2))
    assert second.loc["r07", "station_long_rate"] == pytest.approx((0 + 2 * 0.5) / (1 + 2))
    assert second.loc["r07", "station_damaged_rate"] == pytest.approx((0 + 2 * 0.25) / (1 + 2))
    assert second["temp_c"].isna().all()
