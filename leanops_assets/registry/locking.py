"""One registry decision at a time: a file lock around each read-decide-write sequence."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from mlflow import MlflowClient

T = TypeVar("T")


def lock_path(registry_uri: str) -> Path:
    """The lock file serialising registry decisions: next to a SQLite registry, else one per
    registry URI in the temporary folder of this machine."""
    if registry_uri.startswith("sqlite:///"):
        database = Path(registry_uri.removeprefix("sqlite:///"))
        return database.with_name(f"{database.name}.promotion.lock")
    digest = hashlib.sha256(registry_uri.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"leanops-registry-{digest}.lock"


def _registry_uri(client: MlflowClient) -> str:
    # MlflowClient keeps the registry URI it resolved (explicit, set_registry_uri, or the
    # tracking URI) only in this attribute.
    return getattr(client, "_registry_uri", None) or client.tracking_uri


@contextmanager
def registry_lock(registry_uri: str) -> Iterator[None]:
    """Hold an exclusive lock on the registry for a read-decide-write sequence.

    Two promotions that both read "no champion" (or the same champion) and then both move the
    alias would leave whichever wrote last, not the better version. The lock makes the champion
    read, the gate and the alias moves one step. It covers the processes of one machine (the
    embedded SQLite registry, or several runs on one host against a server); the kernel releases
    it when a holder is killed.
    """
    path = lock_path(registry_uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def holding_registry_lock(step: Callable[..., T]) -> Callable[..., T]:
    """Run a read-decide-write `step(client, ...)` under the lock of the client's registry."""

    @functools.wraps(step)
    def locked(client: MlflowClient, *args: Any, **kwargs: Any) -> T:
        with registry_lock(_registry_uri(client)):
            return step(client, *args, **kwargs)

    return locked
