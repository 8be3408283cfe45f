"""Point-in-time rolling rates per key: the contract's `features.rates`, in Spark.

For a row of day D, a rate counts only the rows of the `lookback_days` days strictly before D
whose target is known, so neither D's outcomes nor a later day's reach it, and a row not yet
decided counts for nothing. Each target day has its own window, so a range of days gives
exactly what the days give one at a time.

Rates are smoothed toward the window's overall rate, as if each key had `prior_rows` more rows
at that rate: (events + prior_rows * overall) / (rows + prior_rows). A key with no row in the
window (a new key, or a null one) gets the overall rate; when the window holds no row at all
(the first day of the data) every rate is null.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from leanops_assets.contract_features import OutcomeSpec, RatesSpec

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

ALL_KEY = "*"  # key of the window's totals (key_kind "all"): a value no real key takes
ROWS = "rows"  # the measure counting rows; the other measures are the outcomes' names


def key_column(columns: tuple[str, ...]) -> Column:
    """A key's value: its column as text, or several joined with '-' (null if one is null)."""
    from pyspark.sql import functions as F

    if len(columns) == 1:
        return F.col(columns[0]).cast("string")
    parts = [F.col(name).cast("string") for name in columns]
    present = F.lit(True)
    for part in parts:
        present = present & part.isNotNull()
    return F.when(present, F.concat_ws("-", *parts))


def outcome_column(outcome: OutcomeSpec, label: str) -> Column:
    """The event as 0 or 1 (null counts as no event in the sums)."""
    from pyspark.sql import functions as F

    if outcome.test == "target":
        return F.col(label).cast("long")
    column = F.col(outcome.column)
    tests = {
        "bool": lambda: column,
        "is null": column.isNull,
        "is not null": column.isNotNull,
        ">": lambda: column > outcome.threshold,
        ">=": lambda: column >= outcome.threshold,
        "<": lambda: column < outcome.threshold,
        "<=": lambda: column <= outcome.threshold,
        "==": lambda: column == outcome.threshold,
    }
    return tests[outcome.test]().cast("long")


def _key_structs(spec: RatesSpec) -> list[Column]:
    from pyspark.sql import functions as F

    keys = [
        F.struct(F.lit(kind).alias("key_kind"), key_column(columns).alias("key"))
        for kind, columns in spec.keys.items()
    ]
    keys.append(F.struct(F.lit("all").alias("key_kind"), F.lit(ALL_KEY).alias("key")))
    return keys


def rolling_windows(
    history: DataFrame, spec: RatesSpec, date_column: str, target_dates: list[date], lookback: int
) -> DataFrame:
    """Per target day and key: row and event counts over the days [D - lookback, D - 1].

    history: one row per decided row of the look-back days, with the date, the keys' columns
    and one column per outcome name (0 or 1). Returns target_date, key_kind, key and
    the measures; key_kind "all" holds the window's totals (key ALL_KEY), used as the prior.
    """
    from pyspark.sql import functions as F

    events = [o.name for o in spec.outcomes]
    # One row per row and key kind; a row without a key value counts only toward the totals.
    stacked = (
        history.select(date_column, *events, F.explode(F.array(*_key_structs(spec))).alias("k"))
        .select(date_column, *events, "k.key_kind", "k.key")
        .where(F.col("key").isNotNull())
    )
    daily = stacked.groupBy(date_column, "key_kind", "key").agg(
        F.count(F.lit(1)).alias(ROWS), *[F.sum(name).alias(name) for name in events]
    )
    # Day d counts toward the targets d + 1 .. d + lookback (those that are target days).
    later = F.sequence(F.date_add(F.col(date_column), 1), F.date_add(F.col(date_column), lookback))
    return (
        daily.withColumn("target_date", F.explode(later))
        .where(F.col("target_date").isin(target_dates))
        .groupBy("target_date", "key_kind", "key")
        .agg(*[F.sum(name).alias(name) for name in (ROWS, *events)])
    )


def _smoothed(events: Column, rows: Column, prior: Column, prior_rows: float) -> Column:
    from pyspark.sql import functions as F

    rate = (events + F.lit(prior_rows) * prior) / (rows + F.lit(prior_rows))
    return F.when(prior.isNull(), F.lit(None).cast("double")).otherwise(rate)


def rate_columns(
    rows: DataFrame, windows: DataFrame, spec: RatesSpec, id_column: str, date_column: str
) -> DataFrame:
    """id, date and the smoothed <key>_<outcome>_rate columns, joining the windows only once.

    rows: the target rows with the id, the date and the keys' columns.
    """
    from pyspark.sql import functions as F

    exploded = rows.select(
        id_column, date_column, F.explode(F.array(*_key_structs(spec))).alias("k")
    ).select(id_column, date_column, "k.key_kind", "k.key")
    matched = exploded.join(
        windows.withColumnRenamed("target_date", date_column),
        [date_column, "key_kind", "key"],
        "left",
    )
    measures = (ROWS, *[o.name for o in spec.outcomes])
    wide = matched.groupBy(id_column, date_column).agg(
        *[
            F.max(F.when(F.col("key_kind") == kind, F.col(measure))).alias(f"{kind}__{measure}")
            for kind in [*spec.keys, "all"]
            for measure in measures
        ]
    )
    rates = []
    for kind in spec.keys:
        n = F.coalesce(F.col(f"{kind}__{ROWS}"), F.lit(0))
        for outcome in spec.outcomes:
            prior = F.col(f"all__{outcome.name}") / F.col(f"all__{ROWS}")
            events = F.coalesce(F.col(f"{kind}__{outcome.name}"), F.lit(0))
            rate = _smoothed(events, n, prior, spec.prior_rows)
            rates.append(rate.alias(f"{kind}_{outcome.name}_rate"))
    return wide.select(id_column, date_column, *rates)
