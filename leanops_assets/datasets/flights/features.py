"""The flights' own features, added to the declared ones of contract.yaml (features.function).

- sched_dep_minute_of_day: from sched_dep_time (HHMM); the prediction time is the hour only;
- days_to_nearest_holiday: absolute days to the closest US federal holiday, before or after;
- origin_hour_scheduled_flights: flights scheduled at the origin in the departure hour, from
  the day's schedule, which is known in advance;
- plane_age: the flight's year minus the plane's year (planes, joined by the contract).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


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


def add_flight_features(flights: DataFrame, target_dates: list[date]) -> DataFrame:
    """The four flights-only columns, on the target days' flights with the declared columns
    (sched_dep_hour from the calendar, plane_year from planes)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    day = F.col("flight_date")
    origin_hour = Window.partitionBy("flight_date", "origin", "sched_dep_hour")
    minute_of_day = F.floor(F.col("sched_dep_time") / 100) * 60 + F.col("sched_dep_time") % 100
    return (
        flights.withColumn("sched_dep_minute_of_day", minute_of_day.cast("double"))
        .withColumn(
            "days_to_nearest_holiday", days_to_nearest_holiday(day, holidays_around(target_dates))
        )
        .withColumn("origin_hour_scheduled_flights", F.count(F.lit(1)).over(origin_hour))
        .withColumn("plane_age", F.year(day).cast("double") - F.col("plane_year"))
    )
