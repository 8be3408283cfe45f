"""Columns validation adds to every clean row, as the contract declares them: its partition day,
its entity id and its target."""

from __future__ import annotations

import operator
from datetime import date

import pandas as pd

from leanops_assets.contract import Contract
from leanops_assets.contract_parts import TARGET_MISSING, EntityIdSpec, TargetSpec

_OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_OPERATORS["=="] = operator.eq


def entity_ids(frame: pd.DataFrame, entity: EntityIdSpec) -> pd.Series:
    """The id template filled row by row; integer columns are formatted as integers."""
    columns = {
        name: frame[name].astype("int64")
        if pd.api.types.is_float_dtype(frame[name])
        else frame[name]
        for name in entity.columns
    }
    values = zip(*(columns[name].tolist() for name in entity.columns), strict=True)
    ids = [entity.template.format(**dict(zip(entity.columns, row, strict=True))) for row in values]
    return pd.Series(ids, index=frame.index, dtype=object)


def target_values(frame: pd.DataFrame, target: TargetSpec) -> pd.Series:
    """1 / 0 from the target expression; a missing value means what the contract says."""
    values = frame[target.column]
    if target.operator is None:
        hit = values.astype("boolean")
    else:
        hit = _OPERATORS[target.operator](values.astype("Float64"), target.threshold)
    missing = TARGET_MISSING[target.missing]
    label = hit.astype("Int64")
    return label.where(values.notna(), pd.NA if missing is None else missing).astype("Int64")


def add_derived_columns(
    frame: pd.DataFrame,
    day: str,
    contract: Contract,
    outcomes_known: pd.Series | None = None,
) -> pd.DataFrame:
    """Add the partition day, the entity id and the target of the contract's rows.

    The target is null (unknown) where `outcomes_known` is false: a row whose outcome has not
    arrived is neither positive nor negative.
    """
    out = frame.copy()
    out[contract.partition_column] = date.fromisoformat(day)
    out[contract.entity_id] = entity_ids(out, contract.entity)
    known = pd.Series(True, index=out.index) if outcomes_known is None else outcomes_known
    label = target_values(out, contract.target).where(known.to_numpy(), pd.NA)
    # plain integers when every outcome is known; nullable only when some are not
    out[contract.target_name] = label.astype("int64") if label.notna().all() else label
    return out
