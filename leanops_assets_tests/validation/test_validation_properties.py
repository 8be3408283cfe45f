"""Property: whatever a batch holds, every row is validated or quarantined with a reason,
or the partition fails with a clear error. Never a bare crash, never a lost row."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leanops_assets.contract import load_contract
from leanops_assets.validation.rules import (
    REASON,
    quarantine_schema,
    validate_partition,
    validated_schema,
)

DAY = "2013-06-15"
CONTRACT = load_contract()

_ODD_TEXT = st.sampled_from(
    ["", " ", "NaN", "null", "None", "é", "日本", "\x00", "1e400", "-0", "0x1F", "٣"]
)
_ODD_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    _ODD_TEXT,
    st.booleans(),
)


def _clean_row(draw) -> dict:
    return {
        "year": 2013,
        "month": 6,
        "day": 15,
        "dep_time": draw(st.one_of(st.none(), st.floats(1, 2400))),
        "sched_dep_time": draw(st.integers(500, 2359)),
        "dep_delay": draw(st.one_of(st.none(), st.floats(-30, 600))),
        "arr_time": draw(st.one_of(st.none(), st.floats(1, 2400))),
        "sched_arr_time": draw(st.integers(1, 2359)),
        "arr_delay": draw(st.one_of(st.none(), st.floats(-60, 600))),
        "carrier": draw(st.sampled_from(["AA", "UA", "DL", "B6"])),
        "flight": draw(st.integers(1, 9999)),
        "tailnum": draw(st.one_of(st.none(), st.sampled_from(["N14228", "N24211"]))),
        "origin": draw(st.sampled_from(["EWR", "JFK", "LGA"])),
        "dest": draw(st.sampled_from(["IAH", "MIA", "ORD"])),
        "air_time": draw(st.one_of(st.none(), st.floats(20, 600))),
        "distance": draw(st.integers(17, 4983)),
        "hour": draw(st.integers(0, 23)),
        "minute": draw(st.integers(0, 59)),
        "time_hour": "2013-06-15T12:00:00Z",
    }


@st.composite
def batches(draw):
    rows = [_clean_row(draw) for _ in range(draw(st.integers(0, 25)))]
    if rows and draw(st.booleans()):  # duplicates
        rows += [dict(rows[i]) for i in draw(st.lists(st.integers(0, len(rows) - 1), max_size=3))]
    for row in rows:  # malformed values: wrong types, extremes, nulls, odd text
        for column in draw(st.lists(st.sampled_from(list(CONTRACT.columns)), max_size=2)):
            row[column] = draw(_ODD_VALUES)
    frame = pd.DataFrame(rows, columns=list(CONTRACT.columns))
    if draw(st.booleans()):  # as a CSV would deliver it: text
        frame = frame.map(lambda v: None if v is None else str(v))
    for column in draw(st.lists(st.sampled_from(list(CONTRACT.columns)), max_size=2, unique=True)):
        frame = frame.drop(columns=column)  # missing columns
    if draw(st.booleans()):
        frame["extra_" + draw(st.sampled_from(["gate", "x"]))] = draw(_ODD_VALUES)
    return frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_every_row_is_validated_or_quarantined_with_a_reason(frame):
    outcome = validate_partition(frame, CONTRACT, DAY)
    assert len(outcome.validated) + len(outcome.quarantine) == len(frame)
    assert all(isinstance(reason, str) and reason for reason in outcome.quarantine[REASON])
    assert sorted(outcome.quarantine["_raw_row"]) == sorted(set(outcome.quarantine["_raw_row"]))
    # both sides can be written with their declared schemas
    import pyarrow as pa

    pa.Table.from_pandas(outcome.validated, schema=validated_schema(CONTRACT), preserve_index=False)
    pa.Table.from_pandas(
        outcome.quarantine, schema=quarantine_schema(list(frame.columns)), preserve_index=False
    )
    # validated rows honour the contract
    for name, spec in CONTRACT.columns.items():
        values = outcome.validated[name]
        if not spec.nullable:
            assert values.notna().all(), name
        if spec.min is not None and len(values.dropna()):
            assert values.dropna().astype(float).between(spec.min, spec.max).all(), name
        if spec.allowed is not None:
            assert values.dropna().isin(spec.allowed).all(), name
    keys = list(CONTRACT.source_keys)
    if set(keys) <= set(outcome.validated.columns):
        assert not outcome.validated[keys].duplicated().any()
    assert np.isin(outcome.validated["is_late"].unique(), [0, 1]).all()
