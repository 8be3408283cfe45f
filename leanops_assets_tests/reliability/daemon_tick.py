"""One sensor-daemon iteration over sensor_location.py, the way `dagster-daemon` runs it.

Usage: daemon_tick.py [CRASH_POINT]; with a crash point (TICK_CREATED, TICK_HELD, RUN_CREATED,
RUN_LAUNCHED) Dagster's own debug crash flag SIGKILLs this process there.
"""

import logging
import signal
import sys
from pathlib import Path

from dagster import DagsterInstance
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import InProcessTestWorkspaceLoadTarget
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._daemon.sensor import execute_sensor_iteration

LOCATION = Path(__file__).resolve().parent / "sensor_location.py"
SENSOR = "drift_retraining_sensor"


def tick(instance: DagsterInstance, crash_point: str | None = None) -> None:
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable, python_file=str(LOCATION), attribute="defs"
        ),
        location_name="reliability",
    )
    flags = {SENSOR: {crash_point: signal.SIGKILL}} if crash_point else None
    with WorkspaceProcessContext(instance, InProcessTestWorkspaceLoadTarget(origin)) as context:
        list(
            execute_sensor_iteration(context, logging.getLogger("sensor"), None, None, None, flags)
        )


if __name__ == "__main__":
    with DagsterInstance.get() as instance:
        tick(instance, sys.argv[1] if len(sys.argv) > 1 else None)
    print("tick done", flush=True)
