"""Training assets: the time-split training set and the Optuna-tuned model logged to MLflow."""

from typing import Any

from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from leanops_assets.dataset import TRAINING_SET, TUNED_MODEL, Dataset
from leanops_assets.resources import LakeResource, MlflowResource, TuningResource
from leanops_assets.training.tracking import code_version, mlflow_run_link, model_name_for


class TrainingSetConfig(Config):
    window_days: int = Field(default=60, description="Calendar days in the trailing window.")
    end_day: str | None = Field(
        default=None,
        description="Last day of the window (YYYY-MM-DD); default: the latest feature partition.",
    )
    validation_days: int = Field(default=7, description="Days before the holdout used to tune.")
    holdout_days: int = Field(default=7, description="Last days of the window, kept for the gate.")


# Trials shown in the asset's metadata (the latest); MLflow holds the whole history.
HISTORY_ROWS = 50


class TunedModelConfig(Config):
    iterations_per_step: int = Field(
        default=25, description="Boosting iterations added between two pruning reports."
    )
    max_steps: int = Field(
        default=8, description="Reports per trial; max_iter = steps x iterations."
    )
    threads: int | None = Field(
        default=None, description="Cap on the booster's native threads; default: all cores."
    )
    importance_rows: int = Field(
        default=2000, description="Holdout rows for permutation importance; 0 skips it."
    )


def build_training_assets(ds: Dataset) -> list[AssetsDefinition]:
    """The dataset's training_set (from its feature asset) and tuned_model (logged to its
    experiment, through the tracking resource ds.scoped("mlflow_tracking"))."""
    tracking_key = ds.scoped("mlflow_tracking")

    @asset(
        key=ds.key(TRAINING_SET),
        group_name="training",
        kinds={"pandas", "parquet"},
        deps=[AssetDep(ds.key(ds.features_asset))],
        description="A trailing window of feature days, split by time into train / validation / holdout.",
    )
    def training_set(
        context: AssetExecutionContext, config: TrainingSetConfig, lake: LakeResource
    ) -> MaterializeResult:
        # pandas, Optuna and scikit-learn load in the runs that train, not with the definitions
        from leanops_assets.training.dataset import (
            FEATURE_STAGE,
            WindowSpec,
            build_training_set,
        )

        spec = WindowSpec(
            config.window_days, config.end_day, config.validation_days, config.holdout_days
        )
        splits, days, version = build_training_set(lake.lake(), ds, spec)
        return MaterializeResult(
            data_version=DataVersion(version),
            metadata=training_set_metadata(
                context, splits, days, version, f"{FEATURE_STAGE}/{ds.name}", config, ds
            ),
        )

    @asset(
        key=ds.key(TUNED_MODEL),
        group_name="training",
        kinds={"optuna", "scikitlearn", "mlflow"},
        deps=[training_set],
        # The tracking resource's key is the dataset's, so every resource is named here.
        required_resource_keys={"lake", "mlflow", "tuning", tracking_key},
        description="An Optuna study (resumed per training data version) whose best Pipeline is logged to MLflow.",
    )
    def tuned_model(context: AssetExecutionContext, config: TunedModelConfig) -> MaterializeResult:
        lake: LakeResource = context.resources.lake
        mlflow: MlflowResource = context.resources.mlflow
        tuning: TuningResource = context.resources.tuning
        mlflow_tracking = getattr(context.resources, tracking_key)
        # The resource started the MLflow run; end it here, FAILED if anything below raises.
        try:
            from leanops_assets.training.dataset import read_splits, stored_version
            from leanops_assets.training.tuning import TuningPlan
            from leanops_assets.training.workflow import tune_and_log, write_candidate

            plan = TuningPlan(
                n_trials=tuning.resolved_trials(),
                timeout_seconds=tuning.timeout_seconds,
                seed=tuning.seed,
                iterations_per_step=config.iterations_per_step,
                max_steps=config.max_steps,
                threads=config.threads,
            )
            store = lake.lake()
            mlflow_tracking.set_tag("mlflow.runName", f"tuned_model {context.run_id[:8]}")
            data_version = stored_version(store, ds.name)
            splits = read_splits(store, ds.name)
            result = tune_and_log(
                splits,
                ds.table,
                data_version,
                study_prefix=model_name_for(mlflow, ds),
                storage_url=tuning.resolved_storage(),
                journal_path=None if tuning.resolved_storage() else tuning.journal_path(),
                plan=plan,
                code_version=code_version(),
                importance_rows=config.importance_rows,
            )
        except BaseException:
            mlflow_tracking.end_run(status="FAILED")
            raise
        mlflow_tracking.end_run()
        write_candidate(store, ds.name, result.candidate)
        return MaterializeResult(
            data_version=DataVersion(result.candidate.version),
            metadata=tuned_model_metadata(result, mlflow, tuning, data_version),
        )

    return [training_set, tuned_model]


def training_set_metadata(
    context: AssetExecutionContext,
    splits: Any,
    days: Any,
    version: str,
    source: str,
    config: TrainingSetConfig,
    ds: Dataset,
) -> dict[str, Any]:
    from leanops_assets.training.dataset import split_summary

    summary = split_summary(splits, ds.table)
    window = days.train + days.validation + days.holdout
    context.log.info(f"training set {version[:12]} over {window[0]}..{window[-1]}")
    metadata: dict[str, Any] = {
        "data_version": version,
        "source": source,
        "window": f"{window[0]} .. {window[-1]}",
        "window_days_materialized": len(window),
        "window_days_requested": config.window_days,
        "splits": MetadataValue.md(summary.to_markdown(index=False)),
        "dagster/row_count": int(summary["rows"].sum()),
    }
    for row in summary.itertuples():
        metadata[f"{row.split}_days"] = f"{row.first_day} .. {row.last_day}"
        metadata[f"{row.split}_rows"] = int(row.rows)
        metadata[f"{row.split}_label_rate"] = float(row.label_rate)
    return metadata


def tuned_model_metadata(
    result: Any, mlflow: MlflowResource, tuning: TuningResource, data_version: str
) -> dict[str, Any]:
    candidate, outcome = result.candidate, result.outcome
    history = outcome.history.copy()
    history["this_run"] = history["number"].isin(outcome.new_trials)
    metadata: dict[str, Any] = {
        "mlflow_run": mlflow_run_link(mlflow, candidate.experiment_id, candidate.run_id),
        "mlflow_run_id": candidate.run_id,
        "model_uri": candidate.model_uri,
        "study": outcome.study_name,
        "optuna_storage": tuning.resolved_storage().split("://")[0] + "://…"
        if tuning.resolved_storage()
        else str(tuning.journal_path()),
        "training_data_version": data_version,
        "code_version": candidate.code_version,
        "best_validation_auc": outcome.best_value,
        "best_trial": outcome.best_trial_number,
        "best_params": outcome.best_params,
        "best_iterations": outcome.best_iterations,
        "trials_total": len(history),
        "trials_complete": outcome.count("COMPLETE"),
        "trials_pruned": outcome.count("PRUNED"),
        "trials_this_run": len(outcome.new_trials),
        "trials_pruned_this_run": outcome.count("PRUNED", new_only=True),
        "trial_history": MetadataValue.md(
            history.tail(HISTORY_ROWS).round(4).to_markdown(index=False)
        ),
    }
    if result.importances is not None:
        metadata["permutation_importance"] = MetadataValue.md(
            result.importances.head(15).to_markdown(index=False)
        )
    return metadata
