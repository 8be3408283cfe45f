"""Shadow scoring after a promotion, and the rule that rolls a champion back when it does worse live.

For `shadow_days` partition days after its training data ends (the days a new champion serves
first), the champion it replaced scores the same rows beside it. Once enough of those rows
have their outcome, both are measured on exactly those rows; when the new champion's live AUC is
below the old one's by more than the margin, the champion is rolled back, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from leanops_assets.monitoring.predict import MODEL_VERSION_COLUMN, SCORE_COLUMN, Champion

if TYPE_CHECKING:
    from leanops_assets.dataset import FeatureTable

SHADOW_STAGE = "shadow_predictions"  # lake stage of the shadow log: shadow_predictions/<d>/date=D
# Tags registered_model writes on each version (leanops_assets.registry.promotion).
HOLDOUT_LAST_DAY_TAG = "leanops.holdout_last_day"
DECISION_TAG = "leanops.decision"
REPLACED_TAG = "leanops.champion_at_decision"


def shadow_period(champion: Champion, shadow_days: int) -> list[str]:
    """The first `shadow_days` days after the champion's training data; empty if unrecorded."""
    last = champion.tags.get(HOLDOUT_LAST_DAY_TAG)
    if last is None or shadow_days < 1:
        return []
    start = date.fromisoformat(last) + timedelta(days=1)
    return [(start + timedelta(days=i)).isoformat() for i in range(shadow_days)]


def replaced_version(champion: Champion) -> str | None:
    """The champion this one replaced at its promotion, if it was promoted over one."""
    if champion.tags.get(DECISION_TAG) != "promoted":
        return None
    replaced = champion.tags.get(REPLACED_TAG)
    return None if replaced in (None, "none", champion.version) else replaced


@dataclass(frozen=True)
class ShadowComparison:
    champion_version: str
    shadow_version: str
    days: list[str]
    labelled_rows: int
    champion_auc: float | None
    shadow_auc: float | None
    margin: float
    min_labelled_rows: int

    @property
    def gap(self) -> float | None:
        if self.champion_auc is None or self.shadow_auc is None:
            return None
        return self.shadow_auc - self.champion_auc

    @property
    def worse_live(self) -> bool:
        """Enough outcomes, and the champion trails the version it replaced by over the margin."""
        gap = self.gap
        return (
            self.labelled_rows >= self.min_labelled_rows and gap is not None and gap > self.margin
        )

    def describe(self) -> str:
        if self.gap is None:
            return (
                f"version {self.champion_version} vs {self.shadow_version} in shadow: "
                f"{self.labelled_rows} rows with outcomes on {len(self.days)} day(s), "
                f"AUC not measurable yet"
            )
        return (
            f"live AUC of version {self.champion_version} {self.champion_auc:.4f} vs "
            f"{self.shadow_auc:.4f} of version {self.shadow_version} (in shadow) on the same "
            f"{self.labelled_rows} rows with outcomes, {self.days[0]}..{self.days[-1]}: "
            f"{'more' if self.gap > self.margin else 'not more'} than {self.margin} worse"
            + (
                ""
                if self.labelled_rows >= self.min_labelled_rows
                else f" (waiting for {self.min_labelled_rows} rows with outcomes)"
            )
        )


def compare_shadow(
    champion_log: pd.DataFrame,
    shadow_log: pd.DataFrame,
    table: FeatureTable,
    days: list[str],
    margin: float,
    min_labelled_rows: int,
) -> ShadowComparison:
    """Both models' live AUC on the rows both scored whose outcome has arrived."""
    from sklearn.metrics import roc_auc_score

    champion_version = str(champion_log[MODEL_VERSION_COLUMN].iloc[0])
    shadow_version = str(shadow_log[MODEL_VERSION_COLUMN].iloc[0])
    paired = champion_log.merge(
        shadow_log[[table.id_column, SCORE_COLUMN]],
        on=table.id_column,
        suffixes=("", "_shadow"),
        validate="1:1",
    )
    labelled = paired[paired[table.label_column].notna()]
    truth = labelled[table.label_column].astype("int64")
    measurable = truth.nunique() == 2
    return ShadowComparison(
        champion_version=champion_version,
        shadow_version=shadow_version,
        days=days,
        labelled_rows=len(labelled),
        champion_auc=float(roc_auc_score(truth, labelled[SCORE_COLUMN])) if measurable else None,
        shadow_auc=(
            float(roc_auc_score(truth, labelled[f"{SCORE_COLUMN}_shadow"])) if measurable else None
        ),
        margin=margin,
        min_labelled_rows=min_labelled_rows,
    )
