"""The `LeanopsDataset` component: one `datasets/<name>/defs.yaml` adds a dataset to the code
location. Its attributes name the contract and, optionally, the dataset's asset key prefix,
feature asset, MLflow experiment and registered model."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml
from pydantic import Field

from leanops_assets.contract import ContractError, load_contract_file

COMPONENT_TYPE = "leanops_assets.components.LeanopsDataset"


class LeanopsDataset(dg.Component, dg.Model, dg.Resolvable):
    """A dataset run by the platform: land, validate, featurize, train, register, score, monitor."""

    contract: str = Field(default="contract.yaml", description="Contract file, beside defs.yaml.")
    key_prefix: list[str] | None = Field(
        default=None, description="Asset key prefix; default: the dataset's name."
    )
    feature_asset: str = Field(
        default="", description="Feature asset name; default <name>_features."
    )
    mlflow_experiment: str = Field(default="", description="Default: leanops-<name>.")
    model_name: str = Field(default="", description="Registered model; default leanops_<name>.")
    features_code_version: str = Field(default="1", description="Bump when features change.")

    @classmethod
    def from_defs_yaml(cls, folder: Path) -> LeanopsDataset:
        path = folder / "defs.yaml"
        if not path.exists():
            raise ContractError(
                f"{folder}: no defs.yaml; a dataset folder holds defs.yaml and its contract"
            )
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if raw.get("type") != COMPONENT_TYPE:
            raise ContractError(f"{path}: type must be {COMPONENT_TYPE}, found {raw.get('type')!r}")
        return cls(**(raw.get("attributes") or {}))

    def dataset(self, folder: Path):
        from leanops_assets.dataset import Dataset

        contract = load_contract_file(folder / self.contract)
        prefix = [contract.name] if self.key_prefix is None else self.key_prefix
        return Dataset(
            contract,
            key_prefix=tuple(prefix),
            feature_asset=self.feature_asset,
            mlflow_experiment=self.mlflow_experiment,
            model_name=self.model_name,
            features_code_version=self.features_code_version,
        )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from leanops_assets.dataset_defs import build_dataset_defs

        return build_dataset_defs(self.dataset(context.path))
