"""load_av_posters and load_dataset on a small AV-format tree in tmp_path.

The tree holds every mess the real data has (or could have): duplicated rows with identical
or conflicting labels, the pseudo-genre N/A, a Genre list disagreeing with the one-hot
columns, a malformed Genre literal, an invalid one-hot cell, a missing poster, OMDb
duplicates and "N/A" fields, unlabelled posters, malformed and duplicated keyword records.
Poster files are a few placeholder bytes: the loader never decodes them.
"""

import logging

import numpy as np
import pandas as pd
import pytest

import posterml._config as config
import posterml.datasets._av as av
from posterml.datasets import load_av_posters, load_dataset
from posterml.datasets._common import FRAME_COLUMNS, METADATA_COLUMNS

COLUMNS = ["Action", "Comedy", "Drama", "N/A", "Romance"]

# (Id, Genre text, one-hot cells in COLUMNS order); the comment is the line in train.csv.
TRAIN = [
    ("tt0000001", "['Comedy', 'Drama']", "01100"),  # 2
    ("tt0000002", "['Action']", "10000"),  # 3
    ("tt0000002", "['Action']", "10000"),  # 4 duplicate, identical labels
    ("tt0000003", "['Drama']", "00100"),  # 5
    ("tt0000003", "['Drama', 'Romance']", "00101"),  # 6 duplicate, conflicting labels
    ("tt0000004", "['N/A']", "00010"),  # 7 only N/A
    ("tt0000005", "['Comedy']", "01001"),  # 8 Genre list disagrees with one-hot
    ("tt0000006", "['Action'", "10000"),  # 9 malformed Genre literal
    ("tt0000007", "['Drama']", "00x00"),  # 10 invalid one-hot cell
    ("tt0000008", "['Action', 'Comedy']", "11000"),  # 11 poster file missing
    ("tt0000009", "['Romance']", "00001"),  # 12 no OMDb record
    ("tt0000010", "['Drama', 'N/A']", "00110"),  # 13 N/A beside a real genre
]
POSTERS = [f"tt00000{i:02d}.jpg" for i in (1, 2, 3, 4, 5, 6, 7, 9, 10, 20, 21, 22, 23)]
POSTERS += ["poster.jpg", "notes.txt"]

OMDB_HEADER = (
    ",_id,Language,Box_office,Country,Rated,imdbID,Awards,Poster,Director,Released,Writer,"
    "imdbVotes,Runtime,Response,imdbRating,Title,Genre,Actors,Type,Metascore"
)


def _omdb(i, imdb_id, title, genre, **fields):
    record = {
        "": str(i),
        "_id": f"{i:024x}",
        "Language": "English",
        "Box_office": "108,423,489",
        "Country": "USA",
        "Rated": "R",
        "imdbID": imdb_id,
        "Awards": "Won 5 Oscars.",
        "Poster": "http://example.org/p.jpg",
        "Director": "James L. Brooks",
        "Released": "09 Dec 1983",
        "Writer": "Larry McMurtry (novel)",
        "imdbVotes": "39,168",
        "Runtime": "132 min",
        "Response": "True",
        "imdbRating": "7.4",
        "Title": title,
        "Genre": genre,
        "Actors": "Shirley MacLaine, Debra Winger",
        "Type": "movie",
        "Metascore": "79",
    }
    record.update(fields)
    return record


OMDB = [
    _omdb(0, "tt0000001", "Terms of Endearment", "Comedy, Drama"),  # line 2
    _omdb(1, "tt0000001", "A Different Title", "Comedy"),  # line 3: duplicate
    _omdb(
        2,
        "tt0000002",
        "Sparse",
        "Action",
        Box_office="",
        Metascore="N/A",
        Released="N/A",
        Director="N/A",
        imdbVotes="N/A",
    ),
    _omdb(3, "tt0000003", "Three", "Drama, Romance", Released="1999"),
    _omdb(4, "tt0000004", "Four", "N/A"),
    _omdb(5, "tt0000005", "Heat", "Comedy, Romance"),
    _omdb(6, "tt0000006", "heat", "Action"),  # same normalised title as tt0000005
    _omdb(7, "tt0000007", "Seven", "Drama"),
    _omdb(8, "tt0000008", "Eight", "Action, Comedy"),
    _omdb(9, "tt0000010", "Ten", "Drama"),
    _omdb(10, "tt0000020", "Unlabelled", "Comedy, Horror"),  # line 12
    _omdb(11, "tt0000021", "Unlabelled N/A", "N/A"),  # line 13
    _omdb(12, "tt0000023", "Unlabelled Horror", "Horror"),  # line 14
]

LINKS = [
    ("1", "0000001", "101"),
    ("2", "0000002", "102"),
    ("3", "0000003", ""),  # no TMDb id
    ("5", "0000005", "105"),  # malformed keyword record
    ("6", "0000006", "106"),  # no keyword record
    ("7", "0000007", "107"),  # duplicated keyword record
    ("20", "0000020", "120"),
    ("99", "0000001", "999"),  # duplicate imdbId: first kept
]
KEYWORDS = [
    ("101", "[{'id': 1, 'name': 'cancer'}, {'id': 2, 'name': 'single mother'}]"),  # line 2
    ("102", "[]"),
    ("105", "[{'id': 3, 'name': 'oops'"),  # line 4
    ("107", "[{'id': 4, 'name': 'beach'}]"),
    ("107", "[{'id': 4, 'name': 'beach'}]"),  # line 6
    ("120", "[{'id': 5, 'name': 'dog'}]"),
    ("555", "[{'id': 6, 'name': 'unrelated'"),  # malformed, but no AV movie uses it
]


def write_av(root, train=TRAIN, posters=POSTERS, omdb=OMDB, links=LINKS, keywords=KEYWORDS):
    """Write an AV-format data folder under ``root`` and return ``root``."""
    images = root / "av-posters" / "Images"
    images.mkdir(parents=True)
    rows = [[i, g, *cells] for i, g, cells in train]
    pd.DataFrame(rows, columns=["Id", "Genre", *COLUMNS]).to_csv(
        root / "av-posters" / "train.csv", index=False
    )
    for name in posters:
        (images / name).write_bytes(b"placeholder")
    pd.DataFrame(omdb, columns=OMDB_HEADER.split(",")).to_csv(
        root / "av-posters" / "omdb-metadata.csv", index=False
    )
    (root / "movielens").mkdir()
    pd.DataFrame(links, columns=["movieId", "imdbId", "tmdbId"]).to_csv(
        root / "movielens" / "links.csv", index=False
    )
    pd.DataFrame(keywords, columns=["id", "keywords"]).to_csv(
        root / "movielens" / "keywords.csv", index=False
    )
    return root


@pytest.fixture
def av_root(tmp_path):
    return write_av(tmp_path / "data")


def _reasons(report, imdb_id):
    return report.loc[report["imdb_id"] == imdb_id, "reason"].tolist()


def _row(data, imdb_id):
    frame = data.frame.set_index("imdb_id")
    return frame.loc[imdb_id]


def test_labels_after_cleaning(av_root):
    data = load_av_posters(av_root)
    assert data.genres == ["Action", "Comedy", "Drama", "Romance"]
    ids = ["tt0000001", "tt0000002", "tt0000003", "tt0000005"]
    ids += ["tt0000006", "tt0000007", "tt0000009", "tt0000010"]
    assert data.frame["imdb_id"].tolist() == ids
    expected = {
        "tt0000001": ["Comedy", "Drama"],
        "tt0000002": ["Action"],
        "tt0000003": ["Drama", "Romance"],  # conflicting duplicates: labels united
        "tt0000005": ["Comedy", "Romance"],  # one-hot columns win over the Genre list
        "tt0000006": ["Action"],  # malformed Genre literal: one-hot columns kept
        "tt0000007": ["Drama"],  # invalid one-hot cell: Genre list used
        "tt0000009": ["Romance"],
        "tt0000010": ["Drama"],  # N/A removed
    }
    assert dict(zip(data.frame["imdb_id"], data.frame["genres"])) == expected
    assert data.Y.dtype == np.uint8
    assert data.Y.shape == (8, 4)
    for genres, y in zip(data.frame["genres"], data.Y):
        assert [g for g, v in zip(data.genres, y) if v] == genres
    assert data.root == av_root.resolve()
    assert "Analytics Vidhya" in data.DESCR


def test_report_names_every_mess(av_root):
    report = load_av_posters(av_root).report
    assert list(report.columns) == ["source", "row", "imdb_id", "reason"]
    assert _reasons(report, "tt0000002") == ["duplicate id (identical labels)"]
    assert report.loc[report["imdb_id"] == "tt0000002", "row"].tolist() == [4]
    conflict = report[report["imdb_id"] == "tt0000003"]
    assert conflict["row"].tolist() == [6, 5]
    assert conflict["reason"].iloc[0] == "duplicate id (conflicting labels, united into row 5)"
    assert conflict["reason"].iloc[1] == "conflicting labels: united with duplicate row(s) 6"
    assert _reasons(report, "tt0000004") == ["no genres (only the pseudo-genre 'N/A')"]
    disagree, bad_keywords = _reasons(report, "tt0000005")
    assert disagree == (
        "Genre list ['Comedy'] disagrees with one-hot columns ['Comedy', 'Romance']; "
        "one-hot columns kept"
    )
    assert bad_keywords.startswith("malformed keywords literal: SyntaxError")
    assert _reasons(report, "tt0000006")[0].startswith("malformed genre list literal")
    assert _reasons(report, "tt0000007") == [
        "invalid one-hot value 'x' in column 'Drama'; labels taken from the Genre list",
        "duplicate tmdb id (identical keywords; line 5 kept)",
    ]
    missing = str(av_root.resolve() / "av-posters" / "Images" / "tt0000008.jpg")
    assert _reasons(report, "tt0000008") == [f"poster file missing: {missing}"]
    assert _reasons(report, "tt0000010") == ["pseudo-genre 'N/A' removed"]
    omdb_dup = report[report["source"] == "omdb-metadata.csv"]
    assert omdb_dup[["row", "imdb_id", "reason"]].values.tolist() == [
        [3, "tt0000001", "duplicate OMDb record (first kept)"]
    ]
    links_dup = report[report["source"] == "links.csv"]
    assert links_dup[["row", "imdb_id"]].values.tolist() == [[9, "tt0000001"]]
    # The malformed record of a TMDb id no AV movie links to is not parsed at all.
    assert report[report["source"] == "keywords.csv"]["row"].tolist() == [4, 6]
    assert report["row"].dtype == "Int64"


def test_frame_columns_metadata_and_keywords(av_root):
    data = load_av_posters(av_root)
    frame = data.frame
    assert list(frame.columns) == FRAME_COLUMNS
    first = _row(data, "tt0000001")
    assert first["title"] == "Terms of Endearment"  # first of the OMDb duplicates
    assert first["year"] == 1983.0
    assert first["imdb_votes"] == "39,168"  # raw strings, parsed later by a transformer
    assert first["runtime"] == "132 min"
    assert first["omdb_genre"] == "Comedy, Drama"
    assert first["tmdb_id"] == 101  # the first links.csv row of the id
    assert first["keywords"] == ["cancer", "single mother"]
    assert first["poster_path"] == str(av_root.resolve() / "av-posters/Images/tt0000001.jpg")

    sparse = _row(data, "tt0000002")
    for column in ("box_office", "metascore", "released", "director", "imdb_votes"):
        assert pd.isna(sparse[column]), column
    assert np.isnan(sparse["year"])
    assert sparse["keywords"] == []  # a keyword record that is empty
    assert _row(data, "tt0000003")["year"] == 1999.0

    nothing = _row(data, "tt0000009")  # no OMDb record, no links.csv row
    assert nothing[["title", *METADATA_COLUMNS]].isna().all()
    assert pd.isna(nothing["tmdb_id"])
    assert nothing["keywords"] is None
    assert pd.isna(_row(data, "tt0000003")["tmdb_id"])  # links row without tmdbId
    assert _row(data, "tt0000005")["keywords"] is None  # malformed record
    assert _row(data, "tt0000005")["tmdb_id"] == 105
    assert _row(data, "tt0000006")["keywords"] is None  # no record for tmdb 106
    assert _row(data, "tt0000007")["keywords"] == ["beach"]

    assert frame["year"].dtype == float
    assert str(frame["tmdb_id"].dtype) == "Int64"
    assert frame["genres"].map(type).eq(list).all()


def test_min_support_drops_rare_genres(av_root):
    data = load_av_posters(av_root, min_support=3)
    assert data.genres == ["Drama", "Romance"]
    assert data.Y.sum(axis=0).tolist() == [4, 3]
    # Action-only movies lose their only genre and go.
    assert "tt0000002" not in set(data.frame["imdb_id"])
    assert _row(data, "tt0000001")["genres"] == ["Drama"]
    report = data.report
    assert _reasons(report, "tt0000002")[-2:] == [
        "genre 'Action' dropped (2 positives < min_support=3)",
        "no genres",
    ]
    assert "genre 'Comedy' dropped (2 positives < min_support=3)" in _reasons(report, "tt0000001")
    with pytest.raises(TypeError, match="min_support"):
        load_av_posters(av_root, min_support=2.5)


def test_include_unlabelled_uses_omdb_genres(av_root):
    base = load_av_posters(av_root)
    data = load_av_posters(av_root, include_unlabelled=True)
    added = sorted(set(data.frame["imdb_id"]) - set(base.frame["imdb_id"]))
    # tt0000004 (N/A only in train.csv) must not come back as "unlabelled".
    assert added == ["tt0000020"]
    extra = _row(data, "tt0000020")
    assert extra["genres"] == ["Comedy"]  # Horror is not among the known genres
    assert extra["keywords"] == ["dog"]
    assert data.frame["imdb_id"].iloc[-1] == "tt0000020"
    report = data.report
    # OMDb writes a missing Genre as "N/A".
    assert _reasons(report, "tt0000021") == ["no genres (unlabelled poster; no OMDb Genre)"]
    assert report.loc[report["imdb_id"] == "tt0000021", "row"].tolist() == [13]
    assert _reasons(report, "tt0000023") == [
        "no genres (unlabelled poster; OMDb Genre 'Horror' has none of the known genres)"
    ]
    assert _reasons(report, "tt0000022") == ["no OMDb record"]
    odd = report[report["source"] == "Images"]
    assert odd["reason"].tolist() == [
        "poster file 'poster.jpg' is not <imdb id>.jpg",
        "no OMDb record",
    ]
    assert _reasons(base.report, "tt0000020") == []


def test_on_missing_keep_and_raise(av_root):
    kept = load_av_posters(av_root, on_missing="keep")
    assert "tt0000008" in set(kept.frame["imdb_id"])
    assert not any("poster file missing" in r for r in kept.report["reason"])
    with pytest.raises(FileNotFoundError, match=r"1 poster file\(s\) missing.*tt0000008\.jpg"):
        load_av_posters(av_root, on_missing="raise")
    with pytest.raises(ValueError, match="on_missing"):
        load_av_posters(av_root, on_missing="skip")


def test_dedupe_title(av_root):
    data = load_av_posters(av_root, dedupe_title=True)
    assert "tt0000006" not in set(data.frame["imdb_id"])
    assert _reasons(data.report, "tt0000006")[-1] == "duplicate title 'heat' (first: tt0000005)"
    with pytest.raises(ValueError, match="join_omdb"):
        load_av_posters(av_root, dedupe_title=True, join_omdb=False)


def test_without_joins_metadata_is_missing(tmp_path):
    root = tmp_path / "data"
    write_av(root)
    (root / "movielens" / "links.csv").unlink()
    (root / "av-posters" / "omdb-metadata.csv").unlink()
    data = load_av_posters(root, join_omdb=False, join_keywords=False)
    assert len(data.frame) == 8
    assert data.frame[["title", *METADATA_COLUMNS]].isna().all().all()
    assert data.frame["keywords"].isna().all()
    with pytest.raises(FileNotFoundError, match=r"links\.csv.*join_keywords=False"):
        load_av_posters(root, join_omdb=False)
    with pytest.raises(FileNotFoundError, match=r"omdb-metadata\.csv"):
        load_av_posters(root, join_keywords=False)


def test_path_traversal_in_id_is_refused(tmp_path):
    train = [*TRAIN, ("../../../etc/passwd", "['Drama']", "00100")]
    root = write_av(tmp_path / "data", train=train)
    for on_missing in ("keep", "report"):
        with pytest.raises(ValueError, match=r"'\.\./\.\./\.\./etc/passwd\.jpg' escapes"):
            load_av_posters(root, on_missing=on_missing)


def test_logs_a_summary(av_root, caplog, capsys):
    with caplog.at_level(logging.INFO, logger="posterml"):
        load_av_posters(av_root)
    summary = [r.getMessage() for r in caplog.records if "load_av_posters" in r.getMessage()]
    assert len(summary) == 1
    assert summary[0].startswith("load_av_posters: 8 movies, 4 genres from")
    assert capsys.readouterr().out == ""


def test_missing_files_give_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="train.csv"):
        load_av_posters(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_av_posters(tmp_path / "nowhere")
    root = write_av(tmp_path / "data")
    for path in (root / "av-posters" / "Images").iterdir():
        path.unlink()
    (root / "av-posters" / "Images").rmdir()
    with pytest.raises(FileNotFoundError, match="on_missing='keep'"):
        load_av_posters(root)
    assert len(load_av_posters(root, on_missing="keep").frame) == 9


def test_no_data_root_names_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv(config.DATA_ENV, raising=False)

    def candidates():
        yield tmp_path / "absent"

    monkeypatch.setattr(config, "_default_data_candidates", candidates)
    monkeypatch.setattr(av, "_default_data_candidates", candidates)
    with pytest.raises(FileNotFoundError, match=r"looked in: \$POSTERML_DATA \(unset\), .*absent"):
        load_av_posters()


def test_data_root_from_environment(tmp_path, monkeypatch):
    root = write_av(tmp_path / "data")
    monkeypatch.setenv(config.DATA_ENV, str(root))
    assert len(load_av_posters().frame) == 8


def test_train_without_required_column(tmp_path):
    root = write_av(tmp_path / "data")
    path = root / "av-posters" / "train.csv"
    pd.read_csv(path).drop(columns="Genre").to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"train\.csv' has no column 'Genre'"):
        load_av_posters(root)


# --------------------------------------------------------------------------- load_dataset


def test_load_dataset_prefers_real_data(tmp_path, monkeypatch):
    root = write_av(tmp_path / "data")
    monkeypatch.setenv(config.DATA_ENV, str(root))
    data = load_dataset(min_support=3)
    assert data.source == "av-posters"
    assert data.genres == ["Drama", "Romance"]
    assert load_dataset(root).source == "av-posters"


def test_load_dataset_falls_back_to_synthetic(tmp_path, monkeypatch, caplog):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(config.DATA_ENV, str(empty))
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    with caplog.at_level(logging.INFO, logger="posterml"):
        data = load_dataset(n_synthetic=10, random_state=3, min_support=2)
    assert data.source == "synthetic"
    assert len(data.frame) == 10
    assert data.frame["imdb_id"].iloc[0] == "syn000001"
    assert "apply to the real data only" in caplog.text
    assert str(tmp_path / "cache") in str(data.root)
    # An explicit root is loaded as asked, never silently replaced.
    with pytest.raises(FileNotFoundError, match="train.csv"):
        load_dataset(empty)


def test_load_dataset_synthetic_is_forced(tmp_path, monkeypatch):
    root = write_av(tmp_path / "data")
    monkeypatch.setenv(config.DATA_ENV, str(root))
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    assert load_dataset().source == "av-posters"
    data = load_dataset(synthetic=True, n_synthetic=12)
    assert data.source == "synthetic"
    assert len(data.frame) == 12
    with pytest.raises(ValueError, match="not both"):
        load_dataset(root, synthetic=True)


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real(data_root):
    return load_av_posters(data_root)


# Genre counts over the 7,242 unique ids of train.csv. The README's counts (Drama 3619,
# Comedy 2900, ...) are over its 7,254 rows, i.e. they count the 12 duplicated rows twice;
# the 9 unique ids labelled only 'N/A' (10 rows in the README) are dropped, leaving 7,233.
REAL_COUNTS = {
    "Action": 1339,
    "Adventure": 868,
    "Animation": 244,
    "Biography": 441,
    "Comedy": 2895,
    "Crime": 1175,
    "Documentary": 650,
    "Drama": 3617,
    "Family": 434,
    "Fantasy": 467,
    "History": 224,
    "Horror": 502,
    "Music": 304,
    "Musical": 97,
    "Mystery": 453,
    "News": 21,
    "Reality-TV": 2,
    "Romance": 1331,
    "Sci-Fi": 397,
    "Short": 46,
    "Sport": 219,
    "Thriller": 916,
    "War": 144,
    "Western": 50,
}


@pytest.mark.integration
def test_real_counts(real, data_root):
    assert len(real.frame) == 7233
    assert real.frame["imdb_id"].is_unique
    assert real.genres == list(REAL_COUNTS)
    assert dict(zip(real.genres, real.Y.sum(axis=0).tolist())) == REAL_COUNTS
    # Adding the duplicated rows back gives the README's figures.
    train = pd.read_csv(data_root / "av-posters" / "train.csv")
    assert len(train) == 7254
    assert train["Id"].nunique() == 7242
    assert train["Drama"].sum() == 3619
    assert train["Comedy"].sum() == 2900
    assert train["N/A"].sum() == 10
    assert set(real.Y.sum(axis=1)) == {1, 2, 3}


@pytest.mark.integration
def test_real_report(real):
    report = real.report
    dup = report[report["reason"] == "duplicate id (identical labels)"]
    assert len(dup) == 12
    assert set(dup["source"]) == {"train.csv"}
    assert "tt0092644" in set(dup["imdb_id"])
    assert (report["reason"] == "no genres (only the pseudo-genre 'N/A')").sum() == 9
    assert (report["reason"] == "duplicate OMDb record (first kept)").sum() == 12
    assert not report["reason"].str.contains("poster file missing|disagrees|conflicting").any()


@pytest.mark.integration
def test_real_include_unlabelled(real, data_root):
    data = load_av_posters(data_root, include_unlabelled=True)
    # 625 posters have no train.csv row; 2 of them have no OMDb Genre and are dropped.
    assert len(data.frame) - len(real.frame) == 623
    unlabelled = data.report["reason"].str.startswith("no genres (unlabelled poster")
    assert unlabelled.sum() == 2


@pytest.mark.integration
def test_real_keywords_and_metadata(real):
    terms = _row(real, "tt0086425")
    assert terms["title"] == "Terms of Endearment"
    assert terms["genres"] == ["Comedy", "Drama"]
    assert terms["year"] == 1983.0
    assert terms["tmdb_id"] == 11050
    assert "cancer" in terms["keywords"]
    # A short documentary OMDb knows little about: its missing fields are NaN.
    sparse = _row(real, "tt1697641")
    assert sparse["runtime"] == "14 min"
    for column in ("released", "director", "imdb_rating", "metascore", "box_office"):
        assert pd.isna(sparse[column]), column
    assert np.isnan(sparse["year"])
    assert sparse["keywords"] is None
    assert real.frame["keywords"].notna().sum() > 6000
