"""The typed inputs of the declared features, from the contract: row and reference schemas, and
validated rows read by Spark straight from the Parquet files (no row passes through the driver).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from leanops_assets.contract import Contract
from leanops_assets.contract_parts import ColumnSpec
from leanops_assets.features.declared import features_of, row_columns
from leanops_assets.features.references import check_present
from leanops_assets.storage import Lake

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from leanops_assets.contract_features import JoinSpec

ARROW_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),  # validation stores every timestamp in UTC
}


@lru_cache(maxsize=1)
def _spark_types() -> dict:
    """Spark's type for each stored Arrow type, built in Python (pyspark loads on first use;
    parsing type names would ask the JVM, column by column)."""
    from pyspark.sql import types as T

    return {
        pa.timestamp("us", tz="UTC"): T.TimestampType(),
        pa.string(): T.StringType(),
        pa.date32(): T.DateType(),
        pa.int64(): T.LongType(),
        pa.float64(): T.DoubleType(),
        pa.bool_(): T.BooleanType(),
    }


def _field(spec: ColumnSpec) -> pa.Field:
    return pa.field(spec.name, ARROW_TYPES[spec.type])


def row_schema(contract: Contract) -> pa.Schema:
    """The validated columns the features read: id, partition date, target, then the inputs."""
    return pa.schema(
        [
            (contract.entity_id, pa.string()),
            (contract.partition_column, pa.date32()),
            (contract.target_name, pa.int64()),
            *[_field(contract.columns[name]) for name in row_columns(contract)],
        ]
    )


def reference_schema(contract: Contract, join: JoinSpec) -> pa.Schema:
    """A joined table's columns the features read: its keys, its as-of time, its columns."""
    table = contract.references[join.table].columns
    names = [*join.keys, *([join.as_of.time] if join.as_of else []), *join.columns]
    return pa.schema([_field(table[name]) for name in dict.fromkeys(names)])


def join_of(contract: Contract, table: str) -> JoinSpec:
    return next(join for join in features_of(contract).joins if join.table == table)


def _by_stored_types(paths: list[str], schema: pa.Schema) -> list[tuple[list[str], pa.Schema]]:
    """Files grouped by how they store the input columns (from their footers), with those
    columns' stored types (absent ones left out): a lake written before timestamps were typed
    holds them as text, and Spark reads one stored type per scan."""
    groups: dict[tuple[str, ...], tuple[list[str], pa.Schema]] = {}
    for path in paths:
        stored = pq.read_schema(path)
        present = pa.schema([stored.field(name) for name in schema.names if name in stored.names])
        key = tuple(
            str(present.field(n).type) if n in present.names else "absent" for n in schema.names
        )
        groups.setdefault(key, ([], present))[0].append(path)
    return list(groups.values())


def _spark_schema(stored: pa.Schema):
    """The Spark schema of the stored columns, or None if one has a type Spark would read
    otherwise (Spark then infers it, at the cost of one job)."""
    from pyspark.sql.types import StructField, StructType

    types = _spark_types()
    if any(field.type not in types for field in stored):
        return None
    return StructType([StructField(f.name, types[f.type]) for f in stored])


def spark_read_rows(
    spark: SparkSession, lake: Lake, contract: Contract, days: list[str], upstream: str
) -> DataFrame:
    """Validated rows of `days` read by Spark, cast to `row_schema` (a timestamp stored as
    text is read as a timestamp)."""
    from functools import reduce

    from pyspark.sql import functions as F

    schema = row_schema(contract)
    check_present(lake, "validated", contract.name, days, upstream)
    paths = [str(lake.partition_path("validated", contract.name, day)) for day in days]
    where = f"validated/{contract.name} {days[0]}..{days[-1]} ({lake.root})"
    casts = [F.col(f.name).cast(_spark_types()[f.type]).alias(f.name) for f in schema]
    frames = []
    for group, stored in _by_stored_types(paths, schema):
        missing = [name for name in schema.names if name not in stored.names]
        if missing:
            raise ValueError(f"{where} lacks column(s) {missing} needed by the features")
        # Spark infers a schema with a job of its own; the footers already tell it.
        spark_schema = _spark_schema(stored)
        reader = spark.read if spark_schema is None else spark.read.schema(spark_schema)
        frames.append(reader.parquet(*group).select(*casts))
    return reduce(lambda left, right: left.unionByName(right), frames)
