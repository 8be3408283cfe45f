"""Policy defaults per dataset: a dataset's defs.yaml may set its promotion gates (`promotion:`)
and retraining policy (`monitoring:`). A field set on the resource (run config, or
$LEANOPS_PROMOTION_AUC_FLOOR) beats the defs.yaml, which beats the built-in default."""

import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance, asset, materialize

from leanops_assets.components import (
    EXTRA_DATASETS_VARIABLE,
    MonitoringDefaults,
    PromotionDefaults,
    dataset_by_name,
    load_dataset_defs,
)
from leanops_assets.contract import ContractError
from leanops_assets.dataset import Dataset, bundled_dataset
from leanops_assets.definitions import code_location_defs
from leanops_assets.resources import (
    MonitoringPolicy,
    MonitoringSettings,
    PromotionPolicy,
    PromotionSettings,
)

TICKETS = Path(__file__).parent / "datasets" / "tickets"
DEFS_YAML = (
    "type: leanops_assets.components.LeanopsDataset\nattributes:\n  contract: contract.yaml\n"
)


@pytest.fixture(autouse=True)
def _no_floor_variable(monkeypatch):
    monkeypatch.delenv("LEANOPS_PROMOTION_AUC_FLOOR", raising=False)


def tickets_folder(root: Path, policy: str) -> Path:
    """The tests' tickets dataset copied to root/tickets, its defs.yaml's attributes + `policy`."""
    folder = root / "tickets"
    shutil.copytree(TICKETS, folder)
    (folder / "defs.yaml").write_text(DEFS_YAML + policy)
    return folder


def test_a_datasets_policy_is_its_own_and_flights_keep_theirs_in_one_code_location(
    tmp_path, monkeypatch
):
    tickets_folder(
        tmp_path,
        "  promotion: {auc_floor: 0.7}\n  monitoring: {drift_share_threshold: 0.3, cooldown_days: 7}\n",
    )
    monkeypatch.setenv(EXTRA_DATASETS_VARIABLE, str(tmp_path))
    defs = code_location_defs()  # flights and these tickets, side by side
    assert defs.resolve_sensor_def("tickets_drift_retraining_sensor") is not None
    assert defs.resolve_sensor_def("drift_retraining_sensor") is not None

    tickets, flights = dataset_by_name("tickets"), dataset_by_name("flights")
    monitoring, promotion = defs.resources["monitoring_policy"], defs.resources["promotion"]
    assert monitoring.resolved(tickets).drift_share_threshold == 0.3
    assert monitoring.resolved(tickets).cooldown_days == 7
    assert monitoring.resolved(tickets).evidence_windows == 2  # not set: built-in
    assert promotion.resolved(tickets) == PromotionSettings(auc_floor=0.7, max_auc_drop=0.02)
    assert monitoring.resolved(flights).drift_share_threshold == 0.4
    assert monitoring.resolved(flights).cooldown_days == 14
    assert promotion.resolved(flights) == PromotionSettings(auc_floor=0.65, max_auc_drop=0.02)


def test_without_a_policy_in_defs_yaml_a_dataset_gets_the_built_in_defaults():
    flights = bundled_dataset()
    assert (flights.promotion_defaults, flights.monitoring_defaults) == ((), ())
    assert PromotionPolicy().resolved(flights) == PromotionSettings(0.65, 0.02)
    assert MonitoringPolicy().resolved(flights) == MonitoringSettings(
        drift_share_threshold=0.4,
        live_auc_floor=0.6,
        evidence_windows=2,
        cooldown_days=14,
        rejection_retry_days=3,
        shadow_days=7,
        rollback_auc_margin=0.02,
        rollback_min_labelled_rows=2000,
    )


def test_defs_yaml_beats_the_built_in_default(tmp_path):
    folder = tickets_folder(
        tmp_path,
        "  promotion: {max_auc_drop: 0.01}\n"
        "  monitoring: {live_auc_floor: 0.7, shadow_days: 3, rollback_min_labelled_rows: 50}\n",
    )
    tickets = Dataset.from_folder(folder)
    assert tickets.promotion_defaults == (("max_auc_drop", 0.01),)
    assert PromotionPolicy().resolved(tickets) == PromotionSettings(0.65, 0.01)
    settings = MonitoringPolicy().resolved(tickets)
    assert (settings.live_auc_floor, settings.shadow_days) == (0.7, 3)
    assert settings.rollback_min_labelled_rows == 50
    assert settings.drift_share_threshold == 0.4


def test_run_config_beats_defs_yaml(tmp_path):
    folder = tickets_folder(tmp_path, "  monitoring: {drift_share_threshold: 0.3}\n")
    tickets = Dataset.from_folder(folder)
    seen = {}

    @asset
    def probe(monitoring_policy: MonitoringPolicy) -> None:
        seen["threshold"] = monitoring_policy.resolved(tickets).drift_share_threshold

    launchpad = {"resources": {"monitoring_policy": {"config": {"drift_share_threshold": 0.5}}}}
    with DagsterInstance.ephemeral() as instance:
        for run_config, expected in ((None, 0.3), (launchpad, 0.5)):
            result = materialize(
                [probe],
                resources={"monitoring_policy": MonitoringPolicy()},
                run_config=run_config,
                instance=instance,
            )
            assert result.success and seen["threshold"] == expected
    assert PromotionPolicy(auc_floor=0.6).resolved(tickets).auc_floor == 0.6


def test_the_floor_variable_beats_defs_yaml_and_the_resource_field_beats_both(
    tmp_path, monkeypatch
):
    tickets = Dataset.from_folder(tickets_folder(tmp_path, "  promotion: {auc_floor: 0.7}\n"))
    monkeypatch.setenv("LEANOPS_PROMOTION_AUC_FLOOR", "0.55")
    assert PromotionPolicy().resolved(tickets).auc_floor == 0.55
    assert PromotionPolicy(auc_floor=0.6).resolved(tickets).auc_floor == 0.6


@pytest.mark.parametrize(
    "policy, key",
    [
        ("monitoring: {drift_threshold: 0.3}", "monitoring.drift_threshold"),
        ("monitoring: {reports_dir: /tmp/reports}", "monitoring.reports_dir"),  # deployment's
        ("promotion: {auc_flor: 0.7}", "promotion.auc_flor"),
    ],
)
def test_an_unknown_policy_key_fails_loading_naming_the_file_and_the_key(
    tmp_path, monkeypatch, policy, key
):
    tickets_folder(tmp_path, f"  {policy}\n")
    monkeypatch.setenv(EXTRA_DATASETS_VARIABLE, str(tmp_path))
    with pytest.raises(ContractError) as raised:
        load_dataset_defs()
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'tickets' / 'defs.yaml'}: ")
    assert f"attributes.{key}: Extra inputs are not permitted" in message


def test_a_policy_value_out_of_range_fails_loading(tmp_path):
    folder = tickets_folder(tmp_path, "  monitoring: {drift_share_threshold: 3}\n")
    with pytest.raises(ContractError, match=r"attributes.monitoring.drift_share_threshold: .*1"):
        Dataset.from_folder(folder)


def test_defs_yaml_resource_and_settings_name_the_same_policy_fields():
    promotion = ["auc_floor", "max_auc_drop"]
    monitoring = [
        "drift_share_threshold",
        "live_auc_floor",
        "evidence_windows",
        "cooldown_days",
        "rejection_retry_days",
        "shadow_days",
        "rollback_auc_margin",
        "rollback_min_labelled_rows",
    ]
    assert list(PromotionDefaults.model_fields) == promotion
    assert list(PromotionPolicy.model_fields) == promotion
    assert list(PromotionSettings.__dataclass_fields__) == promotion
    assert list(MonitoringDefaults.model_fields) == monitoring
    assert list(MonitoringPolicy.model_fields) == [*monitoring, "reports_dir"]
    assert list(MonitoringSettings.__dataclass_fields__) == monitoring
