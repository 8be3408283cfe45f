"""The benchmark command cannot rot: its quick mode runs every measure end to end, and what it
reports holds together (the ratios are their timings' quotients, the goals are judged right, the
bare path did the assets' work, and the heavy libraries stay out of the code location's load)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "run_all.py"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def table_rows(markdown: str) -> dict[str, tuple[str, str, str]]:
    rows = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("measure", "---"):
            rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results"
    home = tmp_path_factory.mktemp("home")  # the project's state the benchmark reads: none
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(out)],
        cwd=REPO,
        env={**os.environ, "LEANOPS_HOME": str(home), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=780,
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    return process.stdout, report, (out / "report.md").read_text(), out


@pytest.mark.timeout(800)
def test_quick_benchmark_reports_every_measure(quick_run):
    stdout, report, markdown, out = quick_run
    assert report["mode"] == "quick"
    assert {
        "setup",
        "overhead",
        "replayed_day",
        "scale",
        "load",
        "launch",
        "features",
        "earlier",
    } <= set(report)
    assert report["launch"] is None  # quick mode skips dagster dev
    assert report["replayed_day"] is None  # and the replay, which needs a real first model
    assert (out / "report.png").stat().st_size > 0
    for ratio in (
        "overhead_dagster_over_bare",
        "load_definitions_over_dagster",
        "features_k1_recompute_over_incremental",
    ):
        assert report["ratios"][ratio] > 0
        assert f"ratio {ratio}:" in stdout


@pytest.mark.timeout(800)
def test_only_pyspark_loads_with_the_definitions(quick_run):
    _, report, markdown, _ = quick_run
    assert report["load"]["heavy_modules_loaded"] == {
        "pyspark": True,
        "dagster_pyspark": True,
        "great_expectations": False,
        "mlflow": False,
        "evidently": False,
        "sklearn": False,
        "optuna": False,
        "matplotlib": False,
        "pandas": False,
        "pyarrow": False,
    }
    value, _, met = table_rows(markdown)["load: heavy modules imported at load"]
    assert set(value.split(", ")) == {"pyspark", "dagster_pyspark"} and met == "yes"


@pytest.mark.timeout(800)
def test_bare_and_dagster_paths_write_the_same_bytes(quick_run):
    _, report, _, _ = quick_run
    outputs = report["overhead"]["outputs"]
    assert set(outputs["dagster"]) == {
        "raw/flights",
        "raw/weather",
        "validated/flights",
        "quarantine/flights",
        "features/flights",
        "predictions/flights",
    }
    assert all(HEX64.match(h) for h in outputs["dagster"].values())
    assert outputs["bare"] == outputs["dagster"]
    assert report["overhead"]["same_outputs"] is True


@pytest.mark.timeout(800)
def test_figures_are_quotients_and_goals_are_judged(quick_run):
    _, report, markdown, _ = quick_run
    rows = table_rows(markdown)
    o = report["overhead"]
    assert o["ratio"] == pytest.approx(o["dagster_seconds"] / o["bare_seconds"])
    assert o["met"] is (o["ratio"] <= 1.25)
    value, goal, met = rows["overhead: daily_pipeline in Dagster / bare script, one day"]
    assert goal == "<= 1.25" and met == ("yes" if o["ratio"] <= 1.25 else "**no**")
    assert value.startswith(f"{o['ratio']:.2f} (")

    load = report["load"]
    assert load["ratio"] == pytest.approx(
        load["import_definitions_seconds"] / load["import_dagster_seconds"]
    )
    assert load["met"] is (load["ratio"] <= 2.0)

    f = report["features"]["1"]["incremental_vs_recompute"]
    assert f["recompute_over_incremental"] == pytest.approx(
        f["recompute_seconds"] / f["one_day_seconds"]
    )
    assert f["met"] is (f["recompute_over_incremental"] >= 20)
    _, goal, met = rows["features k=1: recompute 20 days / one incremental day"]
    assert goal == ">= 20" and met == ("yes" if f["met"] else "**no**")
    # every row with a goal says whether it was met
    assert all(met in ("yes", "**no**") for _, goal, met in rows.values() if goal)


@pytest.mark.timeout(800)
def test_the_real_day_went_through_every_stage(quick_run):
    _, report, _, _ = quick_run
    from leanops_assets.datasets.flights.source import bundled_day

    scale = report["scale"]["1"]
    flights = len(bundled_day("flights", scale["day"]))
    assert scale["day"] == "2013-01-09"  # the day after the 8 quick warm-up days
    assert set(scale["stages"]) == {"ingest", "validate", "features", "predict", "drift"}
    assert scale["raw_rows"] == scale["stages"]["ingest"]["rows"] == flights
    assert scale["stages"]["validate"]["rows"] == flights
    assert 0 < scale["stages"]["predict"]["rows"] <= flights
    # the day's features are built as a new day's, by Spark: the overhead measure ran the same day
    # before it, and a stored day with unchanged inputs would only get its labels again
    assert scale["stages"]["features"]["rows"] == flights
    assert scale["features_relabelled_days"] == 0
    assert all(stage["peak_rss_bytes"] > 0 for stage in scale["stages"].values())
    assert report["setup"]["pruning"]["trials_total"] >= 1
