"""SIGKILL a tuning session mid-trial: the next session fails the abandoned trial, retries it once,
and finishes; every trial of the study ends COMPLETE, PRUNED or FAIL (the killed one)."""

from __future__ import annotations

import signal
import time

import pandas as pd
import pytest

from .conftest import stderr_tail

TUNER = """
import sys
import pandas as pd
from pathlib import Path
from leanops_assets.dataset import bundled_dataset
from leanops_assets.training.tuning import TuningPlan, open_storage, run_study

folder = Path(sys.argv[1])
plan = TuningPlan(n_trials=int(sys.argv[2]), seed=7, iterations_per_step=20, max_steps=6, threads=1)
run_study(
    pd.read_parquet(folder / "train.parquet"),
    pd.read_parquet(folder / "validation.parquet"),
    bundled_dataset().table,
    "flights-kill",
    open_storage("", folder / "journal.log"),
    plan,
    on_trial_end=lambda trial: print("trial", trial.number, trial.state.name, flush=True),
)
print("finished", flush=True)
"""


def _trials(folder):
    import optuna

    from leanops_assets.training.tuning import open_storage

    storage = open_storage("", folder / "journal.log")
    return optuna.load_study(study_name="flights-kill", storage=storage).get_trials()


@pytest.mark.slow
def test_sigkill_mid_trial_then_resume(tmp_path, feature_days, child_factory):
    from optuna.trial import TrialState

    from leanops_assets.training.tuning import RETRY_OF_ATTR, WORKER_ATTR

    days = sorted(feature_days)
    pd.concat([feature_days[d] for d in days[:10]]).to_parquet(tmp_path / "train.parquet")
    pd.concat([feature_days[d] for d in days[10:14]]).to_parquet(tmp_path / "validation.parquet")

    child = child_factory("tuner", TUNER, [str(tmp_path), "50"])
    finished = 0
    while finished < 2:  # two trials done, the third running: kill it mid-trial
        line = child.stdout.readline()
        assert line, f"tuner exited early: {stderr_tail(child)}"
        finished += line.startswith("trial")
    time.sleep(0.5)
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL

    killed = [t for t in _trials(tmp_path) if t.state == TrialState.RUNNING]
    assert len(killed) == 1, [t.state for t in _trials(tmp_path)]
    victim = killed[0]
    assert victim.user_attrs[WORKER_ATTR].endswith(f":{child.pid}")

    resumed = child_factory("tuner", TUNER, [str(tmp_path), "4"])
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr_tail(resumed)
    assert "finished" in out

    trials = _trials(tmp_path)
    states = {t.number: t.state for t in trials}
    assert states[victim.number] == TrialState.FAIL
    assert set(states.values()) <= {TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL}
    assert [n for n, s in states.items() if s == TrialState.FAIL] == [victim.number]
    retries = [t for t in trials if t.user_attrs.get(RETRY_OF_ATTR) == victim.number]
    assert len(retries) == 1, "the killed trial is retried exactly once"
    assert retries[0].params == victim.params
    assert retries[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert len(trials) == victim.number + 1 + 4  # the resumed session ran its four trials

    # A later session finds nothing abandoned: no second FAIL, no second retry.
    again = child_factory("tuner", TUNER, [str(tmp_path), "1"])
    assert again.wait(timeout=300) == 0
    trials = _trials(tmp_path)
    assert sum(t.state == TrialState.FAIL for t in trials) == 1
    assert sum(t.user_attrs.get(RETRY_OF_ATTR) is not None for t in trials) == 1
