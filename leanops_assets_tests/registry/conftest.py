"""Registry fixtures: the training tests' feature days, and models of known strength."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _load(name: str, path: Path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_training = _load(
    "leanops_training_conftest", Path(__file__).resolve().parents[1] / "training" / "conftest.py"
)
feature_days = _training.feature_days
feature_lake = _training.feature_lake


@pytest.fixture
def registry_resources():
    """Real resources for the registry assets, with a floor low enough that only the champion
    comparison decides between the test models."""
    from leanops_assets.resources import (
        LakeResource,
        MlflowResource,
        PromotionPolicy,
        TuningResource,
    )
    from leanops_assets.training.tracking import mlflow_tracking_resource

    return {
        "lake": LakeResource(),
        "mlflow": MlflowResource(),
        "tuning": TuningResource(n_trials=3, seed=5),
        "promotion": PromotionPolicy(auc_floor=0.5, max_auc_drop=0.02),
        "mlflow_tracking": mlflow_tracking_resource,
    }


_models = _load("leanops_registry_models", Path(__file__).resolve().parent / "models.py")


@pytest.fixture
def weak_candidate():
    """Call with the lake to log a one-feature model and make it the pending candidate."""
    return _models.log_single_feature_candidate


@pytest.fixture
def fixed_candidate():
    """Call with the lake, the features to use and a label to log an untuned candidate."""
    return _models.log_fixed_candidate
