"""Column names of the feature table: the interface between features, training and monitoring."""

ID_COLUMN = "flight_id"
DATE_COLUMN = "flight_date"
LABEL_COLUMN = "is_late"

DEFAULT_LOOKBACK_DAYS = 7  # trailing rates see this many days strictly before the day
# Bump when the features change, so Dagster marks older partitions as produced by other code.
FEATURES_CODE_VERSION = "1"

CATEGORICAL_FEATURES = [
    "carrier",
    "origin",
    "dest",
    "route",
    "plane_type",
    "plane_manufacturer",
]

WEATHER_FEATURES = [
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
]

NUMERIC_FEATURES = [
    # schedule
    "sched_dep_hour",
    "sched_dep_minute_of_day",
    "weekday",
    "month",
    "day_of_year",
    "days_to_nearest_holiday",
    "origin_hour_scheduled_flights",
    # route and plane
    "distance",
    "plane_age",
    "plane_seats",
    "plane_engines",
    # weather at the origin in the departure hour
    *WEATHER_FEATURES,
    # rolling rates over the look-back window, days strictly before the flight's day
    "carrier_late_rate",
    "carrier_cancel_rate",
    "origin_late_rate",
    "origin_cancel_rate",
    "route_late_rate",
    "route_cancel_rate",
    "tailnum_late_rate",
    "tailnum_cancel_rate",
]

FEATURE_COLUMNS = CATEGORICAL_FEATURES + NUMERIC_FEATURES
# Order of the columns in every feature partition.
ALL_COLUMNS = [ID_COLUMN, DATE_COLUMN, LABEL_COLUMN, *FEATURE_COLUMNS]
