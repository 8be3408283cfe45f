"""Days after the bundled data: the daily schedule, the landing check, and corrected files."""

from datetime import UTC, datetime, timedelta

import pandas as pd
from dagster import DagsterInstance, build_schedule_context, materialize

from leanops_assets.resources import LakeResource, SourceResource
from leanops_assets_tests.flights_defs import daily_schedule, raw_flights
from leanops_assets_tests.ingestion.landing import drop_in_landing


def test_daily_schedule_after_the_bundled_data_requests_yesterday_and_lands_its_file(
    leanops_home,
):
    landed = drop_in_landing(leanops_home, "2026-03-01")
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 3, 2, 0, 5, tzinfo=UTC)
        )
        (request,) = daily_schedule.evaluate_tick(context).run_requests
        assert request.partition_key == "2026-03-01"

        result = materialize(
            [raw_flights],
            partition_key=request.partition_key,
            tags=request.tags,
            resources={"lake": LakeResource(), "source": SourceResource(kind="landing")},
            instance=instance,
        )
        assert result.success
        (check,) = result.get_asset_check_evaluations()
        assert check.passed, "yesterday's file is inside the partitions"
    lake_file = leanops_home / "lake" / "raw" / "flights" / "date=2026-03-01" / "part.parquet"
    assert len(pd.read_parquet(lake_file)) == 25
    materialization = result.get_asset_materialization_events()[0].materialization
    assert materialization.metadata["source"].value == str(landed)


def test_landing_check_names_only_files_before_the_first_day_or_in_the_future(leanops_home):
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    drop_in_landing(leanops_home, yesterday)
    too_early = drop_in_landing(leanops_home, "2012-12-31")
    future = drop_in_landing(leanops_home, "2099-01-01")
    result = materialize(
        [raw_flights],
        partition_key=yesterday,
        resources={"lake": LakeResource(), "source": SourceResource(kind="landing")},
        instance=DagsterInstance.ephemeral(),
    )
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.metadata["observed_files_outside"].value == [str(too_early), str(future)]
