"""MLflow tracking for tuning: the Dagster-linked parent run, one child run per Optuna trial.

The parent run comes from dagster-mlflow: `mlflow_tracking_for(ds)` starts (or, in a later step
of the same Dagster run, re-activates) an MLflow run tagged `dagster_run_id`. It wraps
dagster-mlflow's own resource class rather than configuring `dagster_mlflow.mlflow_tracking`
directly, for three reasons:
- its tracking URI comes from `MlflowResource` and its experiment from the dataset, at run time
  (LEANOPS_HOME is read then, never at definition time), with no second copy of the settings;
- the experiment is created first with `MlflowResource.artifact_location()`; dagster-mlflow's
  `set_experiment` would otherwise create it with the SQLite store's default artifact root,
  `./mlruns` under whatever the working directory is;
- dagster-mlflow imports mlflow at module import (~3.5 s); here it is imported only when a step
  that needs tracking starts.
dagster-mlflow's `end_mlflow_on_run_finished` hook needs the resource key "mlflow", which this
project gives to `MlflowResource`; `tuned_model` ends the parent run itself instead.
"""

from __future__ import annotations

import subprocess
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from dagster import InitResourceContext, MetadataValue, ResourceDefinition, resource

from leanops_assets.resources import MlflowResource
from leanops_assets.settings import REPO_ROOT

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from optuna.trial import FrozenTrial

    from leanops_assets.dataset import Dataset

TRACKING_RESOURCE_KEY = "mlflow_tracking"


def experiment_for(mlflow: MlflowResource, ds: Dataset) -> str:
    """The MLflow experiment of the dataset's runs: the resource's override, else the dataset's."""
    return mlflow.experiment or ds.experiment


def model_name_for(mlflow: MlflowResource, ds: Dataset) -> str:
    """The registered model of the dataset: the resource's override, else the dataset's."""
    return mlflow.model_name or ds.registered_model_name


def configure_mlflow(settings: MlflowResource, experiment: str) -> str:
    """Point the mlflow module at the project's stores; create `experiment` if it is new.

    Returns the experiment id.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    tracking_uri = settings.resolved_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    # Always set: mlflow.set_registry_uri also exports MLFLOW_REGISTRY_URI, so a registry set
    # earlier in this process (load_champion does) would otherwise outlive a change of store.
    mlflow.set_registry_uri(settings.registry_uri or tracking_uri)
    existing = mlflow.get_experiment_by_name(experiment)
    if existing is not None:
        return existing.experiment_id
    try:
        return mlflow.create_experiment(experiment, artifact_location=settings.artifact_location())
    except MlflowException as exc:
        # Another run created it between the lookup and here.
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return mlflow.get_experiment_by_name(experiment).experiment_id


TRACKING_DESCRIPTION = (
    "dagster-mlflow run tracking: one MLflow run per Dagster run, tagged dagster_run_id."
)


def mlflow_tracking_for(ds: Dataset) -> ResourceDefinition:
    """The dataset's tracking resource, for the key ds.scoped("mlflow_tracking"): its runs go to
    the dataset's experiment (or MlflowResource.experiment when set)."""

    @resource(required_resource_keys={"mlflow"}, description=TRACKING_DESCRIPTION)
    def dataset_mlflow_tracking(context: InitResourceContext):
        yield from _track(context, experiment_for(context.resources.mlflow, ds))

    return dataset_mlflow_tracking


def _track(context: InitResourceContext, experiment: str):
    from dagster_mlflow.resources import MlFlow

    settings: MlflowResource = context.resources.mlflow
    configure_mlflow(settings, experiment)
    config = {
        "experiment_name": experiment,
        "mlflow_tracking_uri": settings.resolved_tracking_uri(),
        "parent_run_id": None,
        "mlflow_run_id": None,
        "env": {},
        "env_to_tag": None,
        "extra_tags": {"leanops.code_version": code_version()},
    }
    tracker = MlFlow(
        SimpleNamespace(
            log=context.log,
            dagster_run=context.dagster_run,
            run_id=context.run_id,
            resource_config=config,
        )
    )
    import mlflow

    # dagster-mlflow leaves `mlflow_run_id` unset when it starts a new run; the active run is it.
    run_id = mlflow.active_run().info.run_id
    yield tracker
    tracker.cleanup_on_error()
    # The asset ends the run it used. A run still open here was never used: the steps that
    # needed it did not get to run (an upstream step failed), so it must not stay RUNNING.
    active = mlflow.active_run()
    if active is not None and active.info.run_id == run_id:
        mlflow.set_tag("leanops.ended_by", "resource teardown: no step used this run")
        mlflow.end_run(status="KILLED")


def redact_uri(uri: str) -> str:
    """The URI without the password of its user part: fit for metadata, logs and links."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else "***@"
    return urlunsplit(parts._replace(netloc=user + host))


def _ui_base(settings: MlflowResource) -> str | None:
    uri = redact_uri(settings.server_uri())
    return uri.rstrip("/") if uri.startswith(("http://", "https://")) else None


def mlflow_run_link(settings: MlflowResource, experiment_id: str, run_id: str) -> MetadataValue:
    """A link to the run in the MLflow UI when tracking goes to a server; else how to open it."""
    base = _ui_base(settings)
    if base:
        return MetadataValue.url(f"{base}/#/experiments/{experiment_id}/runs/{run_id}")
    uri = redact_uri(settings.resolved_tracking_uri())
    return MetadataValue.text(
        f"run {run_id} (experiment {experiment_id}); browse with: mlflow ui --backend-store-uri {uri}"
    )


def mlflow_model_version_link(settings: MlflowResource, name: str, version: str) -> MetadataValue:
    base = _ui_base(settings)
    if base:
        return MetadataValue.url(f"{base}/#/models/{name}/versions/{version}")
    uri = redact_uri(settings.resolved_tracking_uri())
    return MetadataValue.text(
        f"models:/{name}/{version}; browse with: mlflow ui --backend-store-uri {uri}"
    )


def code_version() -> str:
    """The git commit of the code, "+dirty" if it has uncommitted changes; "unknown" outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return "unknown"
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    dirty = "+dirty" if status.returncode == 0 and status.stdout.strip() else ""
    return commit.stdout.strip() + dirty


def _millis(moment: Any) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


class TrialRunLogger:
    """Optuna callback: each finished trial becomes a child run of `parent_run_id`, with its
    parameters, the validation AUC at every boosting step, its value and its state."""

    def __init__(self, client: MlflowClient, experiment_id: str, parent_run_id: str, study: str):
        self.client = client
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id
        self.study = study
        self.run_ids: dict[int, str] = {}

    def __call__(self, trial: FrozenTrial) -> None:
        from mlflow.entities import Metric, Param

        started = _millis(trial.datetime_start) or int(time.time() * 1000)
        ended = _millis(trial.datetime_complete) or int(time.time() * 1000)
        run = self.client.create_run(
            self.experiment_id,
            start_time=started,
            run_name=f"trial-{trial.number:03d}",
            tags={
                "mlflow.parentRunId": self.parent_run_id,
                "optuna.study": self.study,
                "optuna.trial_number": str(trial.number),
                "optuna.state": trial.state.name,
            },
        )
        run_id = run.info.run_id
        metrics = [
            Metric("validation_auc", float(value), ended, int(step))
            for step, value in sorted(trial.intermediate_values.items())
        ]
        if trial.value is not None:
            metrics.append(Metric("value", float(trial.value), ended, 0))
        params = [Param(key, str(value)) for key, value in trial.params.items()]
        params += [Param(f"attr_{key}", str(value)) for key, value in trial.user_attrs.items()]
        self.client.log_batch(run_id, metrics=metrics, params=params)
        status = "FAILED" if trial.state.name == "FAIL" else "FINISHED"
        self.client.set_terminated(run_id, status=status, end_time=ended)
        self.run_ids[trial.number] = run_id
