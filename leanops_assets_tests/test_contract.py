import copy

import pytest
import yaml

from leanops_assets.contract import DATASETS_DIR, ContractError, load_contract, parse_contract

FLIGHTS = DATASETS_DIR / "flights" / "contract.yaml"


@pytest.fixture
def raw_contract():
    return yaml.safe_load(FLIGHTS.read_text())


def test_bundled_contract_declares_target_keys_and_post_event_columns():
    contract = load_contract("flights")
    assert contract.source_path == FLIGHTS
    assert contract.target_name == "is_late"
    assert (contract.target.column, contract.target.operator) == ("arr_delay", ">")
    assert (contract.target.threshold, contract.target.missing) == (15, "positive")
    assert contract.entity_id == "flight_id"
    assert contract.entity.columns == (
        "carrier",
        "flight",
        "origin",
        "flight_date",
        "sched_dep_time",
    )
    assert set(contract.source_keys) == {"carrier", "flight", "origin", "sched_dep_time"}
    assert {"arr_delay", "dep_delay", "arr_time", "dep_time", "air_time"} <= set(
        contract.post_event_columns
    )
    assert contract.row_day.columns == ("year", "month", "day")
    assert contract.prediction_time_column == "time_hour"
    assert contract.columns["time_hour"].type == "timestamp"
    assert contract.columns["time_hour"].timezone == "UTC"
    assert contract.columns["origin"].allowed == ("EWR", "JFK", "LGA")
    assert not contract.columns["carrier"].nullable
    assert contract.references["weather"].join_keys == ("origin", "time_hour")
    assert contract.references["planes"].columns["tailnum"].type == "string"


def _set_target(contract, **fields):
    contract["target"].update(fields)


def _set_row_day(contract, **fields):
    contract["partition"]["day_of_row"] = fields


@pytest.mark.parametrize(
    ("mutate", "names"),
    [
        (lambda c: c.pop("keys"), "'keys'"),
        (lambda c: c["columns"]["distance"].update(type="decimal"), "columns.distance.type"),
        (lambda c: c["columns"]["distance"].update(min=10000), "columns.distance"),
        (lambda c: c["columns"]["carrier"].update(nullable=True), "'carrier'"),
        (lambda c: c["keys"].append("gate"), "keys: 'gate'"),
        (lambda c: c["post_event_columns"].remove("arr_delay"), "post_event_columns"),
        (lambda c: c["quarantine"].update(max_share=5), "quarantine.max_share"),
        (lambda c: c["columns"]["month"].update(maximum=12), "columns.month"),
        (lambda c: c["partition"].update(start="2013-13-01"), "partition"),
        (lambda c: c["partition"].update(end="2012-12-31"), "partition: start 2013-01-01 is after"),
        (
            lambda c: c["partition"].update(stop="2014-01-01"),
            "partition: unknown field(s) ['stop']",
        ),
        # how a row's own day is known, checked against its partition at validation
        (
            lambda c: c["partition"].pop("day_of_row"),
            "partition: missing required field 'day_of_row'",
        ),
        (lambda c: _set_row_day(c, year="year", month="month"), "partition.day_of_row: expected"),
        (
            lambda c: _set_row_day(c, year="year", month="carrier", day="day"),
            "partition.day_of_row.month: 'carrier' must be a declared int column",
        ),
        (lambda c: _set_row_day(c, column="distance"), "day_of_row.column: 'distance' must be"),
        (
            lambda c: _set_row_day(c, column="time_hour"),
            "day_of_row.timezone: the day of timestamp",
        ),
        (
            lambda c: _set_row_day(c, column="time_hour", timezone="Mars/Base"),
            "day_of_row.timezone: 'Mars/Base' is not a known time zone",
        ),
        # the target as an expression
        (lambda c: _set_target(c, expression="arr_delay >> 15"), "target.expression"),
        (lambda c: _set_target(c, expression="carrier > 3"), "'carrier' is not numeric"),
        (lambda c: _set_target(c, expression="distance"), "neither a boolean column"),
        (lambda c: _set_target(c, expression="gate > 3"), "'gate' is not a declared column"),
        (lambda c: _set_target(c, missing="late"), "target.missing"),
        # the entity id, the prediction time, typed timestamps, reference tables
        (lambda c: c["entity_id"].update(template="{carrier}-{gate}"), "entity_id.template"),
        (lambda c: c.update(entity_id="flight_id"), "entity_id: expected a mapping"),
        (lambda c: c["prediction_time"].update(column="carrier"), "prediction_time.column"),
        (lambda c: c["columns"]["time_hour"].pop("format"), "columns.time_hour.format"),
        (lambda c: c["columns"]["time_hour"].update(timezone="Mars/Base"), "time_hour.timezone"),
        (lambda c: c["columns"]["distance"].update(format="%Y"), "columns.distance"),
        (lambda c: c["references"].append("airports"), "airports.yaml does not exist"),
        (lambda c: c["outcomes"]["columns"].remove("arr_delay"), "outcomes.columns"),
    ],
)
def test_bad_contract_fails_naming_the_field(raw_contract, mutate, names):
    broken = copy.deepcopy(raw_contract)
    mutate(broken)
    with pytest.raises(ContractError) as error:
        parse_contract(broken, FLIGHTS)
    assert names in str(error.value)
    assert "flights/contract.yaml" in str(error.value)


def test_a_reference_contract_must_join_on_columns_of_the_dataset(raw_contract, tmp_path):
    folder = tmp_path / "flights"
    folder.mkdir()
    weather = yaml.safe_load((DATASETS_DIR / "flights" / "weather.yaml").read_text())
    weather["join_keys"] = ["origin", "station"]
    (folder / "weather.yaml").write_text(yaml.safe_dump(weather))
    (folder / "planes.yaml").write_text((DATASETS_DIR / "flights" / "planes.yaml").read_text())
    with pytest.raises(ContractError, match=r"flights/weather.yaml.join_keys: 'station'"):
        parse_contract(raw_contract, folder / "contract.yaml")


def test_partitions_are_open_ended_unless_the_contract_sets_an_end(raw_contract):
    from leanops_assets.partitions import daily_partitions_for

    assert load_contract().partition_end is None
    daily_partitions = daily_partitions_for(load_contract())
    assert daily_partitions.get_first_partition_key() == "2013-01-01"
    assert daily_partitions.end is None
    closed = copy.deepcopy(raw_contract)
    closed["partition"]["end"] = "2013-12-31"
    keys = daily_partitions_for(parse_contract(closed, FLIGHTS))
    assert keys.get_last_partition_key() == "2013-12-31"
