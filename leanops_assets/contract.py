"""The dataset contract: one YAML file per dataset, loaded and checked before anything runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACTS_DIR = Path(__file__).parent / "contracts"
COLUMN_TYPES = {"int", "float", "string"}


class ContractError(ValueError):
    """A contract that is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    nullable: bool
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Contract:
    name: str
    source_path: Path
    partition_column: str
    partition_start: date
    partition_end: date | None  # None: open-ended, the partitions extend to today
    keys: tuple[str, ...]
    entity_id: str
    categorical: tuple[str, ...]
    target_name: str
    target_source_column: str
    target_threshold_minutes: float
    post_event_columns: tuple[str, ...]
    # Columns that arrive after the event, possibly in a later delivery; absent: not yet known.
    outcome_columns: tuple[str, ...]
    outcomes_known_column: str | None  # optional delivered flag: false = row's outcomes unknown
    volume_trailing_days: int
    volume_band: float
    quarantine_max_share: float
    columns: dict[str, ColumnSpec] = field(default_factory=dict)

    @property
    def source_keys(self) -> tuple[str, ...]:
        """Key columns present in the raw data (the partition column is derived)."""
        return tuple(k for k in self.keys if k != self.partition_column)


def _require(raw: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in raw:
        raise ContractError(f"{where}: missing required field '{key}'")
    value = raw[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ContractError(
            f"{where}.{key}: expected {names}, got {type(value).__name__} {value!r}"
        )
    return value


def _column(name: str, raw: Any, where: str) -> ColumnSpec:
    where = f"{where}.columns.{name}"
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected a mapping with type and nullable")
    unknown = set(raw) - {"type", "nullable", "min", "max", "allowed"}
    if unknown:
        raise ContractError(f"{where}: unknown field(s) {sorted(unknown)}")
    col_type = _require(raw, "type", where, str)
    if col_type not in COLUMN_TYPES:
        raise ContractError(f"{where}.type: {col_type!r} is not one of {sorted(COLUMN_TYPES)}")
    nullable = _require(raw, "nullable", where, bool)
    low, high, allowed = raw.get("min"), raw.get("max"), raw.get("allowed")
    for bound_name, bound in (("min", low), ("max", high)):
        if bound is not None and (col_type == "string" or not isinstance(bound, int | float)):
            raise ContractError(
                f"{where}.{bound_name}: a numeric bound needs a numeric column, got {bound!r}"
            )
    if low is not None and high is not None and low > high:
        raise ContractError(f"{where}: min {low} is greater than max {high}")
    if allowed is not None:
        if not isinstance(allowed, list) or not allowed:
            raise ContractError(f"{where}.allowed: expected a non-empty list of values")
        allowed = tuple(str(v) for v in allowed)
    return ColumnSpec(name, col_type, nullable, low, high, allowed)


def parse_contract(raw: Any, source_path: Path) -> Contract:
    where = source_path.name
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: the contract must be a YAML mapping")
    name = _require(raw, "name", where, str)
    partition = _require(raw, "partition", where, dict)
    target = _require(raw, "target", where, dict)
    volume = _require(raw, "volume", where, dict)
    quarantine = _require(raw, "quarantine", where, dict)
    raw_columns = _require(raw, "columns", where, dict)
    columns = {col: _column(col, spec, where) for col, spec in raw_columns.items()}

    unknown = set(partition) - {"column", "start", "end"}
    if unknown:
        raise ContractError(f"{where}.partition: unknown field(s) {sorted(unknown)}")
    try:
        start = date.fromisoformat(str(_require(partition, "start", f"{where}.partition", str)))
        end = partition.get("end")
        end = None if end is None else date.fromisoformat(str(end))
    except ValueError as exc:
        raise ContractError(f"{where}.partition: start and end must be YYYY-MM-DD ({exc})") from exc
    if end is not None and start > end:
        raise ContractError(f"{where}.partition: start {start} is after end {end}")

    partition_column = _require(partition, "column", f"{where}.partition", str)
    keys = tuple(_require(raw, "keys", where, list))
    for key in keys:
        if key != partition_column and key not in columns:
            raise ContractError(f"{where}.keys: '{key}' is not a declared column")
        if key in columns and columns[key].nullable:
            raise ContractError(f"{where}.keys: key column '{key}' must not be nullable")
    for list_field in ("categorical", "post_event_columns"):
        for col in _require(raw, list_field, where, list):
            if col not in columns:
                raise ContractError(f"{where}.{list_field}: '{col}' is not a declared column")

    source_column = _require(target, "source_column", f"{where}.target", str)
    if source_column not in columns:
        raise ContractError(
            f"{where}.target.source_column: '{source_column}' is not a declared column"
        )
    if source_column not in raw["post_event_columns"]:
        raise ContractError(
            f"{where}.post_event_columns: the target's source column '{source_column}' must be listed "
            f"(it is known only after the fact)"
        )
    outcomes = _require(raw, "outcomes", where, dict)
    outcome_columns = tuple(_require(outcomes, "columns", f"{where}.outcomes", list))
    for col in outcome_columns:
        if col not in columns or not columns[col].nullable:
            raise ContractError(
                f"{where}.outcomes.columns: '{col}' must be a declared nullable column (a row "
                f"delivered before its outcome has none)"
            )
    if source_column not in outcome_columns:
        raise ContractError(
            f"{where}.outcomes.columns: the target's source column '{source_column}' must be "
            f"listed (the target is unknown until it arrives)"
        )
    known_column = outcomes.get("known_column")
    if known_column is not None and (not isinstance(known_column, str) or known_column in columns):
        raise ContractError(
            f"{where}.outcomes.known_column: {known_column!r} must name a flag column that is "
            f"not one of the data columns"
        )
    max_share = _require(quarantine, "max_share", f"{where}.quarantine", int | float)
    if not 0 <= max_share <= 1:
        raise ContractError(f"{where}.quarantine.max_share: {max_share} is not between 0 and 1")
    band = _require(volume, "band", f"{where}.volume", int | float)
    if not band > 0:
        raise ContractError(f"{where}.volume.band: {band} must be positive")

    return Contract(
        name=name,
        source_path=source_path,
        partition_column=partition_column,
        partition_start=start,
        partition_end=end,
        keys=keys,
        entity_id=_require(raw, "entity_id", where, str),
        categorical=tuple(raw["categorical"]),
        target_name=_require(target, "name", f"{where}.target", str),
        target_source_column=source_column,
        target_threshold_minutes=float(
            _require(target, "threshold_minutes", f"{where}.target", int | float)
        ),
        post_event_columns=tuple(raw["post_event_columns"]),
        outcome_columns=outcome_columns,
        outcomes_known_column=known_column,
        volume_trailing_days=_require(volume, "trailing_days", f"{where}.volume", int),
        volume_band=float(band),
        quarantine_max_share=float(max_share),
        columns=columns,
    )


def load_contract_file(path: Path) -> Contract:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc
    return parse_contract(raw, Path(path))


@cache
def load_contract(name: str = "flights") -> Contract:
    """The bundled contract by dataset name."""
    return load_contract_file(CONTRACTS_DIR / f"{name}.yaml")
