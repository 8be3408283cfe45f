"""The adapter: the benchmark's only coupling to the loop's decision code.

The drift retraining sensor's logic (monitoring/policy.py: PolicyConfig, DayStatus, PolicyState,
RunOutcome, decide) and the promotion gate (registry/gates.py: evaluate_gates and lineage_drop,
with the PromotionPolicy defaults of resources.py, as flights resolve them) are called here and nowhere else in benchmarks/policy_*.py, so a change
to their signatures or meaning is absorbed in this one file.

How the simulation maps onto them:
- one decide() call per replayed day D, once D's outcomes have arrived (at the start of D + 1),
  with D's status added to the state, as one sensor tick after drift_report of D;
- a requested retrain runs at once; its outcome is SUCCEEDED when the gate promoted its model
  and REJECTED when it kept the champion (the sensor reads registered_model's decision), unless
  the policy keeps the old rule, where a rejection counts as a success and starts the cooldown;
- the gate carries the champion lineage's AUC drop, so drops cannot compound past max_auc_drop;
- after a promotion the day statuses are dropped: only days judged against the new champion
  count toward its next trigger (one model per window).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from leanops_assets.dataset import bundled_dataset
from leanops_assets.monitoring.policy import (
    DayStatus,
    PolicyConfig,
    PolicyState,
    RunOutcome,
    decide,
)
from leanops_assets.registry.gates import evaluate_gates, lineage_drop
from leanops_assets.resources import MonitoringPolicy, PromotionPolicy

# A drift share is at most 1 and a day breaches above the threshold: 1.0 never breaches.
NO_DRIFT_TRIGGER = 1.0


@cache
def _flights():
    """The dataset the benchmark replays, loaded once: the simulation gates every retrain."""
    return bundled_dataset()


def default_monitoring() -> dict[str, float | int]:
    """The MonitoringPolicy defaults the product ships (resources.py), as flights resolve them."""
    policy = MonitoringPolicy().resolved(_flights())
    return {
        "drift_share_threshold": policy.drift_share_threshold,
        "live_auc_floor": policy.live_auc_floor,
        "evidence_windows": policy.evidence_windows,
        "cooldown_days": policy.cooldown_days,
        "rejection_retry_days": policy.rejection_retry_days,
    }


def policy_config(
    drift_share_threshold: float, live_auc_floor: float, evidence_windows: int, cooldown_days: int
) -> PolicyConfig:
    return PolicyConfig(
        drift_share_threshold=drift_share_threshold,
        live_auc_floor=live_auc_floor,
        evidence_windows=evidence_windows,
        cooldown_days=cooldown_days,
        rejection_retry_days=int(default_monitoring()["rejection_retry_days"]),
    )


class Trigger:
    """The sensor's state across days for one policy: add a day, ask whether to retrain."""

    def __init__(self, rejection_cools_down: bool = False) -> None:
        self.state = PolicyState()
        self.outcome: RunOutcome | None = None
        self.rejection_cools_down = rejection_cools_down

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
        success = promoted or self.rejection_cools_down
        self.outcome = RunOutcome.SUCCEEDED if success else RunOutcome.REJECTED
        if promoted:
            self.state = replace(self.state, days={})


def gate(
    candidate_auc: float, champion_auc: float, champion_drop: float
) -> tuple[bool, str, float]:
    """The promotion gate with the product's defaults: (promoted?, why, the lineage's AUC drop
    if the candidate is promoted)."""
    promotion = PromotionPolicy().resolved(_flights())
    gates = evaluate_gates(
        candidate_auc,
        champion_auc,
        promotion.auc_floor,
        promotion.max_auc_drop,
        champion_drop,
    )
    failed = [g for g in gates if not g.passed]
    drop = lineage_drop(champion_drop, champion_auc, candidate_auc)
    return not failed, "; ".join(g.message for g in (failed or gates)), drop
