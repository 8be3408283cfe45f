"""The champion is read from the registry the settings name, whatever store an earlier step of
the same process pointed the mlflow module at (mlflow keeps it process-wide)."""

from __future__ import annotations

from leanops_assets.dataset import bundled_dataset
from leanops_assets.replay_runs import champion_version
from leanops_assets.resources import MlflowResource
from leanops_assets.training.tracking import model_name_for


def _register_champion(uri: str, name: str, versions: int) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model(name)
    for _ in range(versions):
        version = client.create_model_version(name, source="file:///nonexistent/model")
    client.set_registered_model_alias(name, "champion", version.version)


def test_the_champion_comes_from_the_configured_registry_not_a_leftover_one(leanops_home, tmp_path):
    import mlflow

    settings = MlflowResource()
    name = model_name_for(settings, bundled_dataset())
    _register_champion(settings.resolved_tracking_uri(), name, 1)
    # An earlier step of this process worked with another store, whose champion is version 2.
    other = f"sqlite:///{tmp_path / 'other.db'}"
    _register_champion(other, name, 2)
    mlflow.set_registry_uri(other)
    try:
        assert champion_version(bundled_dataset()) == "1"
    finally:
        mlflow.set_registry_uri(settings.resolved_tracking_uri())
