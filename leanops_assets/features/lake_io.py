"""Reading the feature inputs from the lake and writing feature partitions back, one per day.

Validated flights are read by Spark straight from the Parquet files and cast to fixed types;
the small weather days and the planes table are validated against their contracts, cast to
fixed schemas and handed to Spark as Arrow tables (a day whose column is all null cannot change
a type).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from leanops_assets.contract import load_contract
from leanops_assets.features.build import WEATHER_COLUMNS, build_flight_features
from leanops_assets.features.references import (
    check_present,
    read_reference_days,
    read_reference_table,
)
from leanops_assets.features.schema import (
    ALL_COLUMNS,
    CATEGORICAL_FEATURES,
    DATE_COLUMN,
    DEFAULT_LOOKBACK_DAYS,
    ID_COLUMN,
    LABEL_COLUMN,
    NUMERIC_FEATURES,
)
from leanops_assets.storage import Lake, WrittenFile, check_day

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FEATURES_STAGE, FEATURES_DATASET = "features", "flights"

FLIGHTS_INPUT_SCHEMA = pa.schema(
    [
        (ID_COLUMN, pa.string()),
        (DATE_COLUMN, pa.date32()),
        (LABEL_COLUMN, pa.int64()),
        ("carrier", pa.string()),
        ("origin", pa.string()),
        ("dest", pa.string()),
        ("tailnum", pa.string()),
        ("sched_dep_time", pa.int64()),
        ("distance", pa.float64()),
        ("time_hour", pa.timestamp("us", tz="UTC")),
        ("dep_time", pa.float64()),
    ]
)
WEATHER_INPUT_SCHEMA = pa.schema(
    [("origin", pa.string()), ("time_hour", pa.timestamp("us", tz="UTC"))]
    + [(name, pa.float64()) for name in WEATHER_COLUMNS]
)
PLANES_INPUT_SCHEMA = pa.schema(
    [
        ("tailnum", pa.string()),
        ("year", pa.float64()),
        ("type", pa.string()),
        ("manufacturer", pa.string()),
        ("seats", pa.float64()),
        ("engines", pa.float64()),
    ]
)
FEATURES_ARROW_SCHEMA = pa.schema(
    [
        pa.field(ID_COLUMN, pa.string(), nullable=False),
        pa.field(DATE_COLUMN, pa.date32(), nullable=False),
        pa.field(LABEL_COLUMN, pa.int64()),  # null: the outcome is not known yet
        *[pa.field(name, pa.string()) for name in CATEGORICAL_FEATURES],
        *[pa.field(name, pa.float64()) for name in NUMERIC_FEATURES],
    ]
)


class GatedDayError(ValueError):
    """A target day whose validation gates failed: it is built on by no one until it passes."""


@dataclass(frozen=True)
class FeatureInputs:
    flights: DataFrame
    weather: DataFrame
    planes: DataFrame
    flight_days: list[str]  # validated days read: the target days and their look-back days
    gated_days: dict[str, list[str]]  # look-back days left out: day -> the gates it failed
    reference_rows_left_out: dict[str, dict[str, int]]  # table -> reason -> rows


def gated_lookback_days(lake: Lake, days: list[str], target: list[str]) -> dict[str, list[str]]:
    """Days whose blocking checks failed, with those checks; a gated target day is an error."""
    gated = {day: lake.failed_gates("validated", "flights", day) for day in days}
    gated = {day: failed for day, failed in gated.items() if failed}
    blocked = {day: gated[day] for day in target if day in gated}
    if blocked:
        raise GatedDayError(
            f"validated/flights day(s) {sorted(blocked)} failed their gates {blocked} "
            f"({lake.root}); fix the landing file and re-materialize validated_flights for them, "
            f"or leave them out of this run"
        )
    return gated


def history_start() -> str:
    """The contract's first day: look-back days before it are absent, not missing."""
    return load_contract().partition_start.isoformat()


def flight_days_needed(
    target_days: list[str], lookback_days: int, first_day: str | None = None
) -> list[str]:
    """Validated days the target days need: [earliest - lookback, latest], from the first day
    (default: the contract's)."""
    days = sorted({date.fromisoformat(check_day(day)) for day in target_days})
    first = max(
        days[0] - timedelta(days=lookback_days), date.fromisoformat(first_day or history_start())
    )
    count = (days[-1] - first).days + 1
    return [(first + timedelta(days=offset)).isoformat() for offset in range(count)]


_SPARK_TYPES = {
    pa.timestamp("us", tz="UTC"): "timestamp",
    pa.string(): "string",
    pa.date32(): "date",
    pa.int64(): "bigint",
    pa.float64(): "double",
}


def _by_stored_types(paths: list[str]) -> list[list[str]]:
    """Files grouped by how they store the input columns (from their footers): a lake written
    before time_hour was typed holds it as text, and Spark reads one stored type per scan."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for path in paths:
        stored = pq.read_schema(path)
        key = tuple(
            str(stored.field(name).type) if name in stored.names else "absent"
            for name in FLIGHTS_INPUT_SCHEMA.names
        )
        groups.setdefault(key, []).append(path)
    return list(groups.values())


def _spark_read_days(spark: SparkSession, lake: Lake, days: list[str]) -> DataFrame:
    """Validated flights read by Spark itself (no rows pass through the driver), then cast
    (a time_hour stored as text is read as a timestamp)."""
    from functools import reduce

    from pyspark.sql import functions as F

    check_present(lake, "validated", "flights", days, "validated_flights")
    paths = [str(lake.partition_path("validated", "flights", day)) for day in days]
    where = f"validated/flights {days[0]}..{days[-1]} ({lake.root})"
    frames = []
    for group in _by_stored_types(paths):
        frame = spark.read.parquet(*group)
        missing = [name for name in FLIGHTS_INPUT_SCHEMA.names if name not in frame.columns]
        if missing:
            raise ValueError(f"{where} lacks column(s) {missing} needed by the features")
        frames.append(
            frame.select(
                *[
                    F.col(f.name).cast(_SPARK_TYPES[f.type]).alias(f.name)
                    for f in FLIGHTS_INPUT_SCHEMA
                ]
            )
        )
    return reduce(lambda left, right: left.unionByName(right), frames)


def check_features_known_at_prediction_time(feature_columns: list[str]) -> None:
    """A post-event column of the contract must never be a feature."""
    contract = load_contract()
    leaked = sorted(set(feature_columns) & {*contract.post_event_columns, contract.target_name})
    if leaked:
        raise ValueError(
            f"feature column(s) {leaked} are known only after the prediction time "
            f"({contract.source_path.name}: post_event_columns / target); remove them"
        )


def read_feature_inputs(
    spark: SparkSession,
    lake: Lake,
    target_days: list[str],
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    first_day: str | None = None,
) -> FeatureInputs:
    """Validated flights for the target and look-back days, weather for the target days, planes.

    Look-back days before `first_day` (default: the contract's) are skipped; any other absent
    partition is an error.
    Flights are read by Spark; weather (72 rows a day) and planes go through Arrow on the driver.
    Look-back days that failed their gates are left out, as if they had no flights (the run
    names them); a target day that failed is an error (GatedDayError).
    """
    needed = flight_days_needed(target_days, lookback_days, first_day)
    target = sorted({check_day(day) for day in target_days})
    check_present(lake, "validated", "flights", needed, "validated_flights")
    gated = gated_lookback_days(lake, needed, target)
    flight_days = [day for day in needed if day not in gated]
    references = load_contract().references
    weather, weather_left_out = read_reference_days(
        lake, references["weather"], target, WEATHER_INPUT_SCHEMA, "raw_weather"
    )
    planes, planes_left_out = read_reference_table(
        lake, references["planes"], PLANES_INPUT_SCHEMA, "planes"
    )
    return FeatureInputs(
        flights=_spark_read_days(spark, lake, flight_days),
        weather=spark.createDataFrame(weather),
        planes=spark.createDataFrame(planes),
        flight_days=flight_days,
        gated_days=gated,
        reference_rows_left_out={"weather": weather_left_out, "planes": planes_left_out},
    )


def collect_features(features: DataFrame) -> pa.Table:
    """Run the Spark plan and bring the rows to the driver in the fixed Arrow schema, sorted by
    flight id (the same bytes whatever Spark's partitioning)."""
    table = features.toArrow().select(ALL_COLUMNS).cast(FEATURES_ARROW_SCHEMA)
    return table.sort_by(ID_COLUMN)


def split_by_day(table: pa.Table, target_days: list[str]) -> dict[str, pa.Table]:
    """One table per target day (empty for a day without flights), rows kept in order."""
    return {
        day: table.filter(pc.equal(table[DATE_COLUMN], pa.scalar(date.fromisoformat(day))))
        for day in sorted({check_day(day) for day in target_days})
    }


def write_feature_partitions(lake: Lake, by_day: dict[str, pa.Table]) -> dict[str, WrittenFile]:
    """Write each day's rows to features/flights/date=D with the fixed schema."""
    return {
        day: lake.write_partition(
            FEATURES_STAGE,
            FEATURES_DATASET,
            day,
            table.to_pandas(date_as_object=True),
            schema=FEATURES_ARROW_SCHEMA,
        )
        for day, table in by_day.items()
    }


@dataclass(frozen=True)
class FeatureRun:
    by_day: dict[str, pa.Table]  # the rows of each target day, as written
    written: dict[str, WrittenFile]
    flight_days: list[str]  # validated days read
    gated_days: dict[str, list[str]]  # look-back days left out because they failed their gates
    reference_rows_left_out: dict[str, dict[str, int]]
    spark_seconds: float  # reading into Spark, building and collecting


def materialize_feature_days(
    spark: SparkSession,
    lake: Lake,
    target_days: list[str],
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> FeatureRun:
    """Read the inputs, build the features of all target days in one Spark job, write each day."""
    started = time.perf_counter()
    check_features_known_at_prediction_time([*CATEGORICAL_FEATURES, *NUMERIC_FEATURES])
    inputs = read_feature_inputs(spark, lake, target_days, lookback_days)
    features = build_flight_features(
        inputs.flights, inputs.weather, inputs.planes, target_days, lookback_days
    )
    table = collect_features(features)
    spark_seconds = time.perf_counter() - started
    by_day = split_by_day(table, target_days)
    written = write_feature_partitions(lake, by_day)
    return FeatureRun(
        by_day,
        written,
        inputs.flight_days,
        inputs.gated_days,
        inputs.reference_rows_left_out,
        spark_seconds,
    )
