"""A small feature build runs as one Spark job, with the bytes of Spark's parallel plan."""

from leanops_assets.contract import load_contract
from leanops_assets.features import lake_io
from leanops_assets.features.lake_io import materialize_feature_days

DAY = "2013-01-09"  # a full week of look-back: every join and rate has rows


def _build_counting_jobs(spark, lake):
    tracker = spark.sparkContext.statusTracker()
    before = set(tracker.getJobIdsForGroup())
    run = materialize_feature_days(spark, lake, load_contract(), [DAY], relabel=False)
    jobs = len(set(tracker.getJobIdsForGroup()) - before)
    return run.written[DAY], jobs, run.one_task_batches


def test_a_small_day_is_one_spark_job_with_the_bytes_of_the_parallel_plan(
    spark, fresh_lake, monkeypatch
):
    threshold = spark.conf.get("spark.sql.autoBroadcastJoinThreshold")
    one_task, one_task_jobs, counted = _build_counting_jobs(spark, fresh_lake)
    assert one_task_jobs == 1, "reading, joining, rates and collecting: one job"
    assert counted == 1, "the run's metadata counts it"
    assert spark.conf.get("spark.sql.autoBroadcastJoinThreshold") == threshold, "restored"

    monkeypatch.setattr(lake_io, "ONE_TASK_ROWS", 0)  # every build takes the parallel plan
    parallel, parallel_jobs, counted = _build_counting_jobs(spark, fresh_lake)
    assert parallel_jobs >= 5, "the parallel plan: a job per shuffle and broadcast"
    assert counted == 0
    assert parallel.rows == one_task.rows > 700
    assert parallel.content_hash == one_task.content_hash
