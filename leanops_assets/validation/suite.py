"""The Great Expectations 1.x suite generated from the dataset contract, and row-level verdicts."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import pandas as pd

from leanops_assets.contract import Contract

ROW_ID = "_raw_row"


@dataclass(frozen=True)
class ExpectationVerdict:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    unexpected_rows: tuple[int, ...]


def _great_expectations() -> Any:
    """great_expectations, importable in every process a run executes in.

    GX probes pyspark.sql.connect, whose import calls sys.exit(0) when Spark Connect's optional
    packages are missing and __main__ has neither a spec nor a file (it takes that for a doctest
    run). Dagster's code server starts each run it launches as such a process (multiprocessing's
    spawn, `python -c`), so every validation launched by the webserver, the daemon, a schedule or
    a backfill exited. Marked interactive for this one import, the process passes that check and
    GX finds Spark Connect unavailable, as it does in any script."""
    main = sys.modules["__main__"]
    unmarked = (
        getattr(main, "__spec__", None) is None
        and not hasattr(main, "__file__")
        and not hasattr(sys, "ps1")
    )
    if unmarked:
        sys.ps1 = ""
    try:
        import great_expectations
    finally:
        if unmarked:
            del sys.ps1
    return great_expectations


def _expectations(contract: Contract) -> list[Any]:
    gx = _great_expectations()

    expectations = []
    for spec in contract.columns.values():
        if not spec.nullable:
            expectations.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=spec.name))
        if spec.min is not None or spec.max is not None:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=spec.name, min_value=spec.min, max_value=spec.max
                )
            )
        if spec.allowed is not None:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeInSet(
                    column=spec.name, value_set=list(spec.allowed)
                )
            )
    return expectations


_DEFINITIONS: dict[tuple[Any, ...], Any] = {}


def _validation_definition(contract: Contract) -> Any:
    """One ephemeral GX context and validation definition per process and contract columns
    (the suite's rules: a contract edited under the same name and path gets its own)."""
    gx = _great_expectations()

    key = (contract.name, *contract.columns.values())
    if key in _DEFINITIONS:
        return _DEFINITIONS[key]

    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas(f"{contract.name}_source")
        .add_dataframe_asset(f"{contract.name}_partition")
        .add_batch_definition_whole_dataframe("whole_partition")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=f"{contract.name}_contract"))
    for expectation in _expectations(contract):
        suite.add_expectation(expectation)
    _DEFINITIONS[key] = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{contract.name}_rows", data=batch, suite=suite)
    )
    return _DEFINITIONS[key]


def run_row_expectations(typed: pd.DataFrame, contract: Contract) -> list[ExpectationVerdict]:
    """Run the contract suite on a typed frame that carries ROW_ID; return each verdict with its rows."""
    if typed.empty:
        return []
    result = _validation_definition(contract).run(
        batch_parameters={"dataframe": typed},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]},
    )
    verdicts = []
    for item in result.results:
        config = item.expectation_config
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"expectation {config.type} on column {config.kwargs.get('column')} could not run: "
                f"{item.exception_info.get('exception_message')}"
            )
        rows = tuple(int(entry[ROW_ID]) for entry in item.result.get("unexpected_index_list") or [])
        verdicts.append(
            ExpectationVerdict(
                expectation=config.type,
                column=config.kwargs.get("column"),
                success=bool(item.success),
                unexpected_count=int(item.result.get("unexpected_count") or 0),
                unexpected_rows=rows,
            )
        )
    return verdicts
