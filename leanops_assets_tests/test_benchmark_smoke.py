"""The benchmark command cannot rot: its quick mode runs end to end and writes every report key."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "run_all.py"


@pytest.mark.timeout(300)
def test_quick_benchmark_writes_the_whole_report(tmp_path, leanops_home):
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path / "results")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]

    results = tmp_path / "results"
    report = json.loads((results / "report.json").read_text())
    for key in (
        "measured_at",
        "mode",
        "machine",
        "setup",
        "overhead",
        "load",
        "launch",
        "scale",
        "earlier",
        "ratios",
    ):
        assert key in report, f"report.json lacks {key}"
    assert report["mode"] == "quick"
    overhead = report["overhead"]
    assert overhead["ratio"] == pytest.approx(
        overhead["dagster_seconds"] / overhead["bare_seconds"]
    )
    assert report["load"]["ratio"] > 0
    assert set(report["load"]["heavy_modules_loaded"]) >= {"pyspark", "mlflow", "evidently"}
    scale = report["scale"]["1"]
    assert set(scale["stages"]) == {"ingest", "validate", "features", "predict", "drift"}
    assert all(stage["peak_rss_bytes"] > 0 for stage in scale["stages"].values())
    # the real day went through every stage: its flights were landed and scored
    from leanops_assets.ingestion.sources import bundled_day

    flights = len(bundled_day("flights", scale["day"]))
    assert scale["raw_rows"] == scale["stages"]["ingest"]["rows"] == flights
    assert 0 < scale["stages"]["predict"]["rows"] <= flights
    assert report["setup"]["pruning"]["trials_total"] >= 1
    for ratio in ("overhead_dagster_over_bare", "load_definitions_over_dagster"):
        assert report["ratios"][ratio] > 0
    markdown = (results / "report.md").read_text()
    assert "| measure | value | goal | met |" in markdown
    assert "overhead" in markdown and "scale k=1" in markdown
    assert (results / "report.png").stat().st_size > 0
    for ratio in ("overhead_dagster_over_bare", "load_definitions_over_dagster"):
        assert f"ratio {ratio}:" in process.stdout
