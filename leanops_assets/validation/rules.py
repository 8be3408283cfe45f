"""Split one raw partition into validated rows and quarantined rows, each with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from leanops_assets.contract import ColumnSpec, Contract
from leanops_assets.contract_parts import TEMPORAL_TYPES
from leanops_assets.validation.derived import add_derived_columns
from leanops_assets.validation.row_day import rows_of_another_day
from leanops_assets.validation.suite import ROW_ID, run_row_expectations

REASON = "_reason"
_ARROW_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
    "date": pa.date32(),
}
_PANDAS_TYPES = {"int": "Int64", "float": "float64", "string": "object", "bool": "boolean"}
_PANDAS_TYPES |= {"date": "object", "timestamp": "datetime64[us, UTC]"}


def arrow_type(spec: ColumnSpec) -> pa.DataType:
    """Timestamps are stored in UTC, whatever zone they were delivered in."""
    return pa.timestamp("us", tz="UTC") if spec.type == "timestamp" else _ARROW_TYPES[spec.type]


_RULE_NAMES = {
    "expect_column_values_to_not_be_null": "null",
    "expect_column_values_to_be_between": "out of range",
    "expect_column_values_to_be_in_set": "unknown category",
}


@dataclass
class SchemaReport:
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    wrong_type: dict[str, str] = field(default_factory=dict)  # column -> what was found

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.wrong_type)


@dataclass
class ValidationOutcome:
    validated: pd.DataFrame
    quarantine: pd.DataFrame
    schema: SchemaReport
    raw_rows: int
    null_keys: dict[str, int]
    reason_counts: dict[str, int]
    outcomes_delivered: bool = True  # False: the delivery carried no outcome columns

    @property
    def quarantined_share(self) -> float:
        return len(self.quarantine) / self.raw_rows if self.raw_rows else 0.0


def validated_schema(contract: Contract) -> pa.Schema:
    """Arrow schema of every validated partition: contract columns, then the derived ones."""
    fields = [pa.field(c.name, arrow_type(c)) for c in contract.columns.values()]
    fields += [
        pa.field(contract.partition_column, pa.date32()),
        pa.field(contract.entity_id, pa.string()),
        pa.field(contract.target_name, pa.int64()),
    ]
    return pa.schema(fields)


def quarantine_schema(raw_columns: list[str]) -> pa.Schema:
    """Quarantined rows keep every raw value as text, so no value is lost to a failed cast."""
    return pa.schema(
        [pa.field(ROW_ID, pa.int64()), pa.field(REASON, pa.string())]
        + [pa.field(c, pa.string()) for c in raw_columns]
    )


def cast_column(values: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, pd.Series]:
    """Cast to the contract type; return (typed values, mask of values that could not be cast)."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        present = values.notna()  # a number or a date is never blank text: only nulls are absent
    else:
        present = values.notna() & (values.astype(str).str.strip() != "")
    if spec.type in TEMPORAL_TYPES or spec.type == "bool":
        return _cast_typed(values, present, spec)
    if spec.type == "string":
        typed = values.where(present, None)
        if pd.api.types.infer_dtype(typed[present], skipna=True) not in ("string", "empty"):
            typed = typed.map(lambda v: v if v is None else str(v))
        return typed.astype(object), pd.Series(False, index=values.index)
    numeric = pd.to_numeric(values.where(present), errors="coerce").astype("float64")
    unusable = numeric.isna() | ~np.isfinite(numeric)
    if spec.type == "int":
        unusable |= (numeric != np.floor(numeric)) | (numeric.abs() > 2**53)
    failed = present & unusable
    numeric = numeric.where(~unusable)
    return (numeric.astype("Int64") if spec.type == "int" else numeric), failed


_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def _cast_typed(
    values: pd.Series, present: pd.Series, spec: ColumnSpec
) -> tuple[pd.Series, pd.Series]:
    """Booleans, dates and timestamps from their text (with the contract's format and zone)."""
    if spec.type == "bool":
        text = values.where(present).map(lambda v: None if _is_missing(v) else str(v).lower())
        typed = text.map(_BOOLEANS.get).astype("boolean")
    elif pd.api.types.is_datetime64_any_dtype(values):
        stamps = values if values.dt.tz else values.dt.tz_localize(spec.timezone or "UTC")
        typed = stamps.dt.tz_convert("UTC") if spec.type == "timestamp" else stamps.dt.date
    else:
        text = values.where(present).map(lambda v: None if _is_missing(v) else str(v).strip())
        parsed = pd.to_datetime(text, format=spec.format, errors="coerce")
        if spec.type == "date":
            typed = parsed.dt.date.where(parsed.notna(), None)
        else:
            if parsed.dt.tz is None:
                parsed = parsed.dt.tz_localize(spec.timezone, ambiguous="NaT", nonexistent="NaT")
            typed = parsed.dt.tz_convert("UTC").astype(_PANDAS_TYPES["timestamp"])
    failed = present & pd.Series(typed, index=values.index).isna()
    return typed, failed


def _declared_type_matches(series: pd.Series, spec: ColumnSpec) -> bool:
    """A column whose dtype is text (as from CSV) is judged by its values, not its dtype."""
    if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
        return True
    if spec.type in TEMPORAL_TYPES:
        return pd.api.types.is_datetime64_any_dtype(series)
    if spec.type == "bool":
        return pd.api.types.is_bool_dtype(series)
    if spec.type == "string":
        return False
    if spec.type == "int":
        return pd.api.types.is_integer_dtype(series) or pd.api.types.is_float_dtype(series)
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            col: pd.Series(
                [None if _is_missing(v) else str(v) for v in frame[col]],
                index=frame.index,
                dtype=object,
            )
            for col in frame.columns
        },
        index=frame.index,
    )


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def validate_partition(raw: pd.DataFrame, contract: Contract, day: str) -> ValidationOutcome:
    """Every raw row ends up validated or quarantined with its reason(s); none is dropped."""
    raw = raw.reset_index(drop=True)
    # only flagged rows get an entry: the cost follows the quarantined rows, not the day's size
    reasons: dict[int, list[str]] = {}

    def flag(rows, reason: str) -> None:
        for row in rows:
            reasons.setdefault(int(row), []).append(reason)

    def flagged() -> np.ndarray:
        mask = np.zeros(len(raw), dtype=bool)
        mask[list(reasons)] = True
        return mask

    # A delivery made before the outcomes are known leaves all outcome columns out.
    outcomes_delivered = any(c in raw.columns for c in contract.outcome_columns)
    expected = [
        c for c in contract.columns if outcomes_delivered or c not in contract.outcome_columns
    ]
    schema = SchemaReport(
        missing=[c for c in expected if c not in raw.columns],
        extra=[
            c
            for c in raw.columns
            if c not in contract.columns and c != contract.outcomes_known_column
        ],
    )
    typed = pd.DataFrame(index=raw.index)
    cast_failed: dict[str, set[int]] = {}
    for name, spec in contract.columns.items():
        if name not in raw.columns:
            if name not in expected:
                typed[name] = pd.Series(None, index=raw.index, dtype=_PANDAS_TYPES[spec.type])
            continue
        if not _declared_type_matches(raw[name], spec):
            schema.wrong_type[name] = f"{raw[name].dtype} (contract: {spec.type})"
        typed[name], failed = cast_column(raw[name], spec)
        cast_failed[name] = set(np.flatnonzero(failed.to_numpy()).tolist())
        flag(cast_failed[name], f"type: {name} is not {spec.type}")
    for name in schema.missing:
        flag(range(len(raw)), f"schema: missing column {name}")
    known = _outcomes_known(raw, contract, outcomes_delivered)
    flag(
        np.flatnonzero(known.isna().to_numpy()),
        f"type: {contract.outcomes_known_column} is not a boolean",
    )
    known = known.fillna(False).astype(bool)
    for name in contract.outcome_columns:  # an outcome not known yet is not a value
        if name in typed:
            typed[name] = typed[name].where(known)

    null_keys = {k: int(typed[k].isna().sum()) for k in contract.source_keys if k in typed}
    if not schema.missing and len(raw):
        typed[ROW_ID] = np.arange(len(raw))
        # GX compares with the declared type; cast nullable ints to float so nulls are NaN.
        ge_frame = typed.astype(
            {c: "float64" for c in typed.columns if str(typed[c].dtype) == "Int64"}
        )
        for verdict in run_row_expectations(ge_frame, contract):
            if not verdict.success:
                rule = _RULE_NAMES.get(verdict.expectation, verdict.expectation)
                # a value that failed its cast is null now: its type reason already says why
                already = cast_failed.get(verdict.column, set())
                flag(
                    [r for r in verdict.unexpected_rows if r not in already],
                    f"{rule}: {verdict.column}",
                )
        typed = typed.drop(columns=[ROW_ID])

        flag(
            rows_of_another_day(typed, contract.row_day, day),
            f"date: row is not of partition {day}",
        )

        keys = list(contract.source_keys)
        clean_so_far = ~flagged()
        duplicate = typed[keys].duplicated(keep="first").to_numpy() & clean_so_far
        flag(np.flatnonzero(duplicate), f"duplicate: key {'/'.join(keys)} seen earlier in the day")

    bad = flagged()
    quarantine = _as_text(raw.loc[bad]).reset_index(drop=False).rename(columns={"index": ROW_ID})
    quarantine.insert(1, REASON, ["; ".join(reasons[i]) for i in np.flatnonzero(bad)])
    quarantine[ROW_ID] = quarantine[ROW_ID].astype("int64")

    if schema.missing:
        validated = pd.DataFrame(
            {c: pd.Series(dtype=_PANDAS_TYPES[s.type]) for c, s in contract.columns.items()}
        )
        validated = add_derived_columns(validated, day, contract)
    else:
        validated = add_derived_columns(
            typed.loc[~bad].reset_index(drop=True),
            day,
            contract,
            known.loc[~bad].reset_index(drop=True),
        )
    reason_counts: dict[str, int] = {}
    for row in sorted(reasons):
        for reason in reasons[row]:
            reason_counts[reason] = reason_counts.get(reason, 0) + 1
    return ValidationOutcome(
        validated=validated[validated_schema(contract).names],
        quarantine=quarantine,
        schema=schema,
        raw_rows=len(raw),
        null_keys=null_keys,
        reason_counts=reason_counts,
        outcomes_delivered=outcomes_delivered,
    )


_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def _outcomes_known(raw: pd.DataFrame, contract: Contract, delivered: bool) -> pd.Series:
    """Per row: outcomes known (True), not yet known (False), or a flag that is not a boolean (NA)."""
    flag_column = contract.outcomes_known_column
    if not delivered:
        return pd.Series(False, index=raw.index, dtype="boolean")
    if flag_column is None or flag_column not in raw.columns:
        return pd.Series(True, index=raw.index, dtype="boolean")
    text = raw[flag_column].map(lambda v: None if _is_missing(v) else str(v).strip().lower())
    parsed = text.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
    return parsed.astype("boolean")
