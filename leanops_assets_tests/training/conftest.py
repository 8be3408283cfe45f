"""Fixtures for the training tests: real feature-shaped days, computed by hand from the real year."""

from __future__ import annotations

import pytest

from leanops_assets_tests.training import handmade_features as handmade

FIRST_DAY = "2013-06-03"
N_DAYS = 21


@pytest.fixture(scope="session")
def feature_days(tmp_path_factory) -> dict:
    """Twenty-one consecutive feature days (June 2013), built once per session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEANOPS_HOME", str(tmp_path_factory.mktemp("bundled_cache")))
        return handmade.handmade_features(handmade.days_between(FIRST_DAY, N_DAYS))


@pytest.fixture
def feature_lake(leanops_home, feature_days):
    """A lake under the test's LEANOPS_HOME holding the feature days."""
    from leanops_assets.storage import Lake

    lake = Lake(leanops_home / "lake")
    handmade.write_feature_days(lake, feature_days)
    return lake
