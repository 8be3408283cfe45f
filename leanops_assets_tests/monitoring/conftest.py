"""Session-wide fixtures of the monitoring tests: real feature weeks and a model trained on January."""

import pytest

from leanops_assets_tests.monitoring.frames import feature_days, train_pipeline

WEEKS = {
    "jan_train": ("2013-01-01", 14),
    "jan_wk3": ("2013-01-15", 7),
    "jan_wk4": ("2013-01-22", 7),
    "jul_wk1": ("2013-07-01", 7),
}


@pytest.fixture(scope="session")
def weeks(tmp_path_factory) -> dict:
    """Feature frames of a few periods of 2013, computed by hand from the bundled data."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEANOPS_HOME", str(tmp_path_factory.mktemp("bundled_cache")))
        return {name: feature_days(first, count) for name, (first, count) in WEEKS.items()}


@pytest.fixture(scope="session")
def january_model(weeks):
    """The project's gradient-boosting pipeline trained on the first two weeks of January."""
    return train_pipeline(weeks["jan_train"])
