"""A dataset's drift retraining sensor: reads its drift_report materializations, applies the
policy, requests its retraining job."""

import json
from typing import Any

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from leanops_assets.dataset import DRIFT_REPORT, REGISTERED_MODEL, Dataset
from leanops_assets.monitoring.policy import (
    DayStatus,
    PolicyConfig,
    PolicyState,
    RunOutcome,
    decide,
)
from leanops_assets.resources import MonitoringPolicy

# Base names; a dataset scopes them (ds.scoped): the bundled flights keep them as they are.
RETRAINING_JOB_NAME = "retraining_job"
SENSOR_NAME = "drift_retraining_sensor"
RUN_KEY_TAG = "dagster/run_key"
SENSOR_NAME_TAG = "dagster/sensor_name"
TRIGGER_DAY_TAG = "leanops/drift_trigger_day"
ATTEMPT_TAG = "leanops/drift_trigger_attempt"

_FAILED = {DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
_PAGE = 200


def policy_config(policy: MonitoringPolicy, ds: Dataset) -> PolicyConfig:
    """The retraining policy `ds` runs with: run config, else its defs.yaml, else built-in."""
    settings = policy.resolved(ds)
    return PolicyConfig(
        drift_share_threshold=settings.drift_share_threshold,
        live_auc_floor=settings.live_auc_floor,
        evidence_windows=settings.evidence_windows,
        cooldown_days=settings.cooldown_days,
        rejection_retry_days=settings.rejection_retry_days,
    )


def parse_cursor(cursor: str | None) -> tuple[int | None, PolicyState]:
    """(storage id of the last materialization read, policy state) from the JSON cursor."""
    if not cursor:
        return None, PolicyState()
    data = json.loads(cursor)
    return data.get("after_storage_id"), PolicyState.from_dict(data["state"])


def format_cursor(after_storage_id: int | None, state: PolicyState) -> str:
    return json.dumps(
        {"after_storage_id": after_storage_id, "state": state.to_dict()}, sort_keys=True
    )


def read_day_statuses(
    instance: DagsterInstance,
    drift_report_key: AssetKey,
    after_storage_id: int | None,
    log: Any = None,
) -> tuple[dict[str, DayStatus], int | None]:
    """Statuses of the days materialized since `after_storage_id`; the latest event of a day wins."""
    statuses: dict[str, DayStatus] = {}
    cursor = None
    while True:
        result = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=drift_report_key, after_storage_id=after_storage_id),
            limit=_PAGE,
            cursor=cursor,
            ascending=True,
        )
        for record in result.records:
            after_storage_id = record.storage_id
            materialization = record.asset_materialization
            if materialization is None or materialization.partition is None:
                continue
            metadata = materialization.metadata
            if "drift_share" not in metadata:
                if log is not None:
                    log.warning(
                        f"drift_report partition {materialization.partition} (storage id "
                        f"{record.storage_id}) has no drift_share metadata; ignored"
                    )
                continue
            auc = metadata.get("live_auc")
            statuses[materialization.partition] = DayStatus(
                drift_share=float(metadata["drift_share"].value),
                live_auc=None if auc is None or auc.value is None else float(auc.value),
            )
        if not result.has_more:
            return statuses, after_storage_id
        cursor = result.cursor


def run_outcome(
    instance: DagsterInstance, run_key: str, sensor_name: str, registered_model_key: AssetKey
) -> RunOutcome:
    """The state of the latest run launched for `run_key` by this sensor."""
    runs = instance.get_runs(
        filters=RunsFilter(tags={RUN_KEY_TAG: run_key, SENSOR_NAME_TAG: sensor_name}), limit=1
    )
    if not runs:
        return RunOutcome.NOT_FOUND
    status = runs[0].status
    if status == DagsterRunStatus.SUCCESS:
        return registry_decision(instance, runs[0].run_id, registered_model_key)
    if status in _FAILED:
        return RunOutcome.FAILED
    return RunOutcome.IN_PROGRESS


def registry_decision(
    instance: DagsterInstance, run_id: str, registered_model_key: AssetKey
) -> RunOutcome:
    """REJECTED when the run's registered_model recorded that the gate kept the champion;
    SUCCEEDED otherwise (promoted, or a job that registers no model)."""
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        materialization = record.asset_materialization
        if materialization is None or materialization.asset_key != registered_model_key:
            continue
        decision = materialization.metadata.get("decision")
        if decision is not None and decision.value == "rejected":
            return RunOutcome.REJECTED
    return RunOutcome.SUCCEEDED


def evaluate(
    instance: DagsterInstance,
    cursor: str | None,
    policy: PolicyConfig,
    ds: Dataset,
    log: Any = None,
) -> SensorResult:
    """One tick: read the dataset's new drift_report days, look up the last request's run,
    apply the policy."""
    after_storage_id, state = parse_cursor(cursor)
    statuses, after_storage_id = read_day_statuses(
        instance, ds.key(DRIFT_REPORT), after_storage_id, log
    )
    state = state.with_days(statuses)
    outcome = (
        None
        if state.last_request is None
        else run_outcome(
            instance,
            state.last_request.run_key,
            ds.scoped(SENSOR_NAME),
            ds.key(REGISTERED_MODEL),
        )
    )
    decision = decide(state, outcome, policy)
    new_cursor = format_cursor(after_storage_id, decision.state)
    if decision.request is None:
        return SensorResult(skip_reason=decision.reason, cursor=new_cursor)
    request = decision.request
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=request.run_key,
                tags={
                    TRIGGER_DAY_TAG: request.trigger_day,
                    ATTEMPT_TAG: str(request.attempt),
                    "leanops/drift_trigger_reason": decision.reason[:250],
                },
            )
        ],
        cursor=new_cursor,
    )


def build_drift_retraining_sensor(
    ds: Dataset,
    retraining_job: Any = None,
    minimum_interval_seconds: int = 60,
) -> SensorDefinition:
    """The dataset's sensor (named ds.scoped("drift_retraining_sensor")) requesting
    `retraining_job` (a job, or by default the job named ds.scoped("retraining_job")) when its
    drift says so. It takes the MonitoringPolicy resource under the key `monitoring_policy`,
    resolved for `ds` (policy_config).
    """
    target = (
        {"job": retraining_job}
        if retraining_job is not None
        else {"job_name": ds.scoped(RETRAINING_JOB_NAME)}
    )

    @sensor(
        name=ds.scoped(SENSOR_NAME),
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="Requests retraining when drift_report breaches the monitoring policy in "
        "independent (non-overlapping) windows, outside the cooldown; one retrain per trigger, "
        "failed ones retried, rejected ones retried after a short back-off.",
        **target,
    )
    def drift_retraining_sensor(
        context: SensorEvaluationContext, monitoring_policy: MonitoringPolicy
    ) -> SensorResult:
        return evaluate(
            context.instance, context.cursor, policy_config(monitoring_policy, ds), ds, context.log
        )

    return drift_retraining_sensor
