"""Reference tables as the features read them: raw days or tables from the lake, validated
against their own contracts (datasets/<name>/<table>.yaml), cast to a fixed Arrow schema."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from leanops_assets.contract import ReferenceContract
from leanops_assets.storage import Lake


def check_present(lake: Lake, stage: str, dataset: str, days: list[str], upstream: str) -> None:
    absent = [day for day in days if not lake.has_partition(stage, dataset, day)]
    if absent:
        raise FileNotFoundError(
            f"{stage}/{dataset} lacks partition(s) {absent} under {lake.root}; materialize "
            f"{upstream} for those days first"
        )


def _validated(
    frame: pd.DataFrame, contract: ReferenceContract, schema: pa.Schema, where: str
) -> tuple[pa.Table, dict[str, int]]:
    from leanops_assets.validation.reference import validate_reference

    outcome = validate_reference(frame, contract, where)
    table = pa.Table.from_pandas(outcome.valid[schema.names], preserve_index=False)
    return table.cast(schema), outcome.reason_counts


def read_reference_days(
    lake: Lake, contract: ReferenceContract, days: list[str], schema: pa.Schema, upstream: str
) -> tuple[pa.Table, dict[str, int]]:
    """The raw days of a daily reference table, validated; and why rows were left out."""
    check_present(lake, "raw", contract.name, days, upstream)
    frame = lake.read_partitions("raw", contract.name, days)
    if frame.empty and not len(frame.columns):  # no day at all
        return schema.empty_table(), {}
    where = f"raw/{contract.name} {days[0]}..{days[-1]} ({lake.root})"
    return _validated(frame, contract, schema, where)


def read_reference_table(
    lake: Lake, contract: ReferenceContract, schema: pa.Schema, upstream: str
) -> tuple[pa.Table, dict[str, int]]:
    """An unpartitioned reference table, validated; and why rows were left out."""
    path = lake.table_path("raw", contract.name)
    if not path.exists():
        raise FileNotFoundError(
            f"table raw/{contract.name} is not in the lake ({path}); materialize {upstream} first"
        )
    return _validated(
        lake.read_table("raw", contract.name), contract, schema, f"raw/{contract.name}"
    )
