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
from leanops_assets.training.study_storage import open_storage
from leanops_assets.training.tuning import TuningPlan, run_study

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

    from leanops_assets.training.study_storage import open_storage

    storage = open_storage("", folder / "journal.log")
    return optuna.load_study(study_name="flights-kill", storage=storage).get_trials()


@pytest.mark.slow
def test_sigkill_mid_trial_then_resume(tmp_path, feature_days, child_factory):
    from optuna.trial import TrialState

    from leanops_assets.training.study_storage import RETRY_OF_ATTR, WORKER_ATTR

    days = sorted(feature_days)
    pd.concat([feature_days[d] for d in days[:10]]).to_parquet(tmp_path / "train.parquet")
    pd.concat([feature_days[d] for d in days[10:14]]).to_parquet(tmp_path / "validation.parquet")

    child = child_factory("tuner", TUNER, [str(tmp_path), "50"])
    finished = 0
    while finished < 2:  # two trials done, the third running: kill it mid-trial
        line = child.stdout.readline()
        assert line, f"tuner exited early: {stderr_tail(child)}"
        finished += line.startswith("trial")
    # Kill mid-trial, once the third trial has recorded its worker (a kill before that is the
    # grace-period test below); a fixed sleep raced the trial's start on a loaded machine.
    deadline = time.monotonic() + 120
    while not any(
        t.state == TrialState.RUNNING
        and t.user_attrs.get(WORKER_ATTR, "").endswith(f":{child.pid}")
        for t in _trials(tmp_path)
    ):
        assert time.monotonic() < deadline and child.poll() is None, stderr_tail(child)
        time.sleep(0.05)
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


def _running_trial(storage, study_id, started, user_attrs, learning_rate=None):
    import optuna
    from optuna.trial import TrialState

    drawn = {} if learning_rate is None else {"learning_rate": learning_rate}
    template = optuna.trial.FrozenTrial(
        number=-1, state=TrialState.RUNNING, value=None, datetime_start=started,
        datetime_complete=None, params=drawn, user_attrs=user_attrs, system_attrs={},
        distributions={n: optuna.distributions.FloatDistribution(0.02, 0.3, log=True) for n in drawn},
        intermediate_values={}, trial_id=-1,
    )  # fmt: skip
    return storage.create_new_trial(study_id, template_trial=template)


def test_a_trial_killed_before_it_named_its_worker_is_failed_after_the_grace_period(tmp_path):
    """A worker killed between creating its trial and recording itself leaves a RUNNING trial with
    no worker: once older than the grace period it is failed, not left running for ever; a young
    one may still be a live worker's and is left alone. It is not retried: it had not drawn all
    its parameters (a trial records its worker once it has), so no retry could repeat them."""
    import datetime as dt

    import optuna
    from optuna.trial import TrialState

    from leanops_assets.training.study_storage import fail_abandoned_trials, open_storage

    storage = open_storage("", tmp_path / "journal.log")
    study = optuna.create_study(study_name="orphans", storage=storage)
    now = dt.datetime.now()
    old = _running_trial(storage, study._study_id, now - dt.timedelta(minutes=10), {}, 0.1)
    young = _running_trial(storage, study._study_id, now - dt.timedelta(seconds=5), {})

    assert fail_abandoned_trials(study) == [0]
    states = {t._trial_id: t.state for t in study.get_trials()}
    assert states == {old: TrialState.FAIL, young: TrialState.RUNNING}
    no_retry = [t for t in study.get_trials() if t.state == TrialState.WAITING]
    assert no_retry == []
