"""Registry assets: the gated model version, its promotion checks, and the rollback job."""

from typing import TYPE_CHECKING, Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    AssetObservation,
    AssetsDefinition,
    Config,
    DataVersion,
    JobDefinition,
    MaterializeResult,
    MetadataValue,
    OpExecutionContext,
    asset,
    job,
    op,
)
from pydantic import Field

from leanops_assets.dataset import (
    CHAMPION_HISTORY,
    PREDICTIONS,
    REGISTERED_MODEL,
    TRAINING_SET,
    TUNED_MODEL,
    Dataset,
)
from leanops_assets.resources import LakeResource, MlflowResource, PromotionPolicy
from leanops_assets.training.tracking import (
    configure_mlflow,
    experiment_for,
    mlflow_model_version_link,
    mlflow_run_link,
    model_name_for,
)

if TYPE_CHECKING:
    from leanops_assets.registry.rollback import Rollback

AUC_FLOOR_CHECK = "holdout_auc_above_floor"
CHAMPION_CHECK = "not_worse_than_champion"


def build_registry_assets(ds: Dataset) -> list[AssetsDefinition]:
    """The dataset's registered_model (gated on its training set's holdout) and champion_history
    (from its registry records and prediction log)."""
    return [_registered_model(ds), _champion_history(ds)]


def _registered_model(ds: Dataset) -> AssetsDefinition:
    key = ds.key(REGISTERED_MODEL)

    @asset(
        key=key,
        group_name="registry",
        kinds={"mlflow"},
        # It scores the candidate and the champion on training_set's holdout: a declared input.
        deps=[AssetDep(ds.key(TRAINING_SET)), AssetDep(ds.key(TUNED_MODEL))],
        check_specs=[
            AssetCheckSpec(
                AUC_FLOOR_CHECK,
                asset=key,
                description="The new version's holdout ROC AUC is at least the promotion floor.",
            ),
            AssetCheckSpec(
                CHAMPION_CHECK,
                asset=key,
                description="On the same holdout, the new version trails the champion by no more "
                "than the allowed drop, counted along the lineage of champions so drops cannot "
                "compound.",
            ),
        ],
        description="The tuned model as a new registry version, promoted to champion only if it passes the gates.",
    )
    def registered_model(
        context: AssetExecutionContext,
        lake: LakeResource,
        mlflow: MlflowResource,
        promotion: PromotionPolicy,
    ) -> MaterializeResult:
        return register(context, ds, lake, mlflow, promotion)

    return registered_model


def register(
    context: AssetExecutionContext,
    ds: Dataset,
    lake: LakeResource,
    mlflow: MlflowResource,
    promotion: PromotionPolicy,
) -> MaterializeResult:
    """registered_model's work: gate the dataset's candidate, report the decision as checks."""
    from mlflow import MlflowClient

    from leanops_assets.monitoring.reference import store_reference
    from leanops_assets.registry.promotion import gate_candidate
    from leanops_assets.training.dataset import read_splits, stored_version
    from leanops_assets.training.workflow import read_candidate

    store = lake.lake()
    candidate = read_candidate(store, ds.name)
    splits = read_splits(store, ds.name)
    splits_version = stored_version(store, ds.name)
    configure_mlflow(mlflow, experiment_for(mlflow, ds))
    name = model_name_for(mlflow, ds)
    report = gate_candidate(
        MlflowClient(),
        name,
        candidate,
        splits,
        splits_version,
        ds.table,
        promotion.resolved(ds).auc_floor,
        promotion.resolved(ds).max_auc_drop,
        description=f"P({ds.table.label_column} = 1) for the rows of {ds.name} (leanops)",
    )
    # Whichever version is champion, drift_report finds the data it learned from.
    reference = store_reference(store, splits_version, splits)
    decision, scores = report.decision, report.challenger
    verdict = "promoted" if decision.promoted else "rejected"
    context.log.info(f"{name} version {report.version}: {verdict} ({decision.reason})")
    checks = [
        AssetCheckResult(
            check_name=gate.name,
            passed=gate.passed,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "observed": gate.observed if gate.observed is not None else "n/a",
                "expected": gate.expected,
                "message": gate.message,
                "model_version": report.version,
            },
        )
        for gate in report.gates
    ]
    champion_now = report.version if decision.promoted else decision.previous_champion
    metadata: dict[str, Any] = {
        "model_name": name,
        "model_version": report.version,
        "model_uri": f"models:/{name}/{report.version}",
        "model_version_link": mlflow_model_version_link(mlflow, name, report.version),
        "mlflow_run": mlflow_run_link(mlflow, report.experiment_id, report.run_id),
        "decision": verdict,
        "decision_reason": decision.reason,
        "champion_version": champion_now or "none",
        "previous_champion": decision.previous_champion or "none",
        "holdout_rows": scores.rows,
        "holdout_label_rate": scores.label_rate,
        "holdout_auc": scores.auc,
        "holdout_log_loss": scores.log_loss,
        "holdout_brier": scores.brier,
        "reliability": MetadataValue.md(scores.reliability.to_markdown(index=False)),
        "champion_holdout_auc": report.champion_auc if report.champion_auc is not None else "n/a",
        "training_data_version": candidate.training_data_version,
        "fit_days": f"{report.fit_days[0]} .. {report.fit_days[-1]}",
        "holdout_days": f"{report.holdout_days[0]} .. {report.holdout_days[-1]}",
        "lineage_auc_drop": report.lineage_auc_drop,
        "drift_reference": MetadataValue.path(str(reference.path)),
    }
    return MaterializeResult(
        metadata=metadata,
        check_results=checks,
        data_version=DataVersion(f"{name}/{report.version}/{verdict}"),
    )


def _champion_history(ds: Dataset) -> AssetsDefinition:
    @asset(
        key=ds.key(CHAMPION_HISTORY),
        group_name="registry",
        kinds={"mlflow", "parquet"},
        deps=[AssetDep(ds.key(REGISTERED_MODEL)), AssetDep(ds.key(PREDICTIONS))],
        description="Which model version was champion on each day, and why it changed "
        "(promotion, rejection, rollback), from the registry's records and the prediction log.",
    )
    def champion_history(
        context: AssetExecutionContext, lake: LakeResource, mlflow: MlflowResource
    ) -> MaterializeResult:
        return write_champion_history(context, ds, lake, mlflow)

    return champion_history


def write_champion_history(
    context: AssetExecutionContext, ds: Dataset, lake: LakeResource, mlflow: MlflowResource
) -> MaterializeResult:
    """champion_history's work: registry events and the versions each scored day was served by."""
    import pandas as pd
    from mlflow import MlflowClient

    from leanops_assets.registry.history import (
        VersionRecord,
        daily_champions,
        registry_events,
        served_by_day,
    )

    store = lake.lake()
    configure_mlflow(mlflow, experiment_for(mlflow, ds))
    name = model_name_for(mlflow, ds)
    versions = [
        VersionRecord(str(v.version), dict(v.tags))
        for v in MlflowClient().search_model_versions(f"name = '{name}'")
    ]
    events = registry_events(versions)
    logs = {
        day: pd.read_parquet(
            store.partition_path("predictions", ds.name, day), columns=["model_version"]
        )
        for day in store.materialized_days("predictions", ds.name)
    }
    days = daily_champions(served_by_day(logs), events)
    store.write_table("registry", ds.lake_table("champion_events"), events)
    written = store.write_table("registry", ds.lake_table("champion_history"), days)
    context.log.info(f"{name}: {len(events)} registry events over {len(days)} scored days")
    changes = days[days["change"] != ""]
    return MaterializeResult(
        metadata={
            "events": MetadataValue.md(events.to_markdown(index=False) if len(events) else "none"),
            "changes": MetadataValue.md(
                changes.to_markdown(index=False) if len(changes) else "none"
            ),
            "days": MetadataValue.md(
                days.tail(60).to_markdown(index=False) if len(days) else "none"
            ),
            "promotions": int((events["event"] == "promotion").sum()),
            "rejections": int((events["event"] == "rejection").sum()),
            "rollbacks": int((events["event"] == "rollback").sum()),
            "dagster/row_count": len(days),
            "path": MetadataValue.path(str(written.path)),
        },
        data_version=DataVersion(written.content_hash),
    )


class RollbackConfig(Config):
    version: str | None = Field(
        default=None,
        description="Version to make champion; default: the one holding alias 'previous'.",
    )
    reason: str = Field(
        default="manual rollback", description="Why; recorded as a model-version tag."
    )


def build_rollback_job(ds: Dataset) -> JobDefinition:
    """The dataset's manual rollback job, named ds.scoped("rollback_champion_job")."""

    @op(
        name=ds.scoped("rollback_champion_op"),
        description="Point the champion alias back at an earlier model version and record when "
        "and why.",
    )
    def rollback_champion_op(
        context: OpExecutionContext, config: RollbackConfig, mlflow: MlflowResource
    ) -> None:
        from mlflow import MlflowClient

        from leanops_assets.registry.rollback import rollback_champion

        configure_mlflow(mlflow, experiment_for(mlflow, ds))
        name = model_name_for(mlflow, ds)
        done = rollback_champion(MlflowClient(), name, config.version, config.reason)
        context.log.info(
            f"{name}: champion moved from version {done.from_version} to {done.to_version} "
            f"at {done.at} ({done.reason})"
        )
        context.log_event(rollback_observation(done, mlflow, ds))

    @job(
        name=ds.scoped("rollback_champion_job"),
        description="Roll the champion model back to an earlier registry version.",
    )
    def rollback_champion_job() -> None:
        rollback_champion_op()

    return rollback_champion_job


def rollback_observation(done: "Rollback", mlflow: MlflowResource, ds: Dataset) -> AssetObservation:
    """The Dagster event of a rollback, on the dataset's registered_model: what moved, when and
    why."""
    return AssetObservation(
        asset_key=ds.key(REGISTERED_MODEL),
        metadata={
            "event": "rollback",
            "champion_version": done.to_version,
            "rolled_back_from": done.from_version,
            "at": done.at,
            "reason": done.reason,
            "model_version_link": mlflow_model_version_link(
                mlflow, model_name_for(mlflow, ds), done.to_version
            ),
        },
    )
