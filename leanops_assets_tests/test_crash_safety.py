"""SIGKILL in the middle of landing and validating a day: no torn partition is ever visible,
the last good version stays intact, and a re-run is byte-identical to an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

DAY = "2013-05-20"
CHILD = """
import sys
from dagster import DagsterInstance, materialize
from leanops_assets.ingestion.assets import raw_flights
from leanops_assets.resources import FlightsSourceResource, LakeResource
from leanops_assets.validation.assets import validated_flights

loops = int(sys.argv[1])
for _ in range(loops):
    materialize(
        [raw_flights, validated_flights],
        partition_key=sys.argv[2],
        resources={"lake": LakeResource(), "source": FlightsSourceResource(kind="synthetic", scale=40)},
        instance=DagsterInstance.ephemeral(),
    )
    print("done", flush=True)
"""

OUTPUTS = [("raw", "flights"), ("validated", "flights"), ("quarantine", "flights")]


def _run_child(home: Path, loops: int) -> subprocess.Popen:
    # a script file, not `python -c`: pyspark (imported by GX) exits early when __main__ has no file
    home.mkdir(parents=True, exist_ok=True)
    script = home / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "LEANOPS_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, str(script), str(loops), DAY], env=env, stdout=subprocess.PIPE, text=True
    )


def _files(home: Path) -> dict[str, bytes]:
    out = {}
    for stage, dataset in OUTPUTS:
        path = home / "lake" / stage / dataset / f"date={DAY}" / "part.parquet"
        if path.exists():
            out[stage] = path.read_bytes()
    return out


@pytest.mark.slow
def test_sigkill_while_writing_never_leaves_a_torn_partition(tmp_path):
    import pyarrow.parquet as pq

    reference_home = tmp_path / "reference"
    child = _run_child(reference_home, 1)
    assert child.wait(timeout=300) == 0
    reference = _files(reference_home)
    assert set(reference) == {"raw", "validated", "quarantine"}

    home = tmp_path / "killed"
    first = _run_child(home, 1)  # one good version of every output exists before the kills
    assert first.wait(timeout=300) == 0
    kills = 0
    for delay in (6.0, 7.0, 8.0, 9.5, 11.0):
        child = _run_child(home, 3)
        time.sleep(delay)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=60)
        for stage, content in _files(home).items():
            assert content == reference[stage], f"{stage} partition differs from a complete write"
        for stage, dataset in OUTPUTS:  # readable, and visible files are only complete ones
            folder = home / "lake" / stage / dataset / f"date={DAY}"
            pq.read_table(folder / "part.parquet")
            assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == [
                "part.parquet"
            ]
    assert kills >= 3, "the child finished before it could be killed; raise the delays' coverage"

    rerun = _run_child(home, 1)
    assert rerun.wait(timeout=300) == 0
    assert _files(home) == reference
    for stage, dataset in OUTPUTS:  # the re-run cleared what killed writers left behind
        folder = home / "lake" / stage / dataset / f"date={DAY}"
        assert [p.name for p in folder.iterdir()] == ["part.parquet"]
