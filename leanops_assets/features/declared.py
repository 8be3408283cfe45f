"""Declared features in Spark: a contract's `features:` block turned into the feature table.

`build_features` takes validated rows (the target days plus the look-back days before them) and
the reference tables, and returns one row per row of the target days: the entity id, the
partition date, the target, then the declared categorical (string) and numeric (double)
columns, in the contract's order; rows unordered (collect_features sorts them).

Point in time, for a row of day D:
- pass-through columns, calendar parts and reference joins read only the row's own columns
  known at its prediction time (the contract refuses a post-event column there);
- rolling rates read only the look-back days strictly before D (features/rates.py);
- an as-of join takes, per key, the latest observation known at the row's time: its time plus
  `known_after` at or before the row's time, and at most `max_age` older than that.
A dataset's own function (datasets/<name>/features.py) may add columns to the target rows.
Nothing is collected to the driver: the result is one Spark plan.
"""

from __future__ import annotations

import importlib
import importlib.util
from datetime import date, timedelta
from typing import TYPE_CHECKING

from leanops_assets.contract import DATASETS_DIR, Contract
from leanops_assets.features.rates import key_column, outcome_column, rate_columns, rolling_windows
from leanops_assets.storage import check_day

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyspark.sql import Column, DataFrame

    from leanops_assets.contract_features import CalendarSpec, FeatureSpec, JoinSpec

SPARK_TYPES = {
    "int": "bigint",
    "float": "double",
    "string": "string",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}


def features_of(contract: Contract) -> FeatureSpec:
    if contract.features is None:
        raise ValueError(f"{contract.source_path}: the contract declares no features: block")
    return contract.features


def row_columns(contract: Contract) -> list[str]:
    """The contract columns the declared features read from the validated rows."""
    spec = features_of(contract)
    needed = list(spec.passthrough)
    if spec.calendar:
        needed.append(spec.calendar.of)
    if spec.rates:
        needed += [c for cols in spec.rates.keys.values() for c in cols]
        needed += [o.column for o in spec.rates.outcomes if o.column]
    for join in spec.joins:
        needed += [*join.keys, *([join.as_of.row_time] if join.as_of else [])]
    if spec.function:
        needed += list(spec.function.reads)
    return [name for name in contract.columns if name in set(needed)]  # joined ones are not


def dataset_function(contract: Contract) -> Callable[[DataFrame, list[date]], DataFrame] | None:
    """The dataset's own feature function, from features.py beside its contract."""
    spec = features_of(contract)
    if spec.function is None:
        return None
    folder = contract.source_path.parent
    if folder.parent == DATASETS_DIR:
        module = importlib.import_module(f"leanops_assets.datasets.{folder.name}.features")
    else:
        path = folder / "features.py"
        loader = importlib.util.spec_from_file_location(f"dataset_{folder.name}_features", path)
        if loader is None or not path.exists():
            raise ValueError(f"{contract.source_path}: features.function needs {path}")
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
    function = getattr(module, spec.function.name, None)
    if function is None:
        raise ValueError(f"{module.__file__} has no function {spec.function.name!r}")
    return function


def _calendar_columns(calendar: CalendarSpec, contract: Contract) -> list[Column]:
    from pyspark.sql import functions as F

    column = F.col(calendar.of)
    if contract.columns[calendar.of].type == "timestamp" and calendar.timezone:
        column = F.from_utc_timestamp(column, calendar.timezone)  # wall time there
    parts = {
        "hour": lambda: F.hour(column),
        "minute_of_day": lambda: F.hour(column) * 60 + F.minute(column),
        "weekday": lambda: (F.dayofweek(column) + 5) % 7,  # Monday 0 .. Sunday 6
        "day_of_month": lambda: F.dayofmonth(column),
        "month": lambda: F.month(column),
        "day_of_year": lambda: F.dayofyear(column),
    }
    return [parts[part]().cast("double").alias(name) for part, name in calendar.parts.items()]


def _by_key(rows: DataFrame, table: DataFrame, join: JoinSpec) -> DataFrame:
    """One table row per key (the first by `prefer`, then by the joined columns), joined left."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = [F.col(c).desc_nulls_last() if desc else F.col(c) for c, desc in join.prefer]
    order += [F.col(c) for c in join.columns if c not in {c for c, _ in join.prefer}]
    first = Window.partitionBy(*join.keys).orderBy(*order)
    picked = (
        table.where(_all_present(join.keys))
        .withColumn("_rank", F.row_number().over(first))
        .where(F.col("_rank") == 1)
        .select(*join.keys, *[F.col(c).alias(name) for c, name in join.columns.items()])
    )
    # No broadcast hint: Spark broadcasts a small table by itself, and a one-task plan
    # (features/one_task.py) must not.
    return rows.join(picked, list(join.keys), "left")


def _all_present(columns: tuple[str, ...]) -> Column:
    from functools import reduce

    from pyspark.sql import functions as F

    return reduce(lambda a, b: a & b, [F.col(c).isNotNull() for c in columns])


def _as_of(rows: DataFrame, table: DataFrame, join: JoinSpec, row_key: list[str]) -> DataFrame:
    """Per row, the latest observation known at the row's time; repeats of one time averaged."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    as_of = join.as_of
    assert as_of is not None
    numeric = {n for n, t in table.dtypes if t in ("double", "bigint", "int", "float")}
    keys = {k: f"_{join.table}_{k}" for k in join.keys}  # renamed: no ambiguous column
    observed = table.groupBy(
        *[F.col(k).alias(alias) for k, alias in keys.items()], F.col(as_of.time).alias("_observed")
    ).agg(
        *[(F.avg(c) if c in numeric else F.max(c)).alias(name) for c, name in join.columns.items()]
    )
    # An observation is usable once known: observed + known_after <= the row's time.
    latest = F.col(as_of.row_time) - _interval(as_of.known_after)
    same_key = [F.col(k) == F.col(alias) for k, alias in keys.items()]
    if as_of.max_age == timedelta(0):  # exactly that instant: an equality join, no ranking
        matched = rows.join(observed, [*same_key, F.col("_observed") == latest], "left")
        return matched.drop(*keys.values(), "_observed")
    usable = [*same_key, F.col("_observed") <= latest]
    if as_of.max_age is not None:
        usable.append(F.col("_observed") >= latest - _interval(as_of.max_age))
    newest = Window.partitionBy(*row_key).orderBy(F.col("_observed").desc_nulls_last())
    matched = rows.join(observed, usable, "left").withColumn("_rank", F.row_number().over(newest))
    return matched.where(F.col("_rank") == 1).drop("_rank", "_observed", *keys.values())


def _interval(span: timedelta) -> Column:
    from pyspark.sql import functions as F

    return F.expr(f"INTERVAL {int(span.total_seconds())} SECONDS")


def build_features(
    contract: Contract,
    rows: DataFrame,
    references: dict[str, DataFrame],
    target_days: list[str],
    lookback_days: int | None = None,
) -> DataFrame:
    """The declared features of every row of `target_days`; rows unordered.

    rows: validated rows of the target days and the `lookback_days` days before the earliest
    (days before the data starts are simply absent), with the id, the partition date, the
    target and `row_columns(contract)`. references: one frame per declared join, by table name
    (a daily table: the target days).
    """
    from pyspark.sql import functions as F

    spec = features_of(contract)
    lookback = spec.lookback_days if lookback_days is None else lookback_days
    if lookback < 1:
        raise ValueError(f"lookback_days must be at least 1, got {lookback}")
    target_dates = sorted({date.fromisoformat(check_day(day)) for day in target_days})
    if not target_dates:
        raise ValueError("target_days is empty: name at least one day (YYYY-MM-DD)")
    session_zone = rows.sparkSession.conf.get("spark.sql.session.timeZone")
    if spec.calendar and spec.calendar.timezone and session_zone != "UTC":
        raise ValueError(
            f"calendar features need spark.sql.session.timeZone UTC, not {session_zone}"
        )
    id_column, day, label = contract.entity_id, contract.partition_column, contract.target_name
    base = rows.select(
        F.col(id_column).cast("string").alias(id_column),
        F.col(day).cast("date").alias(day),
        F.col(label).cast("long").alias(label),
        *[F.col(c).cast(SPARK_TYPES[contract.columns[c].type]) for c in row_columns(contract)],
    )
    target = base.where(F.col(day).isin(target_dates))
    if spec.rates:  # a composite key is also a column (flights: route = origin-dest)
        composite = spec.rates.composite_keys.items()
        target = target.select("*", *[key_column(cols).alias(name) for name, cols in composite])
    if spec.calendar:
        target = target.select("*", *_calendar_columns(spec.calendar, contract))
    for join in spec.joins:
        table = references[join.table]
        target = (
            _as_of(target, table, join, [id_column, day])
            if join.as_of
            else _by_key(target, table, join)
        )
    function = dataset_function(contract)
    if function is not None:
        target = function(target, target_dates)
        missing = [c for c in spec.function.adds if c not in target.columns]
        if missing:
            raise ValueError(f"{spec.function.name} (features.py) did not add {missing}")
    if spec.rates:
        target = target.join(
            _rates(base, spec, contract, target_dates, lookback), [id_column, day], "left"
        )
    return target.select(
        F.col(id_column).cast("string"),
        F.col(day).cast("date"),
        F.col(label).cast("long"),
        *[F.col(name).cast("string").alias(name) for name in spec.categorical],
        *[F.col(name).cast("double").alias(name) for name in spec.numeric],
    )


def _rates(
    base: DataFrame, spec: FeatureSpec, contract: Contract, target_dates: list[date], lookback: int
) -> DataFrame:
    from pyspark.sql import functions as F

    rates = spec.rates
    day, label = contract.partition_column, contract.target_name
    earliest = target_dates[0] - timedelta(days=lookback)
    # Only rows whose outcome is known count: one not yet decided is no event and no row.
    history = base.where(
        (F.col(day) >= F.lit(earliest))
        & (F.col(day) < F.lit(target_dates[-1]))
        & F.col(label).isNotNull()
    ).select(
        day,
        *dict.fromkeys(c for cols in rates.keys.values() for c in cols),
        *[outcome_column(o, label).alias(o.name) for o in rates.outcomes],
    )
    windows = rolling_windows(history, rates, day, target_dates, lookback)
    targets = base.where(F.col(day).isin(target_dates))
    return rate_columns(targets, windows, rates, contract.entity_id, day)
