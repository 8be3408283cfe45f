"""The daily pipeline's library calls without Dagster: the bare side of the overhead ratio."""

from __future__ import annotations

import time
from collections.abc import Callable

from harness import STAGES, spark_session


def bare_day(
    day: str,
    spark,
    kind: str = "bundled",
    scale: int = 1,
    stage_hook: Callable[[str, float, int], None] | None = None,
) -> dict[str, int]:
    """The daily pipeline's library calls, without Dagster, doing what each asset does.

    The champion is loaded by predict and again by drift, as the two assets do. Returns row counts
    per stage, and how many feature days only had their labels refreshed (features/labels.py).
    """
    from leanops_assets.contract import load_contract
    from leanops_assets.dataset import bundled_dataset
    from leanops_assets.datasets.flights.source import bundled_day, scaled_flights_day
    from leanops_assets.features.lake_io import materialize_feature_days
    from leanops_assets.monitoring.drift import compute_drift, day_timestamp
    from leanops_assets.monitoring.predict import load_champion, prediction_schema, score_features
    from leanops_assets.monitoring.window import current_window, reference_frame
    from leanops_assets.resources import LakeResource, MlflowResource, MonitoringPolicy
    from leanops_assets.training.tracking import model_name_for
    from leanops_assets.validation.assets import validate_day

    lake = LakeResource().lake()
    mlflow = MlflowResource()
    policy = MonitoringPolicy()
    contract = load_contract()
    flights_ds = bundled_dataset()
    rows: dict[str, int] = {}

    def champion():
        uri = mlflow.resolved_tracking_uri()
        return load_champion(uri, mlflow.registry_uri or uri, model_name_for(mlflow, flights_ds))

    def ingest() -> int:
        flights = (
            scaled_flights_day(day, scale) if kind == "synthetic" else bundled_day("flights", day)
        )
        lake.write_partition("raw", "flights", day, flights)
        lake.write_partition("raw", "weather", day, bundled_day("weather", day))
        return len(flights)

    # A synthetic day is k times the real ones on purpose: its volume band (2k, as the day itself
    # may be above the trailing average) is set for that, as a
    # load test would set validated_flights' volume_band; otherwise the gate fails the day and
    # the features refuse it.
    band = contract.volume_band if kind != "synthetic" or scale <= 1 else 2.0 * scale

    def validate() -> int:
        # The asset's own stage function: suite, gates and verdict, as validated_flights does.
        done = validate_day(lake, day, contract, contract.quarantine_max_share, band)
        return done.outcome.raw_rows

    def features() -> int:
        run = materialize_feature_days(spark, lake, contract, [day])
        rows["features_relabelled_days"] = len(run.relabelled_days)
        return run.written[day].rows

    def predict() -> int:
        frame = lake.read_partition("features", "flights", day)
        model = champion()
        log = score_features(model.model, frame, flights_ds.table, model.version)
        lake.write_partition(
            "predictions", "flights", day, log, schema=prediction_schema(flights_ds.table)
        )
        return len(log)

    def drift() -> int:
        model = champion()
        current, _, _ = current_window(lake, flights_ds, day, model)
        reference, _ = reference_frame(lake, flights_ds, model)
        outcome = compute_drift(
            current,
            reference,
            flights_ds.table,
            policy.resolved(flights_ds).drift_share_threshold,
            timestamp=day_timestamp(day),
        )
        outcome.save_html(policy.resolved_reports_dir() / "flights" / "drift" / f"{day}.html")
        return outcome.current_rows

    for name, fn in zip(STAGES, (ingest, validate, features, predict, drift), strict=True):
        started = time.perf_counter()
        rows[name] = fn()
        if stage_hook:
            stage_hook(name, time.perf_counter() - started, rows[name])
    return rows


def bare_warmup(days: list[str]) -> None:
    """Quick mode: the warm-up's library calls without Dagster (land, validate, one features run)."""
    from leanops_assets.contract import load_contract
    from leanops_assets.datasets.flights.source import bundled_day
    from leanops_assets.features.lake_io import materialize_feature_days
    from leanops_assets.resources import LakeResource
    from leanops_assets.validation.rules import validate_partition, validated_schema

    lake, contract = LakeResource().lake(), load_contract()
    for day in days:
        lake.write_partition("raw", "weather", day, bundled_day("weather", day))
        outcome = validate_partition(bundled_day("flights", day), contract, day)
        lake.write_partition(
            "validated", "flights", day, outcome.validated, validated_schema(contract)
        )
    materialize_feature_days(spark_session(), lake, contract, days)
