"""The `LeanopsDataset` component: one `datasets/<name>/defs.yaml` adds a dataset to the code
location. Its attributes name the contract and, optionally, the dataset's asset key prefix,
feature asset, MLflow experiment, registered model and policy defaults."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import yaml
from pydantic import Field, ValidationError

from leanops_assets.contract import ContractError, load_contract_file

COMPONENT_TYPE = "leanops_assets.components.LeanopsDataset"


# Resolvable: Dagster's component loader refuses bounds (ge, le) on a nested model otherwise.
class PromotionDefaults(dg.Model, dg.Resolvable):
    """The dataset's promotion gates: the `promotion` resource's fields (resources.py)."""

    auc_floor: float | None = Field(default=None, ge=0, le=1)
    max_auc_drop: float | None = Field(default=None, ge=0, le=1)


class MonitoringDefaults(dg.Model, dg.Resolvable):
    """The dataset's retraining, shadow and rollback policy: the `monitoring_policy` resource's
    fields (resources.py) but reports_dir, which is the deployment's, not the dataset's."""

    drift_share_threshold: float | None = Field(default=None, ge=0, le=1)
    live_auc_floor: float | None = Field(default=None, ge=0, le=1)
    evidence_windows: int | None = Field(default=None, ge=1)
    cooldown_days: int | None = Field(default=None, ge=0)
    rejection_retry_days: int | None = Field(default=None, ge=1)
    shadow_days: int | None = Field(default=None, ge=0)
    rollback_auc_margin: float | None = Field(default=None, ge=0, le=1)
    rollback_min_labelled_rows: int | None = Field(default=None, ge=0)


def _set_fields(defaults: dg.Model) -> tuple[tuple[str, float], ...]:
    """(field, value) of the fields defs.yaml sets: hashable, as the frozen Dataset needs."""
    return tuple(defaults.model_dump(exclude_none=True).items())


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
    promotion: PromotionDefaults = Field(
        default_factory=PromotionDefaults,
        description="Promotion gates for this dataset; run config and env vars override them.",
    )
    monitoring: MonitoringDefaults = Field(
        default_factory=MonitoringDefaults,
        description="Retraining and rollback policy for this dataset; run config overrides it.",
    )

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
        try:
            return cls(**(raw.get("attributes") or {}))
        except ValidationError as error:
            raise ContractError(f"{path}: {_describe(error)}") from None

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
            promotion_defaults=_set_fields(self.promotion),
            monitoring_defaults=_set_fields(self.monitoring),
        )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from leanops_assets.dataset_defs import build_dataset_defs

        return build_dataset_defs(self.dataset(context.path))


def _describe(error: ValidationError) -> str:
    """Each wrong attribute as `attributes.<key>: <what is wrong>`."""
    return "; ".join(
        f"attributes.{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
    )


EXTRA_DATASETS_VARIABLE = "LEANOPS_DATASETS_DIR"


def extra_dataset_folders() -> list[Path]:
    """Dataset folders outside the package: each folder under $LEANOPS_DATASETS_DIR holding a
    defs.yaml (a user's datasets can live outside this repository)."""
    root = os.environ.get(EXTRA_DATASETS_VARIABLE)
    if not root:
        return []
    if not Path(root).is_dir():
        raise ContractError(f"${EXTRA_DATASETS_VARIABLE}={root}: not a folder")
    return sorted(p.parent for p in Path(root).glob("*/defs.yaml"))


def dataset_folders() -> list[Path]:
    """Every dataset folder: leanops_assets/datasets/<name>/ and the extra ones."""
    from leanops_assets.contract import DATASETS_DIR

    return sorted(p.parent for p in DATASETS_DIR.glob("*/defs.yaml")) + extra_dataset_folders()


def dataset_by_name(name: str):
    """The dataset whose contract is named `name`, from any dataset folder."""
    found = {}
    for folder in dataset_folders():
        dataset = LeanopsDataset.from_defs_yaml(folder).dataset(folder)
        found[dataset.name] = dataset
    if name not in found:
        raise ContractError(
            f"no dataset named {name!r}; known: {sorted(found)} (a dataset is a folder with "
            f"defs.yaml and contract.yaml in leanops_assets/datasets/ or ${EXTRA_DATASETS_VARIABLE})"
        )
    return found[name]


def load_dataset_defs() -> dg.Definitions:
    """Every dataset of the code location: the package's dataset components through Dagster's
    component loader (one folder with a defs.yaml is one dataset), then the extra folders."""
    import warnings

    import leanops_assets.datasets
    from leanops_assets.dataset_defs import build_dataset_defs
    from leanops_assets.settings import REPO_ROOT

    with warnings.catch_warnings():
        # load_defs(module) loads a defs folder that is not the project's defs_module
        warnings.simplefilter("ignore")
        bundled = dg.load_defs(leanops_assets.datasets, project_root=REPO_ROOT)
    extra = [
        build_dataset_defs(LeanopsDataset.from_defs_yaml(folder).dataset(folder))
        for folder in extra_dataset_folders()
    ]
    return dg.Definitions.merge(bundled, *extra)
