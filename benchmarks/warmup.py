"""The state the other measures start from: warm-up days and a first champion, as replay does."""

from __future__ import annotations

import time

from bare import bare_warmup
from harness import QUIET, Bench, days_from, quiet_dagster

NAME = "setup"


def child_setup(args) -> dict:
    """Warm-up as replay does (per-day ingest+validate, one ranged features run; bare in quick
    mode), then a first champion from retraining_job with a tiny Optuna budget."""
    from dagster import AssetKey, DagsterInstance

    quiet_dagster()
    from leanops_assets.dataset import bundled_dataset
    from leanops_assets.definitions import defs
    from leanops_assets.replay import champion_version

    instance = DagsterInstance.get()
    warmup = days_from("2013-01-01", args.warmup_days)
    started = time.perf_counter()
    defs.resolve_job_def("reference_data").execute_in_process(instance=instance, run_config=QUIET)
    daily = defs.resolve_job_def("daily_pipeline")
    if args.bare_warmup:
        bare_warmup(warmup)
    else:
        for day in warmup:
            result = daily.execute_in_process(
                partition_key=day,
                instance=instance,
                run_config=QUIET,
                asset_selection=[
                    AssetKey(a) for a in ("raw_flights", "raw_weather", "validated_flights")
                ],
            )
            assert result.success, f"warm-up day {day} failed"
        features = daily.execute_in_process(
            instance=instance,
            run_config=QUIET,
            asset_selection=[AssetKey("flight_features")],
            tags={
                "dagster/asset_partition_range_start": warmup[0],
                "dagster/asset_partition_range_end": warmup[-1],
            },
        )
        assert features.success, "warm-up features failed"
    warmup_seconds = time.perf_counter() - started
    started = time.perf_counter()
    # The benchmark measures the platform, not the model: any first model may become champion.
    split_days = max(2, min(7, args.warmup_days // 4))
    training = defs.resolve_job_def("retraining_job").execute_in_process(
        instance=instance,
        run_config={
            **QUIET,
            "ops": {
                "training_set": {
                    "config": {"validation_days": split_days, "holdout_days": split_days}
                }
            },
            "resources": {"promotion": {"config": {"auc_floor": 0.5, "max_auc_drop": 1.0}}},
        },
    )
    assert training.success, "the first model failed to train"
    if champion_version(bundled_dataset()) is None:
        raise RuntimeError("the benchmark's first model did not become champion")
    training_seconds = time.perf_counter() - started
    tuned = {}
    for event in training.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == "tuned_model":
            tuned = {k: v.value for k, v in materialization.metadata.items()}
    total, pruned = int(tuned.get("trials_total", 0)), int(tuned.get("trials_pruned", 0))
    return {
        "warmup_days": len(warmup),
        "warmup_mode": "bare" if args.bare_warmup else "dagster",
        "warmup_seconds": warmup_seconds,
        "training_seconds": training_seconds,
        "pruning": {
            "source": "tuned_model metadata of the benchmark's own training run",
            "trials_total": total,
            "trials_pruned": pruned,
            "pruned_share": pruned / total if total else None,
        },
    }


CHILDREN = {"setup": child_setup}


def run(bench: Bench, report: dict) -> dict:
    args = bench.args
    if args.quick:  # setup, overhead and k=1 share one process: see run_all.child_quick
        return report["quick"]["setup"]
    return bench.run_child("setup", warmup_days=args.warmup_days)


def summary(result: dict) -> str:
    return (
        f"[setup] warm-up {result['warmup_seconds']:.0f} s ({result['warmup_mode']}), "
        f"first model {result['training_seconds']:.0f} s"
    )


def rows(result: dict) -> list[tuple]:
    p = result["pruning"]
    share = "-" if p["pruned_share"] is None else f"{p['pruned_share']:.0%}"
    return [
        (
            "optuna: pruned trials (benchmark's training run)",
            f"{p['trials_pruned']} of {p['trials_total']} ({share})",
            "",
            None,
        )
    ]


def ratios(result: dict) -> dict:
    return {"optuna_pruned_share": result["pruning"]["pruned_share"]}
