"""Building and running the leanops images with podman (no Docker engine), for the deployment tests.

Images are built by scripts/services/containers.sh (buildah over a local Debian bookworm base);
containers run with runc, explicit ulimits and host networking, as this machine requires."""

from __future__ import annotations

import contextlib
import json
import subprocess
import uuid

import pytest

from leanops_assets_tests.deploy.services import REPO_ROOT, SCRIPTS

IMAGE = "localhost/leanops"
PODMAN = ["podman", "--runtime", "runc"]
RUN_FLAGS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096", "--network", "host"]


def build(action: str = "build", timeout: float = 2400) -> str:
    """scripts/services/containers.sh ACTION; returns the image tag it prints last."""
    done = subprocess.run(
        ["bash", str(SCRIPTS / "containers.sh"), action],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        pytest.fail(
            f"scripts/services/containers.sh {action} failed (exit {done.returncode}):\n"
            f"{done.stderr[-5000:]}",
            pytrace=False,
        )
    return done.stdout.strip().splitlines()[-1]


def podman(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        pytest.fail(
            f"podman {' '.join(args)[:300]} failed (exit {done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}",
            pytrace=False,
        )
    return done


def run(image: str, *argv: str, volumes: list[str] = (), env: dict | None = None, timeout=900):
    """A container that runs ARGV to the end and is removed; returns the finished process."""
    flags = [f"--volume={v}" for v in volumes] + [f"--env={k}={v}" for k, v in (env or {}).items()]
    return podman("run", "--rm", *RUN_FLAGS, *flags, image, *argv, timeout=timeout, check=False)


def inspect_image(image: str) -> dict:
    return json.loads(podman("image", "inspect", image).stdout)[0]


@contextlib.contextmanager
def detached(image: str, *argv: str, volumes: list[str] = (), env: dict | None = None):
    """A long-running container (its name is yielded), removed at the end whatever happened."""
    name = f"leanops-test-{uuid.uuid4().hex[:8]}"
    flags = [f"--volume={v}" for v in volumes] + [f"--env={k}={v}" for k, v in (env or {}).items()]
    podman("run", "--detach", "--name", name, *RUN_FLAGS, *flags, image, *argv)
    try:
        yield name
    finally:
        podman("rm", "--force", "--time", "10", name, check=False)


def logs(name: str) -> str:
    done = podman("logs", name, check=False)
    return (done.stdout + done.stderr)[-4000:]


@contextlib.contextmanager
def volume():
    """A named volume, as compose creates it: podman copies the image's files in on first mount."""
    name = f"leanops-test-{uuid.uuid4().hex[:8]}"
    podman("volume", "create", name)
    try:
        yield name, podman("volume", "inspect", "--format", "{{.Mountpoint}}", name).stdout.strip()
    finally:
        podman("volume", "rm", "--force", name, check=False)
