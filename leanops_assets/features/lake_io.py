"""Reading the feature inputs from the lake and writing feature partitions back, one per day.

Validated rows are read by Spark straight from the Parquet files and cast to the types of the
contract (features/inputs.py); the small reference tables are validated against their own
contracts, cast to fixed schemas and handed to Spark as Arrow tables (a day whose column is all
null cannot change a type). The features themselves are the contract's declared ones
(features/declared.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from leanops_assets.contract import Contract, load_contract
from leanops_assets.features.declared import build_features, features_of
from leanops_assets.features.inputs import reference_schema, spark_read_rows
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
    rows: DataFrame  # validated rows of the target and look-back days
    references: dict[str, DataFrame]  # one frame per declared join, by table name
    row_days: list[str]  # validated days read: the target days and their look-back days
    gated_days: dict[str, list[str]]  # look-back days left out: day -> the gates it failed
    reference_rows_left_out: dict[str, dict[str, int]]  # table -> reason -> rows


def gated_lookback_days(
    lake: Lake, days: list[str], target: list[str], dataset: str = "flights"
) -> dict[str, list[str]]:
    """Days whose blocking checks failed, with those checks; a gated target day is an error."""
    gated = {day: lake.failed_gates("validated", dataset, day) for day in days}
    gated = {day: failed for day, failed in gated.items() if failed}
    blocked = {day: gated[day] for day in target if day in gated}
    if blocked:
        raise GatedDayError(
            f"validated/{dataset} day(s) {sorted(blocked)} failed their gates {blocked} "
            f"({lake.root}); fix the landing file and re-materialize validated_{dataset} for "
            f"them, or leave them out of this run"
        )
    return gated


def history_start(contract: Contract | None = None) -> str:
    """The contract's first day: look-back days before it are absent, not missing."""
    return (contract or load_contract()).partition_start.isoformat()


def days_needed(
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


def check_features_known_at_prediction_time(
    feature_columns: list[str], contract: Contract | None = None
) -> None:
    """A post-event column of the contract, or the target, is never a feature. (What declared
    features read is checked when the contract loads: contract_features.py.)"""
    contract = contract or load_contract()
    post_event = {*contract.post_event_columns, contract.target_name, contract.target.column}
    leaked = sorted(set(feature_columns) & post_event)
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
    contract: Contract | None = None,
) -> FeatureInputs:
    """Validated rows for the target and look-back days, and the declared reference tables: a
    table joined as of a time is read for the target days, one joined by key whole.

    Look-back days before `first_day` (default: the contract's) are skipped; any other absent
    partition is an error. Rows are read by Spark; reference tables (small) go through Arrow on
    the driver. Look-back days that failed their gates are left out, as if they had no rows
    (the run names them); a target day that failed is an error (GatedDayError).
    """
    contract = contract or load_contract()
    upstream = f"validated_{contract.name}"
    needed = days_needed(target_days, lookback_days, first_day or history_start(contract))
    target = sorted({check_day(day) for day in target_days})
    check_present(lake, "validated", contract.name, needed, upstream)
    gated = gated_lookback_days(lake, needed, target, contract.name)
    row_days = [day for day in needed if day not in gated]
    references, left_out = {}, {}
    for join in features_of(contract).joins:
        table_contract = contract.references[join.table]
        schema = reference_schema(contract, join)
        if join.as_of is not None:
            table, left_out[join.table] = read_reference_days(
                lake, table_contract, target, schema, f"raw_{join.table}"
            )
        else:
            table, left_out[join.table] = read_reference_table(
                lake, table_contract, schema, join.table
            )
        references[join.table] = spark.createDataFrame(table)
    return FeatureInputs(
        rows=spark_read_rows(spark, lake, contract, row_days, upstream),
        references=references,
        row_days=row_days,
        gated_days=gated,
        reference_rows_left_out=left_out,
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
    row_days: list[str]  # validated days read
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
    contract = load_contract()
    check_features_known_at_prediction_time(features_of(contract).columns, contract)
    inputs = read_feature_inputs(spark, lake, target_days, lookback_days, contract=contract)
    features = build_features(contract, inputs.rows, inputs.references, target_days, lookback_days)
    table = collect_features(features)
    spark_seconds = time.perf_counter() - started
    by_day = split_by_day(table, target_days)
    written = write_feature_partitions(lake, by_day)
    return FeatureRun(
        by_day,
        written,
        inputs.row_days,
        inputs.gated_days,
        inputs.reference_rows_left_out,
        spark_seconds,
    )
