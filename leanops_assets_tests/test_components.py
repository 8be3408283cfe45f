"""A dataset folder (defs.yaml + contract.yaml) becomes a Dataset with every name it needs."""

import shutil
from pathlib import Path

import pytest

from leanops_assets.components import dataset_by_name, extra_dataset_folders
from leanops_assets.contract import ContractError
from leanops_assets.dataset import Dataset, bundled_dataset

TICKETS = Path(__file__).parent / "datasets" / "tickets"


def test_flights_keep_the_names_they_had_before_datasets_became_plugins():
    flights = bundled_dataset()
    assert flights.key(flights.raw_asset).to_user_string() == "raw_flights"
    assert flights.key(flights.features_asset).to_user_string() == "flight_features"
    assert flights.key("training_set").to_user_string() == "training_set"
    assert flights.scoped("daily_pipeline") == "daily_pipeline"
    assert flights.scoped("mlflow_tracking") == "mlflow_tracking"
    assert (flights.experiment, flights.registered_model_name) == (
        "leanops-flights",
        "leanops_flights_delay",
    )
    assert flights.reference_asset("weather") == "raw_weather"  # joined as of a time: daily
    assert flights.reference_asset("planes") == "planes"  # joined by key: a table
    assert flights.table.id_column == "flight_id" and flights.table.label_column == "is_late"
    assert len(flights.table.feature_columns) == 34


def test_another_dataset_is_prefixed_by_its_name_everywhere():
    tickets = Dataset.from_folder(TICKETS)
    assert tickets.key(tickets.raw_asset).to_user_string() == "tickets/raw_tickets"
    assert tickets.key(tickets.features_asset).to_user_string() == "tickets/tickets_features"
    assert tickets.key("registered_model").to_user_string() == "tickets/registered_model"
    assert tickets.scoped("retraining_job") == "tickets_retraining_job"
    assert tickets.lake_table("train") == "tickets_train"
    assert (tickets.experiment, tickets.registered_model_name) == (
        "leanops-tickets",
        "leanops_tickets",
    )
    assert tickets.table.all_columns[:3] == ["ticket_key", "opened_day", "is_escalated"]
    assert tickets.contract.references == {}


def test_a_defs_yaml_of_another_type_fails_naming_the_file(tmp_path):
    folder = tmp_path / "tickets"
    shutil.copytree(TICKETS, folder)
    (folder / "defs.yaml").write_text("type: dagster.SomethingElse\nattributes: {}\n")
    with pytest.raises(ContractError, match=r"tickets/defs.yaml: type must be"):
        Dataset.from_folder(folder)


def test_datasets_outside_the_package_are_found_by_name(tmp_path, monkeypatch):
    shutil.copytree(TICKETS, tmp_path / "help_desk")
    monkeypatch.setenv("LEANOPS_DATASETS_DIR", str(tmp_path))
    assert extra_dataset_folders() == [tmp_path / "help_desk"]
    assert dataset_by_name("tickets").folder == tmp_path / "help_desk"
    with pytest.raises(
        ContractError, match=r"no dataset named 'orders'; known: \['flights', 'tickets'\]"
    ):
        dataset_by_name("orders")


def test_a_datasets_dir_that_is_not_a_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("LEANOPS_DATASETS_DIR", str(tmp_path / "absent"))
    with pytest.raises(ContractError, match="absent: not a folder"):
        extra_dataset_folders()
