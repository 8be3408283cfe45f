"""The sensor and run-queue daemons' own iterations, run on demand by the replay."""

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from leanops_assets.settings import REPO_ROOT

_ACTIVE = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]
QUEUE_POLL_SECONDS = 0.5


@contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr, and those of the processes it starts, to a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


class Daemon:
    """The daemons' iterations against the workspace that `dagster dev -w workspace.yaml` loads,
    so ticks and runs are the UI's own.

    The code server (and every run it launches) writes its output to `log_path`, so a retrain's
    step logs stay out of the replay's one line per day; they are also in the UI.
    """

    def __init__(
        self,
        instance: DagsterInstance,
        sensor_name: str,
        min_interval_seconds: float,
        log_path: Path,
    ):
        from dagster._core.workspace.context import WorkspaceProcessContext
        from dagster._core.workspace.load_target import WorkspaceFileTarget

        self.instance = instance
        self.sensor_name = sensor_name  # the dataset's drift retraining sensor
        self.min_interval = min_interval_seconds
        self.last_tick = 0.0
        self.waited = 0.0  # seconds the last tick waited for the sensor's minimum interval
        self.log = logging.getLogger("leanops.replay")
        self.log_path = log_path
        with output_to(log_path):
            self.context = WorkspaceProcessContext(
                instance, WorkspaceFileTarget(paths=[str(REPO_ROOT / "workspace.yaml")])
            )
            self.context.create_request_context().get_code_location_entries()

    def close(self) -> None:
        with output_to(self.log_path):
            self.context.__exit__(None, None, None)

    def _sensor_runs(self) -> set[str]:
        runs = self.instance.get_runs(RunsFilter(tags={"dagster/sensor_name": self.sensor_name}))
        return {r.run_id for r in runs}

    def tick_sensors(self) -> list[str]:
        """One sensor tick; returns the ids of the runs it submitted."""
        from dagster._daemon.sensor import execute_sensor_iteration

        self.waited = max(0.0, self.min_interval - (time.monotonic() - self.last_tick))
        if self.waited:  # the daemon would not tick sooner either
            time.sleep(self.waited)
        before = self._sensor_runs()
        list(execute_sensor_iteration(self.context, self.log, None, None))
        self.last_tick = time.monotonic()
        return sorted(self._sensor_runs() - before)

    def last_skip_reason(self) -> str | None:
        state = next(
            (s for s in self.instance.all_instigator_state() if s.name == self.sensor_name),
            None,
        )
        if state is None:
            return None
        ticks = self.instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
        return ticks[0].skip_reason if ticks else None

    def drain_queue(self, progress: Callable[[str], None]) -> None:
        """Launch queued runs the way the run-queue daemon does, and wait for them to finish."""
        from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
            QueuedRunCoordinatorDaemon,
        )

        queue = QueuedRunCoordinatorDaemon(interval_seconds=1)
        started = last_said = time.monotonic()
        while True:
            list(queue.run_iteration(self.context))
            if not self.instance.get_runs(RunsFilter(statuses=_ACTIVE), limit=1):
                return
            if time.monotonic() - last_said >= 10:
                progress(f"retrain in progress, {time.monotonic() - started:.0f}s")
                last_said = time.monotonic()
            time.sleep(QUEUE_POLL_SECONDS)
