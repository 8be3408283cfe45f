"""A small synthetic second dataset: bike rentals at three stations over four days of 2024.

Its contract (leanops_assets_tests/datasets/rentals/) declares every feature; it has no feature
code. Each raw day is delivered as a landing CSV, read by the product's landing reader and
validated by its validate_partition against the rentals contract.
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


def write_landing_day(landing: Path, day: str, rows: list[tuple]) -> Path:
    """The rows as the day's landing CSV, <landing>/rentals/rentals_<day>.csv (NA: empty cell)."""
    path = landing / "rentals" / f"rentals_{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


def raw_observations(day: str) -> pd.DataFrame:
    rows = [row for row in OBSERVATIONS if row[1].startswith(day)]
    return pd.DataFrame(rows, columns=["station", "observed_at", "temp_c"])


def validated_day(contract: Contract, landing: Path, day: str) -> pd.DataFrame:
    """A day's rentals landed as CSV, then validated by the product; none may be quarantined."""
    from leanops_assets.ingestion.sources import landing_day
    from leanops_assets.validation.rules import validate_partition

    write_landing_day(landing, day, [row for row in RENTALS if row[3].startswith(day)])
    raw, _ = landing_day(landing, "rentals", day)
    outcome = validate_partition(raw, contract, day)
    assert outcome.quarantine.empty, f"{day}: {outcome.reason_counts}"
    return outcome.validated


def rentals_lake(root: Path) -> Lake:
    """The four days validated into a lake, and the station weather as delivered, raw."""
    contract, lake = rentals_contract(), Lake(root)
    from leanops_assets.validation.rules import validated_schema

    for day in DAYS:
        rows = validated_day(contract, root / "landing", day)
        lake.write_partition("validated", contract.name, day, rows, validated_schema(contract))
        lake.write_partition("raw", "station_weather", day, raw_observations(day))
    return lake


def rentals_dataset():
    """The rentals as a second dataset of the code location: its keys under rentals/."""
    from leanops_assets.dataset import contract_dataset

    return contract_dataset(CONTRACT_PATH, key_prefix=("rentals",))


def write_landing_observations(landing: Path, day: str) -> Path:
    """The day's station weather as its landing CSV (a day without observations: header only)."""
    path = landing / "station_weather" / f"station_weather_{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    raw_observations(day).to_csv(path, index=False)
    return path
