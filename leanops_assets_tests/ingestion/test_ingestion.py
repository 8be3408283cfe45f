"""raw_flights, raw_weather and planes, materialized for real into a temporary lake."""

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from leanops_assets.datasets.flights.source import bundled_day
from leanops_assets.resources import LakeResource, SourceResource
from leanops_assets_tests.flights_defs import planes, raw_flights, raw_weather

DAY = "2013-02-11"


def _run(assets, source, partition_key=DAY, instance=None):
    return materialize(
        assets,
        partition_key=partition_key,
        resources={"lake": LakeResource(), "source": source},
        instance=instance or DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _materialization(result, asset):
    return next(
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == asset
    )


def test_bundled_day_lands_with_metadata_and_data_version(leanops_home):
    result = _run([raw_flights, raw_weather], SourceResource())
    assert result.success
    flights = _materialization(result, "raw_flights")
    expected_rows = len(bundled_day("flights", DAY))
    assert flights.metadata["dagster/row_count"].value == expected_rows > 500
    assert flights.metadata["bytes"].value > 0
    assert "carrier" in flights.metadata["preview"].value
    path = leanops_home / "lake" / "raw" / "flights" / f"date={DAY}" / "part.parquet"
    assert flights.metadata["path"].value == str(path)
    assert len(pd.read_parquet(path)) == expected_rows
    weather = _materialization(result, "raw_weather")
    assert 60 <= weather.metadata["dagster/row_count"].value <= 75  # 3 airports x 24 hours


def test_materializing_twice_is_byte_identical_with_the_same_data_version(leanops_home):
    instance = DagsterInstance.ephemeral()
    first = _run([raw_flights], SourceResource(), instance=instance)
    path = leanops_home / "lake" / "raw" / "flights" / f"date={DAY}" / "part.parquet"
    first_bytes = path.read_bytes()
    second = _run([raw_flights], SourceResource(), instance=instance)
    assert path.read_bytes() == first_bytes
    assert _data_version(first) == _data_version(second)


def _data_version(result):
    materialization = result.get_asset_materialization_events()[
        0
    ].event_specific_data.materialization
    return materialization.tags["dagster/data_version"]


def test_planes_reference_table(leanops_home):
    result = materialize([planes], resources={"lake": LakeResource(), "source": SourceResource()})
    assert result.success
    table = pd.read_parquet(leanops_home / "lake" / "raw" / "planes" / "table.parquet")
    assert len(table) > 3000 and "tailnum" in table


def _landing(leanops_home, name, content: bytes):
    folder = leanops_home / "landing" / "flights"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return folder / name


def test_landing_csv_and_parquet_files_land_as_delivered(leanops_home):
    day = bundled_day("flights", DAY).head(50)
    _landing(leanops_home, f"flights_{DAY}.csv", day.to_csv(index=False).encode())
    result = _run([raw_flights], SourceResource(kind="landing"))
    assert result.success
    assert _materialization(result, "raw_flights").metadata["dagster/row_count"].value == 50
    other = "2013-02-12"
    day.to_parquet(leanops_home / "landing" / "flights" / f"flights_{other}.parquet")
    assert _run([raw_flights], SourceResource(kind="landing"), partition_key=other).success


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"year,month,day\n2013,2,11\n\xff\xfe2013,2,11\n", "is not UTF-8: byte 0xff at offset"),
        (b'year,month,"day\n2013,2,11\n', "not well-formed CSV"),
    ],
    ids=["empty", "non-utf8", "truncated-quote"],
)
def test_unreadable_landing_file_fails_naming_the_file(leanops_home, content, message):
    path = _landing(leanops_home, f"flights_{DAY}.csv", content)
    result = _run([raw_flights], SourceResource(kind="landing"))
    assert not result.success
    error = result.get_step_failure_events()[0].event_specific_data.error
    assert message in error.message and str(path) in error.message


def test_missing_landing_file_fails_naming_the_expected_file(leanops_home):
    result = _run([raw_flights], SourceResource(kind="landing"))
    error = result.get_step_failure_events()[0].event_specific_data.error
    assert f"no landing file for partition {DAY}" in error.message
    assert f"flights_{DAY}.csv" in error.message


def test_landing_file_dated_outside_the_partitions_fails_a_check(leanops_home):
    day = bundled_day("flights", DAY).head(20)
    _landing(leanops_home, f"flights_{DAY}.csv", day.to_csv(index=False).encode())
    stray = _landing(leanops_home, "flights_2012-03-01.csv", day.to_csv(index=False).encode())
    result = _run([raw_flights], SourceResource(kind="landing"))
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.metadata["observed_files_outside"].value == [str(stray)]


def test_synthetic_source_scales_a_real_day_reproducibly(leanops_home):
    from leanops_assets.contract import load_contract
    from leanops_assets.datasets.flights.source import scaled_flights_day
    from leanops_assets.validation.rules import validate_partition

    real = bundled_day("flights", DAY)
    scaled = scaled_flights_day(DAY, 10)
    assert 9 * len(real) < len(scaled) <= 10 * len(real)
    assert scaled.equals(scaled_flights_day(DAY, 10))
    assert not scaled.duplicated(["carrier", "flight", "origin", "sched_dep_time"]).any()
    outcome = validate_partition(scaled, load_contract(), DAY)
    assert outcome.quarantine.empty, outcome.reason_counts
    result = _run([raw_flights], SourceResource(kind="synthetic", scale=3))
    assert _materialization(result, "raw_flights").metadata["dagster/row_count"].value > 2 * len(
        real
    )


def test_landing_files_that_are_not_read_are_named(leanops_home):
    day = bundled_day("flights", DAY).head(20)
    gz = leanops_home / "landing" / "flights" / f"flights_{DAY}.csv.gz"
    gz.parent.mkdir(parents=True)
    day.to_csv(gz, index=False, compression="gzip")
    misnamed = _landing(leanops_home, f"Flights {DAY}.csv", day.to_csv(index=False).encode())
    result = _run([raw_flights], SourceResource(kind="landing"))
    error = result.get_step_failure_events()[0].event_specific_data.error
    assert f"no landing file for partition {DAY}" in error.message
    assert str(gz) in error.message and str(misnamed) in error.message

    _landing(leanops_home, f"flights_{DAY}.csv", day.to_csv(index=False).encode())
    result = _run([raw_flights], SourceResource(kind="landing"))
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.metadata["observed_unread_files"].value == [str(misnamed), str(gz)]
