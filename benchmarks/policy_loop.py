"""The adapter: the benchmark's only coupling to the loop's decision code.

The drift retraining sensor's logic (monitoring/policy.py: PolicyConfig, DayStatus, PolicyState,
decide) and the promotion gate (registry/promotion.py: evaluate_gates, with the PromotionPolicy
defaults of resources.py) are called here and nowhere else in benchmarks/policy_*.py, so a change
to their signatures or meaning is absorbed in this one file.

How the simulation maps onto them:
- one decide() call per replayed day D, once D's outcomes have arrived (at the start of D + 1),
  with D's status added to the state, as one sensor tick after drift_report of D;
- a requested retrain runs at once; its run "succeeded" whether or not the gate promoted its
  model (today's sensor cannot tell the two apart), unless the policy retries rejections, where
  a rejected retrain is reported as a failed run so that decide() retries it;
- after a promotion the day statuses are dropped: only days judged against the new champion
  count toward its next trigger (one model per window).
"""

from __future__ import annotations

from dataclasses import replace

from leanops_assets.monitoring.policy import (
    DayStatus,
    PolicyConfig,
    PolicyState,
    RunOutcome,
    decide,
)
from leanops_assets.registry.promotion import evaluate_gates
from leanops_assets.resources import MonitoringPolicy, PromotionPolicy

# A drift share is at most 1 and a day breaches above the threshold: 1.0 never breaches.
NO_DRIFT_TRIGGER = 1.0


def default_monitoring() -> dict[str, float | int]:
    """The MonitoringPolicy defaults the product ships (resources.py)."""
    policy = MonitoringPolicy()
    return {
        "drift_share_threshold": policy.drift_share_threshold,
        "live_auc_floor": policy.live_auc_floor,
        "consecutive_days": policy.consecutive_days,
        "cooldown_days": policy.cooldown_days,
    }


def policy_config(
    drift_share_threshold: float, live_auc_floor: float, consecutive_days: int, cooldown_days: int
) -> PolicyConfig:
    return PolicyConfig(
        drift_share_threshold=drift_share_threshold,
        live_auc_floor=live_auc_floor,
        consecutive_days=consecutive_days,
        cooldown_days=cooldown_days,
    )


class Trigger:
    """The sensor's state across days for one policy: add a day, ask whether to retrain."""

    def __init__(self, retry_rejected: bool = False) -> None:
        self.state = PolicyState()
        self.outcome: RunOutcome | None = None
        self.retry_rejected = retry_rejected

    def tick(
        self, day: str, drift_share: float, live_auc: float | None, config: PolicyConfig
    ) -> tuple[bool, str]:
        """Report day `day` and decide: (retrain now?, the decision's reason)."""
        state = self.state.with_days({day: DayStatus(drift_share, live_auc)})
        decision = decide(state, self.outcome, config)
        self.state = decision.state
        return decision.request is not None, decision.reason

    def retrained(self, promoted: bool) -> None:
        """The requested retrain finished; its model was promoted or rejected by the gate."""
        rejected_as_failure = self.retry_rejected and not promoted
        self.outcome = RunOutcome.FAILED if rejected_as_failure else RunOutcome.SUCCEEDED
        if promoted:
            self.state = replace(self.state, days={})


def gate(candidate_auc: float, champion_auc: float) -> tuple[bool, str]:
    """The promotion gate with the product's defaults: (promoted?, why)."""
    promotion = PromotionPolicy()
    gates = evaluate_gates(
        candidate_auc, champion_auc, promotion.resolved_auc_floor(), promotion.max_auc_drop
    )
    failed = [g for g in gates if not g.passed]
    return not failed, "; ".join(g.message for g in (failed or gates))
