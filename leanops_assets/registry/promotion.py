"""Registry work: register a candidate, score it and the champion on one holdout, gate, move aliases.

Aliases, no stages: `champion` is what serves, `previous` the champion it replaced, `challenger`
the last version that failed the gate. Every decision is also written as model-version tags.
mlflow and scikit-learn are imported inside the functions.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from leanops_assets.features.schema import LABEL_COLUMN
from leanops_assets.training.model import predict_late_probability
from leanops_assets.training.workflow import ModelCandidate

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

CHAMPION = "champion"
PREVIOUS = "previous"
CHALLENGER = "challenger"
TAG_PREFIX = "leanops."
T = TypeVar("T")


class RegistryError(RuntimeError):
    """The registry is not in a state the requested operation can work from."""


@dataclass(frozen=True)
class HoldoutScores:
    rows: int
    label_rate: float
    auc: float
    log_loss: float
    brier: float
    reliability: pd.DataFrame


def score_probabilities(y_true: np.ndarray, p_late: np.ndarray, bins: int = 10) -> HoldoutScores:
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    if len(np.unique(y_true)) < 2:
        raise ValueError(
            "the holdout has a single label value; AUC is undefined; widen holdout_days"
        )
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p_late, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": which, "predicted": p_late, "observed": y_true})
    reliability = (
        frame.groupby("bin")
        .agg(
            rows=("observed", "size"),
            mean_predicted=("predicted", "mean"),
            observed_rate=("observed", "mean"),
        )
        .reset_index()
    )
    reliability.insert(
        0, "range", [f"{edges[b]:.1f}-{edges[b + 1]:.1f}" for b in reliability.pop("bin")]
    )
    return HoldoutScores(
        rows=len(y_true),
        label_rate=float(np.mean(y_true)),
        auc=float(roc_auc_score(y_true, p_late)),
        log_loss=float(log_loss(y_true, p_late, labels=[0, 1])),
        brier=float(brier_score_loss(y_true, p_late)),
        reliability=reliability.round(4),
    )


def score_model_uri(model_uri: str, holdout: pd.DataFrame) -> HoldoutScores:
    """Load a model through the pyfunc flavour (as serving does) and score it on the holdout."""
    import mlflow

    model = mlflow.pyfunc.load_model(model_uri)
    return score_probabilities(
        holdout[LABEL_COLUMN].to_numpy(dtype="int64"), predict_late_probability(model, holdout)
    )


@dataclass(frozen=True)
class Gate:
    name: str
    passed: bool
    observed: float | None
    expected: str
    message: str


def evaluate_gates(
    challenger_auc: float, champion_auc: float | None, auc_floor: float, max_auc_drop: float
) -> tuple[Gate, Gate]:
    floor = Gate(
        "holdout_auc_above_floor",
        challenger_auc >= auc_floor,
        challenger_auc,
        f">= {auc_floor}",
        f"holdout AUC {challenger_auc:.4f} {'>=' if challenger_auc >= auc_floor else '<'} floor {auc_floor}",
    )
    if champion_auc is None:
        versus = Gate(
            "not_worse_than_champion", True, None, "no champion yet", "no champion to compare with"
        )
    else:
        bar = champion_auc - max_auc_drop
        ok = challenger_auc >= bar
        versus = Gate(
            "not_worse_than_champion",
            ok,
            challenger_auc - champion_auc,
            f">= -{max_auc_drop} (champion AUC {champion_auc:.4f})",
            f"holdout AUC {challenger_auc:.4f} vs champion {champion_auc:.4f}: "
            f"{'within' if ok else 'more than'} {max_auc_drop} below",
        )
    return floor, versus


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


def lock_path(registry_uri: str) -> Path:
    """The lock file serialising registry decisions: next to a SQLite registry, else one per
    registry URI in the temporary folder of this machine."""
    if registry_uri.startswith("sqlite:///"):
        database = Path(registry_uri.removeprefix("sqlite:///"))
        return database.with_name(f"{database.name}.promotion.lock")
    digest = hashlib.sha256(registry_uri.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"leanops-registry-{digest}.lock"


def _registry_uri(client: MlflowClient) -> str:
    # MlflowClient keeps the registry URI it resolved (explicit, set_registry_uri, or the
    # tracking URI) only in this attribute.
    return getattr(client, "_registry_uri", None) or client.tracking_uri


@contextmanager
def registry_lock(registry_uri: str) -> Iterator[None]:
    """Hold an exclusive lock on the registry for a read-decide-write sequence.

    Two promotions that both read "no champion" (or the same champion) and then both move the
    alias would leave whichever wrote last, not the better version. The lock makes the champion
    read, the gate and the alias moves one step. It covers the processes of one machine (the
    embedded SQLite registry, or several runs on one host against a server); the kernel releases
    it when a holder is killed.
    """
    path = lock_path(registry_uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def holding_registry_lock(step: Callable[..., T]) -> Callable[..., T]:
    """Run a read-decide-write `step(client, ...)` under the lock of the client's registry."""

    @functools.wraps(step)
    def locked(client: MlflowClient, *args: Any, **kwargs: Any) -> T:
        with registry_lock(_registry_uri(client)):
            return step(client, *args, **kwargs)

    return locked


def register_candidate(client: MlflowClient, name: str, candidate: ModelCandidate) -> ModelVersion:
    """A new version of `name` for the candidate's logged model; the existing one if already there."""
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        try:
            client.create_registered_model(
                name, description="Is a New York flight of 2013 late? (leanops)"
            )
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


def _now() -> str:
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
    when = _now()
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
    gates: tuple[Gate, Gate]
    decision: Decision


@holding_registry_lock
def gate_candidate(
    client: MlflowClient,
    name: str,
    candidate: ModelCandidate,
    holdout: pd.DataFrame,
    auc_floor: float,
    max_auc_drop: float,
) -> GateReport:
    """Register the candidate, score it and the champion on the same holdout, apply the gates,
    move the aliases and record the outcome on the version, all under the registry lock."""
    version = str(register_candidate(client, name, candidate).version)
    current = version_by_alias(client, name, CHAMPION)
    champion = str(current.version) if current is not None else None
    scores = score_model_uri(f"models:/{name}/{version}", holdout)
    if champion is None:
        champion_auc = None
    elif champion == version:
        champion_auc = scores.auc
    else:
        champion_auc = score_model_uri(f"models:/{name}@{CHAMPION}", holdout).auc
    gates = evaluate_gates(scores.auc, champion_auc, auc_floor, max_auc_drop)
    decision = apply_decision(client, name, version, gates, champion)
    for metric, value in {
        "holdout_auc": scores.auc,
        "holdout_log_loss": scores.log_loss,
        "holdout_brier": scores.brier,
    }.items():
        client.set_model_version_tag(name, version, f"{TAG_PREFIX}{metric}", f"{value:.6f}")
    return GateReport(
        candidate.run_id, candidate.experiment_id, version, scores, champion_auc, gates, decision
    )


@dataclass(frozen=True)
class Rollback:
    from_version: str
    to_version: str
    at: str
    reason: str


@holding_registry_lock
def rollback_champion(
    client: MlflowClient, name: str, version: str | None = None, reason: str = "manual rollback"
) -> Rollback:
    """Point `champion` at `version` (default: the version holding `previous`) and record when and why
    on both versions. `previous` is cleared when it was the target: it is now the champion."""
    current = version_by_alias(client, name, CHAMPION)
    if current is None:
        raise RegistryError(f"registered model {name!r} has no champion to roll back from")
    if version is None:
        previous = version_by_alias(client, name, PREVIOUS)
        if previous is None:
            raise RegistryError(
                f"registered model {name!r} has no version with alias {PREVIOUS!r}; "
                f"pass the version to roll back to"
            )
        version = str(previous.version)
    target = str(client.get_model_version(name, str(version)).version)
    source = str(current.version)
    if target == source:
        raise RegistryError(f"version {target} of {name!r} is already the champion")
    when = _now()
    client.set_registered_model_alias(name, CHAMPION, target)
    previous = version_by_alias(client, name, PREVIOUS)
    if previous is not None and str(previous.version) == target:
        client.delete_registered_model_alias(name, PREVIOUS)
    for key, value in {
        "rolled_back_to_at": when,
        "rolled_back_to_reason": reason,
        "rolled_back_from": source,
    }.items():
        client.set_model_version_tag(name, target, f"{TAG_PREFIX}{key}", value)
    for key, value in {
        "rolled_back_from_at": when,
        "rolled_back_from_reason": reason,
        "rolled_back_to": target,
    }.items():
        client.set_model_version_tag(name, source, f"{TAG_PREFIX}{key}", value)
    return Rollback(source, target, when, reason)
