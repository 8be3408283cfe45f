"""Registry work: register a candidate, gate it against the champion on its holdout, move aliases.

Aliases, no stages: `champion` is what serves, `previous` the champion it replaced, `challenger`
the last version that failed the gate. Every decision is also written as model-version tags.
The gates are in registry/gates.py, rollback in registry/rollback.py. mlflow and scikit-learn are
imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from leanops_assets.registry.gates import (
    Gate,
    GateDataError,
    HoldoutScores,
    check_unseen_holdout,
    evaluate_gates,
    lineage_drop,
    score_model_uri,
)
from leanops_assets.registry.locking import holding_registry_lock
from leanops_assets.training.workflow import ModelCandidate

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from leanops_assets.dataset import FeatureTable

CHAMPION = "champion"
PREVIOUS = "previous"
CHALLENGER = "challenger"
TAG_PREFIX = "leanops."
LINEAGE_DROP_TAG = f"{TAG_PREFIX}lineage_auc_drop"
FIT_LAST_DAY_TAG = f"{TAG_PREFIX}fit_last_day"


class RegistryError(RuntimeError):
    """The registry is not in a state the requested operation can work from."""


def version_by_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        # No registered model: RESOURCE_DOES_NOT_EXIST. No such alias: the SQL store answers
        # INVALID_PARAMETER_VALUE "... alias <alias> not found."; any other invalid value raises.
        missing_model = exc.error_code == "RESOURCE_DOES_NOT_EXIST"
        missing_alias = exc.error_code == "INVALID_PARAMETER_VALUE" and "not found" in exc.message
        if missing_model or missing_alias:
            return None
        raise


def register_candidate(
    client: MlflowClient, name: str, candidate: ModelCandidate, description: str = ""
) -> ModelVersion:
    """A new version of `name` for the candidate's logged model; the existing one if already there.
    `description` is the registered model's, when this creates it."""
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        try:
            client.create_registered_model(name, description=description)
        except MlflowException as race:
            # Another process created it between the lookup and here.
            if race.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
    for existing in client.search_model_versions(
        f"name = '{name}' and run_id = '{candidate.run_id}'"
    ):
        if (
            existing.source == candidate.model_uri
            or existing.tags.get(f"{TAG_PREFIX}model_id") == candidate.model_id
        ):
            return existing
    return client.create_model_version(
        name,
        source=candidate.model_uri,
        run_id=candidate.run_id,
        tags={
            f"{TAG_PREFIX}model_id": candidate.model_id,
            f"{TAG_PREFIX}training_data_version": candidate.training_data_version,
            f"{TAG_PREFIX}code_version": candidate.code_version,
            f"{TAG_PREFIX}study": candidate.study_name,
            f"{TAG_PREFIX}best_validation_auc": f"{candidate.best_value:.6f}",
        },
        model_id=candidate.model_id,
    )


@dataclass(frozen=True)
class Decision:
    version: str
    promoted: bool
    reason: str
    previous_champion: str | None
    decided_at: str


def decision_time() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def apply_decision(
    client: MlflowClient,
    name: str,
    version: str,
    gates: tuple[Gate, Gate],
    champion: str | None,
) -> Decision:
    """Promote when every gate passes (champion -> this version, previous -> the old champion);
    otherwise leave the champion, mark the version `challenger` and tag it with the reason.

    The decision tags are written before the aliases move, so a run killed in between leaves the
    aliases as they were and the re-run decides again; once the champion alias points at the
    version, its decision tags are already there and a re-run keeps them.
    """
    when = decision_time()
    failed = [g for g in gates if not g.passed]
    if champion == version:
        recorded = client.get_model_version(name, version).tags
        if recorded.get(f"{TAG_PREFIX}decision") == "promoted":
            return Decision(
                version,
                True,
                f"already the champion ({recorded.get(f'{TAG_PREFIX}decision_reason', '')})",
                recorded.get(f"{TAG_PREFIX}champion_at_decision"),
                recorded.get(f"{TAG_PREFIX}decided_at", when),
            )
        reason, promoted = "already the champion", True
    elif failed:
        reason, promoted = "; ".join(f"{g.name}: {g.message}" for g in failed), False
    else:
        reason, promoted = "; ".join(g.message for g in gates), True
    for key, value in {
        "decision": "promoted" if promoted else "rejected",
        "decision_reason": reason,
        "decided_at": when,
        "champion_at_decision": champion or "none",
    }.items():
        client.set_model_version_tag(name, version, f"{TAG_PREFIX}{key}", value)
    if not promoted:
        client.set_registered_model_alias(name, CHALLENGER, version)
    elif champion != version:
        if champion is not None:
            client.set_registered_model_alias(name, PREVIOUS, champion)
        client.set_registered_model_alias(name, CHAMPION, version)
    return Decision(version, promoted, reason, champion, when)


@dataclass(frozen=True)
class GateReport:
    """Everything registered_model shows: the version, both scores, the gates and the decision."""

    run_id: str
    experiment_id: str
    version: str
    challenger: HoldoutScores
    champion_auc: float | None
    lineage_auc_drop: float
    fit_days: list[str]
    holdout_days: list[str]
    gates: tuple[Gate, Gate]
    decision: Decision


def check_champion_unseen(champion: ModelVersion, holdout_days: list[str]) -> None:
    """The champion must not have been fitted on the holdout either: it would look better."""
    fitted_until = champion.tags.get(FIT_LAST_DAY_TAG)
    if fitted_until is not None and fitted_until >= holdout_days[0]:
        raise GateDataError(
            f"champion version {champion.version} was fitted on days through {fitted_until}, "
            f"inside this holdout ({holdout_days[0]}..{holdout_days[-1]}): the comparison would "
            f"favour it; build training_set with a later end_day"
        )


@holding_registry_lock
def gate_candidate(
    client: MlflowClient,
    name: str,
    candidate: ModelCandidate,
    splits: dict[str, pd.DataFrame],
    splits_version: str,
    table: FeatureTable,
    auc_floor: float,
    max_auc_drop: float,
    description: str = "",
) -> GateReport:
    """Register the candidate, score it and the champion on the holdout of the candidate's own
    training set (`splits`, of data version `splits_version`), apply the gates, move the aliases
    and record the outcome on the version, all under the registry lock."""
    fit_days, holdout_days = check_unseen_holdout(
        candidate.training_data_version, splits, splits_version, table
    )
    holdout = splits["holdout"]
    version = str(register_candidate(client, name, candidate, description).version)
    current = version_by_alias(client, name, CHAMPION)
    champion = str(current.version) if current is not None else None
    scores = score_model_uri(f"models:/{name}/{version}", holdout, table)
    champion_drop = 0.0
    if current is None:
        champion_auc = None
    elif champion == version:
        champion_auc = scores.auc
    else:
        check_champion_unseen(current, holdout_days)
        champion_auc = score_model_uri(f"models:/{name}/{champion}", holdout, table).auc
        champion_drop = float(current.tags.get(LINEAGE_DROP_TAG, "0"))
    gates = evaluate_gates(scores.auc, champion_auc, auc_floor, max_auc_drop, champion_drop)
    tags = {
        f"{TAG_PREFIX}fit_first_day": fit_days[0],
        FIT_LAST_DAY_TAG: fit_days[-1],
        f"{TAG_PREFIX}holdout_first_day": holdout_days[0],
        f"{TAG_PREFIX}holdout_last_day": holdout_days[-1],
    }
    if champion != version:  # a re-run of the champion's own registration keeps its lineage
        drop = (
            0.0 if champion_auc is None else lineage_drop(champion_drop, champion_auc, scores.auc)
        )
        tags[LINEAGE_DROP_TAG] = f"{drop:.6f}"
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    decision = apply_decision(client, name, version, gates, champion)
    for metric, value in {
        "holdout_auc": scores.auc,
        "holdout_log_loss": scores.log_loss,
        "holdout_brier": scores.brier,
    }.items():
        client.set_model_version_tag(name, version, f"{TAG_PREFIX}{metric}", f"{value:.6f}")
    recorded = client.get_model_version(name, version).tags
    return GateReport(
        candidate.run_id,
        candidate.experiment_id,
        version,
        scores,
        champion_auc,
        float(recorded.get(LINEAGE_DROP_TAG, "0")),
        fit_days,
        holdout_days,
        gates,
        decision,
    )
