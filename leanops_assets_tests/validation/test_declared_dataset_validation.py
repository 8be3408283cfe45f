"""A second dataset through the product's own validation: a day of bike rentals landed as CSV,
checked by its contract (rentals: a row's day is its start, read in Paris local time)."""

from datetime import date

import pandas as pd

from leanops_assets.ingestion.sources import landing_day
from leanops_assets.validation.rules import validate_partition
from leanops_assets_tests.features.rentals import RENTALS, rentals_contract, write_landing_day

DAY = "2024-03-04"


def test_a_rentals_day_is_validated_and_quarantined_by_its_contract(tmp_path):
    rows = [row for row in RENTALS if row[3].startswith(DAY)] + [
        # 23:30Z on the 3rd is 00:30 on the 4th in Paris: a rental of this day
        ("r20", "east", "ebike", "2024-03-03T23:30:00Z", 3, 30.0, False),
        # 23:30Z on the 4th is 00:30 on the 5th in Paris: a rental of the next day
        ("r21", "north", "city", "2024-03-04T23:30:00Z", 4, 12.0, False),
        ("r22", "south", "city", "4 March 2024, 10:00", 4, 12.0, False),
        ("r23", "south", "city", "2024-03-04T10:15:00Z", 140, 12.0, False),  # max 100 docked
    ]
    write_landing_day(tmp_path, DAY, rows)
    raw, _ = landing_day(tmp_path, "rentals", DAY)

    outcome = validate_partition(raw, rentals_contract(), DAY)

    quarantined = outcome.quarantine.set_index("rental_id")
    assert quarantined["_reason"].to_dict() == {
        "r21": "date: row is not of partition 2024-03-04",
        "r22": "type: started_at is not timestamp",
        "r23": "out of range: docked_bikes",
    }
    assert quarantined.loc["r22", "started_at"] == "4 March 2024, 10:00"  # kept as delivered
    assert quarantined.loc["r23", "docked_bikes"] == "140"
    assert outcome.schema.ok and outcome.raw_rows == 8

    validated = outcome.validated
    assert validated["rental_key"].tolist() == ["r11", "r12", "r13", "r14", "r20"]
    assert validated["rental_id"].tolist() == ["r11", "r12", "r13", "r14", "r20"]
    # duration_min > 30: 5, 90, 31, still out (unknown), 30
    assert validated["is_long"].tolist() == [0, 1, 1, pd.NA, 0]
    assert set(validated["rental_day"]) == {date(2024, 3, 4)}
    assert validated["started_at"].iloc[4] == pd.Timestamp("2024-03-03T23:30:00Z")
    assert validated["docked_bikes"].tolist() == [9, 1, 0, 2, 3]
    assert validated["returned_damaged"].tolist() == [False, True, False, pd.NA, False]


def test_the_validation_stage_reads_and_writes_the_contracts_dataset(tmp_path):
    from leanops_assets.storage import Lake
    from leanops_assets.validation.assets import VOLUME_CHECK, validate_day
    from leanops_assets_tests.features.rentals import DAYS

    contract, lake = rentals_contract(), Lake(tmp_path / "lake")
    for day in DAYS:  # 4, 4, 2 and 4 rentals
        write_landing_day(tmp_path, day, [row for row in RENTALS if row[3].startswith(day)])
        lake.write_partition("raw", "rentals", day, landing_day(tmp_path, "rentals", day)[0])
        done = validate_day(lake, day, contract, max_share=0.5, band=0.9)
        assert done.failed == [], day

    volume = next(c for c in done.checks if c.check_name == VOLUME_CHECK)
    # the trailing days are the rentals' own: (4 + 4 + 2) / 3, within +-90 %
    assert volume.metadata["expected"].value == (
        "0 .. 6 rows (trailing average 3 over 3 days, +-90%)"
    )
    written = lake.read_partition("validated", "rentals", "2024-03-04")
    assert written["rental_key"].tolist() == ["r11", "r12", "r13", "r14"]
    assert lake.read_partition("quarantine", "rentals", "2024-03-04").empty


def test_a_row_day_can_be_a_date_column():
    import yaml

    from leanops_assets.contract import parse_contract
    from leanops_assets_tests.features.rentals import CONTRACT_PATH

    raw_contract = yaml.safe_load(CONTRACT_PATH.read_text())
    raw_contract["columns"]["booked_on"] = {"type": "date", "nullable": False, "format": "%d/%m/%Y"}
    raw_contract["partition"]["day_of_row"] = {"column": "booked_on"}
    contract = parse_contract(raw_contract, CONTRACT_PATH)
    raw = pd.DataFrame(
        [
            ("r11", "north", "ebike", "2024-03-04T07:30:00Z", "9", "5.0", "False", "04/03/2024"),
            ("r12", "south", "city", "2024-03-04T09:05:00Z", "1", "90.0", "True", "05/03/2024"),
            ("r13", "east", "city", "2024-03-04T10:00:00Z", "0", "31.0", "False", "04/03/2024"),
            ("r14", "north", None, "2024-03-04T11:30:00Z", "2", None, None, None),
        ],
        columns=[*contract.columns],
    )

    outcome = validate_partition(raw, contract, DAY)

    assert outcome.quarantine.set_index("rental_id")["_reason"].to_dict() == {
        "r12": "date: row is not of partition 2024-03-04",
        "r14": "null: booked_on",
    }
    assert outcome.validated["rental_key"].tolist() == ["r11", "r13"]
    assert outcome.validated["booked_on"].tolist() == [date(2024, 3, 4), date(2024, 3, 4)]


def test_a_contract_edited_under_the_same_name_is_checked_by_its_own_rules(tmp_path):
    import yaml

    from leanops_assets.contract import parse_contract
    from leanops_assets_tests.features.rentals import CONTRACT_PATH

    write_landing_day(tmp_path, DAY, [row for row in RENTALS if row[3].startswith(DAY)])
    raw, _ = landing_day(tmp_path, "rentals", DAY)
    assert validate_partition(raw, rentals_contract(), DAY).quarantine.empty
    edited = yaml.safe_load(CONTRACT_PATH.read_text())
    edited["columns"]["docked_bikes"]["max"] = 5  # r11 has 9 docked bikes

    outcome = validate_partition(raw, parse_contract(edited, CONTRACT_PATH), DAY)

    assert outcome.quarantine.set_index("rental_id")["_reason"].to_dict() == {
        "r11": "out of range: docked_bikes"
    }
