"""Rollback: point the champion alias back at an earlier version and record when and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from leanops_assets.registry.locking import holding_registry_lock
from leanops_assets.registry.promotion import (
    CHAMPION,
    PREVIOUS,
    TAG_PREFIX,
    RegistryError,
    decision_time,
    version_by_alias,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion


@dataclass(frozen=True)
class Rollback:
    from_version: str
    to_version: str
    at: str
    reason: str


def _move_champion(
    client: MlflowClient, name: str, current: ModelVersion, version: str | None, reason: str
) -> Rollback:
    if version is None:
        previous = version_by_alias(client, name, PREVIOUS)
        if previous is None:
            raise RegistryError(
                f"registered model {name!r} has no version with alias {PREVIOUS!r}; "
                f"pass the version to roll back to"
            )
        version = str(previous.version)
    target = str(client.get_model_version(name, str(version)).version)
    source = str(current.version)
    if target == source:
        raise RegistryError(f"version {target} of {name!r} is already the champion")
    when = decision_time()
    client.set_registered_model_alias(name, CHAMPION, target)
    previous = version_by_alias(client, name, PREVIOUS)
    if previous is not None and str(previous.version) == target:
        client.delete_registered_model_alias(name, PREVIOUS)
    for key, value in {
        "rolled_back_to_at": when,
        "rolled_back_to_reason": reason,
        "rolled_back_from": source,
    }.items():
        client.set_model_version_tag(name, target, f"{TAG_PREFIX}{key}", value)
    for key, value in {
        "rolled_back_from_at": when,
        "rolled_back_from_reason": reason,
        "rolled_back_to": target,
    }.items():
        client.set_model_version_tag(name, source, f"{TAG_PREFIX}{key}", value)
    return Rollback(source, target, when, reason)


@holding_registry_lock
def rollback_champion(
    client: MlflowClient, name: str, version: str | None = None, reason: str = "manual rollback"
) -> Rollback:
    """Point `champion` at `version` (default: the version holding `previous`) and record when and why
    on both versions. `previous` is cleared when it was the target: it is now the champion."""
    current = version_by_alias(client, name, CHAMPION)
    if current is None:
        raise RegistryError(f"registered model {name!r} has no champion to roll back from")
    return _move_champion(client, name, current, version, reason)


@holding_registry_lock
def rollback_once(
    client: MlflowClient, name: str, from_version: str, to_version: str, reason: str
) -> Rollback | None:
    """The automatic rollback: only while `from_version` is still the champion and was never
    rolled back before, so concurrent or repeated checks roll it back exactly once. None when
    there is nothing to do."""
    current = version_by_alias(client, name, CHAMPION)
    if current is None or str(current.version) != from_version:
        return None
    if f"{TAG_PREFIX}rolled_back_from_at" in current.tags:
        return None
    return _move_champion(client, name, current, to_version, reason)
