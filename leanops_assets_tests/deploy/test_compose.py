"""The multi-container deployment, checked without a Docker engine: deploy/docker-compose.yml is
consistent with the image, the PostgreSQL instance file and the gRPC workspace it mounts."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from leanops_assets.settings import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def _env_names(node) -> set[str]:
    """Every `env:` variable a Dagster instance file reads."""
    if isinstance(node, dict):
        found = {node["env"]} if set(node) == {"env"} else set()
        return found.union(*(_env_names(v) for v in node.values()))
    return set()


def test_every_part_of_the_deployment_is_a_service():
    services = _compose()["services"]
    assert {"postgres", "mlflow", "leanops-code", "webserver", "daemon"} <= set(services)
    for name in ("mlflow", "leanops-code", "webserver", "daemon"):
        assert services[name]["build"]["context"] == ".."
        assert (
            DEPLOY / services[name]["build"]["context"] / services[name]["build"]["dockerfile"]
        ).is_file()
    assert services["postgres"]["healthcheck"]["test"]
    # Only the UI and MLflow are published, and only on the host's loopback.
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)


def test_dagster_containers_get_the_postgres_instance_and_its_variables():
    instance = yaml.safe_load((DEPLOY / "dagster-postgres.yaml").read_text())
    wanted = _env_names(instance)
    assert wanted == {
        "DAGSTER_PG_HOST",
        "DAGSTER_PG_PORT",
        "DAGSTER_PG_USER",
        "DAGSTER_PG_PASSWORD",
        "DAGSTER_PG_DB",
    }
    services = _compose()["services"]
    for name in ("leanops-code", "webserver", "daemon"):
        service = services[name]
        assert wanted <= set(service["environment"]), name
        home = service["environment"]["DAGSTER_HOME"]
        mounts = {
            m.split(":")[1]: m.split(":")[0] for m in service["volumes"] if m.startswith("./")
        }
        assert mounts[f"{home}/dagster.yaml"] == "./dagster-postgres.yaml", name
        for source in mounts.values():
            assert (DEPLOY / source).is_file(), source
    postgres = services["postgres"]["environment"]
    env = services["daemon"]["environment"]
    assert env["DAGSTER_PG_HOST"] == "postgres"
    assert env["DAGSTER_PG_USER"] == postgres["POSTGRES_USER"]
    assert env["DAGSTER_PG_DB"] == postgres["POSTGRES_DB"]
    init = (DEPLOY / "postgres-init.sql").read_text()
    for db in ("optuna", "mlflow"):
        assert f"CREATE DATABASE {db}" in init
        assert f"/{db}" in " ".join(str(v) for v in env.values()) + " ".join(
            services["mlflow"]["command"]
        )


def test_webserver_and_daemon_reach_the_code_location_over_grpc():
    services = _compose()["services"]
    workspace_mount = next(
        m for m in services["webserver"]["volumes"] if "workspace-grpc.yaml" in m
    )
    workspace = yaml.safe_load((DEPLOY / "workspace-grpc.yaml").read_text())
    (location,) = workspace["load_from"]
    grpc = location["grpc_server"]
    assert grpc["host"] in services
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (.+)$", dockerfile, re.M).group(1)
    assert f'"-p", "{grpc["port"]}"' in cmd
    assert str(grpc["port"]) in services[grpc["host"]]["expose"]
    target = workspace_mount.split(":")[1]
    for name in ("webserver", "daemon"):
        assert target in services[name]["command"], name
        assert grpc["host"] in services[name]["depends_on"], name


def test_every_command_exists_in_the_locked_environment():
    for name, service in _compose()["services"].items():
        command = service.get("command")
        if name == "postgres" or not command:
            continue
        assert (VENV_BIN / command[0]).exists(), (
            f"{name}: {command[0]} is not installed by requirements.lock"
        )


def test_the_test_override_replaces_commands_and_merges_environment_and_mounts():
    from leanops_assets_tests.deploy.stack import merged_compose

    values = {"pg_port": "15432", "mlflow_port": "15000", "code_port": "14000"}
    merged = merged_compose({**values, "ui_port": "13000", "workspace": "/tmp/ws.yaml"})
    services = merged["services"]
    assert set(services) == set(_compose()["services"])
    assert services["leanops-code"]["command"][-4:] == [
        "-p",
        "14000",
        "-m",
        "leanops_assets.definitions",
    ]
    env = services["daemon"]["environment"]
    assert env["DAGSTER_PG_HOST"] == "127.0.0.1" and env["DAGSTER_PG_PORT"] == "15432"
    assert env["DAGSTER_PG_DB"] == "dagster"  # kept from the shipped file
    mounts = dict(v.split(":")[1::-1] for v in services["webserver"]["volumes"])
    assert mounts["/opt/leanops/deploy/workspace-grpc.yaml"] == "/tmp/ws.yaml"
    assert mounts["/var/lib/leanops/dagster_home/dagster.yaml"] == str(
        DEPLOY / "dagster-postgres.yaml"
    )
    assert mounts["/var/lib/leanops"] == "leanops-data"
    assert services["postgres"]["image"] == "localhost/leanops-postgres"
    assert all(s["network_mode"] == "host" and not s["ports"] for s in services.values())
