"""load_movie_genre_csv on small MovieGenre.csv files (both variants) written in tmp_path."""

import logging

import numpy as np
import pandas as pd
import pytest

from posterml.datasets import load_movie_genre_csv
from posterml.datasets._common import FRAME_COLUMNS

HEADER = ["imdbId", "Imdb Link", "Title", "IMDB Score", "Genre", "Poster"]
URL = "https://images-na.ssl-images-amazon.com/images/M/x.jpg"

# Variant A: Poster is a URL; posters are saved as <poster_dir>/<imdbId zero-padded>.jpg.
ROWS_A = [
    ("114709", "http://www.imdb.com/title/tt114709", "Toy Story (1995)", "8.3",
     "Animation|Adventure|Comedy", URL),  # line 2
    ("113497", "http://www.imdb.com/title/tt113497", "Jumanji (1995)", "6.9",
     "Action|Adventure|Family", URL),  # line 3
    ("211915", "http://www.imdb.com/title/tt211915", "Amélie (2001)", "8.3",
     "Comedy|Romance", URL),  # line 4
    ("113497", "http://www.imdb.com/title/tt113497", "Jumanji (1995)", "6.9",
     "Action|Adventure|Family", URL),  # line 5: duplicate, identical
    ("114885", "http://www.imdb.com/title/tt114885", "Waiting to Exhale (1995)", "5.6",
     "Comedy|Drama", URL),  # line 6: conflicting duplicate below
    ("114885", "http://www.imdb.com/title/tt114885", "Waiting to Exhale (1995)", "5.6",
     "Comedy|Romance", URL),  # line 7
    ("999999", "", "No Poster (2010)", "", "Drama", URL),  # line 8: poster file missing
    ("113041", "", "Untitled", "", "", URL),  # line 9: no genres, no year
    ("tt0112641", "", "Casino (1995)", "8.2", "Crime|Drama", ""),  # line 10: 'tt' id
    ("abc", "", "Bad Id (1990)", "", "Drama", URL),  # line 11: invalid id
]  # fmt: skip
POSTERS_A = ["tt0114709.jpg", "tt0113497.jpg", "tt0211915.jpg", "tt0114885.jpg",
             "tt0113041.jpg", "tt0112641.jpg"]  # fmt: skip


def _write_a(tmp_path, rows=ROWS_A, encoding="utf-8", header=HEADER):
    posters = tmp_path / "posters"
    posters.mkdir()
    for name in POSTERS_A:
        (posters / name).write_bytes(b"placeholder")
    path = tmp_path / "MovieGenre.csv"
    pd.DataFrame(rows, columns=header).to_csv(path, index=False, encoding=encoding)
    return path, posters


def test_variant_a(tmp_path, caplog):
    path, posters = _write_a(tmp_path)
    with caplog.at_level(logging.INFO, logger="posterml"):
        data = load_movie_genre_csv(path, posters)
    frame = data.frame
    assert frame["imdb_id"].tolist() == ["tt0114709", "tt0113497", "tt0211915", "tt0114885",
                                         "tt0112641"]  # fmt: skip
    assert frame["title"].tolist() == ["Toy Story", "Jumanji", "Amélie", "Waiting to Exhale",
                                       "Casino"]  # fmt: skip
    np.testing.assert_array_equal(frame["year"], [1995, 1995, 2001, 1995, 1995])
    assert data.genres == ["Action", "Adventure", "Animation", "Comedy", "Crime", "Drama",
                           "Family", "Romance"]  # fmt: skip
    assert frame["genres"].iloc[3] == ["Comedy", "Drama", "Romance"]  # united duplicates
    for genres, y in zip(frame["genres"], data.Y):
        assert [g for g, v in zip(data.genres, y) if v] == genres
    assert frame["poster_path"].iloc[0] == str(posters.resolve() / "tt0114709.jpg")
    assert frame["imdb_rating"].iloc[0] == "8.3"
    assert frame["imdb_link"].iloc[0] == "http://www.imdb.com/title/tt114709"
    assert list(frame.columns[: len(FRAME_COLUMNS)]) == FRAME_COLUMNS
    assert frame["director"].isna().all()
    assert frame["keywords"].isna().all()
    assert data.encoding == "utf-8"
    assert data.root == posters.resolve()

    report = data.report.set_index("row")
    assert report.loc[5, "reason"] == "duplicate id (identical labels)"
    assert report.loc[7, "reason"].startswith("duplicate id (conflicting labels")
    assert report.loc[6, "reason"] == "conflicting labels: united with duplicate row(s) 7"
    missing = posters.resolve() / "tt0999999.jpg"
    assert report.loc[8, "reason"] == f"poster file missing: {missing}"
    assert report.loc[9, "reason"] == "no genres"
    assert report.loc[11, "reason"] == "invalid imdbId 'abc'"
    assert set(report["source"]) == {"MovieGenre.csv"}
    assert "load_movie_genre_csv: 5 movies, 8 genres" in caplog.text


def test_latin1_file_falls_back(tmp_path):
    path, posters = _write_a(tmp_path, encoding="latin-1")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    data = load_movie_genre_csv(path, posters)
    assert data.encoding == "latin-1"
    assert "Amélie" in data.frame["title"].tolist()
    # An explicit encoding is used as given.
    data = load_movie_genre_csv(path, posters, encoding="cp1252")
    assert data.encoding == "cp1252"
    assert "Amélie" in data.frame["title"].tolist()


def test_on_missing(tmp_path):
    path, posters = _write_a(tmp_path)
    kept = load_movie_genre_csv(path, posters, on_missing="keep")
    assert "tt0999999" in kept.frame["imdb_id"].tolist()
    assert not kept.report["reason"].str.startswith("poster file missing").any()
    with pytest.raises(FileNotFoundError, match=r"tt0999999\.jpg"):
        load_movie_genre_csv(path, posters, on_missing="raise")
    with pytest.raises(ValueError, match="on_missing"):
        load_movie_genre_csv(path, posters, on_missing="drop")


@pytest.mark.parametrize("column", ["imdbId", "Title", "Genre", "Poster"])
def test_missing_column_is_named(tmp_path, column):
    header = [c if c != column else "Something" for c in HEADER]
    path, posters = _write_a(tmp_path, header=header)
    with pytest.raises(ValueError, match=rf"MovieGenre\.csv' has no column '{column}'"):
        load_movie_genre_csv(path, posters)


def test_missing_paths(tmp_path):
    path, posters = _write_a(tmp_path)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_movie_genre_csv(tmp_path / "nope.csv", posters)
    with pytest.raises(FileNotFoundError, match="poster folder"):
        load_movie_genre_csv(path, tmp_path / "no-posters")


def _write_b(tmp_path, rows):
    posters = tmp_path / "posters"
    (posters / "img").mkdir(parents=True)
    for name in ("img/a.jpg", "img/b.jpg", "c.jpg"):
        (posters / name).write_bytes(b"placeholder")
    path = tmp_path / "MovieGenre-onehot.csv"
    columns = [*HEADER, "Action", "Comedy", "Drama"]
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path, posters


def test_variant_b_one_hot_and_local_posters(tmp_path):
    rows = [
        ("1", "", "A (2000)", "7", "Action|Drama", "img/a.jpg", 1, 0, 1),
        ("2", "", "B (2001)", "6", "Comedy", "img/b.jpg", 1, 1, 0),  # disagreement
        ("3", "", "C (2002)", "5", "Drama", "c.jpg", 0, 0, 1),
        ("4", "", "D (2003)", "5", "Drama", "missing.jpg", 0, 0, 1),
    ]
    path, posters = _write_b(tmp_path, rows)
    data = load_movie_genre_csv(path, posters)
    assert data.genres == ["Action", "Comedy", "Drama"]  # the one-hot column order
    assert data.frame["imdb_id"].tolist() == ["tt0000001", "tt0000002", "tt0000003"]
    assert data.frame["genres"].tolist() == [["Action", "Drama"], ["Action", "Comedy"], ["Drama"]]
    assert data.frame["poster_path"].iloc[0] == str(posters.resolve() / "img" / "a.jpg")
    report = data.report.set_index("row")["reason"]
    assert report[3] == (
        "Genre 'Comedy' disagrees with one-hot columns ['Action', 'Comedy']; one-hot columns kept"
    )
    assert report[5] == f"poster file missing: {posters.resolve() / 'missing.jpg'}"


@pytest.mark.parametrize("poster", ["../../etc/passwd", "/etc/passwd", "img/../../x.jpg"])
def test_variant_b_poster_traversal_is_refused(tmp_path, poster):
    rows = [("1", "", "A (2000)", "7", "Action", poster, 1, 0, 0)]
    path, posters = _write_b(tmp_path, rows)
    with pytest.raises(ValueError, match="dataset root") as info:
        load_movie_genre_csv(path, posters, on_missing="keep")
    assert repr(poster) in str(info.value)
