"""Starting and stopping the real services of the deployment modes through scripts/services/.

A service that cannot be started fails the test with the script's own message: nothing here
skips.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts" / "services"
VENV_BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent


def parse_env(text: str) -> dict[str, str]:
    """KEY=VALUE lines, as the service scripts print them on stdout."""
    pairs = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.isidentifier():
            pairs[key] = value
    return pairs


def run_script(name: str, action: str, services_home: Path, timeout: float = 600, **env) -> dict:
    """Runs scripts/services/NAME ACTION; fails the test, with the script's output, if it fails."""
    done = subprocess.run(
        ["bash", str(SCRIPTS / name), action],
        cwd=REPO_ROOT,
        env={**os.environ, "LEANOPS_HOME": str(services_home), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        pytest.fail(
            f"scripts/services/{name} {action} failed (exit {done.returncode}); "
            f"stdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-4000:]}",
            pytrace=False,
        )
    return parse_env(done.stdout)


def pg_dsn(env: dict[str, str], db: str) -> str:
    """A libpq connection string to database DB of the server postgres.sh printed ENV for."""
    return (
        f"host={env['DAGSTER_PG_HOST']} port={env['DAGSTER_PG_PORT']} user={env['DAGSTER_PG_USER']} "
        f"password={env['DAGSTER_PG_PASSWORD']} dbname={db}"
    )


def pg_query(env: dict[str, str], db: str, sql: str, *params) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(pg_dsn(env, db)) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(
    url: str, seconds: float, process: subprocess.Popen | None = None, log: Path | None = None
) -> None:
    """Waits until URL answers 200; fails naming the URL and showing the log if it never does."""
    deadline = time.monotonic() + seconds
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError as error:
            last_error = error
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(
        f"{url} did not answer within {seconds:.0f}s ({last_error}); log:\n{tail}", pytrace=False
    )


def stop_process_group(
    process: subprocess.Popen, grace: float = 20, first_signal: int = 15, leader_only: bool = False
) -> None:
    """Stops a process started with start_new_session=True, then whatever is left of its group.

    FIRST_SIGNAL goes to the group, or to the leader alone (`dagster dev` shuts its children down
    itself on Ctrl-C); after GRACE seconds, or once the leader is gone, the group gets KILL."""
    if process.poll() is None:
        (os.kill if leader_only else os.killpg)(process.pid, first_signal)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 9)
    process.wait(timeout=10)


# How the deployment tests replay days: the one place to change when the replay's arguments do
# (e.g. warm-up days before --start). The tests assert on the replayed days, and accept more.
REPLAY_START = "2013-01-01"


def _replay(start: str, days: int) -> list[str]:
    return [sys.executable, "-m", "leanops_assets.replay", "--start", start, "--days", str(days)]


def replay_argv(days: int, start: str = REPLAY_START) -> list[str]:
    # The data stages only: these tests exercise the instance and the UI, not model quality.
    return [*_replay(start, days), "--until", "validation"]


# The whole lifecycle, kept short: 21 warm-up days (7 to tune, 7 to validate, 7 held out) train
# the first champion with 3 trials, then DAYS days are scored and drift-reported. The floor is
# lowered because a model this cheap is not the point; the gates are tested in registry/.
LIFECYCLE_START = "2013-02-01"
LIFECYCLE_WARMUP_DAYS = 21
LIFECYCLE_ENV = {"LEANOPS_TUNING_TRIALS": "3", "LEANOPS_PROMOTION_AUC_FLOOR": "0.55"}


def lifecycle_replay_argv(days: int, start: str = LIFECYCLE_START) -> list[str]:
    return [*_replay(start, days), "--warmup-days", str(LIFECYCLE_WARMUP_DAYS)]


def replayed_days(days: int, start: str = REPLAY_START) -> list[str]:
    from datetime import date, timedelta

    first = date.fromisoformat(start)
    return [(first + timedelta(days=i)).isoformat() for i in range(days)]


def expected_definitions() -> dict:
    """What a user must find: the hand-written graph of leanops_assets_tests/expected_lineage.py."""
    from leanops_assets_tests.expected_lineage import expected_definitions as written

    return written()


def wait_until(probe, seconds: float, what: str, log: Path | None = None) -> None:
    """Waits until probe() returns something truthy; fails naming WHAT and showing the log."""
    deadline = time.monotonic() + seconds
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except (OSError, AssertionError, KeyError) as error:
            last_error = error
        time.sleep(1)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what} ({last_error}); log:\n{tail}", pytrace=False)
