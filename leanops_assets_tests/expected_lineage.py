"""The asset graph a user must find, written out by hand: every asset with its group, its
partitioning, the assets it reads and its checks, and the jobs, schedules and sensors.

The definitions (test_definitions.py), `dg list defs`, the GraphQL API and the UI pages
(deploy/test_ui.py) are all compared with this literal, never with a graph derived from `defs`:
deleting an asset, an edge or a check fails them. Adding one means adding it here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExpectedAsset:
    group: str
    daily: bool
    upstream: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()


ASSETS: dict[str, ExpectedAsset] = {
    "raw_flights": ExpectedAsset(
        "ingestion", daily=True, checks=("landing_files_within_partitions",)
    ),
    "raw_weather": ExpectedAsset("ingestion", daily=True),
    "planes": ExpectedAsset("ingestion", daily=False),
    "validated_flights": ExpectedAsset(
        "validation",
        daily=True,
        upstream=("raw_flights",),
        checks=(
            "daily_volume_within_band",
            "keys_not_null",
            "quarantined_share_within_limit",
            "schema_matches_contract",
        ),
    ),
    "flight_features": ExpectedAsset(
        "features", daily=True, upstream=("planes", "raw_weather", "validated_flights")
    ),
    "training_set": ExpectedAsset("training", daily=False, upstream=("flight_features",)),
    "tuned_model": ExpectedAsset("training", daily=False, upstream=("training_set",)),
    "registered_model": ExpectedAsset(
        "registry",
        daily=False,
        upstream=("training_set", "tuned_model"),
        checks=("holdout_auc_above_floor", "not_worse_than_champion"),
    ),
    "batch_predictions": ExpectedAsset(
        "monitoring", daily=True, upstream=("flight_features", "registered_model")
    ),
    "drift_report": ExpectedAsset(
        "monitoring",
        daily=True,
        upstream=("batch_predictions", "flight_features", "registered_model", "training_set"),
        checks=("drift_within_threshold",),
    ),
    "shadow_comparison": ExpectedAsset("monitoring", daily=True, upstream=("batch_predictions",)),
    "champion_history": ExpectedAsset(
        "registry", daily=False, upstream=("batch_predictions", "registered_model")
    ),
}

JOBS = {"daily_pipeline", "reference_data", "retraining_job", "rollback_champion_job"}
SCHEDULES = {"daily_pipeline_schedule", "weekly_retrain_schedule"}
# follow_parents_sensor evaluates the assets' automation conditions (running by default).
SENSORS = {"drift_retraining_sensor", "follow_parents_sensor"}


def edges() -> set[tuple[str, str]]:
    """(upstream, downstream) pairs."""
    return {(parent, name) for name, asset in ASSETS.items() for parent in asset.upstream}


def asset_checks() -> set[str]:
    """`asset:check` keys, as `dg list defs` names them."""
    return {f"{name}:{check}" for name, asset in ASSETS.items() for check in asset.checks}


def groups() -> dict[str, str]:
    return {name: asset.group for name, asset in ASSETS.items()}


def daily_assets() -> list[str]:
    return sorted(name for name, asset in ASSETS.items() if asset.daily)


def unpartitioned_assets() -> list[str]:
    return sorted(name for name, asset in ASSETS.items() if not asset.daily)


def expected_definitions() -> dict:
    """The whole literal in the shape the tests compare: sets of names, edges and checks."""
    return {
        "assets": set(ASSETS),
        "asset_checks": asset_checks(),
        "jobs": set(JOBS),
        "schedules": set(SCHEDULES),
        "sensors": set(SENSORS),
        "edges": edges(),
        "groups": groups(),
    }
