"""The contract's features: block: what flights declares, and bad blocks failing at load."""

import copy
from datetime import timedelta

import pytest
import yaml

from leanops_assets.contract import DATASETS_DIR, ContractError, load_contract, parse_contract

FLIGHTS = DATASETS_DIR / "flights" / "contract.yaml"


@pytest.fixture
def raw_contract():
    return yaml.safe_load(FLIGHTS.read_text())


def test_flights_declares_calendar_passthrough_rates_joins_and_its_function():
    spec = load_contract().features
    assert spec.lookback_days == 7
    assert spec.passthrough == ["carrier", "origin", "dest", "distance"]
    assert spec.calendar.of == "time_hour" and spec.calendar.timezone == "America/New_York"
    assert spec.calendar.parts == {
        "hour": "sched_dep_hour",
        "weekday": "weekday",
        "month": "month",
        "day_of_year": "day_of_year",
    }
    assert spec.rates.keys["route"] == ("origin", "dest")
    assert [(o.name, o.column, o.test) for o in spec.rates.outcomes] == [
        ("late", None, "target"),
        ("cancel", "dep_time", "is null"),
    ]
    assert spec.rates.prior_rows == 10.0
    planes, weather = spec.joins
    assert planes.keys == ("tailnum",) and planes.as_of is None
    assert planes.prefer[0] == ("year", True)
    assert weather.keys == ("origin",)
    assert weather.as_of.time == weather.as_of.row_time == "time_hour"
    assert weather.as_of.known_after == weather.as_of.max_age == timedelta(0)
    assert spec.function.reads == ("sched_dep_time", "plane_year")


def _features(contract):
    return contract["features"]


@pytest.mark.parametrize(
    ("mutate", "names"),
    [
        (lambda f: f.update(lookback_days=0), "features.lookback_days: 0"),
        (lambda f: f.update(windows=3), "features: unknown field(s) ['windows']"),
        (lambda f: f["numeric"].append("gate"), "features: 'gate' is neither a declared column"),
        (lambda f: f["numeric"].append("arr_delay"), "'arr_delay' is known only after"),
        (lambda f: f["numeric"].append("distance"), "['distance'] listed more than once"),
        (lambda f: f["numeric"].remove("visib"), "references.weather: 'visib' is in neither"),
        (lambda f: f["numeric"].remove("route_late_rate"), "rates: 'route_late_rate' is in"),
        (lambda f: f["categorical"].append("origin_late_rate"), "listed more than once"),
        # calendar
        (lambda f: f["calendar"].update(of="carrier"), "calendar.of: 'carrier'"),
        (lambda f: f["calendar"].update(of="dep_time"), "calendar.of: 'dep_time'"),
        (lambda f: f["calendar"]["parts"].update(week="week"), "calendar.parts: ['week']"),
        (lambda f: f["calendar"].update(timezone="Mars/Base"), "calendar.timezone"),
        # rates
        (lambda f: f["rates"]["keys"].update(gate="gate"), "rates.keys.gate"),
        (lambda f: f["rates"]["keys"].update(delay="arr_delay"), "rates.keys.delay"),
        (lambda f: f["rates"]["outcomes"].update(cancel="carrier"), "rates.outcomes.cancel"),
        (lambda f: f["rates"]["outcomes"].update(cancel="gate is null"), "'gate' is not a"),
        (lambda f: f["rates"].pop("prior_rows"), "rates: missing required field 'prior_rows'"),
        (lambda f: f["rates"].update(prior_rows=-1), "rates.prior_rows: -1"),
        # references
        (lambda f: f["references"].update(airports={"columns": ["x"]}), "references.airports"),
        (lambda f: f["references"]["planes"].update(columns=["wings"]), "['wings'] are not"),
        (lambda f: f["references"]["planes"].update(prefer=["age desc"]), "planes.prefer"),
        (lambda f: f["references"]["weather"]["as_of"].update(time="origin"), "as_of.time"),
        (lambda f: f["references"]["weather"]["as_of"].update(max_age="an hour"), "max_age"),
        (lambda f: f["references"]["weather"]["as_of"].update(row_time="dep_time"), "row_time"),
        # the dataset's function
        (lambda f: f["function"].update(reads=["arr_time"]), "function.reads: ['arr_time']"),
        (lambda f: f["function"]["reads"].remove("plane_year"), "'plane_year' is in neither"),
        (lambda f: f["function"]["adds"].remove("plane_age"), "'plane_age' is neither"),
    ],
)
def test_a_bad_features_block_fails_at_load_naming_the_field(raw_contract, mutate, names):
    broken = copy.deepcopy(raw_contract)
    mutate(_features(broken))
    with pytest.raises(ContractError) as error:
        parse_contract(broken, FLIGHTS)
    assert names in str(error.value)
    assert "flights/contract.yaml.features" in str(error.value)


def test_a_contract_without_a_features_block_loads_with_none(raw_contract):
    raw_contract.pop("features")
    assert parse_contract(raw_contract, FLIGHTS).features is None
