"""A dataset's daily partitions, defined once: from its contract's first day to today."""

from datetime import timedelta

from dagster import DailyPartitionsDefinition

from leanops_assets.contract import Contract


def daily_partitions_for(contract: Contract) -> DailyPartitionsDefinition:
    """One partition per day from the first day; open-ended unless the contract sets an end."""
    end = contract.partition_end + timedelta(days=1) if contract.partition_end else None
    return DailyPartitionsDefinition(
        start_date=contract.partition_start.isoformat(),
        end_date=end.isoformat() if end else None,
    )
