"""The time-ordered training set: window selection, split, lake tables and data version."""

from __future__ import annotations

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from leanops_assets.resources import LakeResource
from leanops_assets.training.dataset import (
    SplitDays,
    TrainingSetError,
    WindowSpec,
    read_splits,
    select_window,
    split_days,
    stored_version,
)
from leanops_assets_tests.flights_defs import training_set
from leanops_assets_tests.training.handmade_features import FLIGHTS


def _days(first: int, last: int) -> list[str]:
    return [f"2013-06-{d:02d}" for d in range(first, last + 1)]


def test_window_ends_at_latest_day_or_pinned_end():
    available = _days(1, 30)
    assert select_window(available, WindowSpec(window_days=10), FLIGHTS) == _days(21, 30)
    assert select_window(
        available, WindowSpec(window_days=10, end_day="2013-06-15"), FLIGHTS
    ) == _days(6, 15)


def test_window_skips_gaps_and_split_is_time_ordered():
    available = [d for d in _days(1, 30) if d != "2013-06-25"]
    window = select_window(available, WindowSpec(window_days=20), FLIGHTS)
    assert len(window) == 19 and "2013-06-25" not in window
    days = split_days(
        window, WindowSpec(window_days=20, validation_days=4, holdout_days=3), FLIGHTS
    )
    assert days == SplitDays(
        train=window[:12],
        validation=window[12:16],
        holdout=["2013-06-28", "2013-06-29", "2013-06-30"],
    )
    assert max(days.train) < min(days.validation) <= max(days.validation) < min(days.holdout)


def test_errors_say_what_to_do():
    with pytest.raises(TrainingSetError, match="materialize flight_features first"):
        select_window([], WindowSpec(), FLIGHTS)
    with pytest.raises(TrainingSetError, match="between 2013-01-01 and 2013-01-10"):
        select_window(_days(1, 30), WindowSpec(window_days=10, end_day="2013-01-10"), FLIGHTS)
    with pytest.raises(TrainingSetError, match="need at least 15"):
        split_days(_days(1, 10), WindowSpec(window_days=10), FLIGHTS)


def _materialize(config: dict, instance: DagsterInstance):
    return materialize(
        [training_set],
        resources={"lake": LakeResource()},
        run_config={"ops": {"training_set": {"config": config}}},
        instance=instance,
    )


def test_training_set_asset_writes_splits_with_stable_version(feature_lake, feature_days):
    instance = DagsterInstance.ephemeral()
    config = {"window_days": 14, "validation_days": 3, "holdout_days": 3}
    result = _materialize(config, instance)
    assert result.success
    event = result.get_asset_materialization_events()[0].event_specific_data.materialization
    meta = {k: v.value for k, v in event.metadata.items()}
    days = sorted(feature_days)
    assert meta["window"] == f"{days[-14]} .. {days[-1]}"
    assert meta["holdout_days"] == f"{days[-3]} .. {days[-1]}"
    assert meta["validation_days"] == f"{days[-6]} .. {days[-4]}"
    assert meta["train_days"] == f"{days[-14]} .. {days[-7]}"
    splits = read_splits(feature_lake, "flights")
    expected_rows = {
        "train": sum(len(feature_days[d]) for d in days[-14:-6]),
        "validation": sum(len(feature_days[d]) for d in days[-6:-3]),
        "holdout": sum(len(feature_days[d]) for d in days[-3:]),
    }
    assert {name: len(frame) for name, frame in splits.items()} == expected_rows
    assert meta["dagster/row_count"] == sum(expected_rows.values())
    assert 0.05 < meta["train_label_rate"] < 0.6
    assert "| holdout" in meta["splits"]
    holdout_dates = pd.to_datetime(splits["holdout"]["flight_date"])
    assert holdout_dates.min() > pd.to_datetime(splits["validation"]["flight_date"]).max()
    # The all-null feature columns survive the round trip.
    assert splits["train"]["temp"].isna().all() and splits["train"]["plane_type"].isna().all()

    version = event.tags["dagster/data_version"]
    assert version == meta["data_version"] == stored_version(feature_lake, "flights")
    again = _materialize(config, instance).get_asset_materialization_events()[0]
    assert again.event_specific_data.materialization.tags["dagster/data_version"] == version
    pinned = _materialize(
        {**config, "end_day": days[-2]}, instance
    ).get_asset_materialization_events()[0]
    assert pinned.event_specific_data.materialization.tags["dagster/data_version"] != version


def test_rows_without_known_outcomes_are_not_trained_on(feature_lake, feature_days):
    days = sorted(feature_days)
    unknown_day, partly = days[-1], days[-2]
    feature_lake.write_partition(
        "features", "flights", unknown_day, feature_days[unknown_day].assign(is_late=pd.NA)
    )
    half = feature_days[partly].copy()
    half["is_late"] = half["is_late"].astype("Int64")
    half.loc[half.index[::2], "is_late"] = pd.NA
    feature_lake.write_partition("features", "flights", partly, half)

    config = {"window_days": 14, "validation_days": 3, "holdout_days": 3}
    assert _materialize(config, DagsterInstance.ephemeral()).success
    splits = read_splits(feature_lake, "flights")
    holdout_days = sorted(
        pd.to_datetime(splits["holdout"]["flight_date"]).dt.strftime("%Y-%m-%d").unique()
    )
    assert holdout_days == days[-4:-1], "the day without outcomes is left out of the window"
    labelled = len(feature_days[days[-4]]) + len(feature_days[days[-3]]) + len(half) // 2
    assert len(splits["holdout"]) == labelled
    for frame in splits.values():
        assert frame["is_late"].notna().all() and frame["is_late"].dtype == "int64"


def test_a_day_that_failed_its_gates_is_not_trained_on(feature_lake, feature_days):
    # The day passed once and was featurized; a corrected re-delivery then failed its gates.
    # Its old features are still in the lake, and training must not read them.
    days = sorted(feature_days)
    gated = days[-2]
    feature_lake.write_partition(
        "validated",
        "flights",
        gated,
        pd.DataFrame({"flight_id": ["x"]}),
        failed_gates=["daily_volume_within_band"],
    )
    config = {"window_days": 14, "validation_days": 3, "holdout_days": 3}
    assert _materialize(config, DagsterInstance.ephemeral()).success
    splits = read_splits(feature_lake, "flights")
    trained_days = set()
    for frame in splits.values():
        trained_days |= set(pd.to_datetime(frame["flight_date"]).dt.strftime("%Y-%m-%d"))
    assert gated not in trained_days
    assert sorted(trained_days) == [d for d in days[-14:] if d != gated]
