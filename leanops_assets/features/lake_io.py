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
from functools import lru_cache
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from leanops_assets.contract import Contract
from leanops_assets.dataset import Dataset, FeatureTable
from leanops_assets.features.batches import BATCH_ROWS, FeatureRun, day_batches, merged
from leanops_assets.features.declared import build_features, features_of
from leanops_assets.features.inputs import reference_schema, spark_read_rows
from leanops_assets.features.labels import (
    INPUTS_KEY,
    code_fingerprint,
    inputs_fingerprint,
    lookback_of,
    relabelled,
)
from leanops_assets.features.one_task import ONE_TASK_ROWS, one_partition, one_task_plan
from leanops_assets.features.references import (
    check_present,
    read_reference_days,
    read_reference_table,
)
from leanops_assets.storage import (
    GatedDayError,
    Lake,
    WrittenFile,
    check_day,
    file_sha256,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyspark.sql import DataFrame, SparkSession

FEATURES_STAGE = "features"  # partitions: features/<dataset name>/date=D


def features_arrow_schema(table: FeatureTable) -> pa.Schema:
    """The fixed schema of every feature partition of the table."""
    return pa.schema(
        [
            pa.field(table.id_column, pa.string(), nullable=False),
            pa.field(table.date_column, pa.date32(), nullable=False),
            pa.field(table.label_column, pa.int64()),  # null: the outcome is not known yet
            *[pa.field(name, pa.string()) for name in table.categorical],
            *[pa.field(name, pa.float64()) for name in table.numeric],
        ]
    )


@dataclass(frozen=True)
class FeatureInputs:
    rows: DataFrame  # validated rows of the target and look-back days
    references: dict[str, DataFrame]  # one frame per declared join, by table name
    row_days: list[str]  # validated days read: the target days and their look-back days
    gated_days: dict[str, list[str]]  # look-back days left out: day -> the gates it failed
    reference_rows_left_out: dict[str, dict[str, int]]  # table -> reason -> rows


def gated_lookback_days(
    lake: Lake, days: list[str], target: list[str], dataset: str
) -> dict[str, list[str]]:
    """Days whose blocking checks failed, with those checks; a gated target day is an error."""
    gated = lake.gated_days("validated", dataset, days)
    blocked = {day: gated[day] for day in target if day in gated}
    if blocked:
        raise GatedDayError(
            f"validated/{dataset} day(s) {sorted(blocked)} failed their gates {blocked} "
            f"({lake.root}); fix the landing file and re-materialize validated_{dataset} for "
            f"them, or leave them out of this run"
        )
    return gated


def history_start(contract: Contract) -> str:
    """The contract's first day: look-back days before it are absent, not missing."""
    return contract.partition_start.isoformat()


def days_needed(target_days: list[str], lookback_days: int, first_day: str) -> list[str]:
    """Validated days the target days need: [earliest - lookback, latest], from the first day
    (the contract's: history_start)."""
    days = sorted({date.fromisoformat(check_day(day)) for day in target_days})
    first = max(days[0] - timedelta(days=lookback_days), date.fromisoformat(first_day))
    count = (days[-1] - first).days + 1
    return [(first + timedelta(days=offset)).isoformat() for offset in range(count)]


def check_features_known_at_prediction_time(feature_columns: list[str], contract: Contract) -> None:
    """A post-event column of the contract, or the target, is never a feature. (What declared
    features read is checked when the contract loads: contract_features.py.)"""
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
    contract: Contract,
    target_days: list[str],
    lookback_days: int | None = None,
    first_day: str | None = None,
) -> FeatureInputs:
    """Validated rows for the target and look-back days, and the declared reference tables: a
    table joined as of a time is read for the target days, one joined by key whole.

    `lookback_days` defaults to the contract's. Look-back days before `first_day` (default: the
    contract's) are skipped; any other absent
    partition is an error. Rows are read by Spark; reference tables (small) go through Arrow on
    the driver. Look-back days that failed their gates are left out, as if they had no rows
    (the run names them); a target day that failed is an error (GatedDayError).
    """
    upstream = f"validated_{contract.name}"
    lookback = features_of(contract).lookback_days if lookback_days is None else lookback_days
    needed = days_needed(target_days, lookback, first_day or history_start(contract))
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


def collect_features(features: DataFrame, table: FeatureTable) -> pa.Table:
    """Run the Spark plan and bring the rows to the driver in the fixed Arrow schema, sorted by
    the entity id (the same bytes whatever Spark's partitioning)."""
    rows = features.toArrow().select(table.all_columns).cast(features_arrow_schema(table))
    return rows.sort_by(table.id_column)


def split_by_day(
    rows: pa.Table, target_days: list[str], table: FeatureTable
) -> dict[str, pa.Table]:
    """One table per target day (empty for a day without rows), rows kept in order."""
    return {
        day: rows.filter(pc.equal(rows[table.date_column], pa.scalar(date.fromisoformat(day))))
        for day in sorted({check_day(day) for day in target_days})
    }


def write_feature_partitions(
    lake: Lake,
    dataset: str,
    by_day: dict[str, pa.Table],
    table: FeatureTable,
    fingerprints: dict[str, str] | None = None,
) -> dict[str, WrittenFile]:
    """Write each day's rows to features/<dataset>/date=D with the fixed schema, and the
    fingerprint of its inputs in the footer (features/labels.py)."""
    schema = features_arrow_schema(table)
    return {
        day: lake.write_partition(
            FEATURES_STAGE,
            dataset,
            day,
            rows.to_pandas(date_as_object=True),
            schema=schema,
            file_metadata={INPUTS_KEY: fingerprints[day]} if fingerprints else None,
        )
        for day, rows in by_day.items()
    }


def _build_batch(
    spark: SparkSession,
    lake: Lake,
    contract: Contract,
    days: list[str],
    lookback: int,
    on_day: Callable[[str, pa.Table, WrittenFile], object] | None,
    relabel: bool,
) -> FeatureRun:
    """The batch's days whose inputs changed only in their outcomes get their labels refreshed
    (features/labels.py, if `relabel`); the others one Spark plan, collected once."""
    started = time.perf_counter()
    table = FeatureTable.of(contract)
    needed = days_needed(days, lookback, history_start(contract))
    check_present(lake, "validated", contract.name, needed, f"validated_{contract.name}")
    gated = gated_lookback_days(lake, needed, days, contract.name)
    code, digest = code_fingerprint(contract.source_path), lru_cache(maxsize=None)(file_sha256)
    fingerprints = {
        day: inputs_fingerprint(
            lake, contract, day, lookback_of(day, lookback, needed), gated, code, digest
        )
        for day in days
    }
    by_day = {}
    for day in days if relabel else []:
        stored = lake.partition_path(FEATURES_STAGE, contract.name, day)
        rows = relabelled(lake, contract, day, table, stored, fingerprints[day])
        if rows is not None:
            by_day[day] = rows
    to_build = [day for day in days if day not in by_day]
    inputs, one_task = None, False
    if to_build:
        inputs = read_feature_inputs(spark, lake, contract, to_build, lookback)
        input_rows = sum(
            lake.partition_rows("validated", contract.name, d) or 0 for d in inputs.row_days
        )
        one_task = input_rows <= ONE_TASK_ROWS
        with one_task_plan(spark, one_task):
            rows, references = inputs.rows, inputs.references
            if one_task:
                rows, references = one_partition(rows, references)
            features = build_features(contract, rows, references, to_build, lookback)
            by_day |= split_by_day(collect_features(features, table), to_build, table)
    spark_seconds = time.perf_counter() - started
    by_day = dict(sorted(by_day.items()))
    written = write_feature_partitions(lake, contract.name, by_day, table, fingerprints)
    if on_day is not None:
        for day, day_rows in by_day.items():
            on_day(day, day_rows, written[day])
    return FeatureRun(
        written,
        [day for day in needed if day not in gated],
        gated,
        inputs.reference_rows_left_out if inputs else {},
        spark_seconds,
        [to_build] if to_build else [],
        int(one_task),
        sorted(set(days) - set(to_build)),
    )


def materialize_feature_days(
    spark: SparkSession,
    lake: Lake,
    ds_or_contract: Dataset | Contract,
    target_days: list[str],
    lookback_days: int | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[str], object] | None = None,
    on_day: Callable[[str, pa.Table, WrittenFile], object] | None = None,
    relabel: bool = True,
) -> FeatureRun:
    """Read the inputs, build the features of the target days in one Spark plan per batch of
    days (day_batches), write each day to features/<dataset name>/. The look-back defaults to
    the contract's. `on_day(day, rows, written)` sees each day's rows as written; no rows are
    kept past their batch, so memory follows the batch, not the history. A day whose inputs
    changed only in their outcomes gets its labels only, unless `relabel` is False."""
    contract = ds_or_contract.contract if isinstance(ds_or_contract, Dataset) else ds_or_contract
    table = FeatureTable.of(contract)
    lookback = table.lookback_days if lookback_days is None else lookback_days
    check_features_known_at_prediction_time(features_of(contract).columns, contract)
    run: FeatureRun | None = None
    batches = day_batches(lake, contract.name, target_days, batch_rows)
    for number, days in enumerate(batches, start=1):
        batch = _build_batch(spark, lake, contract, days, lookback, on_day, relabel)
        run = batch if run is None else merged(run, batch)
        if progress and len(batches) > 1:
            progress(f"features: batch {number}/{len(batches)} ({days[0]}..{days[-1]}) written")
    if run is None:
        raise ValueError(f"features of {contract.name}: no target days given")
    return run
