"""load_tmdb_keywords on small keywords.csv files written in tmp_path."""

import ast
import logging
import warnings

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posterml.datasets import load_tmdb_keywords
from posterml.datasets._tmdb import _parse_keywords


def _write(tmp_path, rows, header="id,keywords"):
    path = tmp_path / "keywords.csv"
    frame = pd.DataFrame(rows, columns=header.split(","))
    frame.to_csv(path, index=False)
    return path


GOOD = [
    ("862", "[{'id': 931, 'name': 'jealousy'}, {'id': 4290, 'name': 'toy'}]"),
    ("8844", """[{'id': 15101, 'name': "based on children's book"}]"""),
    ("15602", "[]"),
]


def test_parses_names_in_order(tmp_path):
    result = load_tmdb_keywords(_write(tmp_path, GOOD))
    assert result["tmdb_id"].tolist() == [862, 8844, 15602]
    assert result["tmdb_id"].dtype == "int64"
    assert result["keywords"].tolist() == [["jealousy", "toy"], ["based on children's book"], []]
    assert result.attrs["report"].empty
    assert list(result.attrs["report"].columns) == ["row", "id", "reason"]


def test_malformed_rows_are_skipped_and_reported(tmp_path, caplog):
    rows = [
        *GOOD,
        ("1", "[{'id': 1, 'name': 'oops'"),  # line 5: truncated literal
        ("2", "{'id': 1, 'name': 'x'}"),  # line 6: not a list
        ("3", "[{'id': 'a', 'name': 'x'}]"),  # line 7: non-int keyword id
        ("4", "[{'name': 'x'}]"),  # line 8: no id
        ("abc", "[]"),  # line 9: non-integer tmdb id
        ("5", "__import__('os').system('true')"),  # line 10: never evaluated
        ("862", "[{'id': 1, 'name': 'other'}]"),  # line 11: duplicate, different keywords
        ("8844", """[{'id': 15101, 'name': "based on children's book"}]"""),  # line 12
        ("6", "[{'id': 7, 'name': 'fine'}]"),
    ]
    with caplog.at_level(logging.INFO, logger="posterml"):
        result = load_tmdb_keywords(_write(tmp_path, rows))
    assert result["tmdb_id"].tolist() == [862, 8844, 15602, 6]
    assert result["keywords"].iloc[0] == ["jealousy", "toy"]  # first of the duplicates
    report = result.attrs["report"].sort_values("row")
    assert report["row"].tolist() == [5, 6, 7, 8, 9, 10, 11, 12]
    reasons = report.set_index("row")["reason"]
    assert reasons[5].startswith("malformed keywords literal")
    assert reasons[6] == "keywords literal is a dict, not a list"
    assert "item 0" in reasons[7]
    assert "item 0" in reasons[8]
    assert reasons[9] == "non-integer id 'abc'"
    assert reasons[10].startswith("malformed keywords literal")
    assert reasons[11] == "duplicate tmdb id (different keywords; line 2 kept)"
    assert reasons[12] == "duplicate tmdb id (identical keywords; line 3 kept)"
    assert report.set_index("row")["id"][9] == "abc"
    assert "8 rows skipped" in caplog.text


def test_on_error_raise_names_the_line(tmp_path):
    path = _write(tmp_path, [*GOOD, ("7", "[{'id': 1, 'name': 'oops'")])
    with pytest.raises(ValueError, match=r"line 5 \(id '7'\): malformed keywords literal"):
        load_tmdb_keywords(path, on_error="raise")


def test_ids_restricts_parsing(tmp_path):
    path = _write(tmp_path, [*GOOD, ("9", "[{'id': 1, 'name': 'oops'")])
    result = load_tmdb_keywords(path, ids=[8844, 999])
    assert result["tmdb_id"].tolist() == [8844]
    # The malformed row is outside the selection: not parsed, not reported.
    assert result.attrs["report"].empty


def test_float_ids_are_read_as_int(tmp_path):
    result = load_tmdb_keywords(_write(tmp_path, [("862.0", "[]")]))
    assert result["tmdb_id"].tolist() == [862]


def test_missing_column_and_file(tmp_path):
    path = _write(tmp_path, [("1", "[]")], header="tmdb,keywords")
    with pytest.raises(ValueError, match=r"keywords\.csv' has no column 'id'"):
        load_tmdb_keywords(path)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_tmdb_keywords(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="on_error"):
        load_tmdb_keywords(path, on_error="ignore")


names = st.text(st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**40), names), max_size=5))
def test_fast_path_agrees_with_literal_eval(items):
    # Python's repr is the format TMDb exports use, quotes and escapes included.
    text = repr([{"id": i, "name": n} for i, n in items])
    assert _parse_keywords(text) == ([d["name"] for d in ast.literal_eval(text)], None)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("[]{}'\", :0123id name\\\n")), max_size=40))
def test_parse_accepts_exactly_what_literal_eval_accepts(text):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(text)
        well_formed = isinstance(value, list) and all(
            isinstance(d, dict) and isinstance(d.get("name"), str) and type(d.get("id")) is int
            for d in value
        )
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        well_formed = False
    names_, reason = _parse_keywords(text)
    if well_formed:
        assert names_ == [d["name"] for d in value]
    else:
        assert names_ is None
        assert reason
