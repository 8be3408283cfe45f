"""Load on the embedded default: a 60-day data replay into the SQLite instance while a second
process replays the whole lifecycle (warm-up, first champion, scored days, drift reports, sensor
ticks) into the same instance and MLflow store. Nothing fails with "database is locked"."""

import os
import shutil
import subprocess
import sys

import pytest

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests.deploy import services

# The lifecycle replay: 7 look-back and 21 warm-up days validated, features for the warm-up in
# one run, the first champion, then 2 scored days (2013-06-01 and 02), far from the data replay.
LIFECYCLE_START = "2013-06-01"
LIFECYCLE_VALIDATED_DAYS = 7 + 21 + 2


@pytest.mark.slow
def test_sixty_day_replay_beside_a_lifecycle_replay_on_sqlite(leanops_home):
    dagster_home = leanops_home / "dagster_home"
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(LEANOPS_HOME=str(leanops_home), DAGSTER_HOME=str(dagster_home))

    def start(argv: list[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env={**env, **(extra_env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    from dagster import DagsterInstance

    # The instance's tables exist before the writers start, as after `make demo`'s first run:
    # two processes creating a fresh SQLite schema at the same moment race on CREATE TABLE.
    with DagsterInstance.from_config(str(dagster_home)):
        pass
    data_only = start(
        [sys.executable, "-m", "leanops_assets.replay", "--start", "2013-02-01", "--days", "60"]
        + ["--until", "validation"]
    )
    lifecycle = start(services.lifecycle_replay_argv(2, LIFECYCLE_START), services.LIFECYCLE_ENV)
    outputs = [p.communicate(timeout=2400)[0] for p in (data_only, lifecycle)]
    for process, output in zip((data_only, lifecycle), outputs, strict=True):
        assert "database is locked" not in output.lower(), output[-3000:]
        assert process.returncode == 0, output[-3000:]
    assert "[ 60/60] 2013-04-01" in outputs[0]
    assert "champion is version 1" in outputs[1]
    assert "[  2/2] 2013-06-02" in outputs[1]

    from dagster import AssetKey

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        validated = instance.get_materialized_partitions(AssetKey("validated_flights"))
        drift = instance.get_materialized_partitions(AssetKey("drift_report"))
        runs = instance.get_runs()
    assert len(validated) == 60 + LIFECYCLE_VALIDATED_DAYS
    assert sorted(drift) == ["2013-06-01", "2013-06-02"]
    daily = [r for r in runs if r.job_name == "daily_pipeline" and "dagster/partition" in r.tags]
    assert sum(r.status.value == "SUCCESS" for r in daily) == 60 + LIFECYCLE_VALIDATED_DAYS
    first_model = [r for r in runs if r.tags.get("leanops/trigger") == "initial model"]
    assert [r.status.value for r in first_model] == ["SUCCESS"]
