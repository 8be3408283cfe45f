"""The `features:` block of a dataset contract: features declared, built by features/declared.py.

Every feature column is listed once, by role (`categorical`, `numeric`), in the order of the
feature table. A listed name is made by the first of these that declares it: a `calendar` part,
a rolling `rates` column, a `references` join, a composite rate key, the dataset's own
`function`; any other name is a contract column passed through as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leanops_assets.contract_feature_parts import (
    AsOfSpec,
    CalendarSpec,
    JoinSpec,
    OutcomeSpec,
    RatesSpec,
    only_fields,
    parse_calendar,
    parse_join,
    parse_rates,
)
from leanops_assets.contract_parts import ColumnSpec, ContractError, TargetSpec, require

__all__ = ["AsOfSpec", "CalendarSpec", "FeatureSpec", "JoinSpec", "OutcomeSpec", "RatesSpec"]


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # a function of datasets/<name>/features.py: (rows, target_dates) -> rows
    adds: tuple[str, ...]
    reads: tuple[str, ...]  # columns it reads that are not features: of the row, or joined


@dataclass(frozen=True)
class FeatureSpec:
    lookback_days: int
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    calendar: CalendarSpec | None
    rates: RatesSpec | None
    joins: tuple[JoinSpec, ...]
    function: FunctionSpec | None

    @property
    def columns(self) -> list[str]:
        return [*self.categorical, *self.numeric]

    def produced(self) -> dict[str, str]:
        """Feature name -> what makes it (calendar, rates, references.<t>, key, function)."""
        made: dict[str, str] = {}
        if self.calendar:
            made.update(dict.fromkeys(self.calendar.parts.values(), "calendar"))
        if self.rates:
            made.update(dict.fromkeys(self.rates.columns, "rates"))
            made.update(dict.fromkeys(self.rates.composite_keys, "rates.keys"))
        for join in self.joins:
            made.update(dict.fromkeys(join.columns.values(), f"references.{join.table}"))
        if self.function:
            made.update(dict.fromkeys(self.function.adds, "function"))
        return made

    @property
    def passthrough(self) -> list[str]:
        made = self.produced()
        return [name for name in self.columns if name not in made]


def parse_features(
    raw: Any,
    columns: dict[str, ColumnSpec],
    references: dict[str, Any],
    target: TargetSpec,
    post_event: tuple[str, ...],
    prediction_time: str,
    where: str,
) -> FeatureSpec | None:
    if raw is None:
        return None
    where = f"{where}.features"
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected a mapping")
    only_fields(
        raw,
        {"lookback_days", "categorical", "numeric", "calendar", "rates", "references", "function"},
        where,
    )
    early = {*post_event, target.column}  # known only after the prediction time
    lookback = require(raw, "lookback_days", where, int)
    if lookback < 1:
        raise ContractError(f"{where}.lookback_days: {lookback} must be at least 1")
    calendar = (
        parse_calendar(raw["calendar"], columns, prediction_time, f"{where}.calendar")
        if "calendar" in raw
        else None
    )
    if calendar and calendar.of in early:
        raise ContractError(f"{where}.calendar.of: '{calendar.of}' is a post-event column")
    rates = parse_rates(raw["rates"], columns, early, f"{where}.rates") if "rates" in raw else None
    joins = tuple(
        parse_join(t, spec, references, columns, prediction_time, early, f"{where}.references.{t}")
        for t, spec in (raw.get("references") or {}).items()
    )
    function = None
    if "function" in raw:
        fn = raw["function"]
        if not isinstance(fn, dict):
            raise ContractError(f"{where}.function: expected a mapping with name and adds")
        only_fields(fn, {"name", "adds", "reads"}, f"{where}.function")
        adds = require(fn, "adds", f"{where}.function", list)
        reads = fn.get("reads", [])
        joined = {n for j in joins for n in j.columns.values()}
        bad = [c for c in reads if c not in joined and (c not in columns or c in early)]
        if not isinstance(reads, list) or bad:
            raise ContractError(
                f"{where}.function.reads: {bad or reads!r} must be declared columns known at "
                f"the prediction time, or columns of a references join"
            )
        name = require(fn, "name", f"{where}.function", str)
        function = FunctionSpec(name, tuple(adds), tuple(reads))
    spec = FeatureSpec(
        lookback,
        tuple(require(raw, "categorical", where, list)),
        tuple(require(raw, "numeric", where, list)),
        calendar,
        rates,
        joins,
        function,
    )
    _check_roles(spec, columns, early, where)
    return spec


def _check_roles(spec: FeatureSpec, columns: dict[str, ColumnSpec], early: set[str], where: str):
    names = spec.columns
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ContractError(f"{where}: {repeated} listed more than once in categorical/numeric")
    made: dict[str, str] = {}
    for source, outputs in _outputs(spec):
        clash = sorted(set(outputs) & set(made))
        if clash:
            raise ContractError(f"{where}.{source}: {clash} are also made by {made[clash[0]]}")
        made.update(dict.fromkeys(outputs, source))
    for name in spec.passthrough:
        if name not in columns:
            raise ContractError(
                f"{where}: '{name}' is neither a declared column nor made by calendar, rates, "
                f"references or function"
            )
        if name in early:
            raise ContractError(f"{where}: '{name}' is known only after the prediction time")
    for name, source in made.items():
        if source == "rates" and name in spec.categorical:
            raise ContractError(f"{where}.categorical: '{name}' is a rate, list it as numeric")
        function_reads = spec.function.reads if spec.function else ()
        if name not in names and name not in function_reads:
            raise ContractError(
                f"{where}.{source}: '{name}' is in neither categorical nor numeric (nor in "
                f"function.reads)"
            )


def _outputs(spec: FeatureSpec):
    if spec.calendar:
        yield "calendar", list(spec.calendar.parts.values())
    if spec.rates:
        yield "rates", spec.rates.columns
        yield "rates.keys", list(spec.rates.composite_keys)
    for join in spec.joins:
        yield f"references.{join.table}", list(join.columns.values())
    if spec.function:
        yield "function", list(spec.function.adds)
