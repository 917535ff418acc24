"""The reliability table (docs/reliability.csv) names only tests that exist."""

import ast
import csv
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "reliability.csv"
HEADER = ["area", "fault", "raise / default", "skip / handling", "test"]


def _rows():
    with TABLE.open(encoding="utf-8", newline="") as fp:
        return list(csv.reader(fp))


def _test_functions(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_table_shape():
    rows = _rows()
    assert rows[0] == HEADER
    assert len(rows) > 60
    for number, row in enumerate(rows[1:], start=2):
        assert len(row) == len(HEADER), f"line {number}: {len(row)} fields: {row}"
        assert all(cell.strip() for cell in row), f"line {number} has an empty cell: {row}"


@pytest.mark.parametrize("row", _rows()[1:], ids=lambda row: row[-1])
def test_every_named_test_exists(row):
    reference = row[-1]
    match = re.fullmatch(r"(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?", reference)
    assert match, f"not a file::test reference: {reference!r}"
    path, name, param = match.groups()
    source = ROOT / path
    assert source.is_file(), f"{path} does not exist"
    assert name in _test_functions(source), f"{path} has no test {name}"
    if param is not None:  # the parameter id is written in the test file (a case name)
        assert f'"{param}"' in source.read_text(encoding="utf-8"), f"{path}: no case {param!r}"
