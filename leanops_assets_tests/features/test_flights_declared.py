"""Flights through the declared features: the partitions of the code before them, value for value.

The expected rows, columns and counts below were written down from the feature partitions of
main at 78f402e (features/build.py, the hand-written flights function), built from the same
fixture days.
"""

import math

import pytest

from leanops_assets.dataset import bundled_dataset
from leanops_assets.features.lake_io import materialize_feature_days

COLUMNS_BEFORE = [
    "flight_id", "flight_date", "is_late",
    "carrier", "origin", "dest", "route", "plane_type", "plane_manufacturer",
    "sched_dep_hour", "sched_dep_minute_of_day", "weekday", "month", "day_of_year",
    "days_to_nearest_holiday", "origin_hour_scheduled_flights", "distance", "plane_age",
    "plane_seats", "plane_engines",
    "temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib",
    "carrier_late_rate", "carrier_cancel_rate", "origin_late_rate", "origin_cancel_rate",
    "route_late_rate", "route_cancel_rate", "tailnum_late_rate", "tailnum_cancel_rate",
]  # fmt: skip
ROWS_BEFORE = {"2013-01-01": 842, "2013-01-09": 902}
NAN = float("nan")
# 2013-01-09: a flight at 19:45 from JFK; one at 08:34 from EWR; one whose plane is unknown.
VALUES_BEFORE = {
    "9E-3314-JFK-2013-01-09-1945": {
        "is_late": 0, "carrier": "9E", "origin": "JFK", "dest": "JAX", "route": "JFK-JAX",
        "plane_type": "Fixed wing multi engine", "plane_manufacturer": "BOMBARDIER INC",
        "sched_dep_hour": 19.0, "sched_dep_minute_of_day": 1185.0, "weekday": 2.0,
        "month": 1.0, "day_of_year": 9.0, "days_to_nearest_holiday": 8.0,
        "origin_hour_scheduled_flights": 23.0, "distance": 828.0, "plane_age": 5.0,
        "plane_seats": 95.0, "plane_engines": 2.0, "temp": 48.02, "dewp": 37.04,
        "humid": 65.56, "wind_dir": 250.0, "wind_speed": 16.11092, "wind_gust": NAN,
        "precip": 0.0, "pressure": 1022.8, "visib": 10.0,
        "carrier_late_rate": 0.23356675706980817, "carrier_cancel_rate": 0.011024062773681386,
        "origin_late_rate": 0.17639454933288318, "origin_cancel_rate": 0.002329274574258291,
        "route_late_rate": 0.27646018338026135, "route_cancel_rate": 0.0015793083531874955,
        "tailnum_late_rate": 0.13017110677929392, "tailnum_cancel_rate": 0.003790340047649989,
    },
    "EV-4250-EWR-2013-01-09-0834": {
        "is_late": 1, "carrier": "EV", "origin": "EWR", "dest": "GRR", "route": "EWR-GRR",
        "plane_type": "Fixed wing multi engine", "plane_manufacturer": "EMBRAER",
        "sched_dep_hour": 8.0, "sched_dep_minute_of_day": 514.0, "weekday": 2.0,
        "month": 1.0, "day_of_year": 9.0, "days_to_nearest_holiday": 8.0,
        "origin_hour_scheduled_flights": 27.0, "distance": 605.0, "plane_age": 15.0,
        "plane_seats": 55.0, "plane_engines": 2.0, "temp": 37.04, "dewp": 30.92,
        "humid": 78.31, "wind_dir": 0.0, "wind_speed": 0.0, "wind_gust": NAN,
        "precip": 0.0, "pressure": 1028.7, "visib": 7.0,
        "carrier_late_rate": 0.3552403527016084, "carrier_cancel_rate": 0.009780621059087202,
        "origin_late_rate": 0.24620114071186197, "origin_cancel_rate": 0.006691935600317667,
        "route_late_rate": 0.4056506148773855, "route_cancel_rate": 0.0021057444709166604,
        "tailnum_late_rate": 0.3040435847453391, "tailnum_cancel_rate": 0.0043734692857499875,
    },
    "9E-4023-EWR-2013-01-09-0755": {
        "is_late": 1, "carrier": "9E", "origin": "EWR", "dest": "CVG", "route": "EWR-CVG",
        "plane_type": None, "plane_manufacturer": None,
        "sched_dep_hour": 7.0, "sched_dep_minute_of_day": 475.0, "weekday": 2.0,
        "month": 1.0, "day_of_year": 9.0, "days_to_nearest_holiday": 8.0,
        "origin_hour_scheduled_flights": 28.0, "distance": 569.0, "plane_age": NAN,
        "plane_seats": NAN, "plane_engines": NAN, "temp": 33.98, "dewp": 30.02,
        "humid": 85.24, "wind_dir": 260.0, "wind_speed": 4.60312, "wind_gust": NAN,
        "precip": 0.0, "pressure": 1029.0, "visib": 6.0,
        "carrier_late_rate": 0.23356675706980817, "carrier_cancel_rate": 0.011024062773681386,
        "origin_late_rate": 0.24620114071186197, "origin_cancel_rate": 0.006691935600317667,
        "route_late_rate": 0.3212299424015154, "route_cancel_rate": 0.01791279831719915,
        "tailnum_late_rate": 0.19525666016894086, "tailnum_cancel_rate": 0.0056855100714749834,
    },
}  # fmt: skip
# Nulls of 2013-01-09 per column (every other column has none).
NULLS_BEFORE = {
    "plane_type": 149, "plane_manufacturer": 149, "plane_age": 176, "plane_seats": 149,
    "plane_engines": 149, "wind_dir": 18, "wind_gust": 799,
}  # fmt: skip


def same(found, expected) -> bool:
    if isinstance(expected, float):
        return (math.isnan(found) and math.isnan(expected)) or found == pytest.approx(expected)
    return found == expected


def test_flights_features_come_out_as_before_the_declared_block(spark, fresh_lake):
    by_day = {}  # each day's rows as written, handed over once per day
    run = materialize_feature_days(
        spark,
        fresh_lake,
        bundled_dataset(),
        ["2013-01-01", "2013-01-09"],
        on_day=lambda day, rows, written: by_day.update({day: rows}),
    )

    assert {day: table.num_rows for day, table in by_day.items()} == ROWS_BEFORE
    assert {day: written.rows for day, written in run.written.items()} == ROWS_BEFORE
    for day in ROWS_BEFORE:
        assert by_day[day].schema.names == COLUMNS_BEFORE
        written = fresh_lake.read_partitions("features", "flights", [day])
        assert list(written.columns) == COLUMNS_BEFORE and len(written) == ROWS_BEFORE[day]

    frame = by_day["2013-01-09"].to_pandas().set_index("flight_id")
    for flight_id, expected in VALUES_BEFORE.items():
        row = frame.loc[flight_id]
        differ = {c: (row[c], v) for c, v in expected.items() if not same(row[c], v)}
        assert not differ, f"{flight_id}: (found, before) {differ}"
    nulls = frame.isna().sum()
    assert nulls[nulls > 0].to_dict() == NULLS_BEFORE

    first = by_day["2013-01-01"].to_pandas()
    rates = [c for c in COLUMNS_BEFORE if c.endswith("_rate")]
    assert first[rates].isna().all().all(), "2013-01-01 has no day before it: every rate null"
    assert (first["weekday"] == 1).all() and (first["days_to_nearest_holiday"] == 0).all()


def test_a_long_backfill_is_built_in_batches_that_fit_the_driver_with_the_same_bytes(
    spark, fresh_lake, tmp_path
):
    """Every row of a backfill passes through the driver: at ten times the real volume, 300
    days in one collect exhausted its memory. Batches of at most `batch_rows` target rows bound
    it, and the partitions come out byte-identical to one batch."""
    import shutil

    from leanops_assets.storage import Lake

    days = [f"2013-01-{n:02d}" for n in range(1, 11)]  # 842, 943, 914, 915, 720, 832, 933, ...
    whole = materialize_feature_days(spark, fresh_lake, bundled_dataset(), days)
    copy = tmp_path / "batched"
    shutil.copytree(fresh_lake.root, copy)
    shutil.rmtree(copy / "features")
    seen: list[tuple[str, int]] = []
    batched = materialize_feature_days(
        spark,
        Lake(copy),
        bundled_dataset(),
        days,
        batch_rows=2000,
        on_day=lambda day, rows, written: seen.append((day, rows.num_rows)),
    )

    assert whole.batches == [days]
    assert batched.batches == [days[0:2], days[2:4], days[4:6], days[6:8], days[8:10]]
    assert {d: f.content_hash for d, f in batched.written.items()} == {
        d: f.content_hash for d, f in whole.written.items()
    }
    assert batched.row_days == whole.row_days == days
    assert seen == [(day, whole.written[day].rows) for day in days]  # each day once, in order
