"""The drift reference: a fixed sample of the data a model learned from, kept per data version.

Every candidate's sample is stored when it is registered, so the champion's reference outlives
the lake's training set, which the next (maybe rejected) retrain overwrites.
"""

from __future__ import annotations

import pandas as pd

from leanops_assets.monitoring.drift import reference_sample
from leanops_assets.monitoring.predict import TRAINING_DATA_VERSION_TAG, Champion
from leanops_assets.storage import Lake, WrittenFile

# Interim: training/dataset.py's pinned functions once the training branch merges.
from leanops_assets.training.dataset import read_splits, stored_version

REFERENCE_STAGE = "drift_reference"
# The splits a model is fitted on (train and validation): together they are its reference.
REFERENCE_SPLITS = ("train", "validation")


class DriftReferenceMissingError(LookupError):
    """The champion's own training data cannot be found: drift cannot be measured honestly."""


def reference_dataset(training_data_version: str) -> str:
    return f"training_{training_data_version}"


def store_reference(
    lake: Lake, training_data_version: str, splits: dict[str, pd.DataFrame]
) -> WrittenFile:
    """Write the reference sample of these training splits under their data version."""
    fitted_on = pd.concat([splits[name] for name in REFERENCE_SPLITS], ignore_index=True)
    return lake.write_table(
        REFERENCE_STAGE, reference_dataset(training_data_version), reference_sample(fitted_on)
    )


def champion_reference(
    lake: Lake, champion: Champion, dataset_name: str
) -> tuple[pd.DataFrame, str]:
    """(reference sample, data version) of the data the champion learned from.

    The reference is keyed by the training data version alone (a hash of the splits' content);
    `dataset_name` names the training set in the lake to fall back on.

    A champion registered before references were stored still works while its training set is
    the one in the lake: the sample is stored from it then.
    """
    version = champion.training_data_version
    if version is None:
        raise DriftReferenceMissingError(
            f"champion {champion.uri} (version {champion.version}) records no training data "
            f"version (tag {TRAINING_DATA_VERSION_TAG}); register it through registered_model"
        )
    dataset = reference_dataset(version)
    path = lake.table_path(REFERENCE_STAGE, dataset)
    if not path.exists():
        if stored_version(lake, dataset_name) != version:
            raise DriftReferenceMissingError(
                f"the drift reference of champion {champion.uri} (version {champion.version}, "
                f"training data {version[:12]}) is not at {path}, and the training set in the "
                f"lake is another version; re-register the champion's training set "
                f"(training_set with its window, then registered_model) or roll back"
            )
        store_reference(lake, version, read_splits(lake, dataset_name))
    return lake.read_table(REFERENCE_STAGE, dataset), version
