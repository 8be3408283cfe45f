"""Load on the embedded default: a 60-day replay into the SQLite instance while a second
process writes 20 more days into the same instance. Nothing fails with "database is locked"."""

import os
import shutil
import subprocess
import sys

import pytest

from leanops_assets.settings import REPO_ROOT


@pytest.mark.slow
def test_sixty_day_replay_with_a_concurrent_writer_on_sqlite(leanops_home):
    dagster_home = leanops_home / "dagster_home"
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(LEANOPS_HOME=str(leanops_home), DAGSTER_HOME=str(dagster_home))

    def replay(start: str, days: int) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "leanops_assets.replay", "--start", start, "--days", str(days)]
            + ["--until", "validation"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    from dagster import DagsterInstance

    # The instance's tables exist before the writers start, as after `make demo`'s first run:
    # two processes creating a fresh SQLite schema at the same moment race on CREATE TABLE.
    with DagsterInstance.from_config(str(dagster_home)):
        pass
    long_run, other = replay("2013-02-01", 60), replay("2013-05-01", 20)
    outputs = [p.communicate(timeout=1500)[0] for p in (long_run, other)]
    for process, output in zip((long_run, other), outputs, strict=True):
        assert "database is locked" not in output.lower(), output[-3000:]
        assert process.returncode == 0, output[-3000:]
    assert "[ 60/60] 2013-04-01" in outputs[0]

    from dagster import AssetKey

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        validated = instance.get_materialized_partitions(AssetKey("validated_flights"))
        runs = instance.get_runs()
    assert len(validated) == 80
    assert sum(r.job_name == "daily_pipeline" and r.status.value == "SUCCESS" for r in runs) == 80
