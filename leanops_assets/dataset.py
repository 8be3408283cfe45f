"""A dataset the platform runs: its contract, and the names of its assets, lake tables, jobs,
resources and MLflow model.

Every stage takes a `Dataset` and names nothing of its own: two datasets live side by side in one
code location. A dataset's settings, policy defaults among them, are the attributes of its
`datasets/<name>/defs.yaml` (the `LeanopsDataset` component, components.py); the contract is
`contract.yaml` beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from leanops_assets.contract import Contract, ContractError, load_contract_file

if TYPE_CHECKING:
    from dagster import AssetKey

# Asset names that are the same for every dataset; the key prefix keeps datasets apart.
TRAINING_SET = "training_set"
TUNED_MODEL = "tuned_model"
REGISTERED_MODEL = "registered_model"
PREDICTIONS = "batch_predictions"
DRIFT_REPORT = "drift_report"
SHADOW_COMPARISON = "shadow_comparison"
CHAMPION_HISTORY = "champion_history"


@dataclass(frozen=True)
class FeatureTable:
    """Column names of a dataset's feature table: the interface between features, training and
    monitoring. Read from the contract's entity id, partition column, target and `features:`."""

    id_column: str
    date_column: str
    label_column: str
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    not_monitored: tuple[str, ...]  # left out of the drift share (they change with the date)
    lookback_days: int  # rolling rates see these days strictly before the row's day

    @property
    def feature_columns(self) -> list[str]:
        return [*self.categorical, *self.numeric]

    @property
    def all_columns(self) -> list[str]:
        """Order of the columns in every feature partition."""
        return [self.id_column, self.date_column, self.label_column, *self.feature_columns]

    @classmethod
    def of(cls, contract: Contract) -> FeatureTable:
        features = contract.features
        if features is None:
            raise ContractError(
                f"{contract.source_path}: no `features:` block; the platform needs it to build, "
                "train on and monitor the dataset's features"
            )
        return cls(
            id_column=contract.entity_id,
            date_column=contract.partition_column,
            label_column=contract.target_name,
            categorical=tuple(features.categorical),
            numeric=tuple(features.numeric),
            not_monitored=tuple(features.not_monitored),
            lookback_days=features.lookback_days,
        )


@dataclass(frozen=True)
class Dataset:
    """One dataset's contract and every name the platform gives its parts."""

    contract: Contract
    # Asset keys are <key_prefix>/<asset>; the bundled flights keep an empty prefix, so their
    # keys, jobs and run history are what they were before datasets became plugins.
    key_prefix: tuple[str, ...] = ()
    feature_asset: str = ""  # default: <name>_features
    mlflow_experiment: str = ""  # default: leanops-<name>
    model_name: str = ""  # default: leanops_<name>
    features_code_version: str = "1"  # bump when the features change: older partitions go stale
    # Policy defaults from defs.yaml's `promotion:` and `monitoring:`, as (field, value) of the
    # fields it sets; the resources resolve them (PromotionPolicy / MonitoringPolicy.resolved).
    promotion_defaults: tuple[tuple[str, float], ...] = ()
    monitoring_defaults: tuple[tuple[str, float], ...] = ()

    @property
    def name(self) -> str:
        return self.contract.name

    @cached_property
    def table(self) -> FeatureTable:
        return FeatureTable.of(self.contract)

    @property
    def folder(self) -> Path:
        return self.contract.source_path.parent

    # Asset names (without the prefix) and keys.
    @property
    def raw_asset(self) -> str:
        return f"raw_{self.name}"

    @property
    def validated_asset(self) -> str:
        return f"validated_{self.name}"

    @property
    def features_asset(self) -> str:
        return self.feature_asset or f"{self.name}_features"

    def reference_asset(self, table: str) -> str:
        """A reference table joined as of a time is daily (raw_<table>); one joined by key is a
        table of its own (<table>)."""
        return f"raw_{table}" if self.reference_is_daily(table) else table

    def reference_is_daily(self, table: str) -> bool:
        features = self.contract.features
        joins = {join.table: join for join in (features.joins if features else ())}
        return table in joins and joins[table].as_of is not None

    @property
    def daily_references(self) -> list[str]:
        """Reference tables delivered a file a day (joined as of a time)."""
        return [t for t in self.contract.references if self.reference_is_daily(t)]

    @property
    def table_references(self) -> list[str]:
        """Reference tables delivered whole (joined by key)."""
        return [t for t in self.contract.references if not self.reference_is_daily(t)]

    def key(self, asset: str) -> AssetKey:
        from dagster import AssetKey

        return AssetKey([*self.key_prefix, asset])

    def scoped(self, name: str) -> str:
        """A job, sensor, schedule or resource key of this dataset: <prefix>_<name>."""
        return "_".join([*self.key_prefix, name])

    def lake_table(self, name: str) -> str:
        """An unpartitioned lake table of this dataset (training splits, candidate, history)."""
        return f"{self.name}_{name}"

    @property
    def experiment(self) -> str:
        return self.mlflow_experiment or f"leanops-{self.name}"

    @property
    def registered_model_name(self) -> str:
        return self.model_name or f"leanops_{self.name}"

    @classmethod
    def from_folder(cls, folder: Path) -> Dataset:
        """The dataset of datasets/<name>/: its defs.yaml settings and contract.yaml."""
        from leanops_assets.components import LeanopsDataset

        return LeanopsDataset.from_defs_yaml(Path(folder)).dataset(Path(folder))


def bundled_dataset(name: str = "flights") -> Dataset:
    """A dataset bundled in leanops_assets/datasets/ (the flights example), as its defs.yaml says."""
    from leanops_assets.contract import DATASETS_DIR

    return Dataset.from_folder(DATASETS_DIR / name)


def contract_dataset(contract_path: Path, **settings: object) -> Dataset:
    """A dataset from a contract file alone, with the names a defs.yaml without attributes gives
    (key prefix: the dataset's name)."""
    contract = load_contract_file(contract_path)
    settings.setdefault("key_prefix", (contract.name,))
    return Dataset(contract, **settings)  # type: ignore[arg-type]
