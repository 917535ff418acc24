"""safe_join, clean_movies and the small parsing helpers shared by the loaders."""

import os

import numpy as np
import pandas as pd
import pytest

from posterml.datasets import clean_movies, safe_join
from posterml.datasets._common import (
    FRAME_COLUMNS,
    dedupe_ids,
    parse_genre_literal,
    safe_join_many,
    split_title_year,
    standard_frame,
)

# --------------------------------------------------------------------------- safe_join


def test_safe_join_plain_and_nested(tmp_path):
    (tmp_path / "sub").mkdir()
    assert safe_join(tmp_path, "a.jpg") == tmp_path.resolve() / "a.jpg"
    assert safe_join(str(tmp_path), "sub/b.jpg") == tmp_path.resolve() / "sub" / "b.jpg"


@pytest.mark.parametrize(
    "value",
    [
        "../../etc/passwd",
        "../secret.jpg",
        "sub/../../x.jpg",
        "sub/../inside-but-refused.jpg",
        "..\\..\\windows\\win.ini",
        "/etc/passwd",
        "C:\\Windows\\win.ini",
        "\\\\server\\share\\x.jpg",
    ],
)
def test_safe_join_refuses_escapes_naming_value_and_root(tmp_path, value):
    with pytest.raises(ValueError, match="dataset root") as info:
        safe_join(tmp_path, value)
    assert repr(value) in str(info.value)
    assert repr(str(tmp_path)) in str(info.value)


@pytest.mark.parametrize("value", ["", "   ", "a\0b.jpg"])
def test_safe_join_refuses_empty_and_nul(tmp_path, value):
    with pytest.raises(ValueError, match="dataset root"):
        safe_join(tmp_path, value)


def test_safe_join_refuses_non_path(tmp_path):
    with pytest.raises(TypeError, match="str or os.PathLike"):
        safe_join(tmp_path, 12)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links on this platform")
def test_safe_join_follows_symlinks(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"x")
    (root / "inside.jpg").write_bytes(b"x")
    (root / "escape.jpg").symlink_to(outside / "secret.jpg")
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    (root / "alias.jpg").symlink_to(root / "inside.jpg")
    with pytest.raises(ValueError, match="escapes"):
        safe_join(root, "escape.jpg")
    with pytest.raises(ValueError, match="escapes"):
        safe_join(root, "escape_dir/secret.jpg")
    with pytest.raises(ValueError, match="escapes"):
        safe_join_many(root, ["inside.jpg", "escape.jpg"])
    # A link that stays inside the root is fine.
    assert safe_join(root, "alias.jpg") == (root / "inside.jpg").resolve()


# --------------------------------------------------------------------------- parsing


def test_parse_genre_literal():
    assert parse_genre_literal("['Comedy', 'Drama']") == ["Comedy", "Drama"]
    assert parse_genre_literal("[]") == []
    for bad in ("['Comedy'", "Comedy", "[1, 2]", "__import__('os')"):
        with pytest.raises(ValueError, match="genre list literal"):
            parse_genre_literal(bad)


def test_split_title_year():
    titles = pd.Series(["Toy Story (1995)", "Heat", "Se7en  (1995) ", "Lost (2004–2010)", None])
    title, year = split_title_year(titles)
    assert title.iloc[:4].tolist() == ["Toy Story", "Heat", "Se7en", "Lost"]
    assert pd.isna(title.iloc[4])
    np.testing.assert_array_equal(year.to_numpy(), [1995, np.nan, 1995, 2004, np.nan])


def test_standard_frame_columns_and_dtypes():
    frame = standard_frame(2, imdb_id=["tt1", "tt2"])
    assert list(frame.columns) == FRAME_COLUMNS
    assert frame["year"].dtype == float
    assert str(frame["tmdb_id"].dtype) == "Int64"
    assert frame["director"].isna().all()
    assert frame["keywords"].tolist() == [None, None]


# --------------------------------------------------------------------------- cleaning


def test_clean_movies_drops_unlabelled_and_reports():
    frame = pd.DataFrame({"imdb_id": ["tt1", "tt2", "tt3"], "title": ["A", "B", "C"]})
    Y = np.array([[1, 0], [0, 0], [0, 1]], dtype=np.uint8)
    kept, Y_kept, report = clean_movies(frame, Y, source="x.csv", rows=[2, 3, 4])
    assert kept["imdb_id"].tolist() == ["tt1", "tt3"]
    assert kept.index.tolist() == [0, 1]
    np.testing.assert_array_equal(Y_kept, [[1, 0], [0, 1]])
    assert Y_kept.dtype == np.uint8
    assert report.to_dict("records") == [
        {"source": "x.csv", "row": 3, "imdb_id": "tt2", "reason": "no genres"}
    ]


def test_clean_movies_dedupe_title_keeps_first():
    frame = pd.DataFrame(
        {
            "imdb_id": ["tt1", "tt2", "tt3", "tt4"],
            "title": ["Amélie", "AMELIE!", "Heat", np.nan],
        }
    )
    Y = np.ones((4, 1), dtype=np.uint8)
    kept, _, report = clean_movies(frame, Y, dedupe_title=True)
    # A missing title is never a duplicate.
    assert kept["imdb_id"].tolist() == ["tt1", "tt3", "tt4"]
    assert report["imdb_id"].tolist() == ["tt2"]
    assert report["reason"].iloc[0] == "duplicate title 'amelie' (first: tt1)"
    assert report["row"].iloc[0] == 1  # the frame's index label by default
    kept, _, report = clean_movies(frame, Y)
    assert len(kept) == 4
    assert report.empty


def test_clean_movies_validates_shapes():
    frame = pd.DataFrame({"imdb_id": ["tt1", "tt2"]})
    with pytest.raises(ValueError, match="Y has 3 rows but frame has 2"):
        clean_movies(frame, np.ones((3, 2)))
    with pytest.raises(ValueError, match="2-D"):
        clean_movies(frame, np.ones(2))
    with pytest.raises(ValueError, match="'title' column"):
        clean_movies(frame, np.ones((2, 1)), dedupe_title=True)


def test_dedupe_ids_identical_and_conflicting():
    ids = ["tt1", "tt2", "tt1", "tt3", "tt3", "tt3"]
    Y = np.array([[1, 0], [0, 1], [1, 0], [1, 0], [0, 1], [1, 0]])
    keep, Y_out, report = dedupe_ids(ids, Y, np.arange(2, 8), "f.csv")
    np.testing.assert_array_equal(keep, [True, True, False, True, False, False])
    np.testing.assert_array_equal(Y_out[3], [1, 1])  # labels united
    np.testing.assert_array_equal(Y_out[0], [1, 0])
    report = report.to_frame()
    assert report["row"].tolist() == [4, 6, 7, 5]
    assert report["reason"].iloc[0] == "duplicate id (identical labels)"
    assert report["reason"].iloc[1].startswith("duplicate id (conflicting labels")
    assert report["reason"].iloc[3] == "conflicting labels: united with duplicate row(s) 6, 7"
