"""Every resource of the project, in one place.

An empty setting means: the LEANOPS_* environment variable named beside it if set, else the
embedded default under LEANOPS_HOME. Both are read when a run uses the resource, never at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dagster import ConfigurableResource, InitResourceContext
from dagster_pyspark import PySparkResource
from pydantic import Field

from leanops_assets.settings import LOCAL_SPARK_CONF, leanops_home
from leanops_assets.storage import Lake

if TYPE_CHECKING:
    from leanops_assets.dataset import Dataset


def _setting(value: str, variable: str) -> str:
    return value or os.environ.get(variable, "")


class LakeResource(ConfigurableResource):
    """The data lake. Empty root: $LEANOPS_LAKE_ROOT, else <LEANOPS_HOME>/lake."""

    root: str = ""

    def lake(self) -> Lake:
        return Lake(_setting(self.root, "LEANOPS_LAKE_ROOT") or leanops_home() / "lake")


class SparkResource(PySparkResource):
    """dagster-pyspark's resource with the one-machine defaults of settings.LOCAL_SPARK_CONF.

    `master` (or $LEANOPS_SPARK_MASTER) points it at a cluster; `spark_config` overrides any key.
    One SparkSession per process: every Spark asset in a run shares it.
    """

    spark_config: dict[str, Any] = Field(default_factory=dict)
    master: str = ""

    def resolved_config(self) -> dict[str, Any]:
        config = {**LOCAL_SPARK_CONF, **self.spark_config}
        master = _setting(self.master, "LEANOPS_SPARK_MASTER")
        if master:
            config["spark.master"] = master
        return config

    def setup_for_execution(self, context: InitResourceContext) -> None:
        from dagster_pyspark.resources import spark_session_from_config

        self._spark_session = spark_session_from_config(self.resolved_config())


class SourceResource(ConfigurableResource):
    """Where a dataset's raw days come from: its bundled source (the dataset folder's source.py),
    a landing folder of dated files, or the bundled days multiplied `scale`-fold (synthetic, for
    load tests; the dataset's source.py must offer scaled_day).

    A landing folder holds <table>/<table>_YYYY-MM-DD.csv (or .parquet), one file per day, and
    <table>/<table>.csv (or .parquet) for a table joined by key.
    """

    kind: Literal["bundled", "landing", "synthetic"] = "bundled"
    landing_dir: str = ""
    scale: int = 10
    # Bundled and synthetic days after this day (YYYY-MM-DD) arrive without the contract's outcome
    # columns, as a delivery made before the outcomes happened; empty: every day has them. The
    # replay moves it a day at a time, so outcomes arrive --outcome-lag-days after their day.
    outcomes_known_until: str = ""


class MlflowResource(ConfigurableResource):
    """MLflow tracking and registry. Empty tracking_uri: $LEANOPS_MLFLOW_TRACKING_URI, else a
    SQLite store and an artifact folder under LEANOPS_HOME."""

    tracking_uri: str = ""
    registry_uri: str = ""
    # Overrides; empty: the dataset's own (training.tracking.experiment_for, model_name_for).
    experiment: str = ""
    model_name: str = ""

    def server_uri(self) -> str:
        """The configured tracking server or database; empty for the embedded store."""
        return _setting(self.tracking_uri, "LEANOPS_MLFLOW_TRACKING_URI")

    def resolved_tracking_uri(self) -> str:
        if self.server_uri():
            return self.server_uri()
        folder = leanops_home() / "mlflow"
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'mlflow.db'}"

    def client(self):
        """A client of exactly these stores: mlflow otherwise resolves the registry from whatever
        store an earlier step of this process set (set_registry_uri is process-wide)."""
        from mlflow import MlflowClient

        tracking_uri = self.resolved_tracking_uri()
        return MlflowClient(
            tracking_uri=tracking_uri, registry_uri=self.registry_uri or tracking_uri
        )

    def artifact_location(self) -> str | None:
        """Artifact root for new experiments with the embedded store; the server decides otherwise."""
        if self.server_uri():
            return None
        return (leanops_home() / "mlflow" / "artifacts").as_uri()


class TuningResource(ConfigurableResource):
    """Optuna study settings. Empty storage: $LEANOPS_OPTUNA_STORAGE (an RDB URL shared by
    workers), else a journal file under LEANOPS_HOME (resumable)."""

    n_trials: int = 0  # 0: $LEANOPS_TUNING_TRIALS, else 12
    timeout_seconds: float | None = None
    storage: str = ""
    seed: int = 13

    def resolved_trials(self) -> int:
        return self.n_trials or int(os.environ.get("LEANOPS_TUNING_TRIALS") or 12)

    def resolved_storage(self) -> str:
        """The RDB URL, or empty for the journal file."""
        return _setting(self.storage, "LEANOPS_OPTUNA_STORAGE")

    def journal_path(self) -> Path:
        folder = leanops_home() / "optuna"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / "journal.log"


# Policy: every field of PromotionPolicy and MonitoringPolicy (but reports_dir) resolves per
# dataset, first set wins: the resource's field (run config, launchpad), its LEANOPS_* variable
# where it has one, the dataset's defs.yaml (`promotion:`, `monitoring:`), the built-in default
# below. Flights' defs.yaml sets none, so flights run with the built-in defaults.


@dataclass(frozen=True)
class PromotionSettings:
    """The promotion gates one dataset runs with; the defaults are the built-in ones."""

    auc_floor: float = 0.65
    max_auc_drop: float = 0.02


@dataclass(frozen=True)
class MonitoringSettings:
    """The retraining, shadow and rollback policy one dataset runs with; the defaults are the
    built-in ones."""

    # Calibrated on the real 2013 flights weeks: week-to-week noise reaches a drift share of 0.33
    # and a live AUC of 0.62 (see the monitoring tests); above and below those is a real change.
    drift_share_threshold: float = 0.4
    live_auc_floor: float = 0.6
    # Breaching drift windows that share no day (drift_report's windows end every 7 days back
    # from the newest report): reports of overlapping windows are one piece of evidence.
    evidence_windows: int = 2
    cooldown_days: int = 14  # after a retrain whose model was promoted
    # After a retrain whose model the gate rejected: the champion did not change, so retry soon
    # (the training window has moved on by then) while the breach persists.
    rejection_retry_days: int = 3
    # After a promotion the replaced champion scores in shadow for this many days; the new one is
    # rolled back when its live AUC on the same rows trails by more than the margin, measured
    # once at least rollback_min_labelled_rows of those rows have their outcome.
    shadow_days: int = 7
    rollback_auc_margin: float = 0.02
    rollback_min_labelled_rows: int = 2000


def _resolve(
    settings: type,
    resource: ConfigurableResource,
    dataset_defaults: tuple[tuple[str, float], ...],
    variables: dict[str, str],
) -> Any:
    """`settings` with each field from the resource, else its variable, else the dataset's."""
    dataset = dict(dataset_defaults)
    values = {}
    for field in fields(settings):
        value = getattr(resource, field.name)
        variable = os.environ.get(variables.get(field.name, ""))
        if value is None and variable:
            value = type(field.default)(variable)
        if value is None:
            value = dataset.get(field.name)
        if value is not None:
            values[field.name] = value
    return settings(**values)


class PromotionPolicy(ConfigurableResource):
    """Model gates: holdout AUC floor, and the most a challenger may trail the champion.

    A field left unset (None) is, per dataset: $LEANOPS_PROMOTION_AUC_FLOOR for auc_floor, else
    the dataset's defs.yaml `promotion:`, else the built-in default (PromotionSettings: 0.65,
    0.02). Callers use `resolved(ds)`.
    """

    auc_floor: float | None = None
    max_auc_drop: float | None = None

    def resolved(self, ds: Dataset) -> PromotionSettings:
        variables = {"auc_floor": "LEANOPS_PROMOTION_AUC_FLOOR"}
        return _resolve(PromotionSettings, self, ds.promotion_defaults, variables)


class MonitoringPolicy(ConfigurableResource):
    """When drift or weak live quality triggers a retrain, and when a new champion is rolled back.

    A field left unset (None) is, per dataset: the dataset's defs.yaml `monitoring:`, else the
    built-in default (MonitoringSettings, which says what each field means). Callers use
    `resolved(ds)`. reports_dir is the deployment's: empty means <LEANOPS_HOME>/reports.
    """

    drift_share_threshold: float | None = None
    live_auc_floor: float | None = None
    evidence_windows: int | None = None
    cooldown_days: int | None = None
    rejection_retry_days: int | None = None
    shadow_days: int | None = None
    rollback_auc_margin: float | None = None
    rollback_min_labelled_rows: int | None = None
    reports_dir: str = ""

    def resolved(self, ds: Dataset) -> MonitoringSettings:
        return _resolve(MonitoringSettings, self, ds.monitoring_defaults, {})

    def resolved_reports_dir(self) -> Path:
        return Path(self.reports_dir) if self.reports_dir else leanops_home() / "reports"
