"""The retraining-policy benchmark cannot rot: its quick mode replays real days under four policies.

Quick mode: the lake holds 2013-01-01..02-07, the first model's 21-day window ends on 01-28, and
the ten days 01-29..02-07 are judged (H1 01-29..02-02, H2 02-03..02-07).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "policies.py"
JUDGED = [f"2013-01-{d}" for d in (29, 30, 31)] + [f"2013-02-0{d}" for d in range(1, 8)]


@pytest.mark.timeout(1500)
def test_quick_policy_benchmark_replays_every_policy(tmp_path, leanops_home):
    out = tmp_path / "results"
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(out), "--home", str(leanops_home)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1450,
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    report = json.loads((out / "policies.json").read_text())
    rows = {row["name"]: row for row in report["policies"]}
    assert set(rows) == {"never", "every day", "every 7 days", "drift (default)"}
    assert report["protocol"]["judged_days"] == ["2013-01-29", "2013-02-07", 10]

    never, daily, weekly = rows["never"], rows["every day"], rows["every 7 days"]
    # every policy starts from the same first model, so the first judged day scores the same
    first_day = {row["daily"]["live_auc"][0] for row in rows.values()}
    assert len(first_day) == 1
    for row in rows.values():
        assert row["daily"]["days"] == JUDGED
        assert all(0.5 < auc < 1 for auc in row["daily"]["live_auc"])
        assert row["promotions"] <= row["retrains"]

    assert never["retrains"] == 0 and never["promotions"] == 0
    assert set(never["daily"]["served_by"]) == {"2013-01-28"}
    # every day retrains after each judged day but the last (its model would serve no day)
    assert daily["retrain_days"] == JUDGED[:-1]
    assert daily["h1"]["retrains"] + daily["h2"]["retrains"] == 9
    assert weekly["retrain_days"] == ["2013-02-04"]
    # a promoted model serves from the next day on; a rejected one never serves
    for row in (daily, weekly):
        served = row["daily"]["served_by"]
        changes = [JUDGED[i - 1] for i in range(1, 10) if served[i] != served[i - 1]]
        assert changes == row["promotion_days"]
    # shares are measured against never (0) and every day (1)
    assert never["h2"]["gain_share"] == 0 and daily["h2"]["gain_share"] == pytest.approx(1)
    # H2 holds 02-03..02-07: every day retrains on four of them, weekly once (02-04)
    assert weekly["h2"]["retrain_share"] == pytest.approx(1 / 4)
    assert daily["h1"]["mean_auc"] == pytest.approx(sum(daily["daily"]["live_auc"][:5]) / 5)
    assert report["seconds"]["fits"] > 0 and report["protocol"]["models_trained"] == 10

    markdown = (out / "policies.md").read_text()
    for name in rows:
        assert f"| {name} |" in markdown
    assert (out / "policies.png").stat().st_size > 10_000
