"""Hostile names, planted secrets, model loading and the container user.

- partition keys, dataset names and landing-file names cannot lead a write or read outside the
  lake or landing folder; a symlinked partition folder pointing elsewhere is refused;
- a secret in the environment or in a store URL reaches no Dagster metadata, log line or MLflow
  run of a tuning run, and links to MLflow never carry a password;
- the monitoring loader takes a model name and loads `models:/NAME/<champion version>` from the
  registry, never a path;
- the Dockerfile's final user is not root.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from leanops_assets.dataset import bundled_dataset
from leanops_assets.ingestion.sources import SourceError, landing_day, landing_files
from leanops_assets.resources import LakeResource, MlflowResource, SourceResource
from leanops_assets.storage import Lake, LakePathError
from leanops_assets_tests.flights_defs import raw_flights

REPO = Path(__file__).resolve().parents[2]
SECRET = "Leanops-S3cret-7f3a9"


@pytest.mark.parametrize("day", ["../..", "../../x", "2013-05-20/../../..", "2013-05-20\x00"])
def test_landing_day_refuses_keys_that_are_paths(tmp_path, day):
    with pytest.raises(LakePathError):
        landing_day(tmp_path, "flights", day)


@pytest.mark.parametrize("dataset", ["..", "../flights", "flights/../..", "/etc"])
def test_landing_dataset_names_cannot_leave_the_landing_folder(tmp_path, dataset):
    with pytest.raises(LakePathError):
        landing_files(tmp_path, dataset)
    with pytest.raises(LakePathError):
        landing_day(tmp_path, dataset, "2013-05-20")


def test_landing_names_that_are_not_dated_files_are_never_picked_up(tmp_path):
    folder = tmp_path / "flights"
    folder.mkdir()
    good = folder / "flights_2013-05-20.csv"
    good.write_text("year\n2013\n")
    for hostile in [
        "flights_..%2F..%2Fx.csv",
        "flights_2013-05-20.csv.sh",
        "flights_2013-05-20..csv",
        "flights_..csv",
        "flights_2013-5-20.csv",
        "other_2013-05-20.csv",
        ".flights_2013-05-21.csv",
        "flights_2013-05-22.csv ",
    ]:
        (folder / hostile).write_text("year\n2013\n")
    nested = folder / "flights_.."
    nested.mkdir()
    (nested / "x.csv").write_text("year\n2013\n")
    assert [(f.path, f.day) for f in landing_files(tmp_path, "flights")] == [(good, "2013-05-20")]


def test_a_partition_key_that_is_a_path_never_runs(leanops_home):
    outside = leanops_home / "x"
    with pytest.raises(Exception, match=r"\.\./\.\./x"):
        materialize(
            [raw_flights],
            partition_key="../../x",
            resources={"lake": LakeResource(), "source": SourceResource(kind="landing")},
            instance=DagsterInstance.ephemeral(),
        )
    assert not outside.exists()
    assert not (leanops_home / "lake").exists() or not any(
        (leanops_home / "lake").rglob("*.parquet")
    )


def test_a_symlinked_partition_folder_pointing_outside_is_refused(tmp_path):
    lake = Lake(tmp_path / "lake")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = tmp_path / "lake" / "raw" / "flights"
    folder.mkdir(parents=True)
    (folder / "date=2013-05-20").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(LakePathError, match="escapes the lake root"):
        lake.write_partition("raw", "flights", "2013-05-20", pd.DataFrame({"a": [1]}))
    assert list(elsewhere.iterdir()) == []


def test_a_landing_file_that_is_a_directory_fails_naming_it(tmp_path):
    (tmp_path / "flights" / "flights_2013-05-20.csv").mkdir(parents=True)
    with pytest.raises((SourceError, IsADirectoryError)):
        landing_day(tmp_path, "flights", "2013-05-20")


@pytest.mark.parametrize(
    "uri",
    [
        f"postgresql://leanops:{SECRET}@db:5432/mlflow",
        f"mysql+pymysql://leanops:{SECRET}@db/mlflow",
        f"http://leanops:{SECRET}@mlflow:5000",
        f"https://:{SECRET}@mlflow.example.com/",
    ],
)
def test_links_to_mlflow_never_carry_a_password(uri):
    from leanops_assets.training.tracking import (
        mlflow_model_version_link,
        mlflow_run_link,
        redact_uri,
    )

    settings = MlflowResource(tracking_uri=uri)
    for value in (
        mlflow_run_link(settings, "1", "abc").value,
        mlflow_model_version_link(settings, "m", "3").value,
        redact_uri(uri),
    ):
        assert SECRET not in value
        assert "***" in value


def _texts_of_run(instance: DagsterInstance, run_id: str) -> list[str]:
    texts = []
    for record in instance.all_logs(run_id):
        texts.append(record.user_message or "")
        if record.dagster_event is not None:
            texts.append(repr(record.dagster_event))
    return texts


@pytest.mark.slow
def test_planted_secrets_reach_no_metadata_log_or_mlflow_run(
    leanops_home, feature_lake, monkeypatch, tmp_path
):
    """Secrets where the resources look for them: MLflow's credential variables and a store URL
    whose path holds the secret (a SQLite URL cannot carry a password; the metadata keeps only
    the scheme of LEANOPS_OPTUNA_STORAGE, so a password in a PostgreSQL URL goes the same way)."""
    from mlflow import MlflowClient

    from leanops_assets.resources import TuningResource
    from leanops_assets.training.tracking import mlflow_tracking_for
    from leanops_assets_tests.flights_defs import training_set, tuned_model

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "leanops")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", SECRET)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    store = tmp_path / f"optuna-{SECRET}"
    store.mkdir()
    monkeypatch.setenv("LEANOPS_OPTUNA_STORAGE", f"sqlite:///{store / 'optuna.db'}")

    instance = DagsterInstance.get()
    result = materialize(
        [training_set, tuned_model],
        resources={
            "lake": LakeResource(),
            "mlflow": MlflowResource(),
            "tuning": TuningResource(n_trials=2, seed=3),
            "mlflow_tracking": mlflow_tracking_for(bundled_dataset()),
        },
        run_config={
            "ops": {
                "training_set": {
                    "config": {"window_days": 21, "validation_days": 4, "holdout_days": 4}
                },
                "tuned_model": {
                    "config": {
                        "iterations_per_step": 10,
                        "max_steps": 2,
                        "threads": 1,
                        "importance_rows": 0,
                    }
                },
            }
        },
        instance=instance,
    )
    assert result.success
    event = result.asset_materializations_for_node("tuned_model")[0]
    assert event.metadata["optuna_storage"].value == "sqlite://…"
    texts = _texts_of_run(instance, result.run_id)
    assert len(texts) > 20
    leaks = [text for text in texts if SECRET in text]
    assert leaks == []

    uri = MlflowResource().resolved_tracking_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert runs
    for run in runs:
        for mapping in (run.data.params, run.data.tags):
            assert not [k for k, v in mapping.items() if SECRET in f"{k}={v}"], run.info.run_id


def test_the_monitoring_loader_takes_a_name_and_loads_only_from_the_registry(tmp_path):
    from leanops_assets.monitoring import predict
    from leanops_assets.monitoring.predict import ChampionNotFoundError, load_champion

    assert list(inspect.signature(load_champion).parameters) == [
        "tracking_uri",
        "registry_uri",
        "model_name",
        "alias",  # a registry alias (champion, or previous for shadow scoring), never a path
    ]
    source = inspect.getsource(predict)
    loads = re.findall(r"load_model\(([^)]*)\)", source)
    assert loads and all(arg.strip().startswith('f"models:/') for arg in loads), loads

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    model_dir = tmp_path / "model"  # a model folder a caller might point at
    model_dir.mkdir()
    for hostile in (str(model_dir), model_dir.as_uri(), "runs:/abc/model", "../model"):
        with pytest.raises(ChampionNotFoundError, match="no 'champion' alias"):
            load_champion(uri, uri, hostile)


def test_monitoring_and_registry_config_has_no_model_path():
    from leanops_assets.resources import MlflowResource, MonitoringPolicy
    from leanops_assets_tests.flights_defs import batch_predictions, drift_report

    fields = set(MlflowResource.model_fields) | set(MonitoringPolicy.model_fields)
    assert not [f for f in fields if "path" in f or f in ("model_uri", "model_dir")]
    for asset in (batch_predictions, drift_report):  # no run config a caller could point elsewhere
        assert "config" not in inspect.signature(asset.op.compute_fn.decorated_fn).parameters


def test_the_container_runs_as_a_non_root_user():
    lines = [
        line.strip()
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.strip().upper().startswith("USER ")
    ]
    assert lines, "the Dockerfile never sets USER: the image would run as root"
    user = lines[-1].split(None, 1)[1].split(":")[0]
    assert user not in ("root", "0")
