"""Which days the replay lands, trains the first model on, catches up on and replays."""

from datetime import date

import pytest

from leanops_assets.replay_plan import ReplayPlanError, day_span, plan_data_replay, plan_replay

PARTITIONS = set(day_span(date(2013, 1, 1), 365))
FLIGHTS_LOOKBACK = 7  # the flights contract's features.lookback_days


def test_by_default_the_first_model_learns_from_the_days_just_before_the_start():
    plan = plan_replay("2013-05-01", 3, 21, PARTITIONS, FLIGHTS_LOOKBACK)
    assert plan.warmup[0] == "2013-04-10" and plan.warmup[-1] == "2013-04-30"
    assert plan.warmup_lookback == day_span(date(2013, 4, 3), 7)
    assert plan.recent == [] and plan.recent_lookback == []
    assert plan.days == ["2013-05-01", "2013-05-02", "2013-05-03"]
    assert plan.first_model_until == "2013-04-30"


def test_a_stale_first_model_is_followed_by_as_much_history_as_it_learned_from():
    plan = plan_replay(
        "2013-07-01", 14, 35, PARTITIONS, FLIGHTS_LOOKBACK, first_model_until="2013-03-31"
    )
    assert (plan.warmup[0], plan.warmup[-1], len(plan.warmup)) == ("2013-02-25", "2013-03-31", 35)
    assert plan.warmup_lookback[0] == "2013-02-18" and plan.warmup_lookback[-1] == "2013-02-24"
    assert (plan.recent[0], plan.recent[-1], len(plan.recent)) == ("2013-05-27", "2013-06-30", 35)
    assert plan.recent_lookback[0] == "2013-05-20" and plan.recent_lookback[-1] == "2013-05-26"
    assert plan.days[0] == "2013-07-01" and plan.days[-1] == "2013-07-14"


def test_a_short_warm_up_still_leaves_a_retrain_its_validation_and_holdout_weeks():
    plan = plan_replay(
        "2013-07-01", 8, 7, PARTITIONS, FLIGHTS_LOOKBACK, first_model_until="2013-01-14"
    )
    assert plan.warmup == ["2013-01-08", "2013-01-09", "2013-01-10", "2013-01-11",
                           "2013-01-12", "2013-01-13", "2013-01-14"]  # fmt: skip
    assert plan.warmup_lookback == ["2013-01-01", "2013-01-02", "2013-01-03", "2013-01-04",
                                    "2013-01-05", "2013-01-06", "2013-01-07"]  # fmt: skip
    assert (plan.recent[0], plan.recent[-1]) == ("2013-06-17", "2013-06-30")  # 7 + 7 days


def test_a_short_gap_lands_only_the_days_in_it_and_no_day_twice():
    plan = plan_replay(
        "2013-03-05", 2, 10, PARTITIONS, FLIGHTS_LOOKBACK, first_model_until="2013-03-01"
    )
    assert plan.recent == ["2013-03-02", "2013-03-03", "2013-03-04"]
    assert plan.recent_lookback == []  # its look-back days are the warm-up's
    assert plan.warmup[-1] == "2013-03-01"


@pytest.mark.parametrize(
    ("start", "until", "message"),
    [
        ("2013-07-01", "2013-07-01", "--first-model-until 2013-07-01 must be before --start"),
        ("2012-12-30", None, "days 2012-12-30 .. 2012-12-31 are outside the partitions"),
        ("2013-01-10", None, "days 2012-12-16 .. 2012-12-31 are outside the partitions"),
    ],
)
def test_a_range_the_replay_cannot_run_is_refused_naming_the_days(start, until, message):
    with pytest.raises(ReplayPlanError, match=message.replace(".", r"\.")):
        plan_replay(start, 5, 25, PARTITIONS, FLIGHTS_LOOKBACK, first_model_until=until)


def test_a_replay_without_a_model_plans_no_warm_up_and_looks_back_only_for_features():
    # On the data's first week: a 35-day warm-up would lie before the data, and none is needed.
    days, before = plan_data_replay(
        "2013-01-03", 2, PARTITIONS, features=True, lookback_days=FLIGHTS_LOOKBACK
    )
    assert days == ["2013-01-03", "2013-01-04"]
    assert before == ["2013-01-01", "2013-01-02"]
    assert (
        plan_data_replay(
            "2013-01-03", 2, PARTITIONS, features=False, lookback_days=FLIGHTS_LOOKBACK
        )[1]
        == []
    )
