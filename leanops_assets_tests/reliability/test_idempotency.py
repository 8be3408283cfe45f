"""Re-running a daily partition gives the same bytes and no duplicate rows; the quarantine holds
each bad row once, however often the day is validated, and a corrected file replaces it."""

from __future__ import annotations

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from leanops_assets.datasets.flights.source import bundled_day
from leanops_assets.resources import LakeResource, SourceResource
from leanops_assets_tests.flights_defs import raw_flights, validated_flights

DAY, NEXT = "2013-03-12", "2013-03-13"
STAGES = [("raw", "flights"), ("validated", "flights"), ("quarantine", "flights")]


def _land(home, day: str, frame: pd.DataFrame) -> None:
    folder = home / "landing" / "flights"
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"flights_{day}.csv", index=False)


def _bad_day(day: str, broken: int) -> pd.DataFrame:
    frame = bundled_day("flights", day).copy()
    frame.loc[: broken - 1, "distance"] = 99_999  # out of range: quarantined
    return frame


def _run(instance, day: str):
    result = materialize(
        [raw_flights, validated_flights],
        partition_key=day,
        resources={"lake": LakeResource(), "source": SourceResource(kind="landing")},
        instance=instance,
        raise_on_error=False,
    )
    assert all(e.event_type_value != "STEP_FAILURE" for e in result.all_events), "a step failed"
    return result


def _snapshot(home, day: str) -> dict[str, bytes]:
    return {
        stage: (home / "lake" / stage / dataset / f"date={day}" / "part.parquet").read_bytes()
        for stage, dataset in STAGES
    }


def _versions(result) -> dict[str, str]:
    return {
        e.asset_key.to_user_string(): e.event_specific_data.materialization.tags[
            "dagster/data_version"
        ]
        for e in result.get_asset_materialization_events()
    }


@pytest.mark.slow
def test_revalidating_a_day_with_bad_rows_counts_each_row_once(leanops_home):
    instance = DagsterInstance.ephemeral()
    _land(leanops_home, DAY, _bad_day(DAY, broken=12))
    _land(leanops_home, NEXT, bundled_day("flights", NEXT))
    first = _run(instance, DAY)
    _run(instance, NEXT)
    reference, next_day = _snapshot(leanops_home, DAY), _snapshot(leanops_home, NEXT)

    for _ in range(2):  # the same day again, twice: same bytes, same data versions
        again = _run(instance, DAY)
        assert _snapshot(leanops_home, DAY) == reference
        assert _versions(again) == _versions(first)
    assert _snapshot(leanops_home, NEXT) == next_day, "re-running a day touched another day"

    lake = LakeResource().lake()
    raw = lake.read_partition("raw", "flights", DAY)
    valid = lake.read_partition("validated", "flights", DAY)
    quarantine = lake.read_partition("quarantine", "flights", DAY)
    assert len(quarantine) == 12 and quarantine["_raw_row"].is_unique
    assert len(valid) + len(quarantine) == len(raw), "a raw row was lost or counted twice"
    assert valid["flight_id"].is_unique

    # A corrected file for the day replaces the quarantine, it does not add to it.
    _land(leanops_home, DAY, _bad_day(DAY, broken=3))
    _run(instance, DAY)
    quarantine = lake.read_partition("quarantine", "flights", DAY)
    valid = lake.read_partition("validated", "flights", DAY)
    assert len(quarantine) == 3 and len(valid) + 3 == len(raw)
    assert _snapshot(leanops_home, NEXT) == next_day
