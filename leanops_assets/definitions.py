"""Assembles every stage's assets, checks, jobs, schedules, sensors and resources."""

from dagster import Definitions, define_asset_job, in_process_executor

from leanops_assets.contract import load_contract
from leanops_assets.ingestion.assets import planes, raw_flights, raw_weather
from leanops_assets.partitions import daily_partitions
from leanops_assets.resources import FlightsSourceResource, LakeResource
from leanops_assets.validation.assets import validated_flights

# A bad contract fails here, when the code location loads, naming the field.
load_contract()

daily_pipeline = define_asset_job(
    "daily_pipeline",
    selection=["raw_flights", "raw_weather", "validated_flights"],
    partitions_def=daily_partitions,
    description="One day: land raw flights and weather, validate, and everything downstream of them.",
)

reference_data = define_asset_job(
    "reference_data",
    selection=["planes"],
    description="Reference tables that are not partitioned by day.",
)

defs = Definitions(
    assets=[raw_flights, raw_weather, planes, validated_flights],
    jobs=[daily_pipeline, reference_data],
    resources={
        "lake": LakeResource(),
        "source": FlightsSourceResource(),
    },
    # One process per run: every asset in a run shares one SparkSession and pays imports once.
    executor=in_process_executor,
)
