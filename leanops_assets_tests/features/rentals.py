"""A small synthetic second dataset: bike rentals at three stations over four days of 2024.

Its contract (leanops_assets_tests/datasets/rentals/) declares every feature; it has no feature
code. The raw days are delivered as a landing file would hold them (timestamps as text), typed
by the contract and given their id and target by the product's own functions. (validate_partition
itself still checks flights' year/month/day columns: issue 11 item 2, not this dataset's path.)
"""

from pathlib import Path

import pandas as pd

from leanops_assets.contract import Contract, load_contract_file
from leanops_assets.storage import Lake

CONTRACT_PATH = Path(__file__).parents[1] / "datasets" / "rentals" / "contract.yaml"
DAYS = ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]
COLUMNS = ["rental_id", "station", "bike_type", "started_at", "docked_bikes", "duration_min",
           "returned_damaged"]  # fmt: skip
NA = None
RENTALS = [
    # 2024-03-01, a Friday: the first day, outside the look-back of 2024-03-04
    ("r01", "north", "city", "2024-03-01T22:45:00Z", 5, 40.0, True),
    ("r02", "north", "ebike", "2024-03-01T09:00:00Z", 6, 10.0, False),
    ("r03", "north", "city", "2024-03-01T10:00:00Z", 7, 50.0, False),
    ("r04", "south", NA, "2024-03-01T11:00:00Z", 8, 5.0, False),
    # 2024-03-02
    ("r05", "north", "city", "2024-03-02T08:00:00Z", 3, 35.0, False),
    ("r06", "north", "city", "2024-03-02T09:00:00Z", 3, 20.0, False),
    ("r07", "south", "ebike", "2024-03-02T10:00:00Z", 2, 45.0, True),
    ("r08", "south", "city", "2024-03-02T11:00:00Z", 2, 15.0, False),
    # 2024-03-03: r10's bike is still out, its outcome unknown (it counts for no rate)
    ("r09", "north", "city", "2024-03-03T12:00:00Z", 4, 60.0, False),
    ("r10", "south", "city", "2024-03-03T13:00:00Z", 4, NA, True),
    # 2024-03-04, a Monday: the day scored
    ("r11", "north", "ebike", "2024-03-04T07:30:00Z", 9, 5.0, False),
    ("r12", "south", "city", "2024-03-04T09:05:00Z", 1, 90.0, True),
    ("r13", "east", "city", "2024-03-04T10:00:00Z", 0, 31.0, False),
    ("r14", "north", NA, "2024-03-04T11:30:00Z", 2, NA, NA),
]
OBSERVATIONS = [
    ("north", "2024-03-01T22:00:00Z", 7.5),
    ("north", "2024-03-01T22:20:00Z", 99.0),  # above the contract's 60: left out
    ("north", "2024-03-04T06:00:00Z", 1.0),
    ("north", "2024-03-04T07:00:00Z", 2.0),
    ("north", "2024-03-04T07:00:00Z", 2.4),  # the same instant twice: averaged
    ("north", "2024-03-04T07:25:00Z", 3.0),
    ("north", "2024-03-04T08:00:00Z", 4.0),
    ("south", "2024-03-04T08:00:00Z", 5.0),
    ("south", "2024-03-04T09:00:00Z", 6.0),
]


def rentals_contract() -> Contract:
    return load_contract_file(CONTRACT_PATH)


def raw_day(day: str) -> pd.DataFrame:
    rows = [row for row in RENTALS if row[3].startswith(day)]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["returned_damaged"] = frame["returned_damaged"].astype("boolean")
    return frame


def raw_observations(day: str) -> pd.DataFrame:
    rows = [row for row in OBSERVATIONS if row[1].startswith(day)]
    return pd.DataFrame(rows, columns=["station", "observed_at", "temp_c"])


def validated_day(contract: Contract, day: str) -> pd.DataFrame:
    """A raw day typed per the contract, with its partition day, id and target."""
    from leanops_assets.validation.derived import add_derived_columns
    from leanops_assets.validation.rules import cast_column

    raw = raw_day(day)
    typed = pd.DataFrame(index=raw.index)
    for name, spec in contract.columns.items():
        typed[name], failed = cast_column(raw[name], spec)
        assert not failed.any(), f"{day}: {name} does not parse"
    return add_derived_columns(typed, day, contract)


def rentals_lake(root: Path) -> Lake:
    """The four days validated into a lake, and the station weather as delivered, raw."""
    contract, lake = rentals_contract(), Lake(root)
    for day in DAYS:
        lake.write_partition("validated", contract.name, day, validated_day(contract, day))
        lake.write_partition("raw", "station_weather", day, raw_observations(day))
    return lake
