"""Dataset specifics live in their dataset's folder: no module of the package outside
leanops_assets/datasets/ names a column of the bundled dataset, of its reference tables or of
its feature table. Words of the contract's own vocabulary that happen to be column names too
(calendar parts, the year/month/day form of partition.day_of_row) are allowed, by name below."""

import ast
from pathlib import Path

from leanops_assets.contract import load_contract
from leanops_assets.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "leanops_assets"
# contract vocabulary, not columns: calendar parts and the parts of a {year, month, day} row day
VOCABULARY = {"hour", "minute_of_day", "weekday", "day_of_month", "month", "day_of_year"}
VOCABULARY |= {"year", "day", "type"}  # "type": a column spec's field, and a planes column


def flights_names() -> set[str]:
    contract = load_contract()
    names = set(contract.columns)
    names |= {contract.entity_id, contract.partition_column, contract.target_name}
    names |= set(contract.features.columns)
    for join in contract.features.joins:
        names |= set(join.keys) | set(join.columns) | set(join.columns.values())
    return names - VOCABULARY


def string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_module_outside_datasets_names_a_column():
    names = flights_names()
    assert {"arr_delay", "carrier", "flight_id", "temp", "plane_seats"} <= names  # the check bites
    found = [
        f"{path.relative_to(REPO_ROOT)}:{line}: {value!r}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if "datasets" not in path.relative_to(PACKAGE).parts
        for line, value in string_constants(path)
        if value in names
    ]
    assert found == []


def names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }  # fmt: skip


def test_the_data_stages_default_to_no_dataset():
    """Ingestion, validation and features take their dataset: none names flights or loads the
    bundled contract by default (the flights instances at the bottom use bundled_dataset())."""
    stages = [PACKAGE / stage for stage in ("ingestion", "validation", "features")]
    found = [
        f"{path.relative_to(REPO_ROOT)}: {problem}"
        for stage in stages
        for path in sorted(stage.rglob("*.py"))
        for problem in (
            *[f"{line}: {value!r}" for line, value in string_constants(path) if "flights" in value],
            *(["load_contract"] if "load_contract" in names_used(path) else []),
        )
    ]
    assert found == []
    assert not (PACKAGE / "features" / "schema.py").exists()
