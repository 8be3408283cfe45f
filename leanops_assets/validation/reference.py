"""Reference tables (weather, planes, ...) checked against their own contracts before a feature
reads them: typed per the contract, and a row that breaks it is left out with its reason."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from leanops_assets.contract import ReferenceContract
from leanops_assets.validation.rules import cast_column


class ReferenceTableError(ValueError):
    """A reference table that lacks a column of its contract; the message names the table."""


@dataclass(frozen=True)
class ReferenceOutcome:
    valid: pd.DataFrame  # the contract's columns, typed
    reason_counts: dict[str, int]  # why rows were left out (the raw table keeps them)


def validate_reference(
    frame: pd.DataFrame, contract: ReferenceContract, where: str
) -> ReferenceOutcome:
    missing = [name for name in contract.columns if name not in frame.columns]
    if missing:
        raise ReferenceTableError(
            f"{where}: reference table {contract.name} lacks column(s) {missing} of its contract "
            f"{contract.source_path.name}"
        )
    frame = frame.reset_index(drop=True)
    typed = pd.DataFrame(index=frame.index)
    reasons = pd.Series("", index=frame.index, dtype=object)

    def flag(mask: pd.Series, reason: str) -> None:
        reasons.loc[mask & (reasons == "")] = reason

    for name, spec in contract.columns.items():
        typed[name], failed = cast_column(frame[name], spec)
        flag(failed, f"type: {name} is not {spec.type}")
        values = typed[name]
        if not spec.nullable:
            flag(values.isna(), f"null: {name}")
        if spec.min is not None:
            flag(values.astype("float64") < spec.min, f"out of range: {name}")
        if spec.max is not None:
            flag(values.astype("float64") > spec.max, f"out of range: {name}")
        if spec.allowed is not None:
            flag(values.notna() & ~values.isin(spec.allowed), f"unknown category: {name}")
    bad = reasons != ""
    return ReferenceOutcome(
        valid=typed.loc[~bad].reset_index(drop=True),
        reason_counts={str(k): int(v) for k, v in reasons[bad].value_counts().sort_index().items()},
    )
