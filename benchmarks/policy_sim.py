"""Replaying the judged days under one retraining policy, with every model from the shared bank.

Day D, for every policy: the champion scores D's flights; D's outcomes arrive at the start of
D + 1 (the replay's default lag), so D's live AUC is known then and the policy decides; a
retrain then trains on the window ending on D, the gate compares the candidate with the champion
on the candidate's holdout (days the champion never trained on), and a promoted model serves
from D + 1. The first model, trained on the window ending the day before the first judged day,
is every policy's starting champion and is not counted as a retrain.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from policy_data import Model, ModelBank, day_range, shift_day
from policy_loop import NO_DRIFT_TRIGGER, Trigger, gate, policy_config

from leanops_assets.monitoring.policy import DRIFT_WINDOW_DAYS


@dataclass(frozen=True)
class Policy:
    """never | interval (every `every` days) | drift | performance | hybrid (drift or performance).

    drift: decide() on the drift report's share and live AUC (absolute floor `auc_floor`).
    performance: decide() on the champion's live AUC over its own live days in the window,
    against its holdout AUC minus `auc_margin`. hybrid: either breaches.
    """

    name: str
    kind: str
    every: int = 0
    drift_threshold: float = NO_DRIFT_TRIGGER
    auc_floor: float = 0.0
    auc_margin: float | None = None
    evidence: int = 2
    cooldown: int = 14
    rejection_cools_down: bool = False

    def describe(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class PolicyRun:
    policy: Policy
    days: list[str]
    live_auc: list[float]
    served_by: list[str]  # the end day of the champion's training window, per day
    retrain_days: list[str] = field(default_factory=list)  # day D: trained on data through D
    promotions: list[str] = field(default_factory=list)
    rejections: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    train_seconds: float = 0.0

    def mean_auc(self, days: set[str]) -> float:
        return float(
            np.mean([a for d, a in zip(self.days, self.live_auc, strict=True) if d in days])
        )

    def retrains_in(self, days: set[str]) -> int:
        return sum(d in days for d in self.retrain_days)


def window_of(day: str, first_day: str) -> list[str]:
    """The drift window: the DRIFT_WINDOW_DAYS days ending on `day`, none before the lake's first."""
    start = max(shift_day(day, -(DRIFT_WINDOW_DAYS - 1)), first_day)
    return day_range(start, day)


def _status(
    bank: ModelBank, policy: Policy, champion: Model, day: str
) -> tuple[float, float | None]:
    """(drift share, live AUC) of day `day` for the policy's trigger."""
    window = window_of(day, bank.available[0])
    share = 0.0
    live_auc = None
    if policy.kind in ("drift", "hybrid"):
        threshold = min(policy.drift_threshold, 1.0)
        share, live_auc = bank.drift_report(champion, day, window, threshold)
    if policy.kind in ("performance", "hybrid"):
        live = [d for d in window if d > champion.end_day]
        live_auc = bank.auc_on(champion, live) if live else None
    return share, live_auc


def _floor(policy: Policy, champion: Model) -> float:
    if policy.auc_margin is None:
        return policy.auc_floor
    return champion.holdout_auc - policy.auc_margin


def wants_retrain(policy: Policy, index: int) -> bool:
    """Calendar policies: retrain after every `every`-th judged day."""
    return policy.kind == "interval" and (index + 1) % policy.every == 0


def replay(bank: ModelBank, policy: Policy, days: list[str], first_model_end: str) -> PolicyRun:
    champion = bank.model(first_model_end)
    run = PolicyRun(policy, days, [], [])
    trigger = Trigger(policy.rejection_cools_down)
    lineage_drop = 0.0
    for index, day in enumerate(days):
        run.live_auc.append(bank.auc_on(champion, [day]))
        run.served_by.append(champion.end_day)
        if index == len(days) - 1:
            break
        retrain = wants_retrain(policy, index)
        if policy.kind in ("drift", "performance", "hybrid"):
            share, live_auc = _status(bank, policy, champion, day)
            config = policy_config(
                policy.drift_threshold,
                _floor(policy, champion),
                policy.evidence,
                policy.cooldown,
            )
            retrain, reason = trigger.tick(day, share, live_auc, config)
            if retrain:
                run.reasons[day] = reason
        if not retrain:
            continue
        candidate = bank.model(day)
        run.retrain_days.append(day)
        run.train_seconds += candidate.fit_seconds
        promoted, why, drop = gate(
            candidate.holdout_auc, bank.auc_on(champion, candidate.holdout_days), lineage_drop
        )
        trigger.retrained(promoted)
        if promoted:
            champion, lineage_drop = candidate, drop
            run.promotions.append(day)
        else:
            run.rejections[day] = why
    return run
