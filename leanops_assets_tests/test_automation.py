"""The follow-parents automation on a real instance: a corrected file rebuilds its day."""

from dagster import (
    AssetCheckEvaluation,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    evaluate_automation_conditions,
)

from leanops_assets.definitions import defs
from leanops_assets.resources import LakeResource, SourceResource
from leanops_assets.validation.assets import (
    KEYS_CHECK,
    QUARANTINE_CHECK,
    SCHEMA_CHECK,
    VOLUME_CHECK,
)
from leanops_assets_tests.flights_defs import raw_flights
from leanops_assets_tests.ingestion.landing import drop_in_landing

VALIDATION_GATES = [SCHEMA_CHECK, KEYS_CHECK, QUARANTINE_CHECK, VOLUME_CHECK]

DAY = "2013-01-02"
DAILY = ["raw_flights", "raw_weather", "validated_flights", "flight_features"]
DAILY += ["batch_predictions", "drift_report"]
UNPARTITIONED = ["planes", "training_set", "tuned_model", "registered_model"]
REBUILT = ["validated_flights", "flight_features", "batch_predictions", "drift_report"]


def _processed(instance: DagsterInstance, gates_passed: bool = True) -> None:
    """The first two days went through every asset (recorded as the runs would record them)."""
    for name in UNPARTITIONED:
        instance.report_runless_asset_event(AssetMaterialization(name))
    for day in ("2013-01-01", DAY):
        for name in DAILY:
            instance.report_runless_asset_event(AssetMaterialization(name, partition=day))
        for check in VALIDATION_GATES:
            instance.report_runless_asset_event(
                AssetCheckEvaluation(
                    asset_key=AssetKey("validated_flights"),
                    check_name=check,
                    passed=gates_passed or day != DAY,
                    partition=day,
                )
            )


def _land(instance: DagsterInstance) -> None:
    from dagster import materialize

    result = materialize(
        [raw_flights],
        partition_key=DAY,
        resources={"lake": LakeResource(), "source": SourceResource(kind="landing")},
        instance=instance,
    )
    assert result.success


def test_a_corrected_file_for_a_processed_day_requests_that_days_downstream(leanops_home):
    with DagsterInstance.ephemeral() as instance:
        _processed(instance)
        settled = evaluate_automation_conditions(defs=defs, instance=instance)
        assert settled.total_requested == 0, "nothing changed since the day was processed"

        drop_in_landing(leanops_home, DAY, rows=40)  # the corrected re-delivery
        _land(instance)
        after = evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
        requested = {
            name: after.get_requested_partitions(AssetKey(name)) for name in [*DAILY, "planes"]
        }
    assert requested == {
        "raw_flights": set(),
        "raw_weather": set(),
        "planes": set(),
        **{name: {DAY} for name in REBUILT},
    }


def test_the_downstream_of_a_gated_day_waits_for_its_blocking_checks(leanops_home):
    with DagsterInstance.ephemeral() as instance:
        _processed(instance, gates_passed=False)
        settled = evaluate_automation_conditions(defs=defs, instance=instance)
        drop_in_landing(leanops_home, DAY, rows=40)
        _land(instance)
        after = evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
        assert after.get_requested_partitions(AssetKey("validated_flights")) == {DAY}
        # its checks failed last time: features wait until the new validation passes them
        assert after.get_requested_partitions(AssetKey("flight_features")) == set()


def test_a_corrected_day_revalidates_the_days_whose_volume_band_counts_it(leanops_home):
    """validated D reads the raw row counts of D-7..D (the volume band's trailing days) and
    declares them: a corrected 2013-01-01 moves 2013-01-02's band, so both are re-validated."""
    with DagsterInstance.ephemeral() as instance:
        _processed(instance)
        settled = evaluate_automation_conditions(defs=defs, instance=instance)
        drop_in_landing(leanops_home, "2013-01-01", rows=40)
        from dagster import materialize

        result = materialize(
            [raw_flights],
            partition_key="2013-01-01",
            resources={"lake": LakeResource(), "source": SourceResource(kind="landing")},
            instance=instance,
        )
        assert result.success
        after = evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
        validated = after.get_requested_partitions(AssetKey("validated_flights"))
    assert validated == {"2013-01-01", DAY}


def test_the_volume_gate_declares_the_trailing_raw_days_it_reads():
    graph = defs.resolve_asset_graph()
    validated = graph.get(AssetKey("validated_flights"))
    raw = AssetKey("raw_flights")
    mapping = validated.assets_def.get_partition_mapping(raw)
    assert mapping is not None, "an identity dependency: only the day itself is declared"
    partitions = graph.get(raw).partitions_def
    mapped = mapping.get_upstream_mapped_partitions_result_for_partitions(
        validated.partitions_def.subset_with_partition_keys(["2013-07-08"]), partitions, partitions
    ).partitions_subset.get_partition_keys()
    assert sorted(mapped) == [f"2013-07-0{d}" for d in range(1, 9)]
