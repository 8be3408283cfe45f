"""A lake holding the real Spark features of bundled days, for the tests that train on them."""

from __future__ import annotations

from leanops_assets.storage import Lake


def write_spark_features(spark, lake: Lake, input_days: list[str], lookback_days: int) -> list[str]:
    """Validated flights and raw weather of INPUT_DAYS plus the planes table, as the data stages
    leave them, then the project's own feature job over the days that have a full look-back.
    Returns the feature days."""
    from leanops_assets.contract import load_contract
    from leanops_assets.datasets.flights.source import bundled_day, bundled_table
    from leanops_assets.features.lake_io import materialize_feature_days
    from leanops_assets.validation.derived import add_derived_columns

    for day in input_days:
        validated = add_derived_columns(bundled_day("flights", day), day, load_contract())
        lake.write_partition("validated", "flights", day, validated)
        lake.write_partition("raw", "weather", day, bundled_day("weather", day))
    lake.write_table("raw", "planes", bundled_table("planes"))
    target_days = input_days[lookback_days:]
    materialize_feature_days(spark, lake, load_contract(), target_days, lookback_days)
    return target_days
