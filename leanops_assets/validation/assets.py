"""Validation: the contract's Great Expectations suite splits each raw day into validated and quarantined rows."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    TimeWindowPartitionMapping,
    asset,
)

from leanops_assets.contract import Contract
from leanops_assets.dataset import Dataset
from leanops_assets.metadata import preview, written_file_metadata
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.resources import LakeResource
from leanops_assets.storage import Lake, WrittenFile

if TYPE_CHECKING:
    from leanops_assets.validation.rules import ValidationOutcome

SCHEMA_CHECK = "schema_matches_contract"
KEYS_CHECK = "keys_not_null"
QUARANTINE_CHECK = "quarantined_share_within_limit"
VOLUME_CHECK = "daily_volume_within_band"


class ValidationConfig(Config):
    max_quarantined_share: float | None = None  # None: the contract's quarantine.max_share
    volume_band: float | None = None  # None: the contract's volume.band


def trailing_volume(lake: Lake, day: str, trailing_days: int, dataset: str) -> list[int]:
    """Raw row counts of the prior days that passed their gates: one bad day in the window
    would otherwise move the band and fail the good days after it."""
    start = date.fromisoformat(day)
    counts = []
    for back in range(1, trailing_days + 1):
        prior = (start - timedelta(days=back)).isoformat()
        rows = lake.partition_rows("raw", dataset, prior)
        if rows is not None and lake.passed_gates("validated", dataset, prior):
            counts.append(rows)
    return counts


def gate_results(
    outcome: "ValidationOutcome",
    contract: Contract,
    history: list[int],
    max_share: float,
    band: float,
) -> list[AssetCheckResult]:
    """Each blocking gate with what it observed next to what it expected."""
    schema = outcome.schema
    null_total = sum(outcome.null_keys.values())
    results = [
        AssetCheckResult(
            check_name=SCHEMA_CHECK,
            passed=schema.ok,
            metadata={
                "missing_columns": MetadataValue.json(schema.missing),
                "extra_columns": MetadataValue.json(schema.extra),
                "wrong_types": MetadataValue.json(schema.wrong_type),
                "expected": MetadataValue.text(
                    f"exactly the {len(contract.columns)} contract columns"
                ),
            },
        ),
        AssetCheckResult(
            check_name=KEYS_CHECK,
            passed=null_total == 0 and not any(k in schema.missing for k in contract.source_keys),
            metadata={
                "observed_null_keys": MetadataValue.json(outcome.null_keys),
                "expected": MetadataValue.text(f"no nulls in {', '.join(contract.source_keys)}"),
            },
        ),
        AssetCheckResult(
            check_name=QUARANTINE_CHECK,
            passed=outcome.quarantined_share <= max_share,
            metadata={
                "observed_share": MetadataValue.float(round(outcome.quarantined_share, 4)),
                "expected_max_share": MetadataValue.float(max_share),
                "quarantined_rows": MetadataValue.int(len(outcome.quarantine)),
                "reasons": MetadataValue.json(outcome.reason_counts),
            },
        ),
    ]
    if history:
        average = sum(history) / len(history)
        low, high = average * (1 - band), average * (1 + band)
        passed = low <= outcome.raw_rows <= high
        expected = f"{low:.0f} .. {high:.0f} rows (trailing average {average:.0f} over {len(history)} days, +-{band:.0%})"
    else:
        passed, expected = (
            outcome.raw_rows > 0,
            "at least one row (no earlier days to compare with)",
        )
    results.append(
        AssetCheckResult(
            check_name=VOLUME_CHECK,
            passed=passed,
            metadata={
                "observed_rows": MetadataValue.int(outcome.raw_rows),
                "expected": MetadataValue.text(expected),
            },
        )
    )
    return results


@dataclass(frozen=True)
class ValidatedDay:
    outcome: "ValidationOutcome"
    checks: list[AssetCheckResult]
    failed: list[str]
    validated: WrittenFile
    quarantined: WrittenFile


def validate_day(
    store: Lake, day: str, contract: Contract, max_share: float, band: float
) -> ValidatedDay:
    """The validation stage: suite, gates, and both partitions written with the day's verdict.

    The asset and the bare benchmark both call it, so they do the same work."""
    # pandas and Great Expectations load in the run, not with the definitions
    from leanops_assets.validation.rules import (
        quarantine_schema,
        validate_partition,
        validated_schema,
    )

    raw = store.read_partition("raw", contract.name, day)
    outcome = validate_partition(raw, contract, day)
    history = trailing_volume(store, day, contract.volume_trailing_days, contract.name)
    checks = gate_results(outcome, contract, history, max_share, band)
    # The verdict is written with the rows: a day that failed is skipped by every later reader.
    failed = [check.check_name for check in checks if not check.passed]
    validated = store.write_partition(
        "validated", contract.name, day, outcome.validated, validated_schema(contract), failed
    )
    quarantined = store.write_partition(
        "quarantine", contract.name, day, outcome.quarantine, quarantine_schema(list(raw.columns))
    )
    return ValidatedDay(outcome, checks, failed, validated, quarantined)


def _blocking(ds: Dataset, name: str, description: str) -> AssetCheckSpec:
    return AssetCheckSpec(
        name, asset=ds.key(ds.validated_asset), blocking=True, description=description
    )


def build_validation_assets(ds: Dataset) -> list[AssetsDefinition]:
    """The dataset's validated asset, with its four blocking gates."""
    contract = ds.contract

    @asset(
        key=ds.key(ds.validated_asset),
        partitions_def=daily_partitions_for(contract),
        deps=[
            AssetDep(
                ds.key(ds.raw_asset),
                # The day's rows, and the trailing days' row counts the volume band reads: a
                # corrected day re-validates the days whose band counts it. (The trailing days'
                # verdicts are read from their validated files: see trailing_volume.)
                partition_mapping=TimeWindowPartitionMapping(
                    start_offset=-contract.volume_trailing_days,
                    end_offset=0,
                    allow_nonexistent_upstream_partitions=True,
                ),
            )
        ],
        group_name="validation",
        kinds={"great_expectations", "parquet"},
        code_version="1",
        check_specs=[
            _blocking(ds, SCHEMA_CHECK, "The columns and their types match the dataset contract."),
            _blocking(ds, KEYS_CHECK, "No key column is null."),
            _blocking(
                ds, QUARANTINE_CHECK, "At most the allowed share of the day's rows is quarantined."
            ),
            _blocking(
                ds,
                VOLUME_CHECK,
                "The day's row count lies within a band around the trailing average.",
            ),
        ],
        description="The day's rows that pass the contract's Great Expectations suite; the "
        "rest are quarantined with a reason.",
    )
    def _validated(
        context: AssetExecutionContext, config: ValidationConfig, lake: LakeResource
    ) -> MaterializeResult:
        return validated_result(context.partition_key, contract, config, lake.lake())

    return [_validated]


def validated_result(
    day: str, contract: Contract, config: ValidationConfig, store: Lake
) -> MaterializeResult:
    """Validate the day and report it: the written partitions, the gates and the label rate."""
    day_result = validate_day(
        store,
        day,
        contract,
        contract.quarantine_max_share
        if config.max_quarantined_share is None
        else config.max_quarantined_share,
        contract.volume_band if config.volume_band is None else config.volume_band,
    )
    outcome, checks, failed = day_result.outcome, day_result.checks, day_result.failed
    validated, quarantined = day_result.validated, day_result.quarantined
    labels = outcome.validated[contract.target_name].dropna()  # unknown outcomes are no label
    return MaterializeResult(
        metadata={
            **written_file_metadata(validated),
            "raw_rows": MetadataValue.int(outcome.raw_rows),
            "quarantined_rows": MetadataValue.int(len(outcome.quarantine)),
            "quarantine_path": MetadataValue.path(str(quarantined.path)),
            "failed_gates": MetadataValue.json(failed),
            "label_rate": MetadataValue.float(
                round(float(labels.mean()), 4) if len(labels) else 0.0
            ),
            "labelled_rows": MetadataValue.int(len(labels)),
            "outcomes_delivered": MetadataValue.bool(outcome.outcomes_delivered),
            "preview": preview(outcome.validated),
            "quarantine_preview": preview(outcome.quarantine),
        },
        data_version=DataVersion(validated.content_hash),
        check_results=checks,
    )
