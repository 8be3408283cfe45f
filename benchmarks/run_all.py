"""Is leanops lean? One command measures what the platform costs over the bare computation.

    .venv/bin/python benchmarks/run_all.py            # everything (about 15 minutes on 2 cores)
    .venv/bin/python benchmarks/run_all.py --quick    # k=1 only, 1 repeat, no `dagster dev`

1. overhead: one day of the daily pipeline (ingest, validate, features, predict, drift) through
   Dagster in process vs the same library functions from a bare script, in one process (goal <= 1.25);
2. load: `import leanops_assets.definitions` vs `import dagster`, fresh processes (goal <= 2x),
   and which heavy libraries are imported when the code location loads;
3. launch: under `dagster dev`, from a GraphQL launch request to the first step starting;
4. scale: one day at k = 1, 10, 100 times the real flights (synthetic source): seconds, peak RSS
   of the process tree (Python + Spark JVM) and rows per second per stage (goal at k=100: <= 60 s,
   <= 3 GiB);
5. earlier figures: benchmarks/results/features.json, Optuna pruning, $LEANOPS_HOME replay summary.

Every measurement runs against a temporary LEANOPS_HOME and DAGSTER_HOME, so the project's own
state is only read. Sections run in child processes (fresh imports, one SparkSession each).
Results: benchmarks/results/report.json, report.md and report.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
PYTHON = sys.executable
sys.path.insert(0, str(REPO))
STAGES = ("ingest", "validate", "features", "predict", "drift")
GOALS = {
    "overhead_ratio_at_most": 1.25,
    "load_ratio_at_most": 2.0,
    "k100_seconds_at_most": 60.0,
    "k100_peak_rss_gib_at_most": 3.0,
}
HEAVY_MODULES = (
    "pyspark",
    "dagster_pyspark",
    "great_expectations",
    "mlflow",
    "evidently",
    "sklearn",
    "optuna",
    "matplotlib",
    "pandas",
    "pyarrow",
)
# Dagster noise that would bury the progress lines.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def say(message: str) -> None:
    print(message, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------- memory sampling


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
        pass
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


# --------------------------------------------------------------------------- the bare day


def spark_session():
    from pyspark.sql import SparkSession

    from leanops_assets.resources import SparkResource

    builder = SparkSession.builder
    for key, value in SparkResource().resolved_config().items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def bare_day(
    day: str,
    spark,
    kind: str = "bundled",
    scale: int = 1,
    stage_hook: Callable[[str, float, int], None] | None = None,
) -> dict[str, int]:
    """The daily pipeline's library calls, without Dagster, doing what each asset does.

    The champion is loaded by predict and again by drift, as the two assets do. Returns row counts.
    """
    from leanops_assets.contract import load_contract
    from leanops_assets.features.lake_io import materialize_feature_days
    from leanops_assets.ingestion.sources import bundled_day, scaled_flights_day
    from leanops_assets.monitoring.assets import (
        PREDICTIONS,
        current_window,
        reference_frame,
    )
    from leanops_assets.monitoring.drift import compute_drift, day_timestamp
    from leanops_assets.monitoring.predict import PREDICTION_SCHEMA, load_champion, score_features
    from leanops_assets.resources import LakeResource, MlflowResource, MonitoringPolicy
    from leanops_assets.validation.rules import (
        quarantine_schema,
        validate_partition,
        validated_schema,
    )

    lake = LakeResource().lake()
    mlflow = MlflowResource()
    policy = MonitoringPolicy()
    contract = load_contract()
    rows: dict[str, int] = {}

    def champion():
        uri = mlflow.resolved_tracking_uri()
        return load_champion(uri, mlflow.registry_uri or uri, mlflow.model_name)

    def stage(name: str, fn: Callable[[], int]) -> None:
        started = time.perf_counter()
        rows[name] = fn()
        if stage_hook:
            stage_hook(name, time.perf_counter() - started, rows[name])

    def ingest() -> int:
        flights = (
            scaled_flights_day(day, scale) if kind == "synthetic" else bundled_day("flights", day)
        )
        lake.write_partition("raw", "flights", day, flights)
        lake.write_partition("raw", "weather", day, bundled_day("weather", day))
        return len(flights)

    def validate() -> int:
        raw = lake.read_partition("raw", "flights", day)
        outcome = validate_partition(raw, contract, day)
        lake.write_partition(
            "validated", "flights", day, outcome.validated, validated_schema(contract)
        )
        lake.write_partition(
            "quarantine", "flights", day, outcome.quarantine, quarantine_schema(list(raw.columns))
        )
        return outcome.raw_rows

    def features() -> int:
        run = materialize_feature_days(spark, lake, [day])
        return run.by_day[day].num_rows

    def predict() -> int:
        frame = lake.read_partition("features", "flights", day)
        model = champion()
        log = score_features(model.model, frame, model.version)
        lake.write_partition(*PREDICTIONS, day, log, schema=PREDICTION_SCHEMA)
        return len(log)

    def drift() -> int:
        current, _ = current_window(lake, day)
        model = champion()
        reference, _ = reference_frame(lake, model)
        outcome = compute_drift(
            current, reference, policy.drift_share_threshold, timestamp=day_timestamp(day)
        )
        outcome.save_html(policy.resolved_reports_dir() / "drift" / f"{day}.html")
        return outcome.current_rows

    for name, fn in zip(STAGES, (ingest, validate, features, predict, drift), strict=True):
        stage(name, fn)
    return rows


# --------------------------------------------------------------------------- child sections


def _quiet_dagster() -> None:
    import warnings

    from dagster import BetaWarning, PreviewWarning

    warnings.filterwarnings("ignore", category=BetaWarning)
    warnings.filterwarnings("ignore", category=PreviewWarning)
    warnings.filterwarnings("ignore", message="Asset job daily_pipeline materializes")


def _days(first: str, count: int) -> list[str]:
    start = date.fromisoformat(first)
    return [(start + timedelta(days=i)).isoformat() for i in range(count)]


def _bare_warmup(days: list[str]) -> None:
    """Quick mode: the warm-up's library calls without Dagster (land, validate, one features run)."""
    from leanops_assets.contract import load_contract
    from leanops_assets.features.lake_io import materialize_feature_days
    from leanops_assets.ingestion.sources import bundled_day
    from leanops_assets.resources import LakeResource
    from leanops_assets.validation.rules import validate_partition, validated_schema

    lake, contract = LakeResource().lake(), load_contract()
    for day in days:
        lake.write_partition("raw", "weather", day, bundled_day("weather", day))
        outcome = validate_partition(bundled_day("flights", day), contract, day)
        lake.write_partition(
            "validated", "flights", day, outcome.validated, validated_schema(contract)
        )
    materialize_feature_days(spark_session(), lake, days)


def child_setup(args) -> dict:
    """Warm-up as replay does (per-day ingest+validate, one ranged features run; bare in quick
    mode), then a first champion from retraining_job with a tiny Optuna budget."""
    from dagster import AssetKey, DagsterInstance

    _quiet_dagster()
    from leanops_assets.definitions import defs
    from leanops_assets.replay import champion_version

    instance = DagsterInstance.get()
    warmup = _days("2013-01-01", args.warmup_days)
    started = time.perf_counter()
    defs.resolve_job_def("reference_data").execute_in_process(instance=instance, run_config=QUIET)
    daily = defs.resolve_job_def("daily_pipeline")
    if args.bare_warmup:
        _bare_warmup(warmup)
    else:
        for day in warmup:
            result = daily.execute_in_process(
                partition_key=day,
                instance=instance,
                run_config=QUIET,
                asset_selection=[
                    AssetKey(a) for a in ("raw_flights", "raw_weather", "validated_flights")
                ],
            )
            assert result.success, f"warm-up day {day} failed"
        features = daily.execute_in_process(
            instance=instance,
            run_config=QUIET,
            asset_selection=[AssetKey("flight_features")],
            tags={
                "dagster/asset_partition_range_start": warmup[0],
                "dagster/asset_partition_range_end": warmup[-1],
            },
        )
        assert features.success, "warm-up features failed"
    warmup_seconds = time.perf_counter() - started
    started = time.perf_counter()
    # The benchmark measures the platform, not the model: any first model may become champion.
    split_days = max(2, min(7, args.warmup_days // 4))
    training = defs.resolve_job_def("retraining_job").execute_in_process(
        instance=instance,
        run_config={
            **QUIET,
            "ops": {
                "training_set": {
                    "config": {"validation_days": split_days, "holdout_days": split_days}
                }
            },
            "resources": {"promotion": {"config": {"auc_floor": 0.5, "max_auc_drop": 1.0}}},
        },
    )
    assert training.success, "the first model failed to train"
    if champion_version() is None:
        raise RuntimeError("the benchmark's first model did not become champion")
    training_seconds = time.perf_counter() - started
    tuned = {}
    for event in training.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == "tuned_model":
            tuned = {k: v.value for k, v in materialization.metadata.items()}
    total, pruned = int(tuned.get("trials_total", 0)), int(tuned.get("trials_pruned", 0))
    return {
        "warmup_days": len(warmup),
        "warmup_mode": "bare" if args.bare_warmup else "dagster",
        "warmup_seconds": warmup_seconds,
        "training_seconds": training_seconds,
        "pruning": {
            "source": "tuned_model metadata of the benchmark's own training run",
            "trials_total": total,
            "trials_pruned": pruned,
            "pruned_share": pruned / total if total else None,
        },
    }


def child_overhead(args) -> dict:
    """Dagster in-process vs bare, alternating in one process, after one untimed run of each."""
    from dagster import DagsterInstance

    _quiet_dagster()
    from leanops_assets.definitions import defs

    instance = DagsterInstance.get()
    job = defs.resolve_job_def("daily_pipeline")
    spark = spark_session()
    day = args.day

    def dagster_run() -> float:
        started = time.perf_counter()
        result = job.execute_in_process(partition_key=day, instance=instance, run_config=QUIET)
        assert result.success, "daily_pipeline failed"
        return time.perf_counter() - started

    def bare_run() -> float:
        started = time.perf_counter()
        bare_day(day, spark)
        return time.perf_counter() - started

    # one untimed run of each pays first-time costs (JVM code generation, caches); quick skips it
    first = {"dagster": dagster_run(), "bare": bare_run()} if args.warm_first else None
    samples: dict[str, list[float]] = {"dagster": [], "bare": []}
    for index in range(args.repeats):
        order = (("dagster", dagster_run), ("bare", bare_run))
        for name, fn in order if index % 2 == 0 else reversed(order):
            samples[name].append(fn())
    dagster_s, bare_s = median(samples["dagster"]), median(samples["bare"])
    pair_ratios = [d / b for d, b in zip(samples["dagster"], samples["bare"], strict=True)]
    return {
        "day": day,
        "repeats": args.repeats,
        "first_run_untimed": first,
        "dagster_seconds": dagster_s,
        "bare_seconds": bare_s,
        "ratio": dagster_s / bare_s,
        "pair_ratio_median": median(pair_ratios),
        "overhead_seconds": dagster_s - bare_s,
        "samples": samples,
        "goal_at_most": GOALS["overhead_ratio_at_most"],
    }


def child_scale(args, spark=None) -> dict:
    """One day at scale k, bare, in a fresh process: per-stage seconds and peak tree RSS."""
    sampler = PeakSampler()
    started = time.perf_counter()
    # the stages' libraries (pandas, GX, scikit-learn, MLflow) are counted as start-up
    import leanops_assets.features.lake_io  # noqa: F401
    import leanops_assets.monitoring.drift  # noqa: F401
    import leanops_assets.validation.rules  # noqa: F401

    fresh_process = spark is None
    spark = spark or spark_session()
    startup = time.perf_counter() - started
    startup_rss = sampler.peak()
    stages: dict[str, dict] = {}

    def hook(name: str, seconds: float, rows: int) -> None:
        stages[name] = {
            "seconds": seconds,
            "rows": rows,
            "rows_per_second": rows / seconds if seconds else None,
            "peak_rss_bytes": sampler.peak(),
        }
        sampler.reset()

    sampler.reset()
    bare_day(args.day, spark, kind="synthetic", scale=args.scale, stage_hook=hook)
    sampler.stop()
    total = sum(s["seconds"] for s in stages.values())
    peak = max([startup_rss, *(s["peak_rss_bytes"] for s in stages.values())])
    import resource

    return {
        "scale": args.scale,
        "day": args.day,
        "process": "fresh" if fresh_process else "shared with setup and overhead (quick mode)",
        "raw_rows": stages["ingest"]["rows"],
        "startup_seconds": startup,
        "stages": stages,
        "end_to_end_seconds": total,
        "end_to_end_with_startup_seconds": total + startup,
        "rows_per_second": stages["ingest"]["rows"] / total,
        "peak_rss_bytes": peak,
        "python_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def child_quick(args) -> dict:
    """Quick mode: setup, overhead and scale k=1 in one process (one interpreter, one JVM)."""
    setup = child_setup(args)
    overhead = child_overhead(args)
    args.scale = 1
    return {"setup": setup, "overhead": overhead, "scale": child_scale(args, spark_session())}


CHILDREN = {
    "setup": child_setup,
    "overhead": child_overhead,
    "scale": child_scale,
    "quick": child_quick,
}


def run_child(section: str, env: dict[str, str], timeout: float, **options) -> dict:
    out = Path(env["LEANOPS_BENCH_TMP"]) / f"{section}-{options.get('scale', '')}.json"
    command = [PYTHON, str(Path(__file__).resolve()), "--child", section, "--child-out", str(out)]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    started = time.perf_counter()
    process = subprocess.run(
        command, env=env, cwd=REPO, timeout=timeout, capture_output=True, text=True
    )
    if process.returncode != 0:
        tail = "\n".join((process.stdout + process.stderr).splitlines()[-40:])
        raise RuntimeError(f"benchmark section {section} {options} failed:\n{tail}")
    result = json.loads(out.read_text())
    result["process_seconds"] = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- code-location load


def _import_seconds(statement: str, env: dict[str, str]) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run(
        [PYTHON, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure_load(env: dict[str, str], repeats: int) -> dict:
    samples: dict[str, list[float]] = {"dagster": [], "definitions": []}
    for _ in range(repeats):
        samples["dagster"].append(_import_seconds("import dagster", env))
        samples["definitions"].append(_import_seconds("import leanops_assets.definitions", env))
    dagster_s, defs_s = median(samples["dagster"]), median(samples["definitions"])

    trace = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "import leanops_assets.definitions"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    by_package: dict[str, float] = {}
    line = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
    for match in line.finditer(trace):
        top = match[4].split(".")[0]
        by_package[top] = by_package.get(top, 0.0) + int(match[1]) / 1e6
    top_packages = dict(sorted(by_package.items(), key=lambda kv: -kv[1])[:15])

    probe = (
        "import sys, json; import leanops_assets.definitions; "
        f"print(json.dumps({{m: m in sys.modules for m in {list(HEAVY_MODULES)!r}}}))"
    )
    loaded = json.loads(
        subprocess.run(
            [PYTHON, "-c", probe], env=env, cwd=REPO, capture_output=True, text=True, check=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return {
        "repeats": repeats,
        "import_dagster_seconds": dagster_s,
        "import_definitions_seconds": defs_s,
        "ratio": defs_s / dagster_s,
        "goal_at_most": GOALS["load_ratio_at_most"],
        "samples": samples,
        "self_seconds_by_package": {k: round(v, 4) for k, v in top_packages.items()},
        "heavy_modules_loaded": loaded,
    }


# --------------------------------------------------------------------------- launched runs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


LAUNCH = """
mutation($p: ExecutionParams!) { launchPipelineExecution(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }
"""
LOCATION = """{ workspaceOrError { ... on Workspace { locationEntries { name
  locationOrLoadError { __typename } } } } }"""


def measure_launch(env: dict[str, str], repeats: int, timeout: float = 240) -> dict:
    """Launch `reference_data` by GraphQL as a sensor's run request would be submitted (queued run
    coordinator); read RUN_ENQUEUED .. STEP_START from the instance."""
    port = _free_port()
    log = open(Path(env["LEANOPS_BENCH_TMP"]) / "dagster-dev.log", "w")  # noqa: SIM115 (outlives the block)
    process = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "dagster"),
            "dev",
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"dagster dev exited with {process.returncode}; see {log.name}")
            try:
                entries = _graphql(port, LOCATION)["data"]["workspaceOrError"]["locationEntries"]
                if (
                    entries
                    and entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation"
                ):
                    break
            except OSError:
                pass
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"dagster dev did not serve the code location in {timeout} s")
            time.sleep(1)
        ready_seconds = time.monotonic() - started
        time.sleep(5)  # let the daemon finish its own start-up
        runs = [_launch_one(port, env) for _ in range(repeats)]
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
    keys = ("enqueued", "starting", "run_start", "first_step_start", "success")
    return {
        "job": "reference_data",
        "repeats": repeats,
        "dagster_dev_ready_seconds": ready_seconds,
        "runs": runs,
        "median_seconds_from_request": {
            k: median([r[k] for r in runs if r.get(k) is not None]) for k in keys
        },
    }


def _launch_one(port: int, env: dict[str, str]) -> dict:
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

    params = {
        "selector": {
            "repositoryLocationName": "leanops_assets",
            "repositoryName": "__repository__",
            "jobName": "reference_data",
        },
        "runConfigData": {},
    }
    requested = time.time()
    reply = _graphql(port, LAUNCH, {"p": params})["data"]["launchPipelineExecution"]
    if reply["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launch failed: {reply}")
    run_id = reply["run"]["runId"]
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    instance = DagsterInstance.get()
    deadline = time.time() + 180
    while time.time() < deadline:
        run = instance.get_run_by_id(run_id)
        if run and run.status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE):
            break
        time.sleep(0.5)
    names = {
        DagsterEventType.RUN_ENQUEUED: "enqueued",
        DagsterEventType.RUN_STARTING: "starting",
        DagsterEventType.RUN_START: "run_start",
        DagsterEventType.STEP_START: "first_step_start",
        DagsterEventType.RUN_SUCCESS: "success",
    }
    seen: dict[str, float] = {}
    for record in instance.all_logs(run_id):
        name = names.get(record.dagster_event_type) if record.is_dagster_event else None
        if name and name not in seen:
            seen[name] = record.timestamp - requested
    instance.dispose()
    return {"run_id": run_id, "status": str(run.status.value if run else None), **seen}


# --------------------------------------------------------------------------- earlier figures


def earlier_figures(run_features: bool, env: dict[str, str]) -> dict:
    features_json = RESULTS / "features.json"
    if run_features:
        subprocess.run(
            [PYTHON, str(REPO / "benchmarks" / "features_benchmark.py")],
            env=env,
            cwd=REPO,
            check=True,
        )
    features = json.loads(features_json.read_text()) if features_json.exists() else None
    home = Path(os.environ.get("LEANOPS_HOME") or REPO / ".leanops")
    replay_json = home / "reports" / "replay.json"
    replay = None
    if replay_json.exists():
        summary = json.loads(replay_json.read_text())
        replay = {
            "path": str(replay_json),
            "days_processed": summary.get("days_processed"),
            "days_failed": len(summary.get("days_failed", [])),
            "retrains": [
                {
                    k: r.get(k)
                    for k in ("day", "status", "reason", "champion_before", "champion_after")
                }
                for r in summary.get("retrains", [])
            ],
            "champion_versions": summary.get("champion_versions"),
        }
    return {
        "features": None
        if features is None
        else {
            "path": str(features_json),
            "measured_at": features.get("measured_at"),
            "day_300_over_day_30": features["one_day"]["day_300_over_day_30"],
            "backfill_separate_over_single": features["backfill"]["separate_over_single"],
            "recompute_over_incremental": features["incremental_vs_recompute"][
                "recompute_over_incremental"
            ],
            "goals": {
                "day_300_over_day_30_at_most": features["one_day"].get("goal_at_most"),
                "recompute_over_incremental_at_least": features["incremental_vs_recompute"].get(
                    "goal_at_least"
                ),
            },
        },
        "replay": replay,
        "project_optuna": _project_pruning(home),
    }


def _project_pruning(home: Path) -> dict | None:
    """Share of pruned trials in the project's own Optuna journal (read from a copy)."""
    journal = home / "optuna" / "journal.log"
    if not journal.exists():
        return None
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "journal.log"
        shutil.copy(journal, copy)
        storage = JournalStorage(JournalFileBackend(str(copy)))
        studies = {}
        for summary in optuna.get_all_study_summaries(storage):
            trials = optuna.load_study(study_name=summary.study_name, storage=storage).trials
            pruned = sum(t.state.name == "PRUNED" for t in trials)
            studies[summary.study_name] = {
                "trials": len(trials),
                "pruned": pruned,
                "pruned_share": pruned / len(trials) if trials else None,
            }
    return {"journal": str(journal), "studies": studies}


# --------------------------------------------------------------------------- report


def gib(value: float) -> float:
    return value / 2**30


def ratios(report: dict) -> dict[str, float | None]:
    out: dict[str, float | None] = {
        "overhead_dagster_over_bare": report["overhead"]["ratio"],
        "load_definitions_over_dagster": report["load"]["ratio"],
    }
    scales = report["scale"]
    base = scales.get("1")
    for k, result in scales.items():
        if base and k != "1":
            out[f"scale_k{k}_seconds_over_k1"] = (
                result["end_to_end_seconds"] / base["end_to_end_seconds"]
            )
    earlier = report["earlier"].get("features")
    if earlier:
        out["features_day300_over_day30"] = earlier["day_300_over_day_30"]
        out["features_backfill_separate_over_single"] = earlier["backfill_separate_over_single"]
        out["features_recompute_over_incremental"] = earlier["recompute_over_incremental"]
    out["optuna_pruned_share"] = report["setup"]["pruning"]["pruned_share"]
    return out


def markdown(report: dict) -> str:
    machine = report["machine"]
    lines = [
        "# leanops benchmark",
        "",
        f"Measured {report['measured_at']} on {machine['cpus']} cores, "
        f"{machine['memory_gib']:.0f} GiB, load {machine['load_1m_start']:.1f} -> {machine['load_1m_end']:.1f} "
        f"(1-min average), Python {machine['python']}; mode: {report['mode']}.",
        "",
        "| measure | value | goal | met |",
        "|---|---|---|---|",
    ]

    def row(name: str, value: str, goal: str = "", met: bool | None = None) -> None:
        lines.append(
            f"| {name} | {value} | {goal} | {'' if met is None else ('yes' if met else 'no')} |"
        )

    o = report["overhead"]
    row(
        "overhead: daily_pipeline in Dagster / bare script, one day",
        f"{o['ratio']:.2f} ({o['dagster_seconds']:.1f} s vs {o['bare_seconds']:.1f} s, median of {o['repeats']})",
        f"<= {GOALS['overhead_ratio_at_most']}",
        o["ratio"] <= GOALS["overhead_ratio_at_most"],
    )
    load = report["load"]
    row(
        "load: import leanops_assets.definitions / import dagster",
        f"{load['ratio']:.2f} ({load['import_definitions_seconds']:.2f} s vs {load['import_dagster_seconds']:.2f} s)",
        f"<= {GOALS['load_ratio_at_most']}",
        load["ratio"] <= GOALS["load_ratio_at_most"],
    )
    heavy = [m for m, present in load["heavy_modules_loaded"].items() if present]
    row("load: heavy modules imported at load", ", ".join(heavy) or "none")
    launch = report.get("launch")
    if launch:
        m = launch["median_seconds_from_request"]
        row(
            "launch: request -> first step start (queued run, dagster dev)",
            f"{m['first_step_start']:.1f} s (enqueued {m['enqueued']:.1f}, starting {m['starting']:.1f}, "
            f"run start {m['run_start']:.1f}; median of {launch['repeats']})",
        )
    else:
        row("launch: request -> first step start", "not measured (--quick / --no-dev)")
    for k, s in report["scale"].items():
        stages = ", ".join(
            f"{name} {s['stages'][name]['seconds']:.1f} s / {gib(s['stages'][name]['peak_rss_bytes']):.2f} GiB"
            for name in STAGES
        )
        goal = k == "100"
        row(
            f"scale k={k}: {s['raw_rows']} rows, end to end",
            f"{s['end_to_end_seconds']:.1f} s (+{s['startup_seconds']:.1f} s start-up), "
            f"{s['rows_per_second']:.0f} rows/s, peak RSS {gib(s['peak_rss_bytes']):.2f} GiB",
            f"<= {GOALS['k100_seconds_at_most']:.0f} s, <= {GOALS['k100_peak_rss_gib_at_most']:.0f} GiB"
            if goal
            else "",
            (
                s["end_to_end_seconds"] <= GOALS["k100_seconds_at_most"]
                and gib(s["peak_rss_bytes"]) <= GOALS["k100_peak_rss_gib_at_most"]
            )
            if goal
            else None,
        )
        row(f"scale k={k}: per stage (seconds / peak RSS)", stages)
    earlier = report["earlier"]
    f = earlier.get("features")
    if f:
        row(
            "features: one day at day 300 / day 30",
            f"{f['day_300_over_day_30']:.2f}",
            "<= 1.1",
            f["day_300_over_day_30"] <= 1.1,
        )
        row(
            "features: 90 one-day runs / one 90-day run",
            f"{f['backfill_separate_over_single']:.1f}x",
        )
        row(
            "features: recompute 300 days / one incremental day",
            f"{f['recompute_over_incremental']:.1f}x",
            ">= 20",
            f["recompute_over_incremental"] >= 20,
        )
    else:
        row("features benchmark", "no benchmarks/results/features.json (run features_benchmark.py)")
    p = report["setup"]["pruning"]
    share = "-" if p["pruned_share"] is None else f"{p['pruned_share']:.0%}"
    row(
        "optuna: pruned trials (benchmark's training run)",
        f"{p['trials_pruned']} of {p['trials_total']} ({share})",
    )
    for name, study in ((earlier.get("project_optuna") or {}).get("studies") or {}).items():
        share = "-" if study["pruned_share"] is None else f"{study['pruned_share']:.0%}"
        row(
            f"optuna: pruned trials, project study {name}",
            f"{study['pruned']} of {study['trials']} ({share})",
        )
    r = earlier.get("replay")
    if r:
        row(
            "closed loop (replay.json)",
            f"{r['days_processed']} days, {r['days_failed']} failed, {len(r['retrains'])} retrain(s), "
            f"champions {', '.join('v' + str(v) for v in r['champion_versions'] or [])}",
        )
    else:
        row("closed loop", "no $LEANOPS_HOME/reports/replay.json (run `make replay`)")
    lines += ["", "Ratios:", ""]
    lines += [f"- {k}: {'-' if v is None else f'{v:.3f}'}" for k, v in report["ratios"].items()]
    return "\n".join(lines) + "\n"


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4.5))
    o = report["overhead"]
    left.bar(
        ["bare script", "Dagster"],
        [o["bare_seconds"], o["dagster_seconds"]],
        color=["tab:gray", "tab:blue"],
    )
    left.set_ylabel("seconds, one day (median)")
    left.set_title(f"overhead: {o['ratio']:.2f}x")
    scales = report["scale"]
    labels = [f"k={k}" for k in scales]
    bottom = [0.0] * len(scales)
    for name in STAGES:
        values = [s["stages"][name]["seconds"] for s in scales.values()]
        middle.bar(labels, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    middle.axhline(GOALS["k100_seconds_at_most"], color="tab:red", linestyle="--", linewidth=1)
    middle.set_ylabel("seconds per stage")
    middle.set_title("one day at scale k")
    middle.legend(fontsize=8)
    right.bar(labels, [gib(s["peak_rss_bytes"]) for s in scales.values()], color="tab:purple")
    right.axhline(GOALS["k100_peak_rss_gib_at_most"], color="tab:red", linestyle="--", linewidth=1)
    right.set_ylabel("peak RSS, GiB (Python + JVM)")
    right.set_title("memory at scale k")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


REPORT_KEYS = (
    "measured_at",
    "mode",
    "machine",
    "setup",
    "overhead",
    "load",
    "launch",
    "scale",
    "earlier",
    "ratios",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="k=1 only, 1 repeat, no dagster dev")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each side")
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--warmup-days", type=int, default=21)
    parser.add_argument("--trials", type=int, default=3, help="Optuna trials of the first model")
    parser.add_argument("--no-dev", action="store_true", help="skip the dagster dev launch latency")
    parser.add_argument("--run-features", action="store_true", help="re-run features_benchmark.py")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--day", default="", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--bare-warmup", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--warm-first", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        args.child_out.write_text(json.dumps(CHILDREN[args.child](args)))
        return 0

    if args.quick:
        args.repeats, args.scales, args.no_dev = 1, "1", True
        args.warmup_days = min(args.warmup_days, 8)
        args.trials = 1
    scales = [int(k) for k in args.scales.split(",")]
    day = (date(2013, 1, 1) + timedelta(days=args.warmup_days)).isoformat()
    load_start = os.getloadavg()[0]
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="leanops-bench-") as tmp:
        env = {
            **os.environ,
            "LEANOPS_HOME": str(Path(tmp) / "home"),
            "DAGSTER_HOME": str(Path(tmp) / "dagster_home"),
            "LEANOPS_TUNING_TRIALS": str(args.trials),
            "LEANOPS_BENCH_TMP": tmp,
            "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
            "PYTHONWARNINGS": "ignore",
        }
        for name in [
            v
            for v in env
            if v.startswith("LEANOPS_")
            and v not in ("LEANOPS_HOME", "LEANOPS_TUNING_TRIALS", "LEANOPS_BENCH_TMP")
        ]:
            env.pop(name)  # endpoints of another set-up must not leak into the temp one
        Path(env["DAGSTER_HOME"]).mkdir(parents=True)
        shutil.copy(REPO / "dagster.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml")

        if args.quick:
            say(f"[quick] {args.warmup_days} warm-up days, overhead and k=1 in one process ...")
            quick = run_child(
                "quick",
                env,
                1800,
                warmup_days=args.warmup_days,
                bare_warmup=1,
                day=day,
                repeats=1,
                warm_first=0,
            )
            setup, overhead, scale_results = (
                quick["setup"],
                quick["overhead"],
                {"1": quick["scale"]},
            )
        else:
            say(
                f"[setup] {args.warmup_days} warm-up days, first model with {args.trials} trials ..."
            )
            setup = run_child("setup", env, 1800, warmup_days=args.warmup_days)
            say(
                f"[overhead] daily_pipeline for {day}: Dagster vs bare, {args.repeats} repeat(s) ..."
            )
            overhead = run_child("overhead", env, 1800, day=day, repeats=args.repeats)
            scale_results = {}
            for k in scales:
                say(f"[scale] k={k} ...")
                scale_results[str(k)] = run_child("scale", env, 1800, day=day, scale=k)
        say(
            f"[setup] warm-up {setup['warmup_seconds']:.0f} s, first model {setup['training_seconds']:.0f} s"
        )
        say(
            f"[overhead] Dagster {overhead['dagster_seconds']:.2f} s, bare {overhead['bare_seconds']:.2f} s, "
            f"ratio {overhead['ratio']:.2f} (goal <= {GOALS['overhead_ratio_at_most']})"
        )
        for k, result in scale_results.items():
            say(
                f"[scale] k={k}: {result['raw_rows']} rows in {result['end_to_end_seconds']:.1f} s "
                f"(+{result['startup_seconds']:.1f} s start-up), peak RSS {gib(result['peak_rss_bytes']):.2f} GiB; "
                + ", ".join(f"{n} {result['stages'][n]['seconds']:.1f} s" for n in STAGES)
            )

        say("[load] import times ...")
        load = measure_load(env, max(args.repeats, 5) if not args.quick else 1)
        say(
            f"[load] definitions {load['import_definitions_seconds']:.2f} s vs dagster "
            f"{load['import_dagster_seconds']:.2f} s, ratio {load['ratio']:.2f} (goal <= {GOALS['load_ratio_at_most']})"
        )

        launch = None
        if not args.no_dev:
            say("[launch] dagster dev, launched-run latency ...")
            launch = measure_launch(env, args.repeats)
            say(
                "[launch] request -> first step start "
                f"{launch['median_seconds_from_request']['first_step_start']:.1f} s (median)"
            )

        earlier = earlier_figures(args.run_features, env)

    report = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mode": "quick" if args.quick else "full",
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
            "load_1m_start": load_start,
            "load_1m_end": os.getloadavg()[0],
            "python": platform.python_version(),
            "command": " ".join([Path(PYTHON).name, *sys.argv]),
        },
        "setup": setup,
        "overhead": overhead,
        "load": load,
        "launch": launch,
        "scale": scale_results,
        "earlier": earlier,
    }
    report["ratios"] = ratios(report)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    (args.out / "report.md").write_text(markdown(report))
    plot(report, args.out / "report.png")
    say("")
    for name, value in report["ratios"].items():
        say(f"ratio {name}: {'-' if value is None else f'{value:.3f}'}")
    say(f"report: {args.out / 'report.md'}, {args.out / 'report.json'}, {args.out / 'report.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
