"""What every measure shares: the goals, timing, peak memory of a process tree, the temporary
state a run uses, and child processes (fresh imports, one SparkSession each)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
ENTRY = REPO / "benchmarks" / "run_all.py"
PYTHON = sys.executable
STAGES = ("ingest", "validate", "features", "predict", "drift")
GOALS = {
    "overhead_ratio_at_most": 1.25,
    "load_ratio_at_most": 2.0,
    "k100_seconds_at_most": 60.0,
    "k100_peak_rss_gib_at_most": 3.0,
    "features_day300_over_day30_at_most": 1.1,
    "features_recompute_over_incremental_at_least": 20.0,
    "replayed_day_median_seconds_at_most": 5.0,
    "retrain_seconds_at_most": 60.0,
}
# Dagster's per-step logs stay in the instance; the terminal shows the benchmark's lines.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def say(message: str) -> None:
    print(message, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def gib(value: float) -> float:
    return value / 2**30


def days_from(first: str, count: int) -> list[str]:
    start = date.fromisoformat(first)
    return [(start + timedelta(days=i)).isoformat() for i in range(count)]


def quiet_dagster() -> None:
    import warnings

    from dagster import BetaWarning, PreviewWarning

    warnings.filterwarnings("ignore", category=BetaWarning)
    warnings.filterwarnings("ignore", category=PreviewWarning)
    warnings.filterwarnings("ignore", message="Asset job daily_pipeline materializes")


def spark_session():
    """The session the Spark resource would build, for the bare paths."""
    from pyspark.sql import SparkSession

    from leanops_assets.resources import SparkResource

    builder = SparkSession.builder
    for key, value in SparkResource().resolved_config().items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


# --------------------------------------------------------------------------- peak memory


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass  # the process ended between listing and reading
    return 0


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants (here: Python and the Spark JVM)."""
    children = _children_map()
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_bytes(current)
        todo.extend(children.get(current, []))
    return total


class PeakSampler:
    """Samples the process tree's RSS in a thread; `peak()` since the last `reset()`."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, tree_rss(os.getpid()))
            self._stop.wait(self.interval)

    def reset(self) -> None:
        self._peak = tree_rss(os.getpid())

    def peak(self) -> int:
        return max(self._peak, tree_rss(os.getpid()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- state and children


@dataclass
class Bench:
    """One benchmark run: its options, its temporary state and the environment of its children."""

    args: object
    tmp: Path
    env: dict[str, str]
    children: int = 0

    def run_child(
        self, section: str, timeout: float = 1800, env: dict[str, str] | None = None, **options
    ) -> dict:
        """Run a measure's child section in a fresh process; return the JSON it wrote."""
        self.children += 1
        out = self.tmp / f"{section}-{self.children}.json"
        command = [PYTHON, str(ENTRY), "--child", section, "--child-out", str(out)]
        for key, value in options.items():
            command += [f"--{key.replace('_', '-')}", str(value)]
        started = time.perf_counter()
        process = subprocess.run(
            command, env=env or self.env, cwd=REPO, timeout=timeout, capture_output=True, text=True
        )
        if process.returncode != 0:
            tail = "\n".join((process.stdout + process.stderr).splitlines()[-40:])
            raise RuntimeError(f"benchmark section {section} {options} failed:\n{tail}")
        result = json.loads(out.read_text())
        result["process_seconds"] = time.perf_counter() - started
        return result


def bench_env(tmp: Path, trials: int, name: str = "") -> dict[str, str]:
    """A temporary LEANOPS_HOME and DAGSTER_HOME (the project's own state is only read)."""
    env = {
        **os.environ,
        "LEANOPS_HOME": str(tmp / f"home{name}"),
        "DAGSTER_HOME": str(tmp / f"dagster_home{name}"),
        "LEANOPS_TUNING_TRIALS": str(trials),
        "LEANOPS_BENCH_TMP": str(tmp),
        "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
        "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": str(REPO),
    }
    keep = ("LEANOPS_HOME", "LEANOPS_TUNING_TRIALS", "LEANOPS_BENCH_TMP")
    for name in [v for v in env if v.startswith("LEANOPS_") and v not in keep]:
        env.pop(name)  # endpoints of another set-up must not leak into the temp one
    Path(env["DAGSTER_HOME"]).mkdir(parents=True)
    shutil.copy(REPO / "dagster.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml")
    return env
