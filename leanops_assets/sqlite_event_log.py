"""Dagster's SQLite event log, without a new engine per event or a migration check per run.

Dagster's own `SqliteEventLogStorage` creates an engine, opens a connection and disposes of both
for every read and write (a day's two runs write about 107 events), and checks each new run's
database against its migrations. Here each database keeps its engine and one pooled connection
(the index and the last few runs'), and a new run's database starts as a copy of an empty one that
Dagster itself created and stamped in this process. The files, schema and locking are Dagster's:
an existing home reads the same, and `dagster.yaml` selects this class.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS, create_db_conn_string
from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection, Engine

OPEN_RUN_DATABASES = 4  # engines kept besides the index's: runs in this process write one at a time


def default_base_dir() -> str:
    """Where Dagster keeps the run databases by default: $DAGSTER_HOME/history/runs/."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError("DAGSTER_HOME is not set: the event log needs it (or a base_dir)")
    return os.path.join(home, "history", "runs", "")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage that keeps one connection open per database."""

    def __init__(self, base_dir: str | None = None, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._empty_run_database: bytes | None = None
        self._engines_lock = threading.Lock()
        super().__init__(base_dir or default_base_dir(), inst_data)
        # Close the kept connections when the process ends: SQLite then folds each write-ahead
        # log into its database, as Dagster's per-event connections did.
        atexit.register(self._dispose_engines)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = create_engine(
                    create_db_conn_string(self._base_dir, shard),
                    pool_size=1,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
            self._engines[shard] = engine  # most recently used last
            runs = [name for name in self._engines if name != INDEX_SHARD_NAME]
            for stale in runs[:-OPEN_RUN_DATABASES]:
                self._engines.pop(stale).dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._init_database(shard, engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _init_database(self, shard: str, engine: Engine) -> None:
        """A new run's database from the empty copy; any other through Dagster's own checks."""
        path = self.path_for_shard(shard)
        if shard == INDEX_SHARD_NAME or os.path.exists(path) or self._empty_run_database is None:
            existed = os.path.exists(path)
            self._initdb(engine)
            if shard != INDEX_SHARD_NAME and not existed:
                self._empty_run_database = self._snapshot(engine, path)
            return
        staged = f"{path}.{os.getpid()}.new"
        with open(staged, "wb") as file:
            file.write(self._empty_run_database)
        try:
            os.link(staged, path)  # atomic: another process may have created it meanwhile
        except FileExistsError:
            self._initdb(engine)
        finally:
            os.unlink(staged)

    @staticmethod
    def _snapshot(engine: Engine, path: str) -> bytes | None:
        """The bytes of a just-created database, its write-ahead log folded in; None if it
        already holds an event or the log could not be folded in (another process at work)."""
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM event_logs")).scalar():
                return None
            busy, log_frames, folded = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
        if busy or log_frames != folded:
            return None
        with open(path, "rb") as file:
            return file.read()

    def _dispose_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # the files are deleted: no connection may outlive them
        super().wipe()

    def upgrade(self) -> None:
        self._dispose_engines()
        super().upgrade()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
