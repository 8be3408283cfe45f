"""deploy/docker-compose.yml, started with podman under deploy/docker-compose.test.yml.

Debian bookworm's podman-compose 1.0.3 cannot drive this: given two files it concatenates lists
(commands included), and it always adds a network alias, which podman refuses with host
networking. So the override is applied here with Compose's own rules, and each service of the
merged file is started with `podman run`, in dependency order."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

import yaml

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests.deploy import containers, services
from leanops_assets_tests.deploy.containers import podman
from leanops_assets_tests.deploy.webui import graphql

DEPLOY = REPO_ROOT / "deploy"
PROJECT = "leanops-test"


def merge(base, override, key: str = ""):
    """Compose's merge: mappings merge, volumes merge by target, anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = merge(base[name], value, name) if name in base else value
        return merged
    if key == "volumes" and isinstance(base, list) and isinstance(override, list):
        targets = {v.split(":")[1] for v in override}
        return [v for v in base if v.split(":")[1] not in targets] + override
    return override


def _absolute(volumes: list[str]) -> list[str]:
    """Bind mounts relative to deploy/, made absolute (the merged file lives elsewhere)."""
    absolute = []
    for volume in volumes:
        source, _, rest = volume.partition(":")
        absolute.append(
            f"{(DEPLOY / source).resolve()}:{rest}" if source.startswith("./") else volume
        )
    return absolute


def merged_compose(values: dict[str, str]) -> dict:
    base = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    text = Template((DEPLOY / "docker-compose.test.yml").read_text()).substitute(values)
    override = yaml.safe_load(text)
    merged = merge(base, {"services": override["services"]})
    for service in merged["services"].values():
        service.pop("build", None)  # the images are built by scripts/services/containers.sh
        service["volumes"] = _absolute(service.get("volumes", []))
    return merged


def _interpolated(value: str) -> str:
    """Compose's ${NAME:-default}, from the environment."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1]) or m[2], value)


def _order(services: dict) -> list[str]:
    """Services after the ones they depend on."""
    done: list[str] = []
    while len(done) < len(services):
        for name, service in services.items():
            if name not in done and all(d in done for d in service.get("depends_on", {})):
                done.append(name)
    return done


def run_args(name: str, service: dict) -> list[str]:
    """`podman run` arguments for one service of the merged file."""
    args = ["run", "--detach", "--name", f"{PROJECT}_{name}", "--network", service["network_mode"]]
    for limit, value in service.get("ulimits", {}).items():
        args += ["--ulimit", f"{limit}={value['soft']}:{value['hard']}"]
    for key, value in service.get("environment", {}).items():
        args += ["--env", f"{key}={_interpolated(str(value))}"]
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        args += ["--volume", volume if source.startswith("/") else f"{PROJECT}_{volume}"]
    args.append(service["image"])
    return args + [_interpolated(str(a)) for a in service.get("command", [])]


@contextlib.contextmanager
def running(values: dict[str, str], work: Path):
    """Every service of the merged file started in dependency order (the way podman-compose
    would, which cannot use host networking); removed with the named volumes at the end."""
    merged = merged_compose(values)
    (work / "docker-compose.yml").write_text(yaml.safe_dump(merged, sort_keys=False))
    names = _order(merged["services"])
    volumes = [f"{PROJECT}_{v}" for v in merged.get("volumes", {})]
    try:
        for volume in volumes:  # a fresh stack: nothing left from an interrupted run
            podman("volume", "rm", "--force", volume, check=False)
            podman("volume", "create", volume)
        for name in names:
            podman(*run_args(name, merged["services"][name]))
        yield merged
    finally:
        for name in reversed(names):
            podman("rm", "--force", "--time", "10", f"{PROJECT}_{name}", check=False)
        for volume in volumes:
            podman("volume", "rm", "--force", volume, check=False)


SERVICES = {"postgres", "mlflow", "leanops-code", "webserver", "daemon"}
DAEMONS = "query { instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }"
PG_PASSWORD = "leanops"  # the compose file's default LEANOPS_PG_PASSWORD


@dataclass(frozen=True)
class Stack:
    ports: dict[str, int]
    home: Path  # the leanops-data volume on the host: LEANOPS_HOME of every Dagster container
    started_seconds: float  # from the first container started to every service healthy
    code_env: dict[str, str]  # the code container's environment, where the runs execute

    @property
    def ui(self) -> str:
        return f"http://127.0.0.1:{self.ports['ui']}"

    @property
    def mlflow(self) -> str:
        return f"http://127.0.0.1:{self.ports['mlflow']}"

    @property
    def pg_env(self) -> dict[str, str]:
        """The DAGSTER_PG_* connection of the stack's PostgreSQL, as seen from the host."""
        return {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.ports["pg"]),
            "DAGSTER_PG_USER": "leanops",
            "DAGSTER_PG_PASSWORD": PG_PASSWORD,
            "DAGSTER_PG_DB": "dagster",
        }


def grpc_healthy(port: int) -> bool:
    done = subprocess.run(
        [str(services.VENV_BIN / "dagster"), "api", "grpc-health-check", "-p", str(port)],
        capture_output=True,
        timeout=60,
    )
    return done.returncode == 0


def _wait_healthy(ports: dict[str, int]) -> None:
    def postgres_ready():
        check = podman(
            "exec", f"{PROJECT}_postgres", "pg_isready", "-h", "127.0.0.1",
            "-U", "leanops", "-d", "dagster", check=False,
        )  # fmt: skip
        return check.returncode == 0

    ui = f"http://127.0.0.1:{ports['ui']}"
    services.wait_until(postgres_ready, 120, "PostgreSQL")
    services.wait_http(f"http://127.0.0.1:{ports['mlflow']}/health", 240)
    services.wait_until(lambda: grpc_healthy(ports["code"]), 300, "the code location")
    services.wait_http(f"{ui}/server_info", 300)

    def daemons_healthy():
        statuses = graphql(ui, DAEMONS)["instance"]["daemonHealth"]["allDaemonStatuses"]
        healthy = {s["daemonType"] for s in statuses if s["healthy"]}
        return {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR", "BACKFILL"} <= healthy

    services.wait_until(daemons_healthy, 300, "the daemon's heartbeats")


@contextlib.contextmanager
def started(work: Path):
    """The images built, every service running on free loopback ports and healthy."""
    containers.build("build")
    containers.build("postgres")
    ports = {name: services.free_port() for name in ("pg", "mlflow", "code", "ui")}
    workspace = work / "workspace-grpc.yaml"
    workspace.write_text(
        "load_from:\n  - grpc_server:\n      host: 127.0.0.1\n"
        f"      port: {ports['code']}\n      location_name: leanops_assets\n"
    )
    values = {f"{name}_port": str(port) for name, port in ports.items()}
    begun = time.monotonic()
    with running({**values, "workspace": str(workspace)}, work) as merged:
        assert set(merged["services"]) == SERVICES
        _wait_healthy(ports)
        mountpoint = podman(
            "volume", "inspect", "--format", "{{.Mountpoint}}", f"{PROJECT}_leanops-data"
        ).stdout.strip()
        code_env = {k: str(v) for k, v in merged["services"]["leanops-code"]["environment"].items()}
        yield Stack(ports, Path(mountpoint), time.monotonic() - begun, code_env)


def service_logs(*names: str) -> str:
    """The last lines of each service's log, for failure messages."""
    return "\n".join(f"--- {n}:\n{containers.logs(f'{PROJECT}_{n}')}" for n in names)
