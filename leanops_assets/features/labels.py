"""Outcomes that arrive after a feature day was built: its labels refreshed, not its features.

A feature day's values read its look-back days, its own rows' columns known at the prediction
time, the reference tables, the contract and the feature code; its label column reads only the
day's outcome. Each feature file records a fingerprint of all the former (`inputs_fingerprint`,
in its Parquet footer). When a day is built again and the fingerprint is unchanged (the day was
delivered again with its outcomes, nothing else), the stored features are kept and only the
labels are read from the validated rows: the bytes a full Spark build would write, without
Spark. Any other change (a look-back day, a corrected row, the contract, the code) builds the day.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from leanops_assets.contract import Contract
from leanops_assets.storage import Lake, file_sha256

if TYPE_CHECKING:
    from collections.abc import Callable

    from leanops_assets.dataset import FeatureTable

INPUTS_KEY = "leanops.feature_inputs"  # the footer entry holding the fingerprint
PACKAGE = Path(__file__).resolve().parents[1]
# The code a feature day's values depend on, besides the dataset's own folder.
FEATURE_CODE = [
    *sorted((PACKAGE / "features").glob("*.py")),
    PACKAGE / "validation" / "reference.py",
]


@lru_cache(maxsize=8)
def code_fingerprint(contract_path: Path) -> str:
    """The feature code, Spark's version and the dataset's folder (contracts, features.py)."""
    import pyspark

    digest = hashlib.sha256(pyspark.__version__.encode())
    folder = contract_path.parent
    for path in [*FEATURE_CODE, *sorted(folder.glob("*.yaml")), *sorted(folder.glob("*.py"))]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _known_columns_digest(path: Path, contract: Contract) -> str:
    """The day's validated rows without what is known only after the prediction time."""
    after = {
        *contract.post_event_columns,
        *contract.outcome_columns,
        contract.target_name,
        contract.target.column,
        contract.outcomes_known_column,
    }
    names = [name for name in pq.read_schema(path).names if name not in after]
    table = pq.read_table(path, columns=names).replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def lookback_of(day: str, lookback: int, present: list[str]) -> list[str]:
    """The look-back days of `day` among the days read (days before the data are absent)."""
    first = (date.fromisoformat(day) - timedelta(days=lookback)).isoformat()
    return [d for d in present if first <= d < day]


def inputs_fingerprint(
    lake: Lake,
    contract: Contract,
    day: str,
    lookback_days: list[str],
    gated: dict[str, list[str]],
    code: str,
    digest: Callable[[Path], str] = file_sha256,
) -> str:
    """What the day's feature values read: the look-back days' files (a gated one as gated),
    the day's own rows known at the prediction time, the reference files, the code. `digest`
    hashes a file (a batch passes a cached one: its days share look-back files)."""
    parts: dict[str, object] = {"day": day, "code": code}
    parts["lookback"] = {
        d: "gated" if d in gated else digest(lake.partition_path("validated", contract.name, d))
        for d in lookback_days
    }
    parts["rows"] = _known_columns_digest(
        lake.partition_path("validated", contract.name, day), contract
    )
    references = {}
    for name in contract.references:
        daily = lake.partition_path("raw", name, day)
        whole = lake.table_path("raw", name)
        path = daily if daily.exists() else whole
        references[name] = digest(path) if path.exists() else "absent"
    parts["references"] = references
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def stored_fingerprint(path: Path) -> str | None:
    if not path.exists():
        return None
    value = (pq.read_schema(path).metadata or {}).get(INPUTS_KEY.encode())
    return value.decode() if value else None


def relabelled(
    lake: Lake, contract: Contract, day: str, table: FeatureTable, path: Path, fingerprint: str
) -> pa.Table | None:
    """The stored feature day at `path` with the labels of its validated rows now, if it was
    built from these very inputs and holds exactly these rows; else None (build it)."""
    if stored_fingerprint(path) != fingerprint:
        return None
    stored = pq.read_table(path).replace_schema_metadata(None)
    rows = pq.read_table(
        lake.partition_path("validated", contract.name, day),
        columns=[contract.entity_id, contract.target_name],
    )
    ids = rows[contract.entity_id].cast(pa.string())
    order = pc.sort_indices(ids)
    ids, labels = ids.take(order), rows[contract.target_name].cast(pa.int64()).take(order)
    if not ids.equals(stored[table.id_column].cast(pa.string())):
        return None
    index = stored.schema.get_field_index(table.label_column)
    return stored.set_column(index, stored.schema.field(index), labels)
