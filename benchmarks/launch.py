"""Launch: under `dagster dev`, from a GraphQL launch request (queued run coordinator, as a
sensor's run request is submitted) to the run's first step, read from the instance's events."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from harness import PYTHON, REPO, Bench, median

NAME = "launch"
LAUNCH = """
mutation($p: ExecutionParams!) { launchPipelineExecution(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }
"""
LOCATION = """{ workspaceOrError { ... on Workspace { locationEntries { name
  locationOrLoadError { __typename } } } } }"""
EVENTS = ("enqueued", "starting", "run_start", "first_step_start", "success")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _wait_for_location(port: int, process: subprocess.Popen, log: str, timeout: float) -> None:
    started = time.monotonic()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"dagster dev exited with {process.returncode}; see {log}")
        try:
            entries = graphql(port, LOCATION)["data"]["workspaceOrError"]["locationEntries"]
            if entries and entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation":
                return
        except OSError:
            pass  # not listening yet
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"dagster dev did not serve the code location in {timeout} s")
        time.sleep(1)


def measure_launch(env: dict[str, str], repeats: int, timeout: float = 240) -> dict:
    port = _free_port()
    log_path = Path(env["LEANOPS_BENCH_TMP"]) / "dagster-dev.log"
    dagster = str(Path(PYTHON).parent / "dagster")
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            started = time.monotonic()
            _wait_for_location(port, process, str(log_path), timeout)
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
    return {
        "job": "reference_data",
        "repeats": repeats,
        "dagster_dev_ready_seconds": ready_seconds,
        "runs": runs,
        "median_seconds_from_request": {
            k: median([r[k] for r in runs if r.get(k) is not None]) for k in EVENTS
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
    reply = graphql(port, LAUNCH, {"p": params})["data"]["launchPipelineExecution"]
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
    names = dict(
        zip(
            (
                DagsterEventType.RUN_ENQUEUED,
                DagsterEventType.RUN_STARTING,
                DagsterEventType.RUN_START,
                DagsterEventType.STEP_START,
                DagsterEventType.RUN_SUCCESS,
            ),
            EVENTS,
            strict=True,
        )
    )
    seen: dict[str, float] = {}
    for record in instance.all_logs(run_id):
        name = names.get(record.dagster_event_type) if record.is_dagster_event else None
        if name and name not in seen:
            seen[name] = record.timestamp - requested
    instance.dispose()
    return {"run_id": run_id, "status": str(run.status.value if run else None), **seen}


def run(bench: Bench, report: dict) -> dict | None:
    if bench.args.no_dev:
        return None
    return measure_launch(bench.env, bench.args.repeats)


def summary(launch: dict | None) -> str:
    if launch is None:
        return "[launch] skipped (--quick / --no-dev)"
    m = launch["median_seconds_from_request"]
    return f"[launch] request -> first step start {m['first_step_start']:.1f} s (median)"


def rows(launch: dict | None) -> list[tuple]:
    if launch is None:
        return [
            ("launch: request -> first step start", "not measured (--quick / --no-dev)", "", None)
        ]
    m = launch["median_seconds_from_request"]
    return [
        (
            "launch: request -> first step start (queued run, dagster dev)",
            f"{m['first_step_start']:.1f} s (enqueued {m['enqueued']:.1f}, starting "
            f"{m['starting']:.1f}, run start {m['run_start']:.1f}; median of {launch['repeats']})",
            "",
            None,
        )
    ]
