"""SIGKILL while the monitoring outputs and a model registration are being written: no partial
prediction log or drift report is ever visible, the last good one stays intact, a re-run is
byte-identical for the lake output; a killed promotion leaves the champion old or new, never a
third state, and a re-run completes it. (raw and validated: ../test_crash_safety.py.)"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

from leanops_assets.registry.promotion import CHAMPION, PREVIOUS, TAG_PREFIX, version_by_alias
from leanops_assets.resources import LakeResource, MlflowResource
from leanops_assets_tests.flights_defs import training_set

from .conftest import kill_while_working, models, stderr_tail, time_one_loop, wait_for

DAY = "2013-07-07"
JULY = [f"2013-07-0{d}" for d in range(1, 8)]
MONITOR = """
import sys
from dagster import DagsterInstance, materialize
from leanops_assets_tests.flights_defs import batch_predictions, drift_report
from leanops_assets.resources import LakeResource, MlflowResource, MonitoringPolicy

uri, model, day, loops = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
resources = {
    "lake": LakeResource(),
    "mlflow": MlflowResource(tracking_uri=uri, model_name=model),
    "monitoring_policy": MonitoringPolicy(evidence_windows=1),
}
print("ready", flush=True)
for _ in range(loops):
    result = materialize([batch_predictions, drift_report], partition_key=day,
                         resources=resources, instance=DagsterInstance.ephemeral())
    assert result.success
    print("done", flush=True)
"""


@pytest.fixture
def monitoring_home(leanops_home, tmp_path, monkeypatch):
    """A lake with January training splits and the first week of July, July scored up to the
    day before DAY, and a SQLite registry whose champion is a model trained on January."""
    import mlflow
    from mlflow import MlflowClient

    from leanops_assets.monitoring.predict import TRAINING_DATA_VERSION_TAG, score_features
    from leanops_assets.storage import Lake
    from leanops_assets.training.dataset import stored_version
    from leanops_assets_tests.monitoring.frames import (
        TABLE,
        feature_days,
        register_champion,
        train_pipeline,
    )

    weeks = {"jan_train": feature_days("2013-01-01", 14), "jul_wk1": feature_days(JULY[0], 7)}
    model = train_pipeline(weeks["jan_train"])
    lake = Lake(leanops_home / "lake")
    from leanops_assets_tests.monitoring.test_monitoring_assets import write_lake

    write_lake(lake, weeks)
    for earlier in JULY[:-1]:
        features = lake.read_partition("features", "flights", earlier)
        lake.write_partition(
            "predictions", "flights", earlier, score_features(model, features, TABLE, "1")
        )
    uri, version = register_champion(model, tmp_path, "crash_model")
    # mlflow.set_*_uri export MLFLOW_*_URI; monkeypatch removes them again after the test
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.set_model_version_tag(
        "crash_model", version, TRAINING_DATA_VERSION_TAG, stored_version(lake, "flights")
    )
    yield leanops_home, uri
    mlflow.set_tracking_uri(None)  # the next test's MLflow stores are its own
    mlflow.set_registry_uri(None)


def _outputs(home: Path) -> tuple[Path, Path]:
    return (
        home / "lake" / "predictions" / "flights" / f"date={DAY}" / "part.parquet",
        home / "reports" / "flights" / "drift" / f"{DAY}.html",
    )


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_sigkill_while_scoring_and_reporting(monitoring_home, child_factory):
    import pyarrow.parquet as pq

    home, uri = monitoring_home
    args = [uri, "crash_model", DAY]
    first = child_factory("monitor", MONITOR, [*args, "1"])
    duration = time_one_loop(first)
    assert first.wait(timeout=60) == 0
    predictions, report = _outputs(home)
    reference = predictions.read_bytes()
    assert report.read_text().rstrip().endswith("</html>")

    for fraction in (0.35, 0.75, 1.05):  # inside the first loop, and into the second
        looping = child_factory("monitor", MONITOR, [*args, "50"])  # busy whenever killed
        kill_while_working(looping, duration * fraction)
        assert predictions.read_bytes() == reference, "the prediction log differs from a full write"
        pq.read_table(predictions)
        assert report.read_text().rstrip().endswith("</html>"), "a torn drift report is visible"
        assert _visible(predictions.parent) == ["part.parquet"]
        assert _visible(report.parent) == [f"{DAY}.html"]

    rerun = child_factory("monitor", MONITOR, [*args, "1"])
    rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr_tail(rerun)
    assert predictions.read_bytes() == reference
    assert sorted(p.name for p in predictions.parent.iterdir()) == ["part.parquet"]
    assert [p.name for p in report.parent.iterdir() if p.name.startswith(f".{DAY}")] == []


REGISTER = """
import sys
from dagster import DagsterInstance, materialize
from leanops_assets_tests.flights_defs import registered_model
from leanops_assets.resources import LakeResource, MlflowResource, PromotionPolicy

resources = {"lake": LakeResource(), "mlflow": MlflowResource(),
             "promotion": PromotionPolicy(auc_floor=0.5, max_auc_drop=0.02)}
print("ready", flush=True)
result = materialize([registered_model], resources=resources, instance=DagsterInstance.ephemeral())
assert result.success
print("done", flush=True)
"""
TRAINING_CONFIG = {
    "ops": {
        "training_set": {"config": {"window_days": 21, "validation_days": 4, "holdout_days": 4}}
    }
}


@pytest.mark.slow
def test_sigkill_during_promotion(leanops_home, feature_lake, child_factory):
    from mlflow import MlflowClient

    from leanops_assets.dataset import bundled_dataset
    from leanops_assets.registry.promotion import gate_candidate
    from leanops_assets.training.dataset import read_splits, stored_version
    from leanops_assets.training.tracking import model_name_for

    assert materialize(
        [training_set],
        resources={"lake": LakeResource()},
        run_config=TRAINING_CONFIG,
        instance=DagsterInstance.ephemeral(),
    ).success
    settings = MlflowResource()
    uri = settings.resolved_tracking_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    name = model_name_for(settings, models.FLIGHTS)
    splits = read_splits(feature_lake, "flights")
    version = stored_version(feature_lake, "flights")
    weak = models.log_fixed_candidate(feature_lake, ["distance"], label="weak")
    old = gate_candidate(client, name, weak, splits, version, models.TABLE, 0.5, 0.02).version
    models.log_fixed_candidate(
        feature_lake, bundled_dataset().table.feature_columns, label="strong"
    )  # pending

    seen = set()
    for delay in (1.0, 3.0, 6.0):
        child = child_factory("register", REGISTER, [])
        wait_for(child, "ready")
        time.sleep(delay)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        versions = client.search_model_versions(f"name = '{name}'")
        assert len(versions) <= 2, "a killed run left an extra version"
        champion = str(version_by_alias(client, name, CHAMPION).version)
        new = {str(v.version) for v in versions} - {old}
        assert champion == old or champion in new
        seen.add("old" if champion == old else "new")

    rerun = child_factory("register", REGISTER, [])
    rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr_tail(rerun)
    versions = {str(v.version): v for v in client.search_model_versions(f"name = '{name}'")}
    assert len(versions) == 2
    (new,) = set(versions) - {old}
    assert str(version_by_alias(client, name, CHAMPION).version) == new
    assert str(version_by_alias(client, name, PREVIOUS).version) == old
    tags = versions[new].tags
    assert tags[f"{TAG_PREFIX}decision"] == "promoted" and f"{TAG_PREFIX}holdout_auc" in tags
    # The recorded decision is the real one (gates against the old champion), whichever run
    # got to move the alias.
    assert tags[f"{TAG_PREFIX}champion_at_decision"] == old
    assert not tags[f"{TAG_PREFIX}decision_reason"].startswith("already the champion")
    print(json.dumps({"champion states seen after kills": sorted(seen)}))
