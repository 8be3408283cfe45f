"""Continuing a replay re-does no work that did not change, and still rebuilds what did."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAYS = ["2013-01-01", "2013-01-02"]


def _env(home: Path) -> dict[str, str]:
    dagster_home = home / "dagster_home"
    shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return {**inherited, "LEANOPS_HOME": str(home), "DAGSTER_HOME": str(dagster_home)}


def _replay(home: Path, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "leanops_assets.replay", "--start", DAYS[0], "--days", "2"]
        + ["--until", "validation", *extra],
        cwd=REPO,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _runs(home: Path) -> list[tuple[str, str | None]]:
    """(job, partition) of each run in the instance, oldest first."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        return [
            (r.job_name, r.tags.get("dagster/partition")) for r in reversed(instance.get_runs())
        ]


def _daily_runs(home: Path) -> list[str | None]:
    return [partition for job, partition in _runs(home) if job == "daily_pipeline"]


@pytest.mark.timeout(900)
def test_a_second_replay_of_the_same_days_launches_no_run(leanops_home):
    _replay(leanops_home)
    assert _daily_runs(leanops_home) == DAYS

    runs = _runs(leanops_home)
    again = _replay(leanops_home)
    assert _runs(leanops_home) == runs  # no run at all: nothing re-landed or re-validated
    assert "[  1/2] 2013-01-01  up to date, skipped" in again
    assert "[  2/2] 2013-01-02  up to date, skipped" in again


@pytest.mark.timeout(900)
def test_a_changed_landing_file_rebuilds_exactly_that_day(leanops_home):
    from leanops_assets.datasets.flights.source import bundled_day, bundled_table
    from leanops_assets.storage import Lake

    landing = leanops_home / "landing"
    for dataset in ("flights", "weather"):
        (landing / dataset).mkdir(parents=True)
        for day in DAYS:
            bundled_day(dataset, day).to_csv(
                landing / dataset / f"{dataset}_{day}.csv", index=False
            )
    (landing / "planes").mkdir()
    bundled_table("planes").to_csv(landing / "planes" / "planes.csv", index=False)
    _replay(leanops_home, "--source", "landing")
    assert _daily_runs(leanops_home) == DAYS
    lake = Lake(leanops_home / "lake")
    before = len(lake.read_partition("validated", "flights", DAYS[1]))

    time.sleep(1.1)  # the new file is unambiguously newer than the day's materialization
    changed = landing / "flights" / f"flights_{DAYS[1]}.csv"
    flights = bundled_day("flights", DAYS[1])
    flights.iloc[:-10].to_csv(changed, index=False)  # the source re-delivers the day, 10 fewer
    again = _replay(leanops_home, "--source", "landing")

    assert _daily_runs(leanops_home) == [*DAYS, DAYS[1]]  # only the changed day ran again
    assert "[  1/2] 2013-01-01  up to date, skipped" in again
    assert len(lake.read_partition("validated", "flights", DAYS[1])) == before - 10
