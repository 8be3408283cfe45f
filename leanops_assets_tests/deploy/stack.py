"""deploy/docker-compose.yml, started with podman under deploy/docker-compose.test.yml.

Debian bookworm's podman-compose 1.0.3 cannot drive this: given two files it concatenates lists
(commands included), and it always adds a network alias, which podman refuses with host
networking. So the override is applied here with Compose's own rules, and each service of the
merged file is started with `podman run`, in dependency order."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from string import Template

import yaml

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests.deploy.containers import podman

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
