"""The multi-service stack of deploy/docker-compose.yml, started on loopback from the built images:
PostgreSQL (Debian's, deploy/postgres/), the MLflow server, the gRPC code location, the webserver
and the real dagster-daemon. A run launched through the webserver is queued, launched by the
daemon into the code location, reads the landing folder and writes the shared volume."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from leanops_assets_tests.deploy import containers, services, stack

LANDING = {"resources": {"source": {"config": {"kind": "landing"}}}}
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""
STATUS = 'query { runOrError(runId: "%s") { ... on Run { status } } }'
DAEMONS = "query { instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }"


def graphql(base: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    assert "errors" not in body, body["errors"]
    return body["data"]


def grpc_healthy(port: int) -> bool:
    done = subprocess.run(
        [str(services.VENV_BIN / "dagster"), "api", "grpc-health-check", "-p", str(port)],
        capture_output=True,
        timeout=60,
    )
    return done.returncode == 0


@pytest.mark.slow
def test_the_stack_starts_and_the_daemon_launches_a_webserver_run(tmp_path):
    containers.build("build")
    containers.build("postgres")
    ports = {name: services.free_port() for name in ("pg", "mlflow", "code", "ui")}
    workspace = tmp_path / "workspace-grpc.yaml"
    workspace.write_text(
        "load_from:\n  - grpc_server:\n      host: 127.0.0.1\n"
        f"      port: {ports['code']}\n      location_name: leanops_assets\n"
    )
    values = {f"{name}_port": str(port) for name, port in ports.items()}
    ui = f"http://127.0.0.1:{ports['ui']}"
    started = time.monotonic()
    with stack.running({**values, "workspace": str(workspace)}, tmp_path) as merged:
        assert set(merged["services"]) == {
            "postgres",
            "mlflow",
            "leanops-code",
            "webserver",
            "daemon",
        }

        def postgres_ready():
            check = containers.podman(
                "exec", f"{stack.PROJECT}_postgres", "pg_isready", "-h", "127.0.0.1",
                "-U", "leanops", "-d", "dagster", check=False,
            )  # fmt: skip
            return check.returncode == 0

        services.wait_until(postgres_ready, 120, "PostgreSQL")
        services.wait_http(f"http://127.0.0.1:{ports['mlflow']}/health", 240)
        services.wait_until(lambda: grpc_healthy(ports["code"]), 300, "the code location")
        services.wait_http(f"{ui}/server_info", 300)

        def daemons_healthy():
            statuses = graphql(ui, DAEMONS)["instance"]["daemonHealth"]["allDaemonStatuses"]
            healthy = {s["daemonType"] for s in statuses if s["healthy"]}
            return {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"} <= healthy

        services.wait_until(daemons_healthy, 300, "the daemon's heartbeats")
        print(f"stack up and healthy in {time.monotonic() - started:.0f}s")

        # A landing file in the shared volume, read by a run the daemon launches.
        home = Path(
            containers.podman(
                "volume", "inspect", "--format", "{{.Mountpoint}}", f"{stack.PROJECT}_leanops-data"
            ).stdout.strip()
        )
        from leanops_assets.datasets.flights.source import bundled_table

        (home / "landing" / "planes").mkdir(parents=True)
        bundled_table("planes").to_csv(home / "landing" / "planes" / "planes.csv", index=False)
        params = {
            "selector": {
                "repositoryLocationName": "leanops_assets",
                "repositoryName": "__repository__",
                "jobName": "reference_data",
            },
            "runConfigData": LANDING,
        }
        launched = graphql(ui, LAUNCH, {"params": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]

        def finished():
            status = graphql(ui, STATUS % run_id)["runOrError"]["status"]
            return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

        services.wait_until(finished, 300, "the reference_data run")
        status = finished()
        logs = containers.logs(f"{stack.PROJECT}_leanops-code")
        assert status == "SUCCESS", logs
        table = home / "lake" / "raw" / "planes" / "table.parquet"
        assert table.is_file()
        assert table.stat().st_uid == 10001
