"""The drift retraining policy as a pure function: day statuses + state + policy -> decision.

A day breaches when its drift share is over the threshold or its live AUC is under the floor;
both are measured over the `window_days` days ending on it. Reports of days less than a window
apart share data, so they are one piece of evidence, not several: the evidence is the newest day
and the days `window_days`, 2 x `window_days`, ... before it, as long as each was reported and
breaches. A retrain is requested when `evidence_windows` such independent windows breach, outside
`cooldown_days` partition days after the trigger day of the last promoted retrain.

One retrain per trigger: a request is identified by its trigger day and attempt, and its run key
"retrain-<trigger day>-<attempt>" is what Dagster de-duplicates on. While that run is queued or
running nothing new is requested; when it failed and every day reported since its trigger breaches,
the trigger is retried as attempt + 1 (up to `max_attempts`, so a retrain that fails every time
does not loop for ever); when it succeeded and its model was promoted, its trigger day starts the
cooldown. When it succeeded but the promotion gate rejected its model, the champion is unchanged:
no cooldown starts, and a new trigger may come `rejection_retry_days` partition days after the
rejected one, if the breach still holds then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import Enum
from typing import Any

# Days of predictions (ending on the reported day) each drift report compares with the reference.
DRIFT_WINDOW_DAYS = 7


@dataclass(frozen=True)
class PolicyConfig:
    drift_share_threshold: float
    live_auc_floor: float
    evidence_windows: int
    cooldown_days: int
    max_attempts: int = 3
    rejection_retry_days: int = 3
    window_days: int = DRIFT_WINDOW_DAYS

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.evidence_windows < 1:
            raise ValueError(f"evidence_windows must be at least 1, got {self.evidence_windows}")
        if self.window_days < 1:
            raise ValueError(f"window_days must be at least 1, got {self.window_days}")
        if self.cooldown_days < 0:
            raise ValueError(f"cooldown_days must not be negative, got {self.cooldown_days}")
        if self.rejection_retry_days < 1:
            raise ValueError(
                f"rejection_retry_days must be at least 1, got {self.rejection_retry_days}"
            )


@dataclass(frozen=True)
class DayStatus:
    drift_share: float
    live_auc: float | None = None

    def breaches(self, policy: PolicyConfig) -> list[str]:
        """Why this day breaches the policy; empty when it does not."""
        reasons = []
        if self.drift_share > policy.drift_share_threshold:
            reasons.append(
                f"drift share {self.drift_share:.3f} > {policy.drift_share_threshold:.3f}"
            )
        if self.live_auc is not None and self.live_auc < policy.live_auc_floor:
            reasons.append(f"live AUC {self.live_auc:.3f} < floor {policy.live_auc_floor:.3f}")
        return reasons

    def describe(self) -> str:
        auc = "unknown" if self.live_auc is None else f"{self.live_auc:.3f}"
        return f"drift share {self.drift_share:.3f}, live AUC {auc}"


class RunOutcome(Enum):
    NOT_FOUND = "not_found"  # requested, but no run with the run key exists (yet)
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"  # and its model was promoted (or it registered none)
    REJECTED = "rejected"  # succeeded, but the promotion gate kept the champion
    FAILED = "failed"  # failed or canceled


@dataclass(frozen=True)
class RetrainRequest:
    trigger_day: str
    attempt: int

    @property
    def run_key(self) -> str:
        return f"retrain-{self.trigger_day}-{self.attempt}"


@dataclass(frozen=True)
class PolicyState:
    days: dict[str, DayStatus] = field(default_factory=dict)
    last_request: RetrainRequest | None = None
    last_retrain_day: str | None = None  # trigger day of the last retrain whose model was promoted
    last_rejected_day: str | None = None  # trigger day of the last retrain whose model was rejected

    def with_days(self, statuses: dict[str, DayStatus]) -> PolicyState:
        return replace(self, days={**self.days, **statuses})

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": {
                day: {"drift_share": s.drift_share, "live_auc": s.live_auc}
                for day, s in sorted(self.days.items())
            },
            "last_request": (
                None
                if self.last_request is None
                else {
                    "trigger_day": self.last_request.trigger_day,
                    "attempt": self.last_request.attempt,
                }
            ),
            "last_retrain_day": self.last_retrain_day,
            "last_rejected_day": self.last_rejected_day,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyState:
        request = data.get("last_request")
        return cls(
            days={
                day: DayStatus(float(s["drift_share"]), _opt_float(s.get("live_auc")))
                for day, s in data.get("days", {}).items()
            },
            last_request=(
                None
                if request is None
                else RetrainRequest(str(request["trigger_day"]), int(request["attempt"]))
            ),
            last_retrain_day=data.get("last_retrain_day"),
            last_rejected_day=data.get("last_rejected_day"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> PolicyState:
        return cls() if not text else cls.from_dict(json.loads(text))


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Decision:
    request: RetrainRequest | None
    reason: str
    state: PolicyState


def breaching_evidence(days: dict[str, DayStatus], policy: PolicyConfig) -> list[str]:
    """The independent breaching windows ending at the newest day: that day and the days one,
    two, ... windows before it, while each was reported and breaches; oldest first."""
    if not days:
        return []
    evidence: list[str] = []
    current = date.fromisoformat(max(days))
    while (status := days.get(current.isoformat())) is not None and status.breaches(policy):
        evidence.append(current.isoformat())
        current -= timedelta(days=policy.window_days)
    return list(reversed(evidence))


def _persists_since(days: dict[str, DayStatus], first: str, policy: PolicyConfig) -> bool:
    """Every day reported from `first` on breaches."""
    return all(status.breaches(policy) for day, status in days.items() if day >= first)


def _windows(evidence: list[str], policy: PolicyConfig) -> str:
    return f"{policy.window_days}-day window(s) ending {', '.join(evidence)}"


def _days_between(first: str, last: str) -> int:
    return (date.fromisoformat(last) - date.fromisoformat(first)).days


def decide(state: PolicyState, last_outcome: RunOutcome | None, policy: PolicyConfig) -> Decision:
    """What the sensor should do now. `last_outcome` is the state of `state.last_request`'s run."""
    request = state.last_request
    if request is not None and last_outcome is None:
        raise ValueError(
            f"the outcome of the last request {request.run_key} is needed to decide; look it up"
        )
    if request is not None and last_outcome is RunOutcome.SUCCEEDED:
        state = replace(state, last_retrain_day=request.trigger_day)
    if request is not None and last_outcome is RunOutcome.REJECTED:
        state = replace(state, last_rejected_day=request.trigger_day)

    if request is not None and last_outcome is RunOutcome.IN_PROGRESS:
        return Decision(None, f"retrain {request.run_key} is still queued or running", state)
    if request is not None and last_outcome is RunOutcome.NOT_FOUND:
        # Dagster launches at most one run per run key, so asking again cannot start a second.
        return Decision(
            request,
            f"retrain {request.run_key} was requested but has no run yet; requesting again",
            state,
        )

    if not state.days:
        return Decision(None, "no drift_report materializations have been reported yet", state)
    newest = max(state.days)
    newest_status = state.days[newest]
    evidence = breaching_evidence(state.days, policy)
    if not evidence:
        return Decision(
            None,
            f"newest day {newest} is within policy ({newest_status.describe()}; drift share "
            f"threshold {policy.drift_share_threshold:.3f}, AUC floor {policy.live_auc_floor:.3f})",
            state,
        )
    why = "; ".join(newest_status.breaches(policy))
    if (
        request is not None
        and last_outcome is RunOutcome.FAILED
        and _persists_since(state.days, request.trigger_day, policy)
    ):
        if request.attempt >= policy.max_attempts:
            return Decision(
                None,
                f"retrain {request.run_key} failed, the last of {policy.max_attempts} attempts for "
                f"the trigger on {request.trigger_day}; fix retraining_job and re-execute it, or a "
                f"new breach after the data returns within policy will trigger afresh",
                state,
            )
        retry = RetrainRequest(request.trigger_day, request.attempt + 1)
        return Decision(
            retry,
            f"retrain {request.run_key} failed and the drift that triggered it persists "
            f"through {newest} ({why}); retrying as {retry.run_key}",
            replace(state, last_request=retry),
        )
    if len(evidence) < policy.evidence_windows:
        return Decision(
            None,
            f"newest day {newest} breaches ({why}) but only {len(evidence)} of "
            f"{policy.evidence_windows} independent {_windows(evidence, policy)} do (windows "
            f"that overlap count once)",
            state,
        )
    if request is not None and newest <= request.trigger_day:
        return Decision(
            None,
            f"retrain {request.run_key} already answered the trigger on {request.trigger_day}; "
            f"no newer day has been reported",
            state,
        )
    if state.last_retrain_day is not None:
        since = _days_between(state.last_retrain_day, newest)
        if since < policy.cooldown_days:
            allowed = date.fromisoformat(state.last_retrain_day) + timedelta(
                days=policy.cooldown_days
            )
            return Decision(
                None,
                f"{newest} breaches ({why}) in {len(evidence)} independent windows, but the last "
                f"promoted retrain (trigger {state.last_retrain_day}) is {since} of {policy.cooldown_days} "
                f"cooldown days ago; the next one may start from {allowed.isoformat()}",
                state,
            )
    rejected = state.last_rejected_day
    if rejected is not None and (state.last_retrain_day or "") < rejected:
        since = _days_between(rejected, newest)
        if since < policy.rejection_retry_days:
            allowed = date.fromisoformat(rejected) + timedelta(days=policy.rejection_retry_days)
            return Decision(
                None,
                f"{newest} breaches ({why}), but the retrain triggered on {rejected} was rejected "
                f"by the promotion gate {since} day(s) ago (the champion stayed); retrying from "
                f"{allowed.isoformat()} if the breach persists ({policy.rejection_retry_days}-day "
                f"back-off after a rejection)",
                state,
            )
    new = RetrainRequest(newest, 1)
    retrying = (
        f"; retrying: the retrain triggered on {rejected} was rejected by the promotion gate"
        if rejected is not None and (state.last_retrain_day or "") < rejected
        else ""
    )
    return Decision(
        new,
        f"{len(evidence)} independent {_windows(evidence, policy)} breach the policy ({why})"
        f"{retrying}",
        replace(state, last_request=new),
    )
