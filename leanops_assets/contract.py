"""The dataset contract: datasets/<name>/contract.yaml, loaded and checked before anything runs.

Reference tables (datasets/<name>/<table>.yaml) have contracts of their own: columns and keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from leanops_assets.contract_features import FeatureSpec, parse_features
from leanops_assets.contract_parts import (
    COLUMN_TYPES,
    ColumnSpec,
    ContractError,
    EntityIdSpec,
    RowDaySpec,
    TargetSpec,
    parse_column,
    parse_entity_id,
    parse_row_day,
    parse_target,
    require,
)

DATASETS_DIR = Path(__file__).parent / "datasets"
__all__ = ["COLUMN_TYPES", "ColumnSpec", "Contract", "ContractError", "ReferenceContract"]


@dataclass(frozen=True)
class ReferenceContract:
    """A table the features join: its columns, and the keys it is joined on."""

    name: str
    source_path: Path
    join_keys: tuple[str, ...]
    columns: dict[str, ColumnSpec]


@dataclass(frozen=True)
class Contract:
    name: str
    source_path: Path
    partition_column: str
    partition_start: date
    partition_end: date | None  # None: open-ended, the partitions extend to today
    row_day: RowDaySpec  # how a row's own day is known: validation checks it is the partition's
    keys: tuple[str, ...]
    entity: EntityIdSpec
    categorical: tuple[str, ...]
    target: TargetSpec
    prediction_time_column: str  # what is known when a row is scored: its columns but these
    post_event_columns: tuple[str, ...]  # known only after the prediction time: never features
    # Columns that arrive after the event, possibly in a later delivery; absent: not yet known.
    outcome_columns: tuple[str, ...]
    outcomes_known_column: str | None  # optional delivered flag: false = row's outcomes unknown
    volume_trailing_days: int
    volume_band: float
    quarantine_max_share: float
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    references: dict[str, ReferenceContract] = field(default_factory=dict)
    features: FeatureSpec | None = None  # the declared features (features/declared.py)

    @property
    def source_keys(self) -> tuple[str, ...]:
        """Key columns present in the raw data (the partition column is derived)."""
        return tuple(k for k in self.keys if k != self.partition_column)

    @property
    def entity_id(self) -> str:
        return self.entity.name

    @property
    def target_name(self) -> str:
        return self.target.name


def _columns(raw: dict[str, Any], where: str) -> dict[str, ColumnSpec]:
    raw_columns = require(raw, "columns", where, dict)
    return {col: parse_column(col, spec, where) for col, spec in raw_columns.items()}


def _partition(raw: dict[str, Any], where: str) -> tuple[str, date, date | None]:
    partition = require(raw, "partition", where, dict)
    unknown = set(partition) - {"column", "start", "end", "day_of_row"}
    if unknown:
        raise ContractError(f"{where}.partition: unknown field(s) {sorted(unknown)}")
    try:
        start = date.fromisoformat(str(require(partition, "start", f"{where}.partition", str)))
        end = partition.get("end")
        end = None if end is None else date.fromisoformat(str(end))
    except ValueError as exc:
        raise ContractError(f"{where}.partition: start and end must be YYYY-MM-DD ({exc})") from exc
    if end is not None and start > end:
        raise ContractError(f"{where}.partition: start {start} is after end {end}")
    return require(partition, "column", f"{where}.partition", str), start, end


def _outcomes(
    raw: dict[str, Any], columns: dict[str, ColumnSpec], target: TargetSpec, where: str
) -> tuple[tuple[str, ...], str | None]:
    outcomes = require(raw, "outcomes", where, dict)
    outcome_columns = tuple(require(outcomes, "columns", f"{where}.outcomes", list))
    for col in outcome_columns:
        if col not in columns or not columns[col].nullable:
            raise ContractError(
                f"{where}.outcomes.columns: '{col}' must be a declared nullable column (a row "
                f"delivered before its outcome has none)"
            )
    if target.column not in outcome_columns:
        raise ContractError(
            f"{where}.outcomes.columns: the target's column '{target.column}' must be listed "
            f"(the target is unknown until it arrives)"
        )
    known_column = outcomes.get("known_column")
    if known_column is not None and (not isinstance(known_column, str) or known_column in columns):
        raise ContractError(
            f"{where}.outcomes.known_column: {known_column!r} must name a flag column that is "
            f"not one of the data columns"
        )
    return outcome_columns, known_column


def _prediction_time(raw: dict[str, Any], columns: dict[str, ColumnSpec], where: str) -> str:
    spec = require(raw, "prediction_time", where, dict)
    column = require(spec, "column", f"{where}.prediction_time", str)
    if column not in columns or columns[column].type not in ("date", "timestamp"):
        raise ContractError(
            f"{where}.prediction_time.column: '{column}' must be a declared date or timestamp column"
        )
    if column in raw.get("post_event_columns", []):
        raise ContractError(f"{where}.prediction_time.column: '{column}' is a post-event column")
    return column


def _where(source_path: Path) -> str:
    return f"{source_path.parent.name}/{source_path.name}"


def parse_contract(raw: Any, source_path: Path) -> Contract:
    where = _where(source_path)
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: the contract must be a YAML mapping")
    name = require(raw, "name", where, str)
    volume = require(raw, "volume", where, dict)
    quarantine = require(raw, "quarantine", where, dict)
    columns = _columns(raw, where)
    partition_column, start, end = _partition(raw, where)
    row_day = parse_row_day(
        require(raw["partition"], "day_of_row", f"{where}.partition", dict), columns, where
    )

    keys = tuple(require(raw, "keys", where, list))
    for key in keys:
        if key != partition_column and key not in columns:
            raise ContractError(f"{where}.keys: '{key}' is not a declared column")
        if key in columns and columns[key].nullable:
            raise ContractError(f"{where}.keys: key column '{key}' must not be nullable")
    for list_field in ("categorical", "post_event_columns"):
        for col in require(raw, list_field, where, list):
            if col not in columns:
                raise ContractError(f"{where}.{list_field}: '{col}' is not a declared column")
    entity = parse_entity_id(raw.get("entity_id"), {*columns, partition_column}, where)

    target = parse_target(require(raw, "target", where, dict), columns, where)
    if target.column not in raw["post_event_columns"]:
        raise ContractError(
            f"{where}.post_event_columns: the target's column '{target.column}' must be listed "
            f"(it is known only after the fact)"
        )
    outcome_columns, known_column = _outcomes(raw, columns, target, where)
    max_share = require(quarantine, "max_share", f"{where}.quarantine", int | float)
    if not 0 <= max_share <= 1:
        raise ContractError(f"{where}.quarantine.max_share: {max_share} is not between 0 and 1")
    band = require(volume, "band", f"{where}.volume", int | float)
    if not band > 0:
        raise ContractError(f"{where}.volume.band: {band} must be positive")
    tables = raw.get("references", [])  # optional: a dataset may join no reference table
    if not isinstance(tables, list):
        raise ContractError(f"{where}.references: expected a list of table names, got {tables!r}")
    references = {
        table: load_reference_file(source_path.parent / f"{table}.yaml", where, columns)
        for table in tables
    }
    prediction_time_column = _prediction_time(raw, columns, where)
    features = parse_features(
        raw.get("features"),
        columns,
        references,
        target,
        tuple(raw["post_event_columns"]),
        prediction_time_column,
        where,
    )
    return Contract(
        name=name,
        source_path=source_path,
        partition_column=partition_column,
        partition_start=start,
        partition_end=end,
        row_day=row_day,
        keys=keys,
        entity=entity,
        categorical=tuple(raw["categorical"]),
        target=target,
        prediction_time_column=prediction_time_column,
        post_event_columns=tuple(raw["post_event_columns"]),
        outcome_columns=outcome_columns,
        outcomes_known_column=known_column,
        volume_trailing_days=require(volume, "trailing_days", f"{where}.volume", int),
        volume_band=float(band),
        quarantine_max_share=float(max_share),
        columns=columns,
        references=references,
        features=features,
    )


def parse_reference(
    raw: Any, source_path: Path, dataset_columns: dict[str, ColumnSpec]
) -> ReferenceContract:
    where = _where(source_path)
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: the contract must be a YAML mapping")
    columns = _columns(raw, where)
    join_keys = tuple(require(raw, "join_keys", where, list))
    for key in join_keys:
        if key not in columns or key not in dataset_columns:
            raise ContractError(
                f"{where}.join_keys: '{key}' must be a column of the table and of the dataset"
            )
    return ReferenceContract(require(raw, "name", where, str), source_path, join_keys, columns)


def _read_yaml(path: Path, where: str = "") -> Any:
    if not Path(path).exists():
        raise ContractError(f"{where or path}: contract file {path} does not exist")
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc


def load_reference_file(
    path: Path, where: str, dataset_columns: dict[str, ColumnSpec]
) -> ReferenceContract:
    return parse_reference(_read_yaml(path, f"{where}.references"), path, dataset_columns)


def load_contract_file(path: Path) -> Contract:
    return parse_contract(_read_yaml(path), Path(path))


@cache
def load_contract(name: str = "flights") -> Contract:
    """The bundled contract by dataset name: datasets/<name>/contract.yaml."""
    return load_contract_file(DATASETS_DIR / name / "contract.yaml")
