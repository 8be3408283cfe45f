"""Registry fixtures: the training tests' feature days, and models of known strength."""

from __future__ import annotations

import pytest

from leanops_assets.dataset import bundled_dataset
from leanops_assets_tests.registry import models as _models
from leanops_assets_tests.training.conftest import feature_days, feature_lake

__all__ = ["feature_days", "feature_lake"]  # the training tests' fixtures, shared


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
    from leanops_assets.training.tracking import mlflow_tracking_for

    return {
        "lake": LakeResource(),
        "mlflow": MlflowResource(),
        "tuning": TuningResource(n_trials=3, seed=5),
        "promotion": PromotionPolicy(auc_floor=0.5, max_auc_drop=0.02),
        "mlflow_tracking": mlflow_tracking_for(bundled_dataset()),
    }


@pytest.fixture
def weak_candidate():
    """Call with the lake to log a one-feature model and make it the pending candidate."""
    return _models.log_single_feature_candidate


@pytest.fixture
def fixed_candidate():
    """Call with the lake, the features to use and a label to log an untuned candidate."""
    return _models.log_fixed_candidate
