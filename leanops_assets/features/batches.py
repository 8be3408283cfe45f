"""How a feature run is cut into batches that fit the driver, and what a run reports."""

from __future__ import annotations

from dataclasses import dataclass

from leanops_assets.storage import Lake, WrittenFile, check_day

# Every feature row passes through the driver (sorted there, so the bytes do not depend on Spark's
# partitioning): a backfill is collected in batches of at most this many target rows, so its
# memory follows the batch, not the history (300 days at 10x the flights exhausted 2 GiB).
BATCH_ROWS = 400_000


def day_batches(lake: Lake, dataset: str, days: list[str], batch_rows: int) -> list[list[str]]:
    """Consecutive target days in batches of at most `batch_rows` validated rows (a bigger day
    is a batch of its own); row counts come from the Parquet footers."""
    batches: list[list[str]] = []
    rows_in_batch = 0
    for day in sorted({check_day(day) for day in days}):
        rows = lake.partition_rows("validated", dataset, day) or 0
        if batches and rows_in_batch + rows <= batch_rows:
            batches[-1].append(day)
            rows_in_batch += rows
        else:
            batches.append([day])
            rows_in_batch = rows
    return batches


@dataclass(frozen=True)
class FeatureRun:
    written: dict[str, WrittenFile]
    row_days: list[str]  # validated days read
    gated_days: dict[str, list[str]]  # look-back days left out because they failed their gates
    reference_rows_left_out: dict[str, dict[str, int]]
    spark_seconds: float  # fingerprinting, reading into Spark, building and collecting
    batches: list[list[str]]  # target days of each Spark run
    one_task_batches: int  # of them, run as one Spark task (features/one_task.py)
    relabelled_days: list[str]  # inputs unchanged but the outcomes: labels only (labels.py)


def merged(run: FeatureRun, batch: FeatureRun) -> FeatureRun:
    """Two batches' runs as one."""
    left_out = {t: dict(r) for t, r in run.reference_rows_left_out.items()}
    for table, reasons in batch.reference_rows_left_out.items():
        for reason, rows in reasons.items():
            left_out.setdefault(table, {})
            left_out[table][reason] = left_out[table].get(reason, 0) + rows
    return FeatureRun(
        {**run.written, **batch.written},
        sorted({*run.row_days, *batch.row_days}),
        {**run.gated_days, **batch.gated_days},
        left_out,
        run.spark_seconds + batch.spark_seconds,
        [*run.batches, *batch.batches],
        run.one_task_batches + batch.one_task_batches,
        [*run.relabelled_days, *batch.relabelled_days],
    )
