"""The drift retraining sensor against a real (temporary) Dagster instance and real events."""

import json
from pathlib import Path

import pytest
from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    SensorResult,
    build_sensor_context,
)
from dagster._core.utils import make_new_run_id

from leanops_assets.dataset import bundled_dataset, contract_dataset
from leanops_assets.monitoring.policy import PolicyConfig
from leanops_assets.monitoring.sensors import (
    ATTEMPT_TAG,
    RUN_KEY_TAG,
    SENSOR_NAME,
    SENSOR_NAME_TAG,
    TRIGGER_DAY_TAG,
    build_drift_retraining_sensor,
    format_cursor,
    parse_cursor,
    policy_config,
)
from leanops_assets.resources import MonitoringPolicy

FLIGHTS = bundled_dataset()
TICKETS_CONTRACT = Path(__file__).parents[1] / "datasets" / "tickets" / "contract.yaml"

POLICY = MonitoringPolicy(
    drift_share_threshold=0.3, live_auc_floor=0.65, evidence_windows=2, cooldown_days=7
)


@pytest.fixture
def instance(leanops_home):
    with DagsterInstance.get() as instance:
        yield instance


def report_day(instance: DagsterInstance, day: str, drift_share: float, live_auc: float | None):
    metadata = {"drift_share": drift_share}
    if live_auc is not None:
        metadata["live_auc"] = live_auc
    instance.report_runless_asset_event(
        AssetMaterialization(asset_key="drift_report", partition=day, metadata=metadata)
    )


def add_run(instance: DagsterInstance, run_key: str, status: DagsterRunStatus) -> None:
    instance.add_run(
        DagsterRun(
            job_name="retraining_job",
            run_id=make_new_run_id(),
            status=status,
            tags={RUN_KEY_TAG: run_key, SENSOR_NAME_TAG: SENSOR_NAME},
        )
    )


def tick(instance: DagsterInstance, cursor: str | None) -> SensorResult:
    sensor = build_drift_retraining_sensor(FLIGHTS)
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"monitoring_policy": POLICY}
    )
    result = sensor(context)
    assert isinstance(result, SensorResult)
    return result


def run_keys(result: SensorResult) -> list[str]:
    return [request.run_key for request in result.run_requests or []]


def test_sensor_definition():
    sensor = build_drift_retraining_sensor(FLIGHTS)
    assert sensor.name == "drift_retraining_sensor"
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    assert sensor.job_name == "retraining_job"
    assert "monitoring_policy" in sensor.required_resource_keys


def test_no_materializations_skip_with_a_reason(instance):
    result = tick(instance, None)
    assert run_keys(result) == []
    assert "no drift_report materializations" in result.skip_reason.skip_message


def test_drift_in_two_independent_windows_requests_one_retrain_and_retries_a_failed_one(instance):
    report_day(instance, "2013-02-23", 0.1, 0.72)
    report_day(instance, "2013-03-02", 0.45, 0.70)
    first = tick(instance, None)
    assert run_keys(first) == []
    assert "1 of 2 independent" in first.skip_reason.skip_message

    # A re-materialization of a day replaces its status: the latest event of a day wins.
    report_day(instance, "2013-02-23", 0.5, 0.72)
    second = tick(instance, first.cursor)
    assert run_keys(second) == ["retrain-2013-03-02-1"]
    request = second.run_requests[0]
    assert request.tags[TRIGGER_DAY_TAG] == "2013-03-02"
    assert request.tags[ATTEMPT_TAG] == "1"

    # The daemon launched it; it is running: nothing new, even as drift goes on.
    add_run(instance, "retrain-2013-03-02-1", DagsterRunStatus.STARTED)
    report_day(instance, "2013-03-03", 0.6, 0.70)
    third = tick(instance, second.cursor)
    assert run_keys(third) == []
    assert "still queued or running" in third.skip_reason.skip_message

    # It failed: the same trigger is tried again under a new run key.
    add_run(instance, "retrain-2013-03-02-1", DagsterRunStatus.FAILURE)
    fourth = tick(instance, third.cursor)
    assert run_keys(fourth) == ["retrain-2013-03-02-2"]

    # The retry succeeded: the cooldown holds even though drift continues.
    add_run(instance, "retrain-2013-03-02-2", DagsterRunStatus.SUCCESS)
    report_day(instance, "2013-02-25", 0.6, 0.70)
    report_day(instance, "2013-03-04", 0.6, 0.70)
    fifth = tick(instance, fourth.cursor)
    assert run_keys(fifth) == []
    assert "cooldown" in fifth.skip_reason.skip_message
    assert parse_cursor(fifth.cursor)[1].last_retrain_day == "2013-03-02"


def test_weak_live_auc_alone_triggers(instance):
    report_day(instance, "2013-05-04", 0.05, 0.60)
    report_day(instance, "2013-05-11", 0.05, 0.61)
    assert run_keys(tick(instance, None)) == ["retrain-2013-05-11-1"]


def test_a_request_whose_run_never_appeared_is_requested_again_with_the_same_key(instance):
    report_day(instance, "2013-02-23", 0.5, None)
    report_day(instance, "2013-03-02", 0.5, None)
    first = tick(instance, None)
    again = tick(instance, first.cursor)
    assert run_keys(first) == run_keys(again) == ["retrain-2013-03-02-1"]


def test_cursor_survives_a_restart_and_reads_only_new_events(instance):
    report_day(instance, "2013-02-23", 0.5, 0.7)
    first = tick(instance, None)
    after_storage_id, state = parse_cursor(first.cursor)
    assert after_storage_id is not None
    assert set(state.days) == {"2013-02-23"}
    assert json.loads(first.cursor)["state"]["days"]["2013-02-23"]["drift_share"] == 0.5
    assert format_cursor(after_storage_id, state) == first.cursor

    # A fresh sensor object (as after a daemon restart) continues from the stored cursor.
    report_day(instance, "2013-03-02", 0.5, 0.7)
    second = tick(instance, first.cursor)
    assert run_keys(second) == ["retrain-2013-03-02-1"]
    assert parse_cursor(second.cursor)[0] > after_storage_id
    assert set(parse_cursor(second.cursor)[1].days) == {"2013-02-23", "2013-03-02"}


@pytest.mark.parametrize("pass_job", [True, False])
def test_assets_sensor_and_resources_load_together(pass_job):
    from dagster import Definitions, define_asset_job

    from leanops_assets.resources import LakeResource, MlflowResource
    from leanops_assets_tests.flights_defs import batch_predictions, drift_report

    job = define_asset_job("retraining_job", selection=["batch_predictions"])
    sensor = build_drift_retraining_sensor(FLIGHTS, job if pass_job else None)
    defs = Definitions(
        assets=[batch_predictions, drift_report],
        jobs=[job],
        sensors=[sensor],
        resources={
            "lake": LakeResource(),
            "mlflow": MlflowResource(),
            "monitoring_policy": POLICY,
        },
    )
    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    drift_key = AssetKey("drift_report")
    assert graph.get_check_keys_for_assets({drift_key}) == {
        AssetCheckKey(drift_key, "drift_within_threshold")
    }
    assert defs.resolve_sensor_def("drift_retraining_sensor").job_name == "retraining_job"


def finish_retrain(instance: DagsterInstance, run_key: str, decision: str) -> None:
    """A retraining run as the daemon tags it, whose registered_model recorded `decision`.

    The asset stands in for the real registered_model (tested in registry/): the sensor reads
    only the materialization's decision metadata of the run it requested."""
    from dagster import MaterializeResult, asset, materialize

    @asset(name="registered_model")
    def stand_in() -> MaterializeResult:
        return MaterializeResult(metadata={"decision": decision, "decision_reason": "test"})

    tags = {RUN_KEY_TAG: run_key, SENSOR_NAME_TAG: SENSOR_NAME}
    assert materialize([stand_in], instance=instance, tags=tags).success


def test_a_rejected_retrain_is_retried_after_its_back_off_not_the_cooldown(instance):
    policy = MonitoringPolicy(
        drift_share_threshold=0.3, live_auc_floor=0.65, evidence_windows=1, cooldown_days=14
    )

    def tick_with(cursor):
        context = build_sensor_context(
            instance=instance, cursor=cursor, resources={"monitoring_policy": policy}
        )
        return build_drift_retraining_sensor(FLIGHTS)(context)

    report_day(instance, "2013-03-01", 0.5, 0.7)
    first = tick_with(None)
    assert run_keys(first) == ["retrain-2013-03-01-1"]
    finish_retrain(instance, "retrain-2013-03-01-1", "rejected")

    # The gate kept the old champion; the drift persists: a short back-off, not the cooldown.
    report_day(instance, "2013-03-02", 0.5, 0.7)
    waiting = tick_with(first.cursor)
    assert run_keys(waiting) == []
    reason = waiting.skip_reason.skip_message
    assert "rejected" in reason and "2013-03-04" in reason
    report_day(instance, "2013-03-03", 0.5, 0.7)
    report_day(instance, "2013-03-04", 0.5, 0.7)
    retry = tick_with(waiting.cursor)
    assert run_keys(retry) == ["retrain-2013-03-04-1"]
    assert "rejected" in retry.run_requests[0].tags["leanops/drift_trigger_reason"]

    # This one is promoted: now the cooldown holds.
    finish_retrain(instance, "retrain-2013-03-04-1", "promoted")
    report_day(instance, "2013-03-08", 0.5, 0.7)
    cooling = tick_with(retry.cursor)
    assert run_keys(cooling) == []
    assert "cooldown" in cooling.skip_reason.skip_message


def test_each_dataset_is_judged_by_its_own_defs_yaml_policy(instance):
    # tickets' defs.yaml says `monitoring: {drift_share_threshold: 0.3}`; flights' says nothing.
    tickets = contract_dataset(
        TICKETS_CONTRACT, monitoring_defaults=(("drift_share_threshold", 0.3),)
    )
    unset = MonitoringPolicy()  # the code location's resource: no run config
    assert policy_config(unset, tickets).drift_share_threshold == 0.3
    assert policy_config(unset, FLIGHTS).drift_share_threshold == 0.4
    assert policy_config(MonitoringPolicy(drift_share_threshold=0.5), tickets) == PolicyConfig(
        drift_share_threshold=0.5, live_auc_floor=0.6, evidence_windows=2, cooldown_days=14
    )

    # The same drift share, 0.35, in two independent windows of each dataset.
    for key in (AssetKey("drift_report"), AssetKey(["tickets", "drift_report"])):
        for day in ("2024-12-01", "2024-12-08"):
            instance.report_runless_asset_event(
                AssetMaterialization(
                    asset_key=key, partition=day, metadata={"drift_share": 0.35, "live_auc": 0.8}
                )
            )

    def tick_of(ds) -> SensorResult:
        context = build_sensor_context(instance=instance, resources={"monitoring_policy": unset})
        return build_drift_retraining_sensor(ds)(context)

    assert run_keys(tick_of(tickets)) == ["retrain-2024-12-08-1"]
    assert (
        "drift share 0.350 > 0.300"
        in tick_of(tickets).run_requests[0].tags["leanops/drift_trigger_reason"]
    )
    flights = tick_of(FLIGHTS)
    assert run_keys(flights) == []
    assert flights.skip_reason.skip_message == (
        "newest day 2024-12-08 is within policy (drift share 0.350, live AUC 0.800; "
        "drift share threshold 0.400, AUC floor 0.600)"
    )
