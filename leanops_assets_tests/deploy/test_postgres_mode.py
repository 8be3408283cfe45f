"""PostgreSQL mode: the Dagster instance and the Optuna study in a real PostgreSQL server.

The server is started by scripts/services/postgres.sh; DAGSTER_HOME holds deploy/dagster-postgres.yaml,
which reads the connection from DAGSTER_PG_* environment variables: configuration alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leanops_assets.settings import REPO_ROOT

from .conftest import services

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
REPLAY_DAYS = services.replayed_days(2)
# What every replayed day must leave in the instance. Extend when the replay covers more stages.
DAILY_ASSETS = ["raw_flights", "raw_weather", "validated_flights"]
UNPARTITIONED_ASSETS = ["planes"]


def _pg_dsn(env: dict[str, str], db: str) -> str:
    return (
        f"host={env['DAGSTER_PG_HOST']} port={env['DAGSTER_PG_PORT']} user={env['DAGSTER_PG_USER']} "
        f"password={env['DAGSTER_PG_PASSWORD']} dbname={db}"
    )


def _query(env: dict[str, str], db: str, sql: str, *params) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(_pg_dsn(env, db)) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def postgres_dagster_home(tmp_path, postgres, monkeypatch):
    """A Dagster home whose instance is deploy/dagster-postgres.yaml, on a fresh database."""
    import psycopg2

    db = f"dagster_{os.getpid()}_{tmp_path.name}".lower().replace("-", "_")[:60]
    connection = psycopg2.connect(_pg_dsn(postgres, postgres["DAGSTER_PG_DB"]))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{db}"')
    connection.close()
    env = {**postgres, "DAGSTER_PG_DB": db}
    home = tmp_path / "leanops_home"
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "deploy" / "dagster-postgres.yaml", dagster_home / "dagster.yaml")
    env.update(LEANOPS_HOME=str(home), DAGSTER_HOME=str(dagster_home))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_replay_records_runs_materializations_and_checks_in_postgres(postgres_dagster_home):
    env = postgres_dagster_home
    done = subprocess.run(
        services.replay_argv(len(REPLAY_DAYS)),
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"replay failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"

    from dagster import AssetKey, DagsterInstance, DagsterRunStatus
    from dagster._core.events import DagsterEventType
    from dagster._core.storage.event_log.base import EventRecordsFilter
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    with DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)

        runs = instance.get_runs()
        daily = [r for r in runs if r.job_name == "daily_pipeline"]
        by_day = {r.tags.get("dagster/partition"): r for r in daily}
        assert set(REPLAY_DAYS) <= set(by_day), sorted(by_day)
        assert all(by_day[d].status == DagsterRunStatus.SUCCESS for d in REPLAY_DAYS), [
            (d, by_day[d].status) for d in REPLAY_DAYS
        ]

        for asset in DAILY_ASSETS:
            materialized = instance.get_materialized_partitions(AssetKey(asset))
            assert set(REPLAY_DAYS) <= materialized, (asset, sorted(materialized))
        for asset in UNPARTITIONED_ASSETS:
            assert instance.get_latest_materialization_event(AssetKey(asset)) is not None, asset

        evaluations = instance.get_event_records(
            EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION)
        )
        checks = {
            (
                e.event_log_entry.dagster_event.event_specific_data.asset_key.to_user_string(),
                e.event_log_entry.dagster_event.event_specific_data.check_name,
            )
            for e in evaluations
        }
        assert ("validated_flights", "keys_not_null") in checks, checks
        assert ("validated_flights", "quarantined_share_within_limit") in checks, checks

    # The same facts, read straight from PostgreSQL's tables with psql's driver.
    db = env["DAGSTER_PG_DB"]
    (run_count,) = _query(env, db, "SELECT count(*) FROM runs")[0]
    assert run_count == len(runs)
    partitions = _query(
        env,
        db,
        "SELECT DISTINCT partition FROM event_logs WHERE asset_key = %s AND dagster_event_type = %s",
        AssetKey("validated_flights").to_string(),
        "ASSET_MATERIALIZATION",
    )
    assert set(REPLAY_DAYS) <= {p for (p,) in partitions}
    (check_rows,) = _query(env, db, "SELECT count(*) FROM asset_check_executions")[0]
    assert check_rows >= len(REPLAY_DAYS) * 4


def test_two_workers_tune_one_optuna_study_in_postgres(postgres):
    import optuna

    url = postgres["LEANOPS_OPTUNA_STORAGE"]
    assert url.startswith("postgresql+psycopg2://")
    study_name = f"leanops-two-workers-{os.getpid()}"
    optuna.create_study(study_name=study_name, storage=url, direction="maximize")
    trials_each = 3
    # One thread per worker: two workers on two cores, no OpenMP oversubscription.
    worker_env = {**os.environ, "OMP_NUM_THREADS": "1"}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "optuna_worker.py"),
                url,
                study_name,
                worker,
                str(trials_each),
            ],
            cwd=REPO_ROOT,
            env=worker_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for worker in ("worker-a", "worker-b")
    ]
    for worker in workers:
        output, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0, output[-4000:]

    study = optuna.load_study(study_name=study_name, storage=url)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 2 * trials_each, [(t.number, t.state) for t in trials]
    by_worker = {t.user_attrs["worker"] for t in complete}
    assert by_worker == {"worker-a", "worker-b"}
    assert len({t.user_attrs["pid"] for t in complete}) == 2
    # One study, one numbering: the storage handed out each trial number exactly once.
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert 0.5 < study.best_value <= 1.0
