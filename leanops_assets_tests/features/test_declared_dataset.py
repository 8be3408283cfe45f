"""A second dataset with no feature code: bike rentals, features from its contract alone.

Read from a lake by the product's reader and built by the generic builder on real Spark. Every
expected value is worked out by hand below from the rows in rentals.py.
"""

import copy

import pytest
import yaml

from leanops_assets.contract import ContractError, parse_contract
from leanops_assets.features.declared import build_features
from leanops_assets.features.lake_io import (
    check_features_known_at_prediction_time,
    read_feature_inputs,
)
from leanops_assets_tests.features.rentals import CONTRACT_PATH, rentals_contract, rentals_lake

COLUMNS = [
    "rental_key", "rental_day", "is_long", "station", "bike_type",
    "hour", "minute_of_day", "weekday", "month", "day_of_year", "docked_bikes", "temp_c",
    "station_long_rate", "station_damaged_rate",
]  # fmt: skip
NAN = float("nan")

# Rates of 2024-03-04 over its two look-back days, 03-02 and 03-03 (03-01 is three days back):
# north: r05 long, r06, r09 long -> 3 rows, 2 long, 0 damaged
# south: r07 long and damaged, r08; r10's outcome is unknown, so it counts for nothing
#        -> 2 rows, 1 long, 1 damaged
# overall: 5 rows, 3 long (0.6), 1 damaged (0.2); prior_rows 2:
NORTH_LONG, NORTH_DAMAGED = (2 + 2 * 0.6) / (3 + 2), (0 + 2 * 0.2) / (3 + 2)  # 0.64, 0.08
SOUTH_LONG, SOUTH_DAMAGED = (1 + 2 * 0.6) / (2 + 2), (1 + 2 * 0.2) / (2 + 2)  # 0.55, 0.35
EAST_LONG, EAST_DAMAGED = 0.6, 0.2  # no east rental before: the overall rates

EXPECTED = {
    # Paris is UTC+1 in March: 07:30Z is 08:30 there. Weather (known 10 min after it is taken)
    # at 07:20 at the latest: the two 07:00 observations (2.0, 2.4) averaged; 07:25 not known.
    "r11": dict(is_long=0, station="north", bike_type="ebike", hour=8, minute_of_day=510,
                weekday=0, month=3, day_of_year=64, docked_bikes=9, temp_c=2.2,
                station_long_rate=NORTH_LONG, station_damaged_rate=NORTH_DAMAGED),
    # 09:05Z: the 09:00 observation is known only at 09:10, so 08:00's
    "r12": dict(is_long=1, station="south", bike_type="city", hour=10, minute_of_day=605,
                weekday=0, month=3, day_of_year=64, docked_bikes=1, temp_c=5.0,
                station_long_rate=SOUTH_LONG, station_damaged_rate=SOUTH_DAMAGED),
    # no observation at east
    "r13": dict(is_long=1, station="east", bike_type="city", hour=11, minute_of_day=660,
                weekday=0, month=3, day_of_year=64, docked_bikes=0, temp_c=NAN,
                station_long_rate=EAST_LONG, station_damaged_rate=EAST_DAMAGED),
    # 11:30Z: the newest known north observation (08:00) is older than max_age 3h
    "r14": dict(is_long=None, station="north", bike_type=None, hour=12, minute_of_day=750,
                weekday=0, month=3, day_of_year=64, docked_bikes=2, temp_c=NAN,
                station_long_rate=NORTH_LONG, station_damaged_rate=NORTH_DAMAGED),
    # The first day, a Friday: no day before it, every rate null. 22:45Z is 23:45 in Paris;
    # 22:00's 7.5 is the weather (22:20's 99.0 breaks the contract's max 60 and is left out).
    "r01": dict(is_long=1, station="north", bike_type="city", hour=23, minute_of_day=1425,
                weekday=4, month=3, day_of_year=61, docked_bikes=5, temp_c=7.5,
                station_long_rate=NAN, station_damaged_rate=NAN),
}  # fmt: skip


def same(found, expected) -> bool:
    if expected is None:
        return found is None or found != found
    if isinstance(expected, float) and expected != expected:
        return found != found
    if isinstance(expected, float):
        return found == pytest.approx(expected, abs=1e-12)
    return found == expected


def test_a_contract_with_only_a_features_block_gets_its_features(spark, tmp_path):
    contract = rentals_contract()
    lake = rentals_lake(tmp_path)
    days = ["2024-03-01", "2024-03-04"]
    check_features_known_at_prediction_time(contract.features.columns, contract)

    inputs = read_feature_inputs(spark, lake, contract, days, 2)
    assert inputs.row_days == ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]
    assert inputs.reference_rows_left_out == {"station_weather": {"out of range: temp_c": 1}}
    features = build_features(contract, inputs.rows, inputs.references, days)

    assert features.columns == COLUMNS
    frame = features.toPandas().set_index("rental_key")
    assert sorted(frame.index) == ["r01", "r02", "r03", "r04", "r11", "r12", "r13", "r14"]
    for rental, expected in EXPECTED.items():
        row = frame.loc[rental]
        differ = {c: (row[c], v) for c, v in expected.items() if not same(row[c], v)}
        assert not differ, f"{rental}: (found, expected) {differ}"
    first_day = frame[frame["rental_day"].astype(str) == "2024-03-01"]
    assert first_day[["station_long_rate", "station_damaged_rate"]].isna().all().all()
    assert first_day.loc["r02", "hour"] == 10 and first_day.loc["r02", "temp_c"] != 7.5


def test_a_post_event_column_cannot_be_declared_a_feature():
    raw = yaml.safe_load(CONTRACT_PATH.read_text())
    broken = copy.deepcopy(raw)
    broken["features"]["numeric"].append("duration_min")
    with pytest.raises(ContractError, match=r"rentals/contract.yaml.features: 'duration_min'"):
        parse_contract(broken, CONTRACT_PATH)
    by_key = copy.deepcopy(raw)
    by_key["features"]["rates"]["keys"]["damage"] = "returned_damaged"
    with pytest.raises(ContractError, match=r"features.rates.keys.damage"):
        parse_contract(by_key, CONTRACT_PATH)


def test_a_declared_function_without_its_features_py_is_named(tmp_path):
    from leanops_assets.contract import load_contract_file
    from leanops_assets.features.declared import dataset_function

    folder = tmp_path / "rentals"
    folder.mkdir()
    raw = yaml.safe_load(CONTRACT_PATH.read_text())
    raw["features"]["numeric"].append("minutes_to_close")
    raw["features"]["function"] = {"name": "add_rental_features", "adds": ["minutes_to_close"]}
    (folder / "contract.yaml").write_text(yaml.safe_dump(raw))
    weather = CONTRACT_PATH.parent / "station_weather.yaml"
    (folder / "station_weather.yaml").write_text(weather.read_text())
    contract = load_contract_file(folder / "contract.yaml")
    with pytest.raises(ValueError, match=r"features.function needs .*rentals/features.py"):
        dataset_function(contract)
    (folder / "features.py").write_text("def add_features(rows, target_dates):\n    return rows\n")
    with pytest.raises(ValueError, match=r"features.py has no function 'add_rental_features'"):
        dataset_function(contract)
