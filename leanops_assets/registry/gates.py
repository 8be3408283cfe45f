"""The promotion gates: holdout scores, the AUC floor, and a champion comparison that cannot
ratchet quality down.

Each promotion may trail the champion it replaces by a little (noise on a small holdout), but
the drops add up along the lineage of champions and an improvement pays them back: the lineage
drop is max(0, champion's lineage drop + champion AUC - challenger AUC), each step measured on
that step's holdout, and it may never exceed `max_auc_drop`. Two steps of 0.015 cannot make 0.03.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leanops_assets.training.model import predict_probability

if TYPE_CHECKING:
    from leanops_assets.dataset import FeatureTable

# Rounding slack when comparing AUC differences with the allowed drop.
_EPSILON = 1e-12


class GateDataError(ValueError):
    """The holdout cannot judge the candidate: it is not from the data the candidate left out."""


@dataclass(frozen=True)
class HoldoutScores:
    rows: int
    label_rate: float
    auc: float
    log_loss: float
    brier: float
    reliability: pd.DataFrame


def score_probabilities(
    y_true: np.ndarray, p_positive: np.ndarray, bins: int = 10
) -> HoldoutScores:
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    if len(np.unique(y_true)) < 2:
        raise ValueError(
            "the holdout has a single label value; AUC is undefined; widen holdout_days"
        )
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p_positive, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": which, "predicted": p_positive, "observed": y_true})
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
        auc=float(roc_auc_score(y_true, p_positive)),
        log_loss=float(log_loss(y_true, p_positive, labels=[0, 1])),
        brier=float(brier_score_loss(y_true, p_positive)),
        reliability=reliability.round(4),
    )


def score_model_uri(model_uri: str, holdout: pd.DataFrame, table: FeatureTable) -> HoldoutScores:
    """Load a model through the pyfunc flavour (as serving does) and score it on the holdout."""
    import mlflow

    model = mlflow.pyfunc.load_model(model_uri)
    return score_probabilities(
        holdout[table.label_column].to_numpy(dtype="int64"),
        predict_probability(model, holdout, table),
    )


@dataclass(frozen=True)
class Gate:
    name: str
    passed: bool
    observed: float | None
    expected: str
    message: str


def lineage_drop(champion_drop: float, champion_auc: float, challenger_auc: float) -> float:
    """The AUC the lineage has given up since its best, if the challenger is promoted."""
    return max(0.0, champion_drop + champion_auc - challenger_auc)


def evaluate_gates(
    challenger_auc: float,
    champion_auc: float | None,
    auc_floor: float,
    max_auc_drop: float,
    champion_lineage_drop: float = 0.0,
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
        drop = lineage_drop(champion_lineage_drop, champion_auc, challenger_auc)
        ok = drop <= max_auc_drop + _EPSILON
        allowed = max_auc_drop - champion_lineage_drop
        versus = Gate(
            "not_worse_than_champion",
            ok,
            challenger_auc - champion_auc,
            f">= -{allowed:.4f} (champion AUC {champion_auc:.4f}; lineage drop so far "
            f"{champion_lineage_drop:.4f} of {max_auc_drop})",
            f"holdout AUC {challenger_auc:.4f} vs champion {champion_auc:.4f}: lineage drop "
            f"{drop:.4f} {'within' if ok else 'over'} the allowed {max_auc_drop}",
        )
    return floor, versus


def split_days(frame: pd.DataFrame, table: FeatureTable) -> list[str]:
    return sorted(pd.to_datetime(frame[table.date_column]).dt.strftime("%Y-%m-%d").unique())


def check_unseen_holdout(
    candidate_data_version: str,
    splits: dict[str, pd.DataFrame],
    splits_version: str,
    table: FeatureTable,
) -> tuple[list[str], list[str]]:
    """(fit days, holdout days) of the candidate's own training set; refuses any other set.

    The candidate is fitted on train + validation; its holdout must be the one of the same
    training-data version, and hold no day it was fitted on.
    """
    if splits_version != candidate_data_version:
        raise GateDataError(
            f"the candidate learned from training data {candidate_data_version[:12]}, but the "
            f"training set given to the gate is {splits_version[:12]}: its holdout may hold days "
            f"the candidate trained on; re-materialize tuned_model on this training set"
        )
    fit_days = sorted(
        set(split_days(splits["train"], table)) | set(split_days(splits["validation"], table))
    )
    holdout_days = split_days(splits["holdout"], table)
    overlap = sorted(set(fit_days) & set(holdout_days))
    if overlap:
        raise GateDataError(
            f"training data {splits_version[:12]}: holdout days {overlap} are also train or "
            f"validation days; rebuild training_set"
        )
    return fit_days, holdout_days
