"""SIGKILL in the middle of landing and validating a day: no torn partition is ever visible,
the last good version stays intact, and a re-run is byte-identical to an uninterrupted run.

The child kills itself (a real SIGKILL) at chosen points inside the lake's writer, so every
kill lands where it matters on any machine, however fast or loaded: half-way through the
Parquet bytes, after the fsync but before the rename, and after the rename."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

DAY = "2013-05-20"
CHILD = """
import os, signal, sys
import pyarrow.parquet as pq
import leanops_assets.storage as storage
from dagster import DagsterInstance, materialize
from leanops_assets_tests.flights_defs import raw_flights
from leanops_assets.resources import SourceResource, LakeResource
from leanops_assets_tests.flights_defs import validated_flights

phase, nth = sys.argv[2], int(sys.argv[3])  # die in the nth partition write, at `phase`
writes, armed = 0, False
real_atomic, real_write = storage.write_parquet_atomic, pq.write_table
real_replace, real_dir_sync = os.replace, storage._fsync_dir

def die_if(at):
    if armed and phase == at:
        print("killing", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

def write_parquet_atomic(frame, path, *args, **kwargs):
    global writes, armed
    writes += path.name == "part.parquet"  # lake partitions, not the source's cache
    armed = path.name == "part.parquet" and writes == nth
    return real_atomic(frame, path, *args, **kwargs)

def write_table(table, where, **kwargs):
    real_write(table, where, **kwargs)
    if armed and phase == "torn":  # only half the bytes reach the temp file
        where.flush()
        where.truncate(where.tell() // 2)
        where.flush()
        die_if("torn")

def replace(src, dst):
    die_if("before_rename")
    real_replace(src, dst)

def dir_sync(folder):
    die_if("after_rename")
    real_dir_sync(folder)

storage.write_parquet_atomic, pq.write_table = write_parquet_atomic, write_table
os.replace, storage._fsync_dir = replace, dir_sync
materialize(
    [raw_flights, validated_flights],
    partition_key=sys.argv[1],
    resources={"lake": LakeResource(), "source": SourceResource(kind="synthetic", scale=40)},
    instance=DagsterInstance.ephemeral(),
)
print("writes", writes, flush=True)
"""

OUTPUTS = [("raw", "flights"), ("validated", "flights"), ("quarantine", "flights")]
# (where in the write the child dies, which partition write: 1 raw, 2 validated, 3 quarantine)
KILL_POINTS = [("torn", 1), ("before_rename", 2), ("after_rename", 3), ("torn", 3)]


def _run_child(home: Path, phase: str = "none", nth: int = 0) -> tuple[int, str]:
    # a script file, not `python -c`: pyspark (imported by GX) exits early when __main__ has no file
    home.mkdir(parents=True, exist_ok=True)
    script = home / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "LEANOPS_HOME": str(home)}
    child = subprocess.run(
        [sys.executable, str(script), DAY, phase, str(nth)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return child.returncode, child.stdout + child.stderr[-3000:]


def _folder(home: Path, stage: str, dataset: str) -> Path:
    return home / "lake" / stage / dataset / f"date={DAY}"


def _files(home: Path) -> dict[str, bytes]:
    out = {}
    for stage, dataset in OUTPUTS:
        path = _folder(home, stage, dataset) / "part.parquet"
        if path.exists():
            out[stage] = path.read_bytes()
    return out


def _temp_files(home: Path, outputs=OUTPUTS) -> list[str]:
    return [p.name for s, d in outputs for p in _folder(home, s, d).glob(".*.tmp")]


@pytest.mark.slow
def test_sigkill_while_writing_never_leaves_a_torn_partition(tmp_path):
    import pyarrow.parquet as pq

    reference_home = tmp_path / "reference"
    code, output = _run_child(reference_home)
    assert code == 0, output
    assert "writes 3" in output, output  # raw, validated, quarantine: the kill points cover all
    reference = _files(reference_home)
    assert set(reference) == {"raw", "validated", "quarantine"}

    home = tmp_path / "killed"
    code, output = _run_child(home)  # one good version of every output exists before the kills
    assert code == 0, output
    for phase, nth in KILL_POINTS:
        code, output = _run_child(home, phase, nth)
        assert code == -signal.SIGKILL and "killing" in output, (phase, nth, output)
        for stage, content in _files(home).items():
            assert content == reference[stage], f"{stage} differs from a complete write ({phase})"
        for stage, dataset in OUTPUTS:  # readable, and visible files are only complete ones
            folder = _folder(home, stage, dataset)
            pq.read_table(folder / "part.parquet")
            assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == [
                "part.parquet"
            ]
        killed_in = _temp_files(home, [OUTPUTS[nth - 1]])
        if phase == "after_rename":  # the new file was complete and in place before the kill
            assert killed_in == [], killed_in
        else:  # the killed writer's temp file in that partition shows the kill hit mid-write
            assert killed_in, f"no half-written temp file in {OUTPUTS[nth - 1]} after {phase}"

    code, output = _run_child(home)
    assert code == 0, output
    assert _files(home) == reference
    assert _temp_files(home) == [], "the re-run did not clear what killed writers left behind"
    for stage, dataset in OUTPUTS:
        assert [p.name for p in _folder(home, stage, dataset).iterdir()] == ["part.parquet"]
