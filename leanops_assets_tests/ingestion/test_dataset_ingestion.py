"""Ingestion built for any dataset: its raw asset and one asset per reference table of its
contract, keyed under the dataset's prefix, landing its own files."""

from pathlib import Path

import pandas as pd
import yaml
from dagster import AssetKey, DagsterInstance, materialize

from leanops_assets.dataset import Dataset, bundled_dataset, contract_dataset
from leanops_assets.ingestion.assets import build_ingestion_assets
from leanops_assets.resources import LakeResource, SourceResource
from leanops_assets_tests.features.rentals import (
    CONTRACT_PATH,
    RENTALS,
    rentals_dataset,
    write_landing_day,
    write_landing_observations,
)

DAY = "2024-03-01"


def _keys(ds: Dataset) -> list[str]:
    return [a.key.to_user_string() for a in build_ingestion_assets(ds)]


def test_flights_keep_their_keys_and_rentals_get_theirs_under_their_prefix():
    assert _keys(bundled_dataset()) == ["raw_flights", "raw_weather", "planes"]
    raw, weather = build_ingestion_assets(rentals_dataset())
    assert raw.key == AssetKey(["rentals", "raw_rentals"])
    assert weather.key == AssetKey(["rentals", "raw_station_weather"])  # joined as of a time
    assert [c.name for c in raw.check_specs] == ["landing_files_within_partitions"]
    assert raw.partitions_def.start.date().isoformat() == "2024-03-01"
    assert weather.partitions_def == raw.partitions_def


def test_a_dataset_without_references_gets_only_its_raw_asset(tmp_path):
    raw = yaml.safe_load(CONTRACT_PATH.read_text())
    raw["references"] = []
    del raw["features"]["references"]
    raw["features"]["numeric"].remove("temp_c")
    folder = tmp_path / "rentals"
    folder.mkdir()
    (folder / "contract.yaml").write_text(yaml.safe_dump(raw))
    assert _keys(contract_dataset(folder / "contract.yaml")) == ["rentals/raw_rentals"]


def _run(ds: Dataset, source: SourceResource, day: str = DAY):
    return materialize(
        build_ingestion_assets(ds),
        partition_key=day,
        resources={"lake": LakeResource(), "source": source},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_a_dataset_without_a_bundled_source_says_to_use_a_landing_folder(leanops_home):
    result = _run(rentals_dataset(), SourceResource(kind="bundled"))
    assert not result.success
    error = result.get_step_failure_events()[0].event_specific_data.error
    assert "dataset 'rentals' has no bundled source" in error.message
    assert 'kind="landing"' in error.message


def test_rentals_land_from_their_landing_folder(leanops_home):
    landing = leanops_home / "landing"
    rentals = write_landing_day(landing, DAY, [r for r in RENTALS if r[3].startswith(DAY)])
    write_landing_observations(landing, DAY)
    result = _run(rentals_dataset(), SourceResource(kind="landing"))
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.asset_key == AssetKey(["rentals", "raw_rentals"]) and check.passed
    events = {
        e.asset_key.to_user_string(): e.materialization
        for e in result.get_asset_materialization_events()
    }
    assert events["rentals/raw_rentals"].metadata["source"].value == str(rentals)
    assert events["rentals/raw_rentals"].metadata["dagster/row_count"].value == 4
    assert events["rentals/raw_station_weather"].metadata["dagster/row_count"].value == 2
    lake = Path(leanops_home) / "lake" / "raw"
    assert len(pd.read_parquet(lake / "rentals" / f"date={DAY}" / "part.parquet")) == 4
    assert len(pd.read_parquet(lake / "station_weather" / f"date={DAY}" / "part.parquet")) == 2
