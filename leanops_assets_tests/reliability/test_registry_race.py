"""Two promotions of different candidates against one MLflow SQLite registry at the same moment:
the champion ends on the better version, both versions exist, both decisions are recorded."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import pytest
from dagster import DagsterInstance, materialize

from leanops_assets.registry.promotion import CHAMPION, TAG_PREFIX, version_by_alias
from leanops_assets.resources import LakeResource, MlflowResource
from leanops_assets.training.tracking import model_name_for
from leanops_assets_tests.flights_defs import training_set

from .conftest import models, stderr_tail

NAME = model_name_for(MlflowResource(), models.FLIGHTS)
FEATURE_COLUMNS = models.FLIGHTS.table.feature_columns
TRAINING_CONFIG = {
    "ops": {
        "training_set": {"config": {"window_days": 21, "validation_days": 4, "holdout_days": 4}}
    }
}

PROMOTER = """
import json, sys, time
from pathlib import Path
from mlflow import MlflowClient
from leanops_assets.registry.promotion import gate_candidate
from leanops_assets.resources import LakeResource, MlflowResource
from leanops_assets.training.dataset import read_splits, stored_version
from leanops_assets.dataset import bundled_dataset
from leanops_assets.training.tracking import configure_mlflow, experiment_for, model_name_for
from leanops_assets.training.workflow import ModelCandidate

FEATURE_COLUMNS = bundled_dataset().table.feature_columns
candidate = ModelCandidate(**json.loads(sys.argv[1]))
barrier, out = Path(sys.argv[2]), Path(sys.argv[3])
settings, flights = MlflowResource(), bundled_dataset()
configure_mlflow(settings, experiment_for(settings, flights))
lake = LakeResource().lake()
splits, version = read_splits(lake, "flights"), stored_version(lake, "flights")
client = MlflowClient()
Path(str(out) + ".ready").touch()
while not barrier.exists():
    time.sleep(0.005)
report = gate_candidate(client, model_name_for(settings, flights), candidate, splits, version,
                        flights.table, 0.5, 0.02)
out.write_text(json.dumps({"version": report.version, "auc": report.challenger.auc,
                           "promoted": report.decision.promoted}))
"""


def _prepare(leanops_home, feature_lake):
    result = materialize(
        [training_set],
        resources={"lake": LakeResource()},
        run_config=TRAINING_CONFIG,
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    strong = models.log_fixed_candidate(feature_lake, FEATURE_COLUMNS, label="strong")
    weak = models.log_fixed_candidate(feature_lake, ["distance"], label="weak")
    return strong, weak


@pytest.mark.slow
def test_simultaneous_promotions_leave_the_better_champion(
    leanops_home, feature_lake, child_factory, tmp_path
):
    from mlflow import MlflowClient

    strong, weak = _prepare(leanops_home, feature_lake)
    barrier = tmp_path / "go"
    outs = {label: tmp_path / f"{label}.json" for label in ("strong", "weak")}
    children = {
        label: child_factory(
            f"promote_{label}",
            PROMOTER,
            [json.dumps(asdict(candidate)), str(barrier), str(outs[label])],
        )
        for label, candidate in (("strong", strong), ("weak", weak))
    }
    deadline = time.monotonic() + 180
    while not all((tmp_path / f"{label}.json.ready").exists() for label in outs):
        assert time.monotonic() < deadline, "promoters never got ready"
        for child in children.values():
            assert child.poll() is None, stderr_tail(child)
        time.sleep(0.05)
    barrier.touch()
    for label, child in children.items():
        child.communicate(timeout=300)
        assert child.returncode == 0, f"{label}: {stderr_tail(child)}"

    reports = {label: json.loads(path.read_text()) for label, path in outs.items()}
    assert reports["strong"]["auc"] > reports["weak"]["auc"] + 0.02, reports
    uri = MlflowResource().resolved_tracking_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = {str(v.version): v for v in client.search_model_versions(f"name = '{NAME}'")}
    assert set(versions) == {reports["strong"]["version"], reports["weak"]["version"]}
    champion = version_by_alias(client, NAME, CHAMPION)
    assert champion is not None and str(champion.version) == reports["strong"]["version"]
    for version in versions.values():  # both decisions recorded on their versions
        assert version.tags[f"{TAG_PREFIX}decision"] in ("promoted", "rejected")
        assert version.tags[f"{TAG_PREFIX}decision_reason"]
        assert f"{TAG_PREFIX}holdout_auc" in version.tags
