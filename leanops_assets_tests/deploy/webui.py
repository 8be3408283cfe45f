"""The Dagster webserver as its users reach it: its GraphQL API, and its pages in a real headless
Chromium (Debian's, installed by scripts/services/chromium.sh; Playwright drives it).
Used by test_ui.py (`dagster dev` on the host) and test_stack.py (the containerised webserver).

Screenshots land in test-artifacts/ui/ (git-ignored)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import urllib.request

import pytest

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests.deploy import services

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "ui"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def graphql(base: str, query: str, variables: dict | None = None) -> dict:
    """The data of one GraphQL request to the webserver at BASE; fails on any GraphQL error."""
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    assert "errors" not in body, body["errors"]
    return body["data"]


LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}"""
BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}"""
RUN_STATUS = "query Status($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
}"""
SENSOR_STATE = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) { ... on Sensor { sensorState { id status } } }
}"""
STOP_SENSOR = """
mutation Stop($id: String!) {
  stopSensor(id: $id) { ... on StopSensorMutationResult { instigationState { status } } }
}"""
LOCATION = {"repositoryLocationName": "leanops_assets", "repositoryName": "__repository__"}
RUN_DONE = {"SUCCESS", "FAILURE", "CANCELED"}
BACKFILL_RUNNING = {"REQUESTED", "CANCELING", "FAILING"}


def launch_run(
    base: str, job: str, config: dict | None = None, tags: dict | None = None, assets=None
) -> str:
    """launchRun of JOB (of ASSETS only, if given); returns the run id."""
    selector = {**LOCATION, "jobName": job}
    if assets:
        selector["assetSelection"] = [{"path": [a]} for a in assets]
    params = {
        "selector": selector,
        "runConfigData": config or {},
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
    }
    launched = graphql(base, LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def run_status(base: str, run_id: str) -> str:
    return graphql(base, RUN_STATUS, {"id": run_id})["runOrError"]["status"]


def wait_runs(base: str, run_ids: list[str], seconds: float, what: str) -> dict[str, str]:
    """Waits until every run finished; returns their statuses."""
    services.wait_until(
        lambda: all(run_status(base, r) in RUN_DONE for r in run_ids), seconds, what
    )
    return {r: run_status(base, r) for r in run_ids}


def launch_backfill(base: str, partitions_by_asset: dict[str, list[tuple[str, str]]], config):
    """launchPartitionBackfill of each asset's (first, last) day ranges ([] when unpartitioned)."""
    params = {
        "partitionsByAssets": [
            {"assetKey": {"path": [asset]}}
            | (
                {"partitions": {"ranges": [{"start": a, "end": b} for a, b in spans]}}
                if spans
                else {}
            )
            for asset, spans in partitions_by_asset.items()
        ],
        "runConfigData": config,
    }
    launched = graphql(base, BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def wait_backfill(base: str, backfill_id: str, seconds: float) -> str:
    def status():
        found = graphql(base, BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        return found["status"]

    services.wait_until(lambda: status() not in BACKFILL_RUNNING, seconds, "the backfill")
    return status()


def stop_sensor(base: str, name: str) -> None:
    """What the sensor's toggle in the UI does."""
    found = graphql(base, SENSOR_STATE, {"selector": {**LOCATION, "sensorName": name}})
    state = found["sensorOrError"]["sensorState"]
    stopped = graphql(base, STOP_SENSOR, {"id": state["id"]})["stopSensor"]
    assert stopped["instigationState"]["status"] == "STOPPED", stopped


@contextlib.contextmanager
def chromium():
    """Headless Chromium under Playwright; fails with the install script's message if missing."""
    installed = subprocess.run(
        ["bash", str(services.SCRIPTS / "chromium.sh"), "install"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if installed.returncode != 0:
        pytest.fail(
            f"scripts/services/chromium.sh install failed:\n{installed.stderr[-3000:]}",
            pytrace=False,
        )
    executable = installed.stdout.strip().splitlines()[-1]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url: str, height: int = 1000):
    page = browser.new_page(viewport={"width": 1600, "height": height})
    page.set_default_timeout(60_000)
    # A first visit may greet with a community sign-up dialog; a user would press Skip.
    page.add_locator_handler(
        page.get_by_text("Join the Dagster community"),
        lambda: page.get_by_role("button", name="Skip").click(),
    )
    page.goto(url, wait_until="domcontentloaded")
    return page


@contextlib.contextmanager
def screenshot_on_failure(page, name: str):
    """Closes PAGE at the end; on a failure, first saves it as FAILED-NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except Exception:
        page.screenshot(path=str(SCREENSHOTS / f"FAILED-{name}.png"), full_page=True)
        raise
    finally:
        page.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
