"""The feature function on real local Spark: point in time, backfill equality, stable schema."""

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from leanops_assets.contract import load_contract
from leanops_assets.dataset import FeatureTable
from leanops_assets.datasets.flights.features import days_to_nearest_holiday, holidays_around
from leanops_assets.features.declared import build_features
from leanops_assets.features.inputs import join_of, reference_schema
from leanops_assets.features.lake_io import (
    collect_features,
    days_needed,
    features_arrow_schema,
    history_start,
    read_feature_inputs,
    split_by_day,
    write_feature_partitions,
)
from leanops_assets.storage import Lake

TABLE = FeatureTable.of(load_contract())
ALL_COLUMNS, FEATURE_COLUMNS = TABLE.all_columns, TABLE.feature_columns
ID_COLUMN, LABEL_COLUMN = TABLE.id_column, TABLE.label_column
FEATURES_ARROW_SCHEMA = features_arrow_schema(TABLE)

CONTRACT = Path(__file__).parents[2] / "leanops_assets" / "datasets" / "flights" / "contract.yaml"
POST_EVENT = yaml.safe_load(CONTRACT.read_text())["post_event_columns"]
RATE_COLUMNS = [name for name in FEATURE_COLUMNS if name.endswith("_rate")]
TARGET = "2013-01-08"
WEATHER_INPUT_SCHEMA = reference_schema(load_contract(), join_of(load_contract(), "weather"))


def features_of(spark, flight_data, flights: dict, day: str) -> pa.Table:
    rows, references = flight_data.spark_inputs(spark, flights, [day])
    return collect_features(build_features(load_contract(), rows, references, [day]), TABLE)


def lake_features(spark, lake: Lake, days: list[str]) -> dict[str, pa.Table]:
    inputs = read_feature_inputs(spark, lake, load_contract(), days)
    features = build_features(load_contract(), inputs.rows, inputs.references, days)
    return split_by_day(collect_features(features, TABLE), days, TABLE)


def test_no_post_event_column_or_label_is_a_feature():
    from leanops_assets.features.lake_io import check_features_known_at_prediction_time

    assert set(POST_EVENT) == {"dep_time", "dep_delay", "arr_time", "arr_delay", "air_time"}
    assert not set(POST_EVENT) & set(FEATURE_COLUMNS)
    assert LABEL_COLUMN not in FEATURE_COLUMNS
    assert FEATURES_ARROW_SCHEMA.names == ALL_COLUMNS
    check_features_known_at_prediction_time(FEATURE_COLUMNS, load_contract())
    with pytest.raises(ValueError, match=r"\['arr_delay', 'is_late'\] are known only after"):
        check_features_known_at_prediction_time(
            [*FEATURE_COLUMNS, "arr_delay", "is_late"], load_contract()
        )


def test_holiday_distance_looks_both_ways_and_across_the_year_end(spark):
    from datetime import date

    from pyspark.sql import functions as F

    days = [date(2013, 1, 1), date(2013, 7, 3), date(2013, 12, 31)]
    frame = spark.createDataFrame([(day,) for day in days], "day date")
    distance = days_to_nearest_holiday(F.col("day"), holidays_around(days))
    found = {
        row.day: row.distance for row in frame.select("day", distance.alias("distance")).collect()
    }
    # New Year's Day itself; the day before July 4th; New Year's Eve, one day before 2014-01-01
    assert found == {date(2013, 1, 1): 0.0, date(2013, 7, 3): 1.0, date(2013, 12, 31): 1.0}


def test_lookback_days_are_clipped_at_the_start_of_history():
    first = history_start(load_contract())
    assert first == "2013-01-01"
    assert days_needed(["2013-01-03"], 7, first) == ["2013-01-01", "2013-01-02", "2013-01-03"]
    assert days_needed(["2013-03-10", "2013-03-08"], 2, first)[0] == "2013-03-06"


def test_features_of_a_day_ignore_its_outcomes_and_later_days(spark, flight_data):
    days = sorted(flight_data.flights)
    baseline = features_of(spark, flight_data, flight_data.flights, TARGET)

    altered = dict(flight_data.flights)
    for day in days:
        if day < TARGET:
            continue
        frame = altered[day].copy()
        # Every outcome of the day rewritten: all cancelled, huge delays, labels flipped.
        frame["dep_time"] = float("nan")
        frame["dep_delay"] = 999.0
        frame["arr_time"] = float("nan")
        frame["arr_delay"] = 999.0
        frame["air_time"] = float("nan")
        frame["is_late"] = 1 - frame["is_late"]
        altered[day] = frame
    changed = features_of(spark, flight_data, altered, TARGET)

    features_only = [name for name in ALL_COLUMNS if name != LABEL_COLUMN]
    assert changed.num_rows == baseline.num_rows == len(flight_data.flights[TARGET])
    assert changed.select(features_only).equals(baseline.select(features_only))
    assert not changed.column(LABEL_COLUMN).equals(baseline.column(LABEL_COLUMN))

    # The control: the day before is inside the window, so rewriting it moves the rates.
    before = dict(flight_data.flights)
    previous = before["2013-01-07"].copy()
    previous["is_late"] = 1 - previous["is_late"]
    before["2013-01-07"] = previous
    moved = features_of(spark, flight_data, before, TARGET)
    assert not moved.select(RATE_COLUMNS).equals(baseline.select(RATE_COLUMNS))
    others = [name for name in ALL_COLUMNS if name not in RATE_COLUMNS]
    assert moved.select(others).equals(baseline.select(others))


def test_range_backfill_equals_day_by_day_and_schema_is_stable(spark, fresh_lake):
    days = ["2013-01-01", "2013-01-02", "2013-01-09"]
    one_by_one = {}
    for day in days:
        one_by_one.update(lake_features(spark, fresh_lake, [day]))
    one_by_one_files = write_feature_partitions(fresh_lake, "flights", one_by_one, TABLE)

    ranged = lake_features(spark, fresh_lake, days)
    ranged_files = write_feature_partitions(fresh_lake, "flights", ranged, TABLE)

    for day in days:
        assert ranged[day].equals(one_by_one[day]), f"range and single-day features differ on {day}"
        assert ranged_files[day].content_hash == one_by_one_files[day].content_hash
        assert ranged[day].num_rows > 700
        schema = pq.read_schema(ranged_files[day].path).remove_metadata()
        assert schema.equals(FEATURES_ARROW_SCHEMA), f"schema of {day} drifted: {schema}"

    first = ranged["2013-01-01"].to_pandas()
    assert first[RATE_COLUMNS].isna().all().all(), "no history before 2013-01-01: rates are null"
    assert first[ID_COLUMN].is_monotonic_increasing and first[ID_COLUMN].is_unique
    assert_sane(ranged["2013-01-09"].to_pandas())


def assert_sane(frame):
    """Values of 2013-01-09, a Wednesday with a full week of history."""

    assert list(frame.columns) == ALL_COLUMNS
    assert frame[RATE_COLUMNS].notna().all().all()
    assert ((frame[RATE_COLUMNS] >= 0) & (frame[RATE_COLUMNS] <= 1)).all().all()
    ages = frame["plane_age"].dropna()
    assert len(ages) > 0.7 * len(frame)
    assert ages.between(0, 60).all()
    assert frame["sched_dep_hour"].between(0, 23).all()
    assert frame["sched_dep_minute_of_day"].between(0, 24 * 60 - 1).all()
    assert (frame["weekday"] == 2).all(), "2013-01-09 was a Wednesday (Monday is 0)"
    assert (frame["day_of_year"] == 9).all() and (frame["month"] == 1).all()
    assert (frame["days_to_nearest_holiday"] == 8).all(), "New Year's Day was 8 days before"
    assert (frame["origin_hour_scheduled_flights"] >= 1).all()
    assert frame["temp"].notna().mean() > 0.95, "weather joins on origin and departure hour"
    assert (frame["route"] == frame["origin"] + "-" + frame["dest"]).all()


def test_an_absent_lookback_day_is_named(tmp_path, fresh_lake):
    fresh_lake.partition_path("validated", "flights", "2013-01-05").unlink()
    with pytest.raises(FileNotFoundError, match=r"2013-01-05.*validated_flights"):
        read_feature_inputs(None, fresh_lake, load_contract(), ["2013-01-09"])


def test_a_day_without_weather_rows_reads_as_typed_empty(tmp_path, flight_data):
    from leanops_assets.contract import load_contract
    from leanops_assets.features.references import read_reference_days

    lake = Lake(tmp_path)
    lake.write_partition("raw", "weather", "2013-12-31", flight_data.weather[TARGET].iloc[0:0])
    weather = load_contract().references["weather"]
    table, left_out = read_reference_days(
        lake, weather, ["2013-12-31"], WEATHER_INPUT_SCHEMA, "raw_weather"
    )
    assert table.num_rows == 0 and table.schema.equals(WEATHER_INPUT_SCHEMA) and left_out == {}


def test_reference_rows_that_break_their_contract_are_left_out(tmp_path, flight_data):
    from leanops_assets.contract import load_contract
    from leanops_assets.features.references import read_reference_days

    weather = flight_data.weather[TARGET].head(6).copy()
    weather.loc[0, "time_hour"] = "2013-01-08 10h"  # not the contract's format
    weather.loc[1, "humid"] = 140.0  # out of range
    weather.loc[2, "origin"] = "BOS"  # not an airport of the data
    lake = Lake(tmp_path)
    lake.write_partition("raw", "weather", TARGET, weather)
    contract = load_contract().references["weather"]
    table, left_out = read_reference_days(
        lake, contract, [TARGET], WEATHER_INPUT_SCHEMA, "raw_weather"
    )
    assert left_out == {
        "out of range: humid": 1,
        "type: time_hour is not timestamp": 1,
        "unknown category: origin": 1,
    }
    assert table.num_rows == 3
    assert table.schema.field("time_hour").type == pa.timestamp("us", tz="UTC")


def test_a_gated_lookback_day_is_read_as_a_day_without_flights(spark, flight_data, fresh_lake):
    from leanops_assets.features.lake_io import GatedDayError

    gated = "2013-01-05"
    # The bad delivery of that day: every flight late. Read, it would move every late rate.
    bad = flight_data.flights[gated].assign(is_late=1)
    fresh_lake.write_partition(
        "validated", "flights", gated, bad, failed_gates=["quarantined_share_within_limit"]
    )
    inputs = read_feature_inputs(spark, fresh_lake, load_contract(), [TARGET])
    assert inputs.gated_days == {gated: ["quarantined_share_within_limit"]}
    assert gated not in inputs.row_days
    from_lake = lake_features(spark, fresh_lake, [TARGET])[TARGET]

    without = {day: frame for day, frame in flight_data.flights.items() if day != gated}
    assert from_lake.equals(features_of(spark, flight_data, without, TARGET))
    with_bad = {**flight_data.flights, gated: bad}
    assert not from_lake.equals(features_of(spark, flight_data, with_bad, TARGET))

    with pytest.raises(GatedDayError, match=rf"{gated}.*quarantined_share_within_limit"):
        read_feature_inputs(spark, fresh_lake, load_contract(), [gated])


def test_a_day_without_outcomes_has_null_labels_and_counts_for_no_rate(
    spark, flight_data, fresh_lake
):
    from leanops_assets.contract import load_contract
    from leanops_assets.datasets.flights.source import bundled_day
    from leanops_assets.validation.rules import validate_partition

    early = "2013-01-07"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEANOPS_HOME", str(fresh_lake.root.parent))
        delivered = bundled_day("flights", early)
    pre_event = validate_partition(delivered.drop(columns=POST_EVENT), load_contract(), early)
    fresh_lake.write_partition("validated", "flights", early, pre_event.validated)
    before = lake_features(spark, fresh_lake, [early, TARGET])
    assert before[early].num_rows == len(delivered)
    assert before[early].column(LABEL_COLUMN).null_count == len(delivered)
    assert pc.sum(before[early].column(LABEL_COLUMN)).as_py() is None, "no positive invented"
    without = {day: frame for day, frame in flight_data.flights.items() if day != early}
    assert before[TARGET].equals(features_of(spark, flight_data, without, TARGET))

    full = validate_partition(delivered, load_contract(), early)  # the outcomes arrive
    fresh_lake.write_partition("validated", "flights", early, full.validated)
    after = lake_features(spark, fresh_lake, [early, TARGET])
    expected = (delivered["arr_delay"].isna() | (delivered["arr_delay"] > 15)).sum()
    assert pc.sum(after[early].column(LABEL_COLUMN)).as_py() == expected > 100
    assert after[TARGET].equals(features_of(spark, flight_data, flight_data.flights, TARGET))
