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
    ],
)
def test_bad_contract_fails_naming_the_field(raw_contract, mutate, names, tmp_path):
    broken = copy.deepcopy(raw_contract)
    mutate(broken)
    with pytest.raises(ContractError) as error:
        parse_contract(broken, tmp_path / "flights.yaml")
    assert names in str(error.value)
    assert "flights.yaml" in str(error.value)
