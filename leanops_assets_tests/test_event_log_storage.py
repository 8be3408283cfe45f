"""The project's SQLite event log (dagster.yaml): Dagster's own files, read the same by Dagster's
own storage, before and after, and usable after a wipe."""

import shutil

from dagster import AssetKey, DagsterInstance, asset, materialize
from dagster._core.storage.event_log import SqliteEventLogStorage

from leanops_assets.settings import REPO_ROOT
from leanops_assets.sqlite_event_log import PooledSqliteEventLogStorage

KEY = AssetKey("numbers")


@asset(key=KEY)
def numbers() -> int:
    return 3


def _instance(leanops_home) -> DagsterInstance:
    home = leanops_home / "dagster_home"
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return DagsterInstance.from_config(str(home))


def _event_types(storage, run_id: str) -> list[str]:
    return [
        e.dagster_event.event_type_value
        for e in storage.get_logs_for_run(run_id)
        if e.dagster_event
    ]


def test_runs_land_in_dagsters_own_files_and_read_the_same_with_dagsters_storage(leanops_home):
    runs_dir = leanops_home / "dagster_home" / "history" / "runs"
    with _instance(leanops_home) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        first = materialize([numbers], instance=instance).run_id
        second = materialize([numbers], instance=instance).run_id  # its database: the copy
        third = materialize([numbers], instance=instance).run_id
        pooled = {
            run: _event_types(instance.event_log_storage, run) for run in (first, second, third)
        }
        latest = instance.get_latest_materialization_event(KEY).run_id

    assert {p.name for p in runs_dir.glob("*.db")} == {"index.db", *(f"{r}.db" for r in pooled)}
    own = SqliteEventLogStorage(str(runs_dir))
    for run, types in pooled.items():
        assert _event_types(own, run) == types
        assert types.count("ASSET_MATERIALIZATION") == 1 and types[-1] == "PIPELINE_SUCCESS"
    assert latest == third
    assert own.get_latest_materialization_events([KEY])[KEY].run_id == third
    own.dispose()


def test_a_home_written_by_dagsters_own_storage_reads_and_grows_the_same(leanops_home):
    home = leanops_home / "dagster_home"
    with DagsterInstance.from_config(str(home)) as plain:  # no dagster.yaml: Dagster's defaults
        assert type(plain.event_log_storage) is SqliteEventLogStorage
        before = materialize([numbers], instance=plain).run_id
    with _instance(leanops_home) as instance:
        assert _event_types(instance.event_log_storage, before)[-1] == "PIPELINE_SUCCESS"
        after = materialize([numbers], instance=instance).run_id
        records = instance.fetch_materializations(KEY, limit=10).records
        assert [r.run_id for r in records] == [after, before]


def test_a_wiped_event_log_takes_new_runs(leanops_home):
    with _instance(leanops_home) as instance:
        materialize([numbers], instance=instance)
        instance.event_log_storage.wipe()
        assert instance.get_latest_materialization_event(KEY) is None
        run = materialize([numbers], instance=instance).run_id
        assert instance.get_latest_materialization_event(KEY).run_id == run


def test_a_process_that_ends_leaves_no_write_ahead_log_beside_the_databases(leanops_home, tmp_path):
    import os
    import subprocess
    import sys

    home = leanops_home / "dagster_home"
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    script = tmp_path / "two_runs.py"  # a script file: GX-free, but the same way as the others
    script.write_text(
        "from dagster import DagsterInstance, asset, materialize\n"
        "@asset\ndef numbers() -> int:\n    return 3\n"
        "instance = DagsterInstance.get()\n"
        "for _ in range(2):\n    materialize([numbers], instance=instance)\n"
    )
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    subprocess.run([sys.executable, str(script)], env=env, check=True, capture_output=True)
    runs_dir = home / "history" / "runs"
    assert len(list(runs_dir.glob("*.db"))) == 3, "the index and two runs"
    assert sorted(p.name for p in runs_dir.iterdir() if p.suffix != ".db") == []
