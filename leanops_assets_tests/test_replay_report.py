"""The replay's summary: one per dataset, so two datasets replayed in one home keep both."""

import json

from leanops_assets.replay_report import DayResult, Retrain, write_summary


def test_each_dataset_keeps_its_own_summary_and_plot(tmp_path, monkeypatch):
    monkeypatch.setenv("LEANOPS_HOME", str(tmp_path))
    flights = [DayResult("2013-07-01", True, 7.5, 900, 3, 0.71, 0.48, "1")]
    tickets = [
        DayResult("2025-01-07", True, 6.0, 310, 0, 0.52, 0.78, "1"),
        DayResult("2025-01-08", False, 4.0, 0, 0, None, None, "1", ["daily_volume_within_band"]),
    ]
    retrain = Retrain("2025-01-08", "drift 0.78 >= 0.4 in 2 windows", "r1", "SUCCESS", "1", "2")
    lines: list[str] = []

    assert write_summary("flights", flights, [], "no drift", lines.append) == 0
    assert write_summary("tickets", tickets, [retrain], None, lines.append) == 1  # a day failed

    first = json.loads((tmp_path / "reports" / "flights" / "replay.json").read_text())
    second = json.loads((tmp_path / "reports" / "tickets" / "replay.json").read_text())
    assert first["dataset"] == "flights" and first["days_processed"] == 1
    assert first["live_auc"] == {"2013-07-01": 0.71} and first["retrains"] == []
    assert second["dataset"] == "tickets" and second["days_failed"] == ["2025-01-08"]
    assert second["champion_versions"] == ["1"]
    assert [r["reason"] for r in second["retrains"]] == ["drift 0.78 >= 0.4 in 2 windows"]
    for name in ("flights", "tickets"):
        assert (tmp_path / "reports" / name / "replay.png").stat().st_size > 10_000
    assert not (tmp_path / "reports" / "replay.json").exists()
    assert any("reports/tickets/replay.json" in line for line in lines)
