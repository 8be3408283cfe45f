"""A day scored before its outcomes arrive: the prediction log exists, its live metrics stay
empty (no label is invented), and they appear when the day is rebuilt with its outcomes."""

import pytest
from dagster import DagsterInstance, materialize
from sklearn.metrics import roc_auc_score

from leanops_assets.training.model import feature_matrix
from leanops_assets_tests.flights_defs import batch_predictions
from leanops_assets_tests.monitoring.frames import TABLE
from leanops_assets_tests.monitoring.test_gated_days import _setup
from leanops_assets_tests.monitoring.test_monitoring_assets import (
    JULY,
    registry,  # noqa: F401 (fixture)
)


def _score(day: str, resources: dict) -> dict:
    result = materialize(
        [batch_predictions],
        partition_key=day,
        resources=resources,
        instance=DagsterInstance.ephemeral(),
    )
    return result.asset_materializations_for_node("batch_predictions")[0].metadata


def test_live_metrics_stay_empty_until_the_outcomes_arrive(
    leanops_home,
    weeks,
    january_model,
    registry,  # noqa: F811
):
    lake, resources = _setup(leanops_home, weeks, registry)
    day = JULY[-1]
    with_outcomes = lake.read_partition("features", "flights", day)
    without = with_outcomes.copy()
    without[TABLE.label_column] = None  # delivered before the flights flew
    lake.write_partition("features", "flights", day, without)

    before = _score(day, resources)
    log = lake.read_partition("predictions", "flights", day)
    assert len(log) == len(with_outcomes) == before["dagster/row_count"].value
    assert before["labelled_rows"].value == 0
    assert not {"live_auc", "log_loss", "accuracy", "label_rate"} & set(before)

    lake.write_partition("features", "flights", day, with_outcomes)  # the outcomes arrived
    after = _score(day, resources)
    truth = with_outcomes[TABLE.label_column]
    proba = january_model.predict_proba(feature_matrix(with_outcomes, TABLE))[:, 1]
    assert after["labelled_rows"].value == len(with_outcomes)
    assert after["live_auc"].value == pytest.approx(roc_auc_score(truth, proba))
