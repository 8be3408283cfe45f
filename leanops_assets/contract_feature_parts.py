"""Parts of a contract's `features:` block: calendar, rates and their outcomes, reference joins.

Each parser checks its part against the dataset's columns and names the field in its errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from leanops_assets.contract_parts import ColumnSpec, ContractError, require

CALENDAR_PARTS = {"hour", "minute_of_day", "weekday", "day_of_month", "month", "day_of_year"}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_OUTCOME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s+is\s+(not\s+)?null\s*$")
_COMPARISON = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class CalendarSpec:
    of: str  # a date or timestamp column, by default the prediction time
    timezone: str | None  # timestamps are read in this zone (default: the column's own)
    parts: dict[str, str]  # part -> feature name


@dataclass(frozen=True)
class OutcomeSpec:
    """An event counted by the rates: the target, a boolean column, `col is [not] null`, or
    `col <op> number`. A row whose event is null counts as a row without the event."""

    name: str
    column: str | None  # None: the target
    test: str  # "target", "bool", "is null", "is not null", or a comparison operator
    threshold: float | None = None


@dataclass(frozen=True)
class RatesSpec:
    keys: dict[str, tuple[str, ...]]  # key name -> its columns (several: joined with "-")
    outcomes: tuple[OutcomeSpec, ...]
    prior_rows: float  # smoothing: as if each key had this many more rows at the overall rate

    @property
    def columns(self) -> list[str]:
        return [f"{key}_{o.name}_rate" for key in self.keys for o in self.outcomes]

    @property
    def composite_keys(self) -> dict[str, tuple[str, ...]]:
        return {name: cols for name, cols in self.keys.items() if len(cols) > 1}


@dataclass(frozen=True)
class AsOfSpec:
    time: str  # the table's observation time
    row_time: str  # the row's time it is compared with (the prediction time)
    known_after: timedelta  # an observation is known this long after its time
    max_age: timedelta | None  # None: any earlier observation of the days read


@dataclass(frozen=True)
class JoinSpec:
    table: str
    keys: tuple[str, ...]  # columns of the row and of the table
    columns: dict[str, str]  # table column -> feature name
    prefer: tuple[tuple[str, bool], ...]  # several rows for a key: the first by (column, desc)
    as_of: AsOfSpec | None


def parse_duration(raw: Any, where: str) -> timedelta:
    match = _DURATION.match(str(raw))
    if match is None:
        raise ContractError(f"{where}: {raw!r} is not a duration like '30m', '1h' or '2d'")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def names_or_mapping(raw: Any, where: str) -> dict[str, str]:
    """A list of names, or a mapping source -> feature name."""
    if isinstance(raw, list) and raw and all(isinstance(v, str) for v in raw):
        return {name: name for name in raw}
    if isinstance(raw, dict) and raw and all(isinstance(v, str) for v in raw.values()):
        return {str(k): v for k, v in raw.items()}
    raise ContractError(f"{where}: expected a non-empty list of names or a mapping to names")


def only_fields(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ContractError(f"{where}: unknown field(s) {sorted(unknown)}")


def parse_calendar(raw: Any, columns: dict[str, ColumnSpec], default_of: str, where: str):
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected a mapping with parts (and of, timezone)")
    only_fields(raw, {"of", "timezone", "parts"}, where)
    of = raw.get("of", default_of)
    if of not in columns or columns[of].type not in ("date", "timestamp"):
        raise ContractError(f"{where}.of: '{of}' must be a declared date or timestamp column")
    parts = names_or_mapping(require(raw, "parts", where, list | dict), f"{where}.parts")
    unknown = sorted(set(parts) - CALENDAR_PARTS)
    if unknown:
        raise ContractError(f"{where}.parts: {unknown} not among {sorted(CALENDAR_PARTS)}")
    zone = raw.get("timezone", columns[of].timezone)
    if columns[of].type == "date" and ({"hour", "minute_of_day"} & set(parts) or "timezone" in raw):
        raise ContractError(f"{where}: '{of}' is a date: it has no hour, minute or time zone")
    if zone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ContractError(f"{where}.timezone: {zone!r} is not a known time zone") from exc
    return CalendarSpec(of, zone, parts)


def parse_outcome(name: str, raw: Any, columns: dict[str, ColumnSpec], where: str) -> OutcomeSpec:
    text = str(raw)
    if text.strip() == "target":
        return OutcomeSpec(name, None, "target")
    if (match := _OUTCOME.match(text)) is not None:
        column, test = match[1], "is not null" if match[2] else "is null"
        spec = OutcomeSpec(name, column, test)
    elif (match := _COMPARISON.match(text)) is not None:
        column, spec = match[1], OutcomeSpec(name, match[1], match[2], float(match[3]))
    else:
        column, spec = text.strip(), OutcomeSpec(name, text.strip(), "bool")
    if column not in columns:
        raise ContractError(f"{where}: '{column}' is not a declared column")
    kind = columns[column].type
    if (spec.test == "bool" and kind != "bool") or (
        spec.threshold is not None and kind not in ("int", "float")
    ):
        raise ContractError(
            f"{where}: {text!r} must be 'target', a boolean column, 'column is [not] null' or "
            f"a numeric comparison like 'column > 15'"
        )
    return spec


def parse_rates(raw: Any, columns: dict[str, ColumnSpec], early: set[str], where: str) -> RatesSpec:
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected a mapping with keys and outcomes")
    only_fields(raw, {"keys", "outcomes", "prior_rows"}, where)
    keys: dict[str, tuple[str, ...]] = {}
    for name, cols in require(raw, "keys", where, dict).items():
        cols = (cols,) if isinstance(cols, str) else tuple(cols or ())
        bad = [c for c in cols if c not in columns or c in early]
        if not cols or bad:
            raise ContractError(
                f"{where}.keys.{name}: {bad or cols!r} must be declared columns known at the "
                f"prediction time (a list of several is joined with '-')"
            )
        keys[str(name)] = cols
    outcomes = require(raw, "outcomes", where, dict)
    if not outcomes:
        raise ContractError(f"{where}.outcomes: name at least one outcome (e.g. late: target)")
    prior = require(raw, "prior_rows", where, int | float)
    if prior < 0:
        raise ContractError(f"{where}.prior_rows: {prior} must not be negative")
    parsed = tuple(
        parse_outcome(str(n), o, columns, f"{where}.outcomes.{n}") for n, o in outcomes.items()
    )
    return RatesSpec(keys, parsed, float(prior))


def parse_as_of(raw: Any, table_columns, columns, row_time: str, where: str) -> AsOfSpec:
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected a mapping with time (and known_after, max_age)")
    only_fields(raw, {"time", "row_time", "known_after", "max_age"}, where)
    time = require(raw, "time", where, str)
    if time not in table_columns or table_columns[time].type != "timestamp":
        raise ContractError(f"{where}.time: '{time}' must be a timestamp column of the table")
    row_time = raw.get("row_time", row_time)
    if row_time not in columns or columns[row_time].type != "timestamp":
        raise ContractError(f"{where}.row_time: '{row_time}' must be a timestamp column")
    known_after = parse_duration(raw.get("known_after", "0s"), f"{where}.known_after")
    max_age = raw.get("max_age")
    max_age = None if max_age is None else parse_duration(max_age, f"{where}.max_age")
    return AsOfSpec(time, row_time, known_after, max_age)


def parse_join(table: str, raw: Any, references, columns, row_time, early, where) -> JoinSpec:
    if table not in references:
        raise ContractError(f"{where}: '{table}' is not one of the contract's references")
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected a mapping with columns (and as_of, prefer)")
    only_fields(raw, {"columns", "as_of", "prefer"}, where)
    ref = references[table]
    as_of = None
    if "as_of" in raw:
        as_of = parse_as_of(raw["as_of"], ref.columns, columns, row_time, f"{where}.as_of")
    keys = tuple(k for k in ref.join_keys if as_of is None or k != as_of.time)
    leaked = [k for k in keys if k in early]
    if not keys or leaked:
        raise ContractError(
            f"{where}: join keys {list(ref.join_keys)} of {table} must name row "
            f"columns known at the prediction time (besides the as_of time)"
        )
    picked = names_or_mapping(require(raw, "columns", where, list | dict), f"{where}.columns")
    unknown = sorted(set(picked) - set(ref.columns))
    if unknown:
        raise ContractError(f"{where}.columns: {unknown} are not columns of {table}")
    prefer = []
    for item in raw.get("prefer", []):
        column, _, order = str(item).partition(" ")
        if column not in ref.columns or order.strip() not in ("", "asc", "desc"):
            raise ContractError(f"{where}.prefer: {item!r} is not '<column of {table}> [desc]'")
        prefer.append((column, order.strip() == "desc"))
    return JoinSpec(table, keys, picked, tuple(prefer), as_of)
