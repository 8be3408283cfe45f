"""The lake: one place that owns partition paths, atomic Parquet writes and content hashes.

Layout: <root>/<stage>/<dataset>/date=YYYY-MM-DD/part.parquet for daily partitions and
<root>/<stage>/<dataset>/table.parquet for unpartitioned tables.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # pandas and pyarrow load when data is touched, not when definitions load
    import pandas as pd
    import pyarrow as pa

GATES_KEY = "leanops.failed_gates"  # Parquet footer key of a partition's gate verdict
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class LakePathError(ValueError):
    """A stage, dataset or partition key that would not stay inside the lake root."""


class GatedDayError(ValueError):
    """A day whose validation gates failed: it is built on by no one until it passes."""


def check_name(kind: str, value: str) -> str:
    if not _NAME.match(value):
        raise LakePathError(f"{kind} {value!r} is not a plain lower-case name ([a-z][a-z0-9_]*)")
    return value


def check_day(day: str) -> str:
    if not isinstance(day, str) or not _DAY.match(day):
        raise LakePathError(f"partition key {day!r} is not a date of the form YYYY-MM-DD")
    try:
        date.fromisoformat(day)
    except ValueError as exc:
        raise LakePathError(f"partition key {day!r} is not a real calendar date") from exc
    return day


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    rows: int
    bytes: int
    content_hash: str  # sha256 of the Parquet bytes: the data version


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_parquet_atomic(
    frame: pd.DataFrame,
    path: Path,
    schema: pa.Schema | None = None,
    file_metadata: dict[str, str] | None = None,
) -> WrittenFile:
    """Write to a temporary file in the target folder, fsync, then rename over the target.

    Readers see the old file or the new one, never a torn one. Same frame, same bytes.
    `file_metadata` goes into the Parquet footer, so it changes exactly when the data does.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    _clear_dead_writers_files(path)
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    if file_metadata:
        extra = {key.encode(): value.encode() for key, value in file_metadata.items()}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
    write_file_atomic(path, lambda handle: pq.write_table(table, handle, compression="zstd"))
    return WrittenFile(path, table.num_rows, path.stat().st_size, file_sha256(path))


def write_file_atomic(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """The one atomic writer of every output (lake files, drift reports): `write` fills a
    temporary file beside `path`, which is fsynced and renamed over it. Readers see the old file
    or the new one, never a torn one; a writer killed midway leaves only its temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def write_text_atomic(text: str, path: Path) -> Path:
    return write_file_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def _clear_dead_writers_files(path: Path) -> None:
    """Remove temp files of `path` left by killed writers; a live writer's file is left alone."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        pid = stale.name.removeprefix(f".{path.name}.").split(".", 1)[0]
        if pid.isdigit() and process_alive(int(pid)):
            continue
        stale.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Lake:
    """Plain-Python access to the lake under `root`; the Dagster resource wraps this."""

    def __init__(self, root: str | Path):
        # Path("s3://b/l") is a relative local path: writes would land in ./s3:/b/l unseen.
        if "://" in str(root):
            raise LakePathError(
                f"lake root {str(root)!r} (LakeResource.root or LEANOPS_LAKE_ROOT) is a URL: "
                f"object storage is not supported; give a shared POSIX path that every run "
                f"process and Spark executor reaches (a mounted volume or NFS)"
            )
        self.root = Path(root).resolve()

    def partition_path(self, stage: str, dataset: str, day: str) -> Path:
        path = (
            self.root
            / check_name("stage", stage)
            / check_name("dataset", dataset)
            / f"date={check_day(day)}"
            / "part.parquet"
        )
        if not path.resolve().is_relative_to(self.root):
            raise LakePathError(f"{path} escapes the lake root {self.root}")
        return path

    def table_path(self, stage: str, dataset: str) -> Path:
        path = (
            self.root
            / check_name("stage", stage)
            / check_name("dataset", dataset)
            / "table.parquet"
        )
        if not path.resolve().is_relative_to(self.root):
            raise LakePathError(f"{path} escapes the lake root {self.root}")
        return path

    def write_partition(
        self,
        stage: str,
        dataset: str,
        day: str,
        frame: pd.DataFrame,
        schema: pa.Schema | None = None,
        failed_gates: list[str] | None = None,
        file_metadata: dict[str, str] | None = None,
    ) -> WrittenFile:
        """Write one day. `failed_gates` (the blocking checks the day failed; empty: it passed)
        is stored in the same file, so the data and its verdict are replaced together; so is
        `file_metadata` (a feature day's input fingerprint)."""
        footer = dict(file_metadata or {})
        if failed_gates is not None:
            footer[GATES_KEY] = json.dumps(sorted(failed_gates))
        return write_parquet_atomic(
            frame, self.partition_path(stage, dataset, day), schema, footer or None
        )

    def failed_gates(self, stage: str, dataset: str, day: str) -> list[str]:
        """The blocking checks this day failed when it was written; empty if it passed or was
        written without a verdict. Readers of gated stages skip a day that failed."""
        import pyarrow.parquet as pq

        path = self.partition_path(stage, dataset, day)
        if not path.exists():
            raise FileNotFoundError(
                f"partition {day} of {stage}/{dataset} is not in the lake ({path}); "
                f"materialize it first"
            )
        recorded = (pq.read_schema(path).metadata or {}).get(GATES_KEY.encode())
        return json.loads(recorded) if recorded else []

    def passed_gates(self, stage: str, dataset: str, day: str) -> bool:
        """Whether the day is in the lake and passed its gates (readable downstream)."""
        return self.has_partition(stage, dataset, day) and not self.failed_gates(
            stage, dataset, day
        )

    def gated_days(self, stage: str, dataset: str, days: list[str]) -> dict[str, list[str]]:
        """The days of `days` in the lake whose verdict failed, with the gates they failed."""
        held = [day for day in days if self.has_partition(stage, dataset, day)]
        failed = {day: self.failed_gates(stage, dataset, day) for day in held}
        return {day: gates for day, gates in failed.items() if gates}

    def require_passed(self, stage: str, dataset: str, day: str, reader: str) -> None:
        """GatedDayError if the day failed its gates (its later stages may still hold the
        outputs of an earlier, passing delivery: nothing may read those)."""
        failed = self.gated_days(stage, dataset, [day]).get(day)
        if failed:
            raise GatedDayError(
                f"{stage}/{dataset} day {day} failed its gates {failed} ({self.root}); "
                f"{reader} reads no gated day: fix its landing file and re-materialize it"
            )

    def write_table(
        self, stage: str, dataset: str, frame: pd.DataFrame, schema: pa.Schema | None = None
    ) -> WrittenFile:
        return write_parquet_atomic(frame, self.table_path(stage, dataset), schema)

    def has_partition(self, stage: str, dataset: str, day: str) -> bool:
        return self.partition_path(stage, dataset, day).exists()

    def read_partition(self, stage: str, dataset: str, day: str) -> pd.DataFrame:
        import pandas as pd

        path = self.partition_path(stage, dataset, day)
        if not path.exists():
            raise FileNotFoundError(
                f"partition {day} of {stage}/{dataset} is not in the lake ({path}); "
                f"materialize it first"
            )
        return pd.read_parquet(path)

    def read_partitions(
        self, stage: str, dataset: str, days: list[str], missing_ok: bool = False
    ) -> pd.DataFrame:
        import pandas as pd

        frames = [
            self.read_partition(stage, dataset, day)
            for day in days
            if not missing_ok or self.has_partition(stage, dataset, day)
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def partition_rows(self, stage: str, dataset: str, day: str) -> int | None:
        """Row count from the Parquet footer, or None if the partition is absent."""
        import pyarrow.parquet as pq

        path = self.partition_path(stage, dataset, day)
        return pq.ParquetFile(path).metadata.num_rows if path.exists() else None

    def read_table(self, stage: str, dataset: str) -> pd.DataFrame:
        import pandas as pd

        path = self.table_path(stage, dataset)
        if not path.exists():
            raise FileNotFoundError(
                f"table {stage}/{dataset} is not in the lake ({path}); materialize it first"
            )
        return pd.read_parquet(path)

    def materialized_days(self, stage: str, dataset: str) -> list[str]:
        folder = self.root / check_name("stage", stage) / check_name("dataset", dataset)
        if not folder.exists():
            return []
        return sorted(
            p.parent.name.removeprefix("date=") for p in folder.glob("date=*/part.parquet")
        )
