"""Where an Optuna study lives, and how a session finds the trials a killed worker left RUNNING.

Optuna is imported inside the functions.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leanops_assets.storage import process_alive

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial


# A trial whose worker died (SIGKILL, lost node) stays RUNNING in the storage. With an RDB URL,
# workers beat every HEARTBEAT_SECONDS and a trial silent for GRACE_SECONDS is failed and retried
# once by Optuna. The journal file has no heartbeat: each trial records its worker (host:pid) and
# a new session fails, then retries once, the RUNNING trials whose process on this host is gone,
# and fails those killed before recording a worker once they are GRACE_SECONDS old.
HEARTBEAT_SECONDS = 60
GRACE_SECONDS = 180
WORKER_ATTR = "leanops_worker"
RETRY_OF_ATTR = "leanops_retry_of"


def open_storage(storage_url: str, journal_path: Path | None) -> Any:
    """An RDB storage for a URL, else a journal file (resumable, no server)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if storage_url:
        return _rdb_storage(storage_url)
    if journal_path is None:
        raise ValueError("no Optuna storage: give an RDB URL or a journal file path")
    journal_path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(journal_path)))


def _rdb_storage(url: str, attempts: int = 5) -> Any:
    """Optuna's RDB storage. Workers started together on a new database race to create its
    tables (CREATE TYPE/TABLE checks first, then fails on the winner's): open again, and the
    next attempt finds them made."""
    import optuna
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    for attempt in range(1, attempts + 1):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna 5
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url,
                    heartbeat_interval=HEARTBEAT_SECONDS,
                    grace_period=GRACE_SECONDS,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                        max_retry=1
                    ),
                )
        except (IntegrityError, ProgrammingError):
            if attempt == attempts:
                raise
            time.sleep(0.1 * attempt)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def fail_abandoned_trials(study: optuna.Study) -> list[int]:
    """Mark FAIL the RUNNING trials whose worker process on this host no longer exists, and
    enqueue one retry of each with the same parameters. Returns the failed trial numbers.

    Storages with a heartbeat (RDB) do this themselves; this is for the journal file.
    """
    from optuna.trial import TrialState

    host = socket.gethostname()
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not _abandoned(trial, host):
            continue
        if not study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
            continue  # another session got there first
        failed.append(trial.number)
        # Only a trial that named its worker had drawn every parameter, so a retry can repeat it.
        if trial.user_attrs.get(RETRY_OF_ATTR) is None and WORKER_ATTR in trial.user_attrs:
            study.enqueue_trial(
                trial.params, user_attrs={RETRY_OF_ATTR: trial.number}, skip_if_exists=False
            )
    return failed


def _abandoned(trial: FrozenTrial, host: str) -> bool:
    worker = trial.user_attrs.get(WORKER_ATTR)
    if worker is None:  # killed before it recorded its worker: trust the grace period, as RDB does
        started = trial.datetime_start
        return started is not None and (dt.datetime.now() - started).total_seconds() > GRACE_SECONDS
    worker_host, _, pid = str(worker).rpartition(":")
    return worker_host == host and pid.isdigit() and not process_alive(int(pid))
