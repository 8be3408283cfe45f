"""Which rows say they are of another day than their partition, as the contract reads a row's day."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from leanops_assets.contract_parts import RowDaySpec


def rows_of_another_day(typed: pd.DataFrame, spec: RowDaySpec, day: str) -> np.ndarray:
    """Positions of rows whose own day is known and is not `day`; a row without one is left to
    the null rules (and its failed cast)."""
    when = date.fromisoformat(day)
    if spec.column is None:
        dated = typed[list(spec.columns)].notna().all(axis=1)
        same_day = (
            (typed[spec.year] == when.year)
            & (typed[spec.month] == when.month)
            & (typed[spec.day] == when.day)
        ).fillna(False)
    else:
        values = typed[spec.column]
        dated = values.notna()
        if spec.timezone is not None:  # typed timestamps are in UTC: the day is the zone's
            values = values.dt.tz_convert(spec.timezone).dt.date
        same_day = values.map(lambda v: v == when).astype(bool)
    return np.flatnonzero((dated & ~same_day).to_numpy())
