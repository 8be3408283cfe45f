"""The retraining policy on its own: threshold, consecutive days, cooldown, one retrain per trigger."""

from datetime import date, timedelta

import pytest

from leanops_assets.monitoring.policy import (
    DayStatus,
    PolicyConfig,
    PolicyState,
    RetrainRequest,
    RunOutcome,
    breaching_evidence,
    decide,
)

# Drift measured on single days (window_days=1): consecutive days are independent evidence.
POLICY = PolicyConfig(
    drift_share_threshold=0.3,
    live_auc_floor=0.65,
    evidence_windows=2,
    cooldown_days=7,
    window_days=1,
)
OK = DayStatus(drift_share=0.1, live_auc=0.75)
DRIFTED = DayStatus(drift_share=0.5, live_auc=0.75)
WEAK = DayStatus(drift_share=0.1, live_auc=0.6)


def days(first: str, *statuses: DayStatus) -> dict[str, DayStatus]:
    start = date.fromisoformat(first)
    return {(start + timedelta(days=i)).isoformat(): s for i, s in enumerate(statuses)}


def test_threshold_is_strict_and_auc_floor_counts():
    at_threshold = DayStatus(drift_share=0.3, live_auc=0.65)
    assert at_threshold.breaches(POLICY) == []
    assert DRIFTED.breaches(POLICY) == ["drift share 0.500 > 0.300"]
    assert WEAK.breaches(POLICY) == ["live AUC 0.600 < floor 0.650"]
    assert DayStatus(drift_share=0.1, live_auc=None).breaches(POLICY) == []


def test_no_history_skips():
    decision = decide(PolicyState(), None, POLICY)
    assert decision.request is None
    assert "no drift_report" in decision.reason


def test_a_single_breaching_day_is_not_enough():
    state = PolicyState(days=days("2013-03-01", OK, DRIFTED))
    decision = decide(state, None, POLICY)
    assert decision.request is None
    assert "1 of 2 independent" in decision.reason


def test_consecutive_breaching_days_trigger_a_retrain():
    state = PolicyState(days=days("2013-03-01", OK, DRIFTED, WEAK))
    decision = decide(state, None, POLICY)
    assert decision.request == RetrainRequest("2013-03-03", 1)
    assert decision.request.run_key == "retrain-2013-03-03-1"
    assert decision.state.last_request == decision.request
    assert "ending 2013-03-02, 2013-03-03" in decision.reason


def test_a_missing_day_breaks_the_streak():
    history = days("2013-03-01", DRIFTED)
    history["2013-03-03"] = DRIFTED
    assert breaching_evidence(history, POLICY) == ["2013-03-03"]
    assert decide(PolicyState(days=history), None, POLICY).request is None


def test_only_the_newest_day_matters():
    state = PolicyState(days=days("2013-03-01", DRIFTED, DRIFTED, DRIFTED, OK))
    decision = decide(state, None, POLICY)
    assert decision.request is None
    assert "newest day 2013-03-04 is within policy" in decision.reason


def test_one_retrain_per_trigger_while_the_run_is_in_flight():
    state = decide(PolicyState(days=days("2013-03-01", DRIFTED, DRIFTED)), None, POLICY).state
    decision = decide(state, RunOutcome.IN_PROGRESS, POLICY)
    assert decision.request is None
    assert "still queued or running" in decision.reason
    # A newer breaching day changes nothing while the run is in flight.
    state = state.with_days(days("2013-03-03", DRIFTED))
    assert decide(state, RunOutcome.IN_PROGRESS, POLICY).request is None


def test_a_request_without_a_run_is_asked_again_under_the_same_run_key():
    state = decide(PolicyState(days=days("2013-03-01", DRIFTED, DRIFTED)), None, POLICY).state
    decision = decide(state, RunOutcome.NOT_FOUND, POLICY)
    assert decision.request == RetrainRequest("2013-03-02", 1)
    assert decision.state == state


def test_a_failed_retrain_is_retried_while_the_drift_persists():
    state = decide(PolicyState(days=days("2013-03-01", DRIFTED, DRIFTED)), None, POLICY).state
    retry = decide(state, RunOutcome.FAILED, POLICY)
    assert retry.request == RetrainRequest("2013-03-02", 2)
    assert retry.request.run_key == "retrain-2013-03-02-2"
    # The retry failed too, a day later: attempt 3 of the same trigger.
    later = retry.state.with_days(days("2013-03-03", DRIFTED))
    assert decide(later, RunOutcome.FAILED, POLICY).request == RetrainRequest("2013-03-02", 3)


def test_retries_stop_after_max_attempts():
    state = PolicyState(
        days=days("2013-03-01", DRIFTED, DRIFTED), last_request=RetrainRequest("2013-03-02", 3)
    )
    decision = decide(state, RunOutcome.FAILED, POLICY)
    assert decision.request is None
    assert "the last of 3 attempts" in decision.reason


def test_a_failed_retrain_is_not_retried_once_the_data_is_back_within_policy():
    state = decide(PolicyState(days=days("2013-03-01", DRIFTED, DRIFTED)), None, POLICY).state
    state = state.with_days(days("2013-03-03", OK))
    decision = decide(state, RunOutcome.FAILED, POLICY)
    assert decision.request is None
    # A later, separate episode is a new trigger, not a retry; a failure starts no cooldown.
    state = state.with_days(days("2013-03-04", DRIFTED, DRIFTED))
    assert decide(state, RunOutcome.FAILED, POLICY).request == RetrainRequest("2013-03-05", 1)


def test_cooldown_after_a_successful_retrain():
    state = decide(PolicyState(days=days("2013-03-01", DRIFTED, DRIFTED)), None, POLICY).state
    done = decide(state, RunOutcome.SUCCEEDED, POLICY)
    assert done.request is None
    assert done.state.last_retrain_day == "2013-03-02"
    assert "already answered" in done.reason
    # Drift persists: blocked for 7 partition days after the trigger day, allowed on day 7.
    history = days("2013-03-03", *[DRIFTED] * 7)
    for day in sorted(history)[:-1]:
        ticking = done.state.with_days({d: s for d, s in history.items() if d <= day})
        blocked = decide(ticking, RunOutcome.SUCCEEDED, POLICY)
        assert blocked.request is None, day
        assert "cooldown" in blocked.reason
    after = decide(done.state.with_days(history), RunOutcome.SUCCEEDED, POLICY)
    assert after.request == RetrainRequest("2013-03-09", 1)


def test_repeated_ticks_never_request_two_retrains_for_one_trigger():
    """Replaying ticks with the same history and outcomes yields at most one new run key."""
    state = PolicyState(days=days("2013-03-01", DRIFTED, DRIFTED))
    keys = set()
    outcome = None
    for _ in range(5):
        decision = decide(state, outcome, POLICY)
        if decision.request is not None:
            keys.add(decision.request.run_key)
        state = decision.state
        outcome = RunOutcome.IN_PROGRESS if outcome is None else RunOutcome.SUCCEEDED
    assert keys == {"retrain-2013-03-02-1"}


def test_state_json_round_trip():
    state = PolicyState(
        days=days("2013-03-01", OK, DayStatus(0.4, None)),
        last_request=RetrainRequest("2013-02-20", 2),
        last_retrain_day="2013-02-01",
        last_rejected_day="2013-02-10",
    )
    assert PolicyState.from_json(state.to_json()) == state
    assert PolicyState.from_json(None) == PolicyState()


def test_outcome_of_the_last_request_is_required():
    state = PolicyState(last_request=RetrainRequest("2013-03-02", 1))
    with pytest.raises(ValueError, match="retrain-2013-03-02-1"):
        decide(state, None, POLICY)


def test_policy_config_rejects_nonsense():
    with pytest.raises(ValueError, match="evidence_windows"):
        PolicyConfig(0.3, 0.65, 0, 7)
    with pytest.raises(ValueError, match="cooldown_days"):
        PolicyConfig(0.3, 0.65, 2, -1)
    with pytest.raises(ValueError, match="max_attempts"):
        PolicyConfig(0.3, 0.65, 2, 7, max_attempts=0)


def test_overlapping_drift_windows_count_as_one_piece_of_evidence():
    """Over 7-day windows, seven breaching days in a row share their data: one independent window.
    The window ending a week after the first is new data: the second piece of evidence."""
    weekly = PolicyConfig(0.3, 0.65, 2, 7)  # two pieces of evidence, 7-day cooldown
    state = PolicyState(days=days("2013-03-01", *[DRIFTED] * 7))
    decision = decide(state, None, weekly)
    assert decision.request is None
    assert "1 of 2" in decision.reason

    state = state.with_days(days("2013-03-08", DRIFTED))
    decision = decide(state, None, weekly)
    assert decision.request == RetrainRequest("2013-03-08", 1)
    assert "2013-03-01" in decision.reason and "2013-03-08" in decision.reason
