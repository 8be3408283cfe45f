"""Metadata a person looks at, built the same way by every asset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster import MetadataValue

from leanops_assets.storage import WrittenFile

if TYPE_CHECKING:
    import pandas as pd


def preview(frame: pd.DataFrame, rows: int = 5) -> MetadataValue:
    if frame.empty:
        return MetadataValue.md("_no rows_")
    return MetadataValue.md(frame.head(rows).to_markdown(index=False))


def written_file_metadata(written: WrittenFile) -> dict[str, MetadataValue]:
    return {
        "dagster/row_count": MetadataValue.int(written.rows),
        "bytes": MetadataValue.int(written.bytes),
        "path": MetadataValue.path(str(written.path)),
        "content_hash": MetadataValue.text(written.content_hash),
    }
