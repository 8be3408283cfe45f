"""Flight features in PySpark: one function for training and scoring, point-in-time correct.

`build_flight_features` turns validated flights (the target days plus the look-back days before
them), the target days' weather and the planes table into exactly `schema.ALL_COLUMNS`, one row
per flight of the target days (collect_features sorts them by flight id).

Point in time: for a flight on day D,
- schedule, route, plane and origin-hour counts come from D's schedule, which is known in advance;
- weather is the observation at the origin in the scheduled departure hour;
- rolling late and cancel rates use only flights of the `lookback_days` days strictly before D
  whose outcome is known (label not null), so neither D's labels nor D's post-event columns
  (dep_time, arr_delay, ...) reach a feature, and a flight not yet flown counts for nothing.
Every target day uses its own window, so a range of days gives exactly what the days give
one at a time.

Rates are smoothed toward the window's overall rate, as if each key had `PRIOR_FLIGHTS` more
flights at that rate: (events + PRIOR_FLIGHTS * prior) / (flights + PRIOR_FLIGHTS). A key with no
flight in the window (a new route, an unknown or missing tail number) gets the overall rate.
When the window holds no flight at all (the first day of the data) every rate is null.
Categorical features are null when unknown (a tail number not in the planes table).
Weekday is Monday 0 .. Sunday 6; days_to_nearest_holiday is the absolute distance in days to
the closest US federal holiday (before or after).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from leanops_assets.features.schema import (
    ALL_COLUMNS,
    CATEGORICAL_FEATURES,
    DATE_COLUMN,
    DEFAULT_LOOKBACK_DAYS,
    ID_COLUMN,
    LABEL_COLUMN,
    NUMERIC_FEATURES,
    WEATHER_FEATURES,
)
from leanops_assets.storage import check_day

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

PRIOR_FLIGHTS = 10.0
ALL_KEY = "*"  # key of the window's totals (key_kind "all"): a value no real key takes

WEATHER_COLUMNS = WEATHER_FEATURES  # the weather columns keep their names as features
# Keys of the rolling rates: feature prefix -> column of the flight.
RATE_KEYS = {"carrier": "carrier", "origin": "origin", "route": "route", "tailnum": "tailnum"}


def holidays_around(days: list[date]) -> list[date]:
    """US federal holidays from the year before the first day to the year after the last."""
    from pandas.tseries.holiday import USFederalHolidayCalendar

    start = date(min(days).year - 1, 1, 1)
    end = date(max(days).year + 1, 12, 31)
    return [stamp.date() for stamp in USFederalHolidayCalendar().holidays(start=start, end=end)]


def days_to_nearest_holiday(day: Column, holidays: list[date]) -> Column:
    """Absolute days from `day` to the closest of `holidays`: a row-wise expression, no job."""
    from pyspark.sql import functions as F

    gaps = [F.abs(F.datediff(day, F.lit(holiday))) for holiday in holidays]
    return F.least(*gaps).cast("double")


def _smoothed(events: Column, flights: Column, prior: Column) -> Column:
    from pyspark.sql import functions as F

    rate = (events + F.lit(PRIOR_FLIGHTS) * prior) / (flights + F.lit(PRIOR_FLIGHTS))
    return F.when(prior.isNull(), F.lit(None).cast("double")).otherwise(rate)


def _rolling_rates(history: DataFrame, target_dates: list[date], lookback_days: int) -> DataFrame:
    """Per target day and key: late and cancel counts over the days [D - lookback, D - 1].

    Returns target_date, key_kind, key, flights, late, cancelled; key_kind "all" holds the
    window's totals (key ALL_KEY), used as the prior.
    """
    from pyspark.sql import functions as F

    keys = _key_structs(with_totals=True)
    # One row per flight and key kind; a flight without a key value (no tail number) counts
    # only toward the window's totals.
    stacked = (
        history.select(DATE_COLUMN, "late", "cancelled", F.explode(F.array(*keys)).alias("k"))
        .select(DATE_COLUMN, "late", "cancelled", "k.key_kind", "k.key")
        .where(F.col("key").isNotNull())
    )
    daily = stacked.groupBy(DATE_COLUMN, "key_kind", "key").agg(
        F.count(F.lit(1)).alias("flights"),
        F.sum("late").alias("late"),
        F.sum("cancelled").alias("cancelled"),
    )
    # Day d counts toward the targets d + 1 .. d + lookback (those that are target days).
    later = F.sequence(
        F.date_add(F.col(DATE_COLUMN), 1), F.date_add(F.col(DATE_COLUMN), lookback_days)
    )
    return (
        daily.withColumn("target_date", F.explode(later))
        .where(F.col("target_date").isin(target_dates))
        .groupBy("target_date", "key_kind", "key")
        .agg(
            F.sum("flights").alias("flights"),
            F.sum("late").alias("late"),
            F.sum("cancelled").alias("cancelled"),
        )
    )


def _key_structs(with_totals: bool) -> list[Column]:
    from pyspark.sql import functions as F

    keys = [
        F.struct(F.lit(kind).alias("key_kind"), F.col(column).cast("string").alias("key"))
        for kind, column in RATE_KEYS.items()
    ]
    if with_totals:
        keys.append(F.struct(F.lit("all").alias("key_kind"), F.lit(ALL_KEY).alias("key")))
    return keys


def _rate_columns(flights: DataFrame, windows: DataFrame) -> DataFrame:
    """flight_id, flight_date and the eight smoothed rates, joining the windows only once."""
    from pyspark.sql import functions as F

    exploded = flights.select(
        ID_COLUMN, DATE_COLUMN, F.explode(F.array(*_key_structs(with_totals=True))).alias("k")
    ).select(ID_COLUMN, DATE_COLUMN, "k.key_kind", "k.key")
    matched = exploded.join(
        windows.withColumnRenamed("target_date", DATE_COLUMN),
        [DATE_COLUMN, "key_kind", "key"],
        "left",
    )
    wide = matched.groupBy(ID_COLUMN, DATE_COLUMN).agg(
        *[
            F.max(F.when(F.col("key_kind") == kind, F.col(measure))).alias(f"{kind}__{measure}")
            for kind in [*RATE_KEYS, "all"]
            for measure in ("flights", "late", "cancelled")
        ]
    )
    prior_late = F.col("all__late") / F.col("all__flights")
    prior_cancel = F.col("all__cancelled") / F.col("all__flights")
    rates = []
    for prefix in RATE_KEYS:
        n = F.coalesce(F.col(f"{prefix}__flights"), F.lit(0))
        late = F.coalesce(F.col(f"{prefix}__late"), F.lit(0))
        cancelled = F.coalesce(F.col(f"{prefix}__cancelled"), F.lit(0))
        rates.append(_smoothed(late, n, prior_late).alias(f"{prefix}_late_rate"))
        rates.append(_smoothed(cancelled, n, prior_cancel).alias(f"{prefix}_cancel_rate"))
    return wide.select(ID_COLUMN, DATE_COLUMN, *rates)


def build_flight_features(
    flights: DataFrame,
    weather: DataFrame,
    planes: DataFrame,
    target_days: list[str],
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> DataFrame:
    """Features of every flight of `target_days`, columns `ALL_COLUMNS`; rows unordered.

    flights: validated flights covering the target days and the `lookback_days` days before the
    earliest one (days before the data starts are simply absent). weather: hourly weather for
    the target days (origin, time_hour, ...). planes: the planes reference table.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if lookback_days < 1:
        raise ValueError(f"lookback_days must be at least 1, got {lookback_days}")
    target_dates = sorted({date.fromisoformat(check_day(day)) for day in target_days})
    if not target_dates:
        raise ValueError("target_days is empty: name at least one day (YYYY-MM-DD)")
    # Target days as literals: filters and a row-wise holiday distance, no join with a frame.
    is_target = F.col(DATE_COLUMN).isin(target_dates)
    days_to_holiday = days_to_nearest_holiday(F.col(DATE_COLUMN), holidays_around(target_dates))
    earliest = target_dates[0] - timedelta(days=lookback_days)

    base = flights.select(
        F.col(ID_COLUMN).cast("string").alias(ID_COLUMN),
        F.col(DATE_COLUMN).cast("date").alias(DATE_COLUMN),
        F.col(LABEL_COLUMN).cast("long").alias(LABEL_COLUMN),
        F.col("carrier").cast("string").alias("carrier"),
        F.col("origin").cast("string").alias("origin"),
        F.col("dest").cast("string").alias("dest"),
        F.col("tailnum").cast("string").alias("tailnum"),
        F.col("sched_dep_time").cast("long").alias("sched_dep_time"),
        F.col("distance").cast("double").alias("distance"),
        F.col("time_hour").cast("string").alias("time_hour"),
        F.col("dep_time").isNull().cast("long").alias("cancelled"),
    ).withColumn("route", F.concat_ws("-", "origin", "dest"))

    # Only flights whose outcome is known count: one not yet flown is neither late nor cancelled.
    history = base.where(
        (F.col(DATE_COLUMN) >= F.lit(earliest))
        & (F.col(DATE_COLUMN) < F.lit(target_dates[-1]))
        & F.col(LABEL_COLUMN).isNotNull()
    ).select(DATE_COLUMN, *RATE_KEYS.values(), F.col(LABEL_COLUMN).alias("late"), "cancelled")
    windows = _rolling_rates(history, target_dates, lookback_days)

    hour = F.floor(F.col("sched_dep_time") / 100)
    origin_hour = Window.partitionBy(DATE_COLUMN, "origin", "sched_dep_hour")
    scheduled = (
        base.drop("cancelled")
        .where(is_target)
        .withColumn("days_to_nearest_holiday", days_to_holiday)
        .withColumn("sched_dep_hour", hour.cast("double"))
        .withColumn(
            "sched_dep_minute_of_day", (hour * 60 + F.col("sched_dep_time") % 100).cast("double")
        )
        .withColumn("weekday", ((F.dayofweek(DATE_COLUMN) + 5) % 7).cast("double"))
        .withColumn("month", F.month(DATE_COLUMN).cast("double"))
        .withColumn("day_of_year", F.dayofyear(DATE_COLUMN).cast("double"))
        .withColumn("origin_hour_scheduled_flights", F.count(F.lit(1)).over(origin_hour))
    )

    plane_rank = Window.partitionBy("tailnum").orderBy(
        F.col("year").desc_nulls_last(), "type", "manufacturer", "seats", "engines"
    )
    plane_rows = (
        planes.select(
            F.col("tailnum").cast("string").alias("tailnum"),
            F.col("year").cast("double").alias("year"),
            F.col("type").cast("string").alias("type"),
            F.col("manufacturer").cast("string").alias("manufacturer"),
            F.col("seats").cast("double").alias("seats"),
            F.col("engines").cast("double").alias("engines"),
        )
        .where(F.col("tailnum").isNotNull())
        .withColumn("_rank", F.row_number().over(plane_rank))
        .where(F.col("_rank") == 1)
        .select(
            "tailnum",
            F.col("year").alias("plane_year"),
            F.col("type").alias("plane_type"),
            F.col("manufacturer").alias("plane_manufacturer"),
            F.col("seats").alias("plane_seats"),
            F.col("engines").alias("plane_engines"),
        )
    )
    weather_rows = weather.select(
        F.col("origin").cast("string").alias("origin"),
        F.col("time_hour").cast("string").alias("time_hour"),
        *[F.col(name).cast("double").alias(name) for name in WEATHER_COLUMNS],
    )
    # One observation per origin and hour; should a source repeat an hour, average the repeats.
    weather_hourly = weather_rows.groupBy("origin", "time_hour").agg(
        *[F.avg(name).alias(name) for name in WEATHER_COLUMNS]
    )

    joined = (
        scheduled.join(F.broadcast(plane_rows), "tailnum", "left")
        .withColumn("plane_age", F.year(DATE_COLUMN).cast("double") - F.col("plane_year"))
        .join(weather_hourly, ["origin", "time_hour"], "left")
    )
    target_flights = base.where(is_target)
    with_rates = joined.join(
        _rate_columns(target_flights, windows), [ID_COLUMN, DATE_COLUMN], "left"
    )

    casts = [
        F.col(ID_COLUMN).cast("string"),
        F.col(DATE_COLUMN).cast("date"),
        F.col(LABEL_COLUMN).cast("long"),
        *[F.col(name).cast("string").alias(name) for name in CATEGORICAL_FEATURES],
        *[F.col(name).cast("double").alias(name) for name in NUMERIC_FEATURES],
    ]
    # Unordered: the driver sorts the collected rows (collect_features), which saves a shuffle.
    return with_rates.select(*casts).select(*ALL_COLUMNS)
