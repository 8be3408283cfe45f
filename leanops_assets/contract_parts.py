"""The parts of a dataset contract: columns, the target expression and the entity id template."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

COLUMN_TYPES = {"int", "float", "string", "bool", "date", "timestamp"}
TEMPORAL_TYPES = {"date", "timestamp"}
TARGET_MISSING = {"positive": 1, "negative": 0, "unknown": None}
_COMPARISON = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


class ContractError(ValueError):
    """A contract that is malformed; the message names the file and the field."""


def require(raw: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in raw:
        raise ContractError(f"{where}: missing required field '{key}'")
    value = raw[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ContractError(
            f"{where}.{key}: expected {names}, got {type(value).__name__} {value!r}"
        )
    return value


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    nullable: bool
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    format: str | None = None  # dates and timestamps: a strptime format
    timezone: str | None = None  # timestamps: the zone of values written without one


def parse_column(name: str, raw: Any, where: str) -> ColumnSpec:
    where = f"{where}.columns.{name}"
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected a mapping with type and nullable")
    unknown = set(raw) - {"type", "nullable", "min", "max", "allowed", "format", "timezone"}
    if unknown:
        raise ContractError(f"{where}: unknown field(s) {sorted(unknown)}")
    col_type = require(raw, "type", where, str)
    if col_type not in COLUMN_TYPES:
        raise ContractError(f"{where}.type: {col_type!r} is not one of {sorted(COLUMN_TYPES)}")
    nullable = require(raw, "nullable", where, bool)
    low, high, allowed = raw.get("min"), raw.get("max"), raw.get("allowed")
    for bound_name, bound in (("min", low), ("max", high)):
        numeric = col_type in ("int", "float")
        if bound is not None and (not numeric or not isinstance(bound, int | float)):
            raise ContractError(
                f"{where}.{bound_name}: a numeric bound needs a numeric column, got {bound!r}"
            )
    if low is not None and high is not None and low > high:
        raise ContractError(f"{where}: min {low} is greater than max {high}")
    if allowed is not None:
        if not isinstance(allowed, list) or not allowed:
            raise ContractError(f"{where}.allowed: expected a non-empty list of values")
        allowed = tuple(str(v) for v in allowed)
    return ColumnSpec(
        name, col_type, nullable, low, high, allowed, *_temporal(raw, col_type, where)
    )


def _temporal(raw: dict[str, Any], col_type: str, where: str) -> tuple[str | None, str | None]:
    fmt, zone = raw.get("format"), raw.get("timezone")
    if col_type not in TEMPORAL_TYPES:
        if fmt is not None or zone is not None:
            raise ContractError(f"{where}: format and timezone are for date or timestamp columns")
        return None, None
    if not isinstance(fmt, str) or not fmt:
        raise ContractError(f"{where}.format: a {col_type} column needs a strptime format")
    try:
        datetime.strptime(datetime(2001, 2, 3, 4, 5, 6).strftime(fmt), fmt)
    except ValueError as exc:
        raise ContractError(f"{where}.format: {fmt!r} is not a usable format ({exc})") from exc
    if col_type == "timestamp":
        if not isinstance(zone, str):
            raise ContractError(f"{where}.timezone: a timestamp column needs a time zone")
        check_timezone(zone, where)
    elif zone is not None:
        raise ContractError(f"{where}.timezone: a date has no time zone")
    return fmt, zone


def check_timezone(zone: str, where: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ContractError(f"{where}.timezone: {zone!r} is not a known time zone") from exc


@dataclass(frozen=True)
class TargetSpec:
    """The label: a boolean column, or `column <op> threshold`; `missing` says what a missing
    value means in a delivery that carries outcomes (positive, negative or unknown)."""

    name: str
    column: str
    operator: str | None  # None: the column is boolean
    threshold: float | None
    missing: str


def parse_target(raw: dict[str, Any], columns: dict[str, ColumnSpec], where: str) -> TargetSpec:
    where = f"{where}.target"
    name = require(raw, "name", where, str)
    expression = require(raw, "expression", where, str)
    missing = require(raw, "missing", where, str)
    if missing not in TARGET_MISSING:
        raise ContractError(f"{where}.missing: {missing!r} is not one of {sorted(TARGET_MISSING)}")
    match = _COMPARISON.match(expression)
    column = match[1] if match else expression.strip()
    if column not in columns:
        raise ContractError(f"{where}.expression: '{column}' is not a declared column")
    if match is None:
        if columns[column].type != "bool":
            raise ContractError(
                f"{where}.expression: {expression!r} is neither a boolean column nor a "
                f"comparison like 'column > 15'"
            )
        return TargetSpec(name, column, None, None, missing)
    if columns[column].type not in ("int", "float"):
        raise ContractError(f"{where}.expression: '{column}' is not numeric, it cannot be compared")
    return TargetSpec(name, column, match[2], float(match[3]), missing)


@dataclass(frozen=True)
class EntityIdSpec:
    """The entity id: a template over columns, e.g. '{carrier}-{flight}-{sched_dep_time:04d}'."""

    name: str
    template: str
    columns: tuple[str, ...]


def parse_entity_id(raw: Any, known: set[str], where: str) -> EntityIdSpec:
    where = f"{where}.entity_id"
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected a mapping with name and template")
    name = require(raw, "name", where, str)
    template = require(raw, "template", where, str)
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise ContractError(f"{where}.template: {template!r} is not a template ({exc})") from exc
    unknown = [f for f in fields if f not in known]
    if not fields or unknown:
        raise ContractError(
            f"{where}.template: every {{field}} must be a declared column; unknown {unknown}"
        )
    return EntityIdSpec(name, template, tuple(dict.fromkeys(fields)))


@dataclass(frozen=True)
class RowDaySpec:
    """How a row's own day is known, to check it belongs to its partition: from year, month and
    day columns, or from one date or timestamp column (a timestamp read in `timezone`)."""

    year: str | None = None
    month: str | None = None
    day: str | None = None
    column: str | None = None
    timezone: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,) if self.column else (self.year, self.month, self.day)


_ROW_DAY_FORMS = ({"year", "month", "day"}, {"column"}, {"column", "timezone"})


def parse_row_day(raw: dict[str, Any], columns: dict[str, ColumnSpec], where: str) -> RowDaySpec:
    where = f"{where}.partition.day_of_row"
    forms = "{year: <col>, month: <col>, day: <col>} or {column: <date or timestamp column>}"
    if set(raw) not in _ROW_DAY_FORMS:
        raise ContractError(f"{where}: expected {forms}, got {raw!r}")
    if "column" not in raw:
        for part in ("year", "month", "day"):
            name = require(raw, part, where, str)
            if name not in columns or columns[name].type != "int":
                raise ContractError(f"{where}.{part}: '{name}' must be a declared int column")
        return RowDaySpec(year=raw["year"], month=raw["month"], day=raw["day"])
    name = require(raw, "column", where, str)
    if name not in columns or columns[name].type not in TEMPORAL_TYPES:
        raise ContractError(f"{where}.column: '{name}' must be a declared date or timestamp column")
    zone = raw.get("timezone")
    if columns[name].type == "date":
        if zone is not None:
            raise ContractError(f"{where}.timezone: '{name}' is a date, it has no time zone")
        return RowDaySpec(column=name)
    if not isinstance(zone, str):
        raise ContractError(
            f"{where}.timezone: the day of timestamp '{name}' needs the zone it is read in"
        )
    check_timezone(zone, where)
    return RowDaySpec(column=name, timezone=zone)
