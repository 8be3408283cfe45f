"""Outcomes that arrive a day late refresh a feature day's labels without a Spark build, with
the bytes a full build writes; any other change to the day's inputs builds it again."""

import pandas as pd
import pyarrow.parquet as pq

from leanops_assets.contract import load_contract
from leanops_assets.features.lake_io import materialize_feature_days

CONTRACT = load_contract()
DAY, LOOKBACK_DAY = "2013-01-09", "2013-01-06"


def _without_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """The day as delivered before departure: outcomes and target unknown."""
    before = frame.copy()
    for column in CONTRACT.outcome_columns:
        before[column] = float("nan")
    before[CONTRACT.target_name] = pd.array([pd.NA] * len(before), dtype="Int64")
    return before


def _build(spark, lake, relabel=True):
    tracker = spark.sparkContext.statusTracker()
    before = set(tracker.getJobIdsForGroup())
    run = materialize_feature_days(spark, lake, CONTRACT, [DAY], relabel=relabel)
    return run, len(set(tracker.getJobIdsForGroup()) - before)


def _labels(path) -> pd.Series:
    frame = pq.read_table(path).to_pandas()
    return frame.set_index("flight_id")["is_late"]


def test_arriving_outcomes_refresh_the_labels_with_the_bytes_of_a_full_build(
    spark, fresh_lake, flight_data
):
    delivered = flight_data.flights[DAY]
    fresh_lake.write_partition("validated", "flights", DAY, _without_outcomes(delivered))
    first, _ = _build(spark, fresh_lake)
    assert first.relabelled_days == []
    assert _labels(first.written[DAY].path).isna().all(), "scored before the outcomes"

    fresh_lake.write_partition("validated", "flights", DAY, delivered)  # the outcomes arrive
    refreshed, jobs = _build(spark, fresh_lake)
    assert refreshed.relabelled_days == [DAY] and jobs == 0, "no Spark build"
    labels = _labels(refreshed.written[DAY].path)
    expected = delivered.set_index("flight_id")["is_late"].astype("int64")
    assert labels.notna().all()
    assert (labels.sort_index() == expected.sort_index()).all()
    assert 100 < labels.sum() < len(labels) - 100, "both classes, as that day's flights had"

    built, jobs = _build(spark, fresh_lake, relabel=False)
    assert built.relabelled_days == [] and jobs >= 1
    assert built.written[DAY].content_hash == refreshed.written[DAY].content_hash


def test_a_changed_lookback_day_or_row_builds_the_day_again(spark, fresh_lake, flight_data):
    first, _ = _build(spark, fresh_lake)
    again, jobs = _build(spark, fresh_lake)
    assert again.relabelled_days == [DAY] and jobs == 0, "nothing changed: nothing built"
    assert again.written[DAY].content_hash == first.written[DAY].content_hash

    corrected = flight_data.flights[LOOKBACK_DAY].copy()  # late outcomes of a look-back day
    corrected["is_late"] = 1 - corrected["is_late"]
    fresh_lake.write_partition("validated", "flights", LOOKBACK_DAY, corrected)
    rebuilt, jobs = _build(spark, fresh_lake)
    assert rebuilt.relabelled_days == [] and jobs >= 1
    assert rebuilt.written[DAY].content_hash != first.written[DAY].content_hash, "rates moved"

    moved = flight_data.flights[DAY].copy()  # a corrected row of the day itself
    moved.loc[moved.index[0], "carrier"] = "ZZ"
    fresh_lake.write_partition("validated", "flights", DAY, moved)
    assert _build(spark, fresh_lake)[0].relabelled_days == []


def test_a_feature_file_without_a_fingerprint_is_built_again(spark, fresh_lake):
    first, _ = _build(spark, fresh_lake)
    path = first.written[DAY].path
    table = pq.read_table(path)
    pq.write_table(table.replace_schema_metadata(None), path)  # as an older version wrote it
    again, jobs = _build(spark, fresh_lake)
    assert again.relabelled_days == [] and jobs >= 1


def test_edited_dataset_code_builds_the_day_again(spark, fresh_lake, tmp_path):
    import shutil

    from leanops_assets.contract import load_contract_file
    from leanops_assets.features.labels import code_fingerprint

    folder = shutil.copytree(CONTRACT.source_path.parent, tmp_path / "flights")
    contract = load_contract_file(folder / "contract.yaml")
    materialize_feature_days(spark, fresh_lake, contract, [DAY])
    assert materialize_feature_days(spark, fresh_lake, contract, [DAY]).relabelled_days == [DAY]

    with open(folder / "features.py", "a") as code:
        code.write("\n# an edit to the dataset's feature code\n")
    code_fingerprint.cache_clear()  # as a new process sees it: runs are launched as new ones
    assert materialize_feature_days(spark, fresh_lake, contract, [DAY]).relabelled_days == []
