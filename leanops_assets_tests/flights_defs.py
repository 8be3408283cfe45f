"""The bundled flights' assets, jobs and schedules as the stage factories build them for
datasets/flights/defs.yaml, by their historic names (resources unbound, for `materialize`):

    from leanops_assets_tests.flights_defs import raw_flights, validated_flights
"""

from functools import cache
from typing import Any


@cache
def _definitions() -> dict[str, Any]:
    from leanops_assets.dataset import bundled_dataset
    from leanops_assets.dataset_defs import build_dataset_defs
    from leanops_assets.features.assets import build_feature_assets
    from leanops_assets.ingestion.assets import build_ingestion_assets
    from leanops_assets.monitoring.assets import build_monitoring_assets
    from leanops_assets.registry.assets import build_registry_assets
    from leanops_assets.training.assets import build_training_assets
    from leanops_assets.validation.assets import build_validation_assets

    ds = bundled_dataset()
    built = [
        *build_ingestion_assets(ds),
        *build_validation_assets(ds),
        *build_feature_assets(ds),
        *build_training_assets(ds),
        *build_registry_assets(ds),
        *build_monitoring_assets(ds),
    ]
    named: dict[str, Any] = {a.key.to_user_string(): a for a in built}
    defs = build_dataset_defs(ds)
    named.update({job.name: job for job in defs.jobs or []})
    named.update({schedule.name: schedule for schedule in defs.schedules or []})
    named["daily_schedule"] = named["daily_pipeline_schedule"]
    return named


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return _definitions()[name]
    except KeyError:
        raise AttributeError(f"flights have no asset, job or schedule named {name!r}") from None
