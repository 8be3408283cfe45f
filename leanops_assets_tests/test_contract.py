import copy

import pytest
import yaml

from leanops_assets.contract import CONTRACTS_DIR, ContractError, load_contract, parse_contract


@pytest.fixture
def raw_contract():
    return yaml.safe_load((CONTRACTS_DIR / "flights.yaml").read_text())


def test_bundled_contract_declares_target_keys_and_post_event_columns():
    contract = load_contract("flights")
    assert contract.target_name == "is_late"
    assert contract.target_threshold_minutes == 15
    assert set(contract.source_keys) == {"carrier", "flight", "origin", "sched_dep_time"}
    assert {"arr_delay", "dep_delay", "arr_time", "dep_time", "air_time"} <= set(
        contract.post_event_columns
    )
    assert contract.columns["origin"].allowed == ("EWR", "JFK", "LGA")
    assert not contract.columns["carrier"].nullable


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
    ],
)
def test_bad_contract_fails_naming_the_field(raw_contract, mutate, names, tmp_path):
    broken = copy.deepcopy(raw_contract)
    mutate(broken)
    with pytest.raises(ContractError) as error:
        parse_contract(broken, tmp_path / "flights.yaml")
    assert names in str(error.value)
    assert "flights.yaml" in str(error.value)


def test_partitions_are_open_ended_unless_the_contract_sets_an_end(raw_contract, tmp_path):
    from leanops_assets.partitions import daily_partitions, daily_partitions_for

    assert load_contract().partition_end is None
    assert daily_partitions.get_first_partition_key() == "2013-01-01"
    assert daily_partitions.end is None
    closed = copy.deepcopy(raw_contract)
    closed["partition"]["end"] = "2013-12-31"
    keys = daily_partitions_for(parse_contract(closed, tmp_path / "flights.yaml"))
    assert keys.get_last_partition_key() == "2013-12-31"
