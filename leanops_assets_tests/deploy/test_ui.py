"""The UI as a user sees it: `dagster dev` over a replayed day, its GraphQL API, and the pages in a
real headless Chromium (Debian's, installed by scripts/services/chromium.sh; Playwright drives it).

Screenshots land in test-artifacts/ui/ (git-ignored)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from leanops_assets.settings import REPO_ROOT
from leanops_assets_tests import expected_lineage
from leanops_assets_tests.deploy.webui import (
    SCREENSHOTS,
    graphql,
    open_page,
    screenshot_on_failure,
)

from .conftest import services

pytestmark = pytest.mark.slow

REPLAY_DAYS = services.replayed_days(1)

DEFINITIONS_QUERY = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        jobs { name }
        schedules { name }
        sensors { name }
        assetNodes {
          assetKey { path }
          groupName
          dependencyKeys { path }
          assetChecksOrError { ... on AssetChecks { checks { name } } }
        }
      }
    }
    ... on PythonError { message }
  }
  runsOrError { ... on Runs { results { runId jobName status tags { key value } } } }
}
"""


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    """`dagster dev` on a free loopback port over a Dagster home holding one replayed day."""
    home = tmp_path_factory.mktemp("ui") / "leanops_home"
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {**os.environ, "LEANOPS_HOME": str(home), "DAGSTER_HOME": str(dagster_home)}
    replay = subprocess.run(
        services.replay_argv(len(REPLAY_DAYS)),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert replay.returncode == 0, replay.stdout[-3000:] + replay.stderr[-3000:]

    port = services.free_port()
    log = home / "dagster-dev.log"
    dagster = Path(sys.executable).parent / "dagster"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        services.wait_http(f"{base}/server_info", 300, process=server, log=log)
        services.wait_until(
            lambda: graphql(base, DEFINITIONS_QUERY)["repositoriesOrError"].get("nodes"),
            300,
            f"the code location to load in {base}",
            log=log,
        )
        yield base
    finally:
        services.stop_process_group(server, first_signal=signal.SIGINT, leader_only=True)


def test_graphql_shows_every_definition_lineage_and_the_replayed_runs(dagster_ui):
    data = graphql(dagster_ui, DEFINITIONS_QUERY)
    (repository,) = data["repositoriesOrError"]["nodes"]
    assert repository["location"]["name"] == "leanops_assets"
    expected = expected_lineage.expected_definitions()

    nodes = repository["assetNodes"]
    shown_groups = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in nodes}
    assert shown_groups == expected["groups"]
    shown_checks = {
        f"{'/'.join(n['assetKey']['path'])}:{c['name']}"
        for n in nodes
        for c in (n["assetChecksOrError"].get("checks") or [])
    }
    assert shown_checks == expected["asset_checks"]
    shown_edges = {
        ("/".join(d["path"]), "/".join(n["assetKey"]["path"]))
        for n in nodes
        for d in n["dependencyKeys"]
    }
    assert shown_edges == expected["edges"]
    assert {j["name"] for j in repository["jobs"] if not j["name"].startswith("__")} == expected[
        "jobs"
    ]
    assert {s["name"] for s in repository["schedules"]} == expected["schedules"]
    assert {s["name"] for s in repository["sensors"]} == expected["sensors"]

    runs = data["runsOrError"]["results"]
    daily = [r for r in runs if r["jobName"] == "daily_pipeline"]
    by_day = {
        t["value"]: r["status"] for r in daily for t in r["tags"] if t["key"] == "dagster/partition"
    }
    assert all(by_day.get(day) == "SUCCESS" for day in REPLAY_DAYS), by_day


def test_asset_graph_page_shows_every_asset_of_every_group(dagster_ui, browser):
    groups = expected_lineage.groups()
    page = open_page(browser, f"{dagster_ui}/asset-groups", height=1400)
    with screenshot_on_failure(page, "asset-graph"):
        page.get_by_text("Global asset lineage").first.wait_for(state="visible")
        for group in sorted(set(groups.values())):
            page.get_by_text(group, exact=True).first.wait_for(state="visible")
        page.wait_for_timeout(1000)
        # an action, so the sign-up dialog's handler runs before the picture is taken
        page.get_by_text("Global asset lineage").first.click()
        page.wait_for_timeout(500)
        page.screenshot(path=str(SCREENSHOTS / "asset-graph.png"), full_page=True)
    # Each group's own lineage page fits the window: every asset of the group is drawn there.
    for group in sorted(set(groups.values())):
        members = sorted(a for a, g in groups.items() if g == group)
        page = open_page(browser, f"{dagster_ui}/locations/leanops_assets/asset-groups/{group}")
        with screenshot_on_failure(page, f"group-{group}"):
            for asset in members:
                page.get_by_text(asset, exact=True).last.wait_for(state="visible")
            page.screenshot(path=str(SCREENSHOTS / f"group-{group}.png"), full_page=True)


def test_validated_flights_page_shows_lineage_partition_and_checks(dagster_ui, browser):
    checks = sorted(expected_lineage.ASSETS["validated_flights"].checks)
    upstream = sorted(expected_lineage.ASSETS["validated_flights"].upstream)
    page = open_page(browser, f"{dagster_ui}/assets/validated_flights")
    with screenshot_on_failure(page, "validated_flights"):
        page.get_by_text("Latest materialization").first.wait_for(state="visible")
        page.get_by_text(REPLAY_DAYS[-1], exact=True).first.wait_for(state="visible")
        page.get_by_text("Upstream assets").first.wait_for(state="visible")
        for asset in upstream:
            page.get_by_text(asset, exact=True).first.wait_for(state="visible")
        page.get_by_text("daily_pipeline", exact=True).first.wait_for(state="visible")
        page.screenshot(path=str(SCREENSHOTS / "validated_flights-overview.png"), full_page=True)

        page.get_by_role("tab", name="Checks").first.click()
        for check in checks:
            page.get_by_text(check, exact=True).first.wait_for(state="visible")
        # The replayed day passed every gate: each check's latest execution succeeded.
        succeeded = page.get_by_text("Succeeded", exact=True)
        succeeded.first.wait_for(state="visible")
        assert succeeded.count() == len(checks), (
            f"{succeeded.count()} of {len(checks)} checks succeeded"
        )
        page.wait_for_timeout(1000)
        page.screenshot(path=str(SCREENSHOTS / "validated_flights-checks.png"), full_page=True)
