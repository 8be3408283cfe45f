"""The drift sensor under the real sensor daemon code: one run per trigger even when the daemon
crashes between request and launch or re-evaluates from an old cursor; a failed retrain is
retried once as attempt + 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import AssetMaterialization, DagsterInstance, DagsterRunStatus, RunsFilter

from leanops_assets.monitoring.sensors import ATTEMPT_TAG, RUN_KEY_TAG, SENSOR_NAME_TAG
from leanops_assets_tests.reliability import daemon_tick

HERE = Path(__file__).resolve().parent
SENSOR = "drift_retraining_sensor"
DAGSTER_YAML = """
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
telemetry:
  enabled: false
"""


@pytest.fixture
def instance(leanops_home):
    # Queued runs stay queued (no run-queue daemon here): the tests count runs, not executions.
    (Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml").write_text(DAGSTER_YAML)
    with DagsterInstance.get() as instance:
        yield instance


def _breach(instance: DagsterInstance, *days: str) -> None:
    for day in days:
        instance.report_runless_asset_event(
            AssetMaterialization(
                asset_key="drift_report", partition=day, metadata={"drift_share": 0.8}
            )
        )


def _runs(instance: DagsterInstance, run_key: str | None = None):
    tags = {SENSOR_NAME_TAG: SENSOR}
    if run_key:
        tags[RUN_KEY_TAG] = run_key
    return instance.get_runs(filters=RunsFilter(tags=tags))


def _sensor_state(instance: DagsterInstance):
    states = [s for s in instance.all_instigator_state() if s.name == SENSOR]
    assert len(states) == 1
    return states[0]


def _tick(instance: DagsterInstance, daemon) -> None:
    time.sleep(1.1)  # the sensor's minimum interval
    daemon.tick(instance)


@pytest.mark.slow
def test_crash_between_request_and_cursor_creates_no_second_run(instance):
    daemon = daemon_tick
    _breach(instance, "2013-07-01", "2013-07-02")
    daemon.tick(instance)
    assert [r.tags[RUN_KEY_TAG] for r in _runs(instance)] == ["retrain-2013-07-02-1"]

    # The crash: the run was submitted but the new cursor was never stored. Put the old cursor
    # (none) back and evaluate again: the sensor asks again; Dagster skips the known run key.
    state = _sensor_state(instance)
    instance.update_instigator_state(state.with_data(state.instigator_data._replace(cursor=None)))
    _tick(instance, daemon)
    _tick(instance, daemon)
    assert len(_runs(instance, "retrain-2013-07-02-1")) == 1
    assert len(_runs(instance)) == 1
    ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id)
    assert any(t.skip_reason or not t.run_ids for t in ticks[:2])

    # The retrain fails: exactly one retry, as attempt 2, however many ticks follow.
    instance.report_run_failed(_runs(instance)[0])
    _tick(instance, daemon)
    _tick(instance, daemon)
    runs = _runs(instance)
    assert sorted(r.tags[RUN_KEY_TAG] for r in runs) == [
        "retrain-2013-07-02-1",
        "retrain-2013-07-02-2",
    ]
    retry = _runs(instance, "retrain-2013-07-02-2")
    assert len(retry) == 1 and retry[0].tags[ATTEMPT_TAG] == "2"
    assert retry[0].status == DagsterRunStatus.QUEUED


@pytest.mark.slow
@pytest.mark.parametrize(
    "crash_point", ["TICK_CREATED", "TICK_HELD", "RUN_CREATED", "RUN_LAUNCHED"]
)
def test_daemon_killed_mid_tick_then_restarted(instance, crash_point):
    _breach(instance, "2013-07-01", "2013-07-02")
    child = subprocess.run(
        [sys.executable, str(HERE / "daemon_tick.py"), crash_point],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-3000:]
    assert "tick done" not in child.stdout
    before = len(_runs(instance))
    assert before == (1 if crash_point in ("RUN_CREATED", "RUN_LAUNCHED") else 0)

    daemon = daemon_tick  # ticks from this process stand for the restarted daemon
    for _ in range(3):
        _tick(instance, daemon)
    runs = _runs(instance)
    assert [r.tags[RUN_KEY_TAG] for r in runs] == ["retrain-2013-07-02-1"], crash_point
