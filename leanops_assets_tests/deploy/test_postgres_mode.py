"""PostgreSQL mode: the Dagster instance and the Optuna study in a real PostgreSQL server.

The server is started by scripts/services/postgres.sh; DAGSTER_HOME holds deploy/dagster-postgres.yaml,
which reads the connection from DAGSTER_PG_* environment variables: configuration alone.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from leanops_assets.settings import REPO_ROOT
from leanops_assets.storage import Lake
from leanops_assets_tests import expected_lineage

from .conftest import TRAINING_WINDOW, services

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
# Two scored days after the warm-up and the first champion (services.LIFECYCLE_START onwards).
REPLAY_DAYS = services.replayed_days(2, services.LIFECYCLE_START)
# In no job the replay runs: materialized on demand from the UI.
NOT_REPLAYED = {"champion_history"}
REPLAYED_ASSETS = set(expected_lineage.ASSETS) - NOT_REPLAYED


@pytest.fixture
def postgres_dagster_home(tmp_path, postgres, monkeypatch):
    """A Dagster home whose instance is deploy/dagster-postgres.yaml, on a fresh database."""
    import psycopg2

    db = f"dagster_{os.getpid()}_{tmp_path.name}".lower().replace("-", "_")[:60]
    connection = psycopg2.connect(services.pg_dsn(postgres, postgres["DAGSTER_PG_DB"]))
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


# The replay alone took 640-890 s on the shared 2-core machine under other jobs' load.
@pytest.mark.timeout(1800)
def test_lifecycle_replay_records_every_asset_check_and_tick_in_postgres(postgres_dagster_home):
    env = {**postgres_dagster_home, **services.LIFECYCLE_ENV}
    done = subprocess.run(
        services.lifecycle_replay_argv(len(REPLAY_DAYS)),
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=1700,
    )
    assert done.returncode == 0, f"replay failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    assert "champion is version 1" in done.stdout, done.stdout[-3000:]
    assert f"[  2/2] {REPLAY_DAYS[1]}" in done.stdout
    # The summary the replay ends with, its plot and each day's drift report, under LEANOPS_HOME.
    reports = Path(env["LEANOPS_HOME"]) / "reports" / "flights"
    summary = json.loads((reports / "replay.json").read_text())
    assert summary["days_processed"] == 2 and not summary["days_failed"]
    # two days cannot hold two independent 7-day breaches: the first champion scores both
    assert summary["champion_versions"] == ["1"]
    assert sorted(summary["live_auc"]) == sorted(summary["drift_share"]) == REPLAY_DAYS
    assert all(0.5 < auc < 1 for auc in summary["live_auc"].values())
    assert all(0 <= share <= 1 for share in summary["drift_share"].values())
    assert (reports / "replay.png").stat().st_size > 10_000
    for day in REPLAY_DAYS:
        assert (reports / "drift" / f"{day}.html").exists(), day

    from dagster import AssetKey, DagsterInstance, DagsterRunStatus
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
        # Every run of the lifecycle (days, warm-up features, first model, sensor) succeeded.
        assert [(r.job_name, r.status) for r in runs if r.status != DagsterRunStatus.SUCCESS] == []
        daily = [r for r in runs if r.job_name == "daily_pipeline"]
        by_day = {r.tags.get("dagster/partition"): r for r in daily}
        assert set(REPLAY_DAYS) <= set(by_day), sorted(by_day)
        assert all(by_day[d].status == DagsterRunStatus.SUCCESS for d in REPLAY_DAYS), [
            (d, by_day[d].status) for d in REPLAY_DAYS
        ]
        first_model = [r for r in runs if r.tags.get("leanops/trigger") == "initial model"]
        assert [(r.job_name, r.status) for r in first_model] == [
            ("retraining_job", DagsterRunStatus.SUCCESS)
        ]

        for asset in expected_lineage.daily_assets():
            materialized = instance.get_materialized_partitions(AssetKey(asset))
            assert set(REPLAY_DAYS) <= materialized, (asset, sorted(materialized))
        for asset in sorted(set(expected_lineage.unpartitioned_assets()) - NOT_REPLAYED):
            assert instance.get_latest_materialization_event(AssetKey(asset)) is not None, asset
        champion = instance.get_latest_materialization_event(AssetKey("registered_model"))
        assert champion.asset_materialization.metadata["decision"].value == "promoted"

        sensor = next(
            s for s in instance.all_instigator_state() if s.name == "drift_retraining_sensor"
        )
        ticks = instance.get_ticks(sensor.instigator_origin_id, sensor.selector_id)
        assert len(ticks) >= len(REPLAY_DAYS)  # one per scored day
        assert all(t.skip_reason or t.run_ids for t in ticks)  # each says why, for the UI
        assert sensor.instigator_data.cursor  # the cursor survives the process

    # The same facts, read straight from PostgreSQL's tables.
    db = env["DAGSTER_PG_DB"]
    (run_count,) = services.pg_query(env, db, "SELECT count(*) FROM runs")[0]
    assert run_count == len(runs)
    materialized_assets = services.pg_query(
        env,
        db,
        "SELECT DISTINCT asset_key FROM event_logs WHERE dagster_event_type = %s",
        "ASSET_MATERIALIZATION",
    )
    assert {
        AssetKey.from_db_string(k).to_user_string() for (k,) in materialized_assets
    } == REPLAYED_ASSETS
    scored = services.pg_query(
        env,
        db,
        "SELECT DISTINCT partition FROM event_logs WHERE asset_key = %s AND dagster_event_type = %s",
        AssetKey("drift_report").to_string(),
        "ASSET_MATERIALIZATION",
    )
    assert {p for (p,) in scored} == set(REPLAY_DAYS)
    executions = services.pg_query(
        env,
        db,
        "SELECT asset_key, check_name, partition, run_id, execution_status "
        "FROM asset_check_executions",
    )
    evaluated = {
        f"{AssetKey.from_db_string(key).to_user_string()}:{name}" for key, name, *_ in executions
    }
    assert evaluated == expected_lineage.asset_checks()
    # Each scored day's run recorded the day's data gates, all passed, in the instance the UI reads.
    for day in REPLAY_DAYS:
        gates = {
            name: status
            for key, name, partition, run_id, status in executions
            if run_id == by_day[day].run_id
            and AssetKey.from_db_string(key) == AssetKey("validated_flights")
        }
        assert gates == dict.fromkeys(
            expected_lineage.ASSETS["validated_flights"].checks, "SUCCEEDED"
        ), (day, gates)
    (tick_rows,) = services.pg_query(env, db, "SELECT count(*) FROM job_ticks")[0]
    assert tick_rows >= len(REPLAY_DAYS)


def _materialize_training_set(lake_root: Path) -> None:
    from dagster import DagsterInstance, materialize

    from leanops_assets.resources import LakeResource
    from leanops_assets_tests.flights_defs import training_set

    done = materialize(
        [training_set],
        resources={"lake": LakeResource(root=str(lake_root))},
        run_config={"ops": {"training_set": {"config": TRAINING_WINDOW}}},
        instance=DagsterInstance.ephemeral(),
    )
    assert done.success


def test_two_workers_run_the_products_study_on_one_postgres_study(postgres, feature_lake_copy):
    import optuna

    from leanops_assets.dataset import bundled_dataset
    from leanops_assets.training.dataset import read_splits
    from leanops_assets.training.model import build_classifier
    from leanops_assets.training.study_storage import WORKER_ATTR
    from leanops_assets.training.tuning import prepare

    url = postgres["LEANOPS_OPTUNA_STORAGE"]
    assert url.startswith("postgresql+psycopg2://")
    _materialize_training_set(feature_lake_copy)
    trials_each = 4
    worker_seeds = (13, 14)
    # One thread per worker: two workers on two cores, no OpenMP oversubscription.
    worker_env = {**os.environ, "OMP_NUM_THREADS": "1"}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "optuna_worker.py"),
                str(feature_lake_copy),
                url,
                str(seed),
                str(trials_each),
            ],
            cwd=REPO_ROOT,
            env=worker_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for seed in worker_seeds
    ]
    seeds = {worker.pid: seed for worker, seed in zip(workers, worker_seeds, strict=True)}
    reports = []
    for worker in workers:
        output, _ = worker.communicate(timeout=600)
        assert worker.returncode == 0, output[-4000:]
        line = next(x for x in output.splitlines() if x.startswith("REPORT "))
        reports.append(json.loads(line.removeprefix("REPORT ")))
    (name,) = {r["study"] for r in reports}
    assert name.startswith("leanops_flights_delay-")  # the study tuned_model would resume

    study = optuna.load_study(study_name=name, storage=url)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 2 * trials_each
    finished = {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    assert {t.state for t in trials} <= finished, [(t.number, t.state) for t in trials]
    # Each worker's trials carry its own host:pid, and the storage numbered them once, together.
    host = socket.gethostname()
    by_worker = Counter(t.user_attrs[WORKER_ATTR] for t in trials)
    assert by_worker == {f"{host}:{w.pid}": trials_each for w in workers}
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    # A worker's "trials this run" are its own, not the other worker's that finished meanwhile.
    for worker, report in zip(workers, reports, strict=True):
        own = sorted(
            t.number for t in trials if t.user_attrs[WORKER_ATTR] == f"{host}:{worker.pid}"
        )
        assert report["new_trials"] == own, (worker.pid, report["new_trials"], own)

    # The best value is the validation ROC AUC of its trial's booster: refit it from scratch
    # with the same settings and score it on the validation split.
    from sklearn.metrics import roc_auc_score

    best = study.best_trial
    splits = read_splits(Lake(feature_lake_copy), "flights")
    data = prepare(splits["train"], splits["validation"], bundled_dataset().table)
    seed = seeds[int(best.user_attrs[WORKER_ATTR].rpartition(":")[2])]
    model = build_classifier(data.columns, best.params, best.user_attrs["best_iterations"], seed)
    model.fit(data.x_train, data.y_train)
    refit = roc_auc_score(data.y_validation, model.predict_proba(data.x_validation)[:, 1])
    assert study.best_value == pytest.approx(refit, abs=1e-9)
    assert 0.6 < study.best_value < 0.95


OPENER = """
import sys, time
from pathlib import Path

import optuna

from leanops_assets.training.study_storage import open_storage

url, barrier = sys.argv[1], Path(sys.argv[2])
print("ready", flush=True)
while not barrier.exists():
    time.sleep(0.001)
optuna.create_study(study_name="together", storage=open_storage(url, None), load_if_exists=True)
print("opened", flush=True)
"""


def test_workers_starting_together_on_an_empty_database_all_open_the_study(postgres, tmp_path):
    """Workers started at once on a new database all create Optuna's tables: one wins each
    CREATE, and the others must use what it made instead of failing on a duplicate. The race is
    run on three new databases, as one start alone often misses it."""
    import optuna
    import psycopg2

    script, base = tmp_path / "opener.py", postgres["LEANOPS_OPTUNA_STORAGE"].rsplit("/", 1)[0]
    script.write_text(OPENER)
    connection = psycopg2.connect(services.pg_dsn(postgres, postgres["DAGSTER_PG_DB"]))
    connection.autocommit = True
    for round_ in range(3):
        db = f"optuna_{os.getpid()}_{tmp_path.name}_{round_}".lower().replace("-", "_")[-60:]
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{db}"')
        barrier = tmp_path / f"go{round_}"
        openers = [
            subprocess.Popen(
                [sys.executable, str(script), f"{base}/{db}", str(barrier)],
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(5)
        ]
        for opener in openers:
            assert opener.stdout.readline().strip() == "ready"
        barrier.touch()
        for opener in openers:
            output, _ = opener.communicate(timeout=120)
            assert opener.returncode == 0, output[-3000:]
            assert output.rstrip().endswith("opened"), output[-3000:]
        assert optuna.study.get_all_study_names(f"{base}/{db}") == ["together"]
    connection.close()
