"""Faulty tables: every loader meets malformed CSV rows, wrong encodings, missing or renamed
columns, odd genre spellings, duplicate ids, empty label sets and dangerous literals.

The faulty files are written byte by byte in tmp_path. Each test checks the exact file,
line, column or value the user is told about (the error message or the ``report`` row).
"""

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

from posterml.datasets import (
    load_av_posters,
    load_dataset,
    load_movie_genre_csv,
    load_sample,
    load_tmdb_keywords,
)
from posterml.datasets._common import decode_text, read_table
from posterml.datasets._sample import DATA_DIR, FEATURES_FILE, MOVIES_FILE

GENRES = ["Action", "Comedy", "Drama", "N/A", "Sci-Fi"]
HEADER = "Id,Genre," + ",".join(GENRES)
N_FIELDS = len(GENRES) + 2

# The good train.csv: line 1 header, lines 2-5 one movie each.
GOOD = [
    "tt0000001,\"['Comedy', 'Drama']\",0,1,1,0,0",  # line 2
    "tt0000002,['Action'],1,0,0,0,0",  # line 3
    "tt0000003,['Sci-Fi'],0,0,0,0,1",  # line 4
    "tt0000004,['Drama'],0,0,1,0,0",  # line 5
]
OMDB_HEADER = "imdbID,Title,Released,Genre"
OMDB = [
    'tt0000001,Am\u00e9lie,25 Apr 2001,"Comedy, Drama"',  # line 2
    "tt0000002,Heat,15 Dec 1995,Action",  # line 3
    "tt0000003,Alien,22 Jun 1979,Sci-Fi",  # line 4
    "tt0000004,Up,29 May 2009,Drama",  # line 5
]


def _text(header, lines, eol="\n", final_eol=True):
    return eol.join([header, *lines]) + (eol if final_eol else "")


def _root(tmp_path, train=None, omdb=None, links=None, keywords=None):
    """An AV data folder; ``train``/``omdb``/... are bytes (default: the good files)."""
    root = tmp_path / "data"
    images = root / "av-posters" / "Images"
    images.mkdir(parents=True)
    for i in range(1, 12):
        (images / f"tt{i:07d}.jpg").write_bytes(b"placeholder")
    av = root / "av-posters"
    (av / "train.csv").write_bytes(train if train is not None else _text(HEADER, GOOD).encode())
    (av / "omdb-metadata.csv").write_bytes(
        omdb if omdb is not None else _text(OMDB_HEADER, OMDB).encode()
    )
    (root / "movielens").mkdir()
    default_links = _text("movieId,imdbId,tmdbId", ["1,0000001,101", "2,0000002,102"])
    default_keywords = _text("id,keywords", ["101,\"[{'id': 1, 'name': 'love'}]\"", "102,[]"])
    (root / "movielens" / "links.csv").write_bytes(links or default_links.encode())
    (root / "movielens" / "keywords.csv").write_bytes(keywords or default_keywords.encode())
    return root


def _train(tmp_path, lines, **kwargs):
    return _root(tmp_path, train=_text(HEADER, lines, **kwargs).encode())


def _load(root, **kwargs):
    kwargs.setdefault("join_keywords", False)
    return load_av_posters(root, **kwargs)


def _report(data, source="train.csv"):
    report = data.report[data.report["source"] == source]
    return [tuple(r) for r in report[["row", "imdb_id", "reason"]].itertuples(index=False)]


def _ids(data):
    return data.frame["imdb_id"].tolist()


# ----------------------------------------------------------------------- malformed rows


def test_row_with_too_many_fields_is_skipped_and_named(tmp_path):
    # On the first data row pandas would have read the Id column as the index and shifted
    # every column; the row is skipped instead, and the rest is read as written.
    lines = [GOOD[0] + ",x", *GOOD[1:]]
    data = _load(_train(tmp_path, lines))
    assert _ids(data) == ["tt0000002", "tt0000003", "tt0000004"]
    assert data.frame["genres"].tolist() == [["Action"], ["Sci-Fi"], ["Drama"]]
    assert _report(data) == [
        (2, "tt0000001", f"{N_FIELDS + 1} fields where the header has {N_FIELDS}; row skipped")
    ]
    with pytest.raises(ValueError, match=r"train\.csv' line 2: 8 fields where the header has 7"):
        _load(_train(tmp_path / "raise", lines), on_error="raise")


def test_row_with_too_few_fields_is_skipped_and_named(tmp_path):
    lines = [GOOD[0], "tt0000002,['Action'],1,0", *GOOD[2:]]
    data = _load(_train(tmp_path, lines))
    assert _ids(data) == ["tt0000001", "tt0000003", "tt0000004"]
    assert _report(data) == [(3, "tt0000002", "4 fields where the header has 7; row skipped")]


def test_trailing_empty_cells_lose_nothing(tmp_path):
    data = _load(_train(tmp_path, [line + ",," for line in GOOD]))
    assert _ids(data) == ["tt0000001", "tt0000002", "tt0000003", "tt0000004"]
    assert _report(data) == []


def test_unbalanced_quote_costs_only_its_own_line(tmp_path):
    # The stray quote on line 3 would swallow line 4; reading resumes on line 4.
    lines = [GOOD[0], "tt0000002,\"['Action'],1,0,0,0,0", "tt0000003,\"['Sci-Fi']\",0,0,0,0,1"]
    lines.append(GOOD[3])
    data = _load(_train(tmp_path, lines))
    assert _ids(data) == ["tt0000001", "tt0000003", "tt0000004"]
    [(row, imdb_id, reason)] = _report(data)
    assert (row, imdb_id) == (3, "tt0000002")
    assert reason == (
        "unbalanced quote: the quoted field opened on line 3 runs on to line 4; row skipped"
    )


def test_unbalanced_quote_on_the_last_line(tmp_path):
    lines = [*GOOD, "tt0000005,\"['Drama'],0,0,1,0,0"]
    data = _load(_train(tmp_path, lines))
    assert _ids(data) == ["tt0000001", "tt0000002", "tt0000003", "tt0000004"]
    assert _report(data) == [
        (
            6,
            "tt0000005",
            "unbalanced quote: the quoted field opened on line 6 is never closed; row skipped",
        ),
    ]
    with pytest.raises(ValueError, match=r"line 6: unbalanced quote"):
        _load(_train(tmp_path / "raise", lines), on_error="raise")


def test_text_after_a_closing_quote_is_malformed_quoting(tmp_path):
    lines = [GOOD[0], "tt0000002,\"['Action']\"x,1,0,0,0,0", *GOOD[2:]]
    data = _load(_train(tmp_path, lines))
    assert _ids(data) == ["tt0000001", "tt0000003", "tt0000004"]
    [(row, imdb_id, reason)] = _report(data)
    assert (row, imdb_id) == (3, "tt0000002")
    assert reason.startswith("malformed CSV quoting (")
    assert reason.endswith("; row skipped")


def test_truncated_last_line_is_named(tmp_path):
    lines = [*GOOD[:3], "tt0000004,\"['Drama']\",0,0"]
    data = _load(_train(tmp_path, lines, final_eol=False))
    assert _ids(data) == ["tt0000001", "tt0000002", "tt0000003"]
    assert _report(data) == [
        (5, "tt0000004", "4 fields where the header has 7 (truncated last line?); row skipped")
    ]


def test_nul_byte_is_removed_and_its_line_reported(tmp_path):
    lines = [GOOD[0], "tt00\x0000002,['Action'],1,0,0,0,0", *GOOD[2:]]
    data = _load(_train(tmp_path, lines))
    assert _ids(data) == ["tt0000001", "tt0000002", "tt0000003", "tt0000004"]
    assert _report(data) == [(3, "tt0000002", "1 NUL byte(s) removed")]


def test_blank_lines_are_ignored_and_line_numbers_stay_true(tmp_path):
    # pandas skipped blank lines and counted rows, so a report named the wrong line.
    lines = [GOOD[0], "", "   ", GOOD[1], "tt0000005,['Drama'],0,0,x,0,0"]
    data = _load(_train(tmp_path, lines))
    assert _ids(data) == ["tt0000001", "tt0000002", "tt0000005"]
    assert _report(data) == [
        (6, "tt0000005", "invalid one-hot value 'x' in column 'Drama'; labels taken from the "
         "Genre list"),
    ]  # fmt: skip


@pytest.mark.parametrize("eol", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_crlf_and_cr_line_ends(tmp_path, eol):
    lines = [*GOOD, "tt0000005,['Drama'],0,0,1,0"]  # line 6: a field short
    data = _load(_root(tmp_path, train=_text(HEADER, lines, eol=eol).encode()))
    reference = _load(_train(tmp_path / "lf", lines))
    assert _ids(data) == _ids(reference) == ["tt0000001", "tt0000002", "tt0000003", "tt0000004"]
    assert np.array_equal(data.Y, reference.Y)
    assert _report(data) == [(6, "tt0000005", "6 fields where the header has 7; row skipped")]


def test_empty_file_and_header_only(tmp_path):
    with pytest.raises(ValueError, match=r"train\.csv' is empty: it has no header line"):
        _load(_root(tmp_path / "empty", train=b""))
    with pytest.raises(ValueError, match=r"is empty"):
        _load(_root(tmp_path / "blank", train=b"\n \r\n"))
    data = _load(_root(tmp_path / "header", train=(HEADER + "\n").encode()))
    assert data.frame.empty
    assert data.Y.shape == (0, 4)
    assert data.genres == ["Action", "Comedy", "Drama", "Sci-Fi"]


# ----------------------------------------------------------------------- encodings


def _write_omdb(tmp_path, data):
    return _root(tmp_path, omdb=data)


def test_cp1252_line_in_a_utf8_file_is_read_and_reported(tmp_path):
    # Line 2 is UTF-8 ("Amélie"), line 3 was pasted from a cp1252 editor.
    lines = [OMDB[0], "tt0000002,Caf\u00e9 \u201cSociety\u201d,15 Dec 1995,Action", *OMDB[2:]]
    raw = _text(OMDB_HEADER, lines).encode("utf-8")
    raw = raw.replace("Caf\u00e9 \u201cSociety\u201d".encode(), b"Caf\xe9 \x93Society\x94")
    data = _load(_write_omdb(tmp_path, raw))
    titles = data.frame.set_index("imdb_id")["title"]
    assert titles["tt0000001"] == "Am\u00e9lie"  # not "AmÃ©lie": the UTF-8 lines stay UTF-8
    assert titles["tt0000002"] == "Caf\u00e9 \u201cSociety\u201d"
    assert _report(data, "omdb-metadata.csv") == [
        (3, "tt0000002", "not valid UTF-8 (byte b'\\xe9' at position 14 of the line); line "
         "read as cp1252"),
    ]  # fmt: skip


def test_latin1_file_is_read_whole_with_one_report_row(tmp_path):
    raw = _text(OMDB_HEADER, OMDB).encode("latin-1")
    data = _load(_write_omdb(tmp_path, raw))
    assert data.frame.set_index("imdb_id")["title"]["tt0000001"] == "Am\u00e9lie"
    [(row, imdb_id, reason)] = _report(data, "omdb-metadata.csv")
    assert row is pd.NA
    assert imdb_id is None
    assert reason == (
        "not UTF-8 (line(s) 2 hold bytes such as b'\\xe9'); the whole file read as latin-1"
    )


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_byte_order_marks_and_utf16_are_read(tmp_path, codec):
    text = _text(HEADER, [*GOOD, "tt0000005,['Drama'],0,0,1"])  # line 6 short
    data = _load(_root(tmp_path, train=text.encode(codec)))
    assert _ids(data) == ["tt0000001", "tt0000002", "tt0000003", "tt0000004"]
    assert data.frame["genres"].tolist() == [["Comedy", "Drama"], ["Action"], ["Sci-Fi"], ["Drama"]]
    assert _report(data) == [(6, "tt0000005", "5 fields where the header has 7; row skipped")]


def test_explicit_or_damaged_encoding_errors_name_the_line():
    with pytest.raises(ValueError, match=r"'x\.csv' is not valid ascii: line 3 holds the byte"):
        decode_text(b"a,b\n1,2\n3,\xe9\n", "x.csv", encoding="ascii")
    with pytest.raises(ValueError, match=r"unknown encoding 'klingon' for 'x\.csv'"):
        decode_text(b"a\n", "x.csv", encoding="klingon")
    damaged = "a,b\n1,2\n".encode("utf-16") + b"\x00\xd8"  # a lone surrogate at the end
    with pytest.raises(ValueError, match=r"not valid utf-16: line 3.*byte-order mark"):
        decode_text(damaged, "x.csv")


# ----------------------------------------------------------------------- columns


def test_missing_and_renamed_columns_are_named(tmp_path):
    header = HEADER.replace("Genre,", "genre,")
    root = _root(tmp_path, train=_text(header, GOOD).encode())
    with pytest.raises(
        ValueError, match=r"train\.csv' has no column 'Genre' .*; did you mean 'genre'\?"
    ):
        _load(root)
    header = HEADER.replace("Id,", "imdb_id,")
    root = _root(tmp_path / "id", train=_text(header, GOOD).encode())
    with pytest.raises(ValueError, match=r"has no column 'Id' \(columns found: \['imdb_id'"):
        _load(root)
    omdb = _text("imdb_id,Title", ["tt0000001,x"]).encode()
    with pytest.raises(ValueError, match=r"omdb-metadata\.csv' has no column 'imdbID'"):
        _load(_root(tmp_path / "omdb", omdb=omdb))


def test_spaces_around_header_names_are_ignored(tmp_path):
    header = " Id , Genre ," + ",".join(f" {g}" for g in GENRES)
    data = _load(_root(tmp_path, train=_text(header, GOOD).encode()))
    assert _ids(data) == ["tt0000001", "tt0000002", "tt0000003", "tt0000004"]
    assert data.genres == ["Action", "Comedy", "Drama", "Sci-Fi"]


def test_repeated_column_is_refused(tmp_path):
    header = HEADER.replace("Comedy", "Drama")
    with pytest.raises(
        ValueError, match=r"column 'Drama' appears twice in the header \(columns 4 and 5\)"
    ):
        _load(_root(tmp_path, train=_text(header, GOOD).encode()))


def test_one_genre_spelled_as_two_columns_is_refused(tmp_path):
    header = HEADER.replace("N/A", "SciFi")
    with pytest.raises(
        ValueError, match=r"genre columns 'SciFi' and 'Sci-Fi' are the same genre spelled"
    ):
        _load(_root(tmp_path, train=_text(header, GOOD).encode()))


# ----------------------------------------------------------------------- genre literals


def test_dangerous_genre_literal_is_never_evaluated(tmp_path):
    target = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {target}')"
    lines = [GOOD[0], f'tt0000002,"{payload}",1,0,0,0,0', *GOOD[2:]]
    data = _load(_train(tmp_path, lines))
    assert not target.exists()
    assert data.frame.set_index("imdb_id")["genres"]["tt0000002"] == ["Action"]
    [(row, imdb_id, reason)] = _report(data)
    assert (row, imdb_id) == (3, "tt0000002")
    assert reason.startswith(f"malformed genre list literal {payload!r}: ValueError: ")
    assert reason.endswith("; one-hot columns kept")


@pytest.mark.parametrize(
    ("literal", "reason"),
    [
        ("'Action'", "genre list literal \"'Action'\" is not a list of strings"),
        ("[1, 2]", "genre list literal '[1, 2]' is not a list of strings"),
        ("['Action'", "malformed genre list literal \"['Action'\": SyntaxError"),
        ("[" * 500 + "]" * 500, "malformed genre list literal"),
    ],
    ids=["string", "numbers", "unclosed", "deep"],
)
def test_malformed_genre_literal_is_reported_with_its_row(tmp_path, literal, reason):
    lines = [GOOD[0], f'tt0000002,"{literal}",1,0,0,0,0', *GOOD[2:]]
    data = _load(_train(tmp_path, lines))
    assert data.frame.set_index("imdb_id")["genres"]["tt0000002"] == ["Action"]
    [(row, imdb_id, message)] = _report(data)
    assert (row, imdb_id) == (3, "tt0000002")
    assert message.startswith(reason)


# ----------------------------------------------------------------------- genre spellings


@pytest.mark.parametrize("spelling", ["Science Fiction", "sci fi", "SCI_FI", "scifi"])
def test_genre_list_spellings_match_the_column(tmp_path, spelling):
    lines = [
        *GOOD[:2],
        f"tt0000003,['{spelling}'],0,0,0,0,1",  # agrees with the Sci-Fi column
        f"tt0000004,\"['Drama', '{spelling}']\",0,0,1,0,?",  # invalid cell: list used
    ]
    data = _load(_train(tmp_path, lines))
    genres = data.frame.set_index("imdb_id")["genres"]
    assert genres["tt0000003"] == ["Sci-Fi"]
    assert genres["tt0000004"] == ["Drama", "Sci-Fi"]
    assert _report(data) == [
        (5, "tt0000004", "invalid one-hot value '?' in column 'Sci-Fi'; labels taken from the "
         "Genre list"),
    ]  # fmt: skip


def test_unlabelled_posters_read_omdb_genre_spellings(tmp_path):
    lines = [*OMDB, 'tt0000005,Solaris,1972,"Science Fiction, drama, Space Opera"']
    data = _load(_write_omdb(tmp_path, _text(OMDB_HEADER, lines).encode()), include_unlabelled=True)
    assert data.frame.set_index("imdb_id")["genres"]["tt0000005"] == ["Drama", "Sci-Fi"]


def test_genre_list_naming_no_column_is_reported_by_name(tmp_path):
    lines = [
        *GOOD[:2],
        "tt0000003,\"['Sci-Fi', 'Space Opera']\",0,0,0,0,1",
        "tt0000004,\"['Drama', 'Space Opera']\",0,0,1,0,x",
    ]
    data = _load(_train(tmp_path, lines))
    assert _report(data) == [
        (4, "tt0000003", "Genre list ['Sci-Fi', 'Space Opera'] names ['Space Opera'], which is "
         "no genre column; one-hot columns kept"),
        (5, "tt0000004", "invalid one-hot value 'x' in column 'Sci-Fi'; labels taken from the "
         "Genre list (['Space Opera'] ignored: no such genre column)"),
    ]  # fmt: skip
    assert data.frame.set_index("imdb_id")["genres"]["tt0000004"] == ["Drama"]


# ----------------------------------------------------------------------- ids and labels


def test_duplicate_ids_identical_and_conflicting_name_the_rows(tmp_path):
    lines = [
        *GOOD,
        " tt0000002 ,['Action'],1,0,0,0,0",  # line 6: same id (spaces), identical labels
        "tt0000003,\"['Sci-Fi', 'Action']\",1,0,0,0,1",  # line 7: conflicting labels
    ]
    data = _load(_train(tmp_path, lines))
    assert _ids(data) == ["tt0000001", "tt0000002", "tt0000003", "tt0000004"]
    assert data.frame.set_index("imdb_id")["genres"]["tt0000003"] == ["Action", "Sci-Fi"]
    assert _report(data) == [
        (6, "tt0000002", "duplicate id (identical labels)"),
        (7, "tt0000003", "duplicate id (conflicting labels, united into row 4)"),
        (4, "tt0000003", "conflicting labels: united with duplicate row(s) 7"),
    ]


def test_empty_label_sets_are_dropped_and_reported(tmp_path):
    lines = [
        *GOOD[:2],
        "tt0000003,['Sci-Fi'],0,0,0,0,0",  # line 4: all-zero one-hot row
        "tt0000004,[],0,0,0,0,0",  # line 5: "[]"
        "tt0000005,,0,0,0,0,0",  # line 6: empty Genre
        "tt0000006,['N/A'],0,0,0,1,0",  # line 7: only the pseudo-genre
    ]
    data = _load(_train(tmp_path, lines))
    assert _ids(data) == ["tt0000001", "tt0000002"]
    assert sorted(_report(data), key=lambda r: (r[0], r[2])) == [
        (4, "tt0000003", "Genre list ['Sci-Fi'] disagrees with one-hot columns []; one-hot "
         "columns kept"),
        (4, "tt0000003", "no genres"),
        (5, "tt0000004", "no genres"),
        (6, "tt0000005", "malformed genre list literal '': SyntaxError: invalid syntax "
         "(<unknown>, line 0); one-hot columns kept"),
        (6, "tt0000005", "no genres"),
        (7, "tt0000006", "no genres (only the pseudo-genre 'N/A')"),
    ]  # fmt: skip


def test_id_escaping_the_image_folder_names_its_line(tmp_path):
    lines = [*GOOD, "../../secret,['Drama'],0,0,1,0,0"]
    with pytest.raises(ValueError, match=r"train\.csv' line 6: Id '\.\./\.\./secret': path"):
        _load(_train(tmp_path, lines))


# ----------------------------------------------------------------------- OMDb, links, keywords


def test_malformed_omdb_row_is_skipped_with_its_id(tmp_path):
    # An unquoted comma in a title shifts the row by one field.
    lines = [OMDB[0], "tt0000002,Crouching Tiger, Hidden Dragon,15 Dec 1995,Action", *OMDB[2:]]
    data = _load(_write_omdb(tmp_path, _text(OMDB_HEADER, lines).encode()))
    assert _report(data, "omdb-metadata.csv") == [
        (3, "tt0000002", "5 fields where the header has 4; row skipped")
    ]
    titles = data.frame.set_index("imdb_id")["title"]
    assert pd.isna(titles["tt0000002"])
    assert titles["tt0000003"] == "Alien"


def test_links_with_tt_prefix_and_invalid_tmdb_id(tmp_path):
    links = _text(
        "movieId,imdbId,tmdbId",
        ["1,tt0000001,101", "2,0000002,abc", "3,0000003,103.0", "4,0000004,-4"],
    ).encode()
    keywords = _text(
        "id,keywords",
        ["101,\"[{'id': 1, 'name': 'love'}]\"", "103,\"[{'id': 2, 'name': 'alien'}]\""],
    ).encode()
    data = _load(_root(tmp_path, links=links, keywords=keywords), join_keywords=True)
    keywords = data.frame.set_index("imdb_id")["keywords"]
    assert keywords["tt0000001"] == ["love"]  # the 'tt' form is accepted
    assert keywords["tt0000003"] == ["alien"]
    assert keywords["tt0000002"] is None
    assert _report(data, "links.csv") == [
        (3, "tt0000002", "invalid tmdbId 'abc'; no keywords"),
        (5, "tt0000004", "invalid tmdbId '-4'; no keywords"),
    ]


def test_keywords_file_faults_are_reported_by_line(tmp_path):
    path = tmp_path / "keywords.csv"
    text = _text(
        "id,keywords",
        [
            "862,\"[{'id': 931, 'name': 'jealousy'}]\"",  # line 2
            "863,\"[{'id': 1, 'name': 'a'}]\",extra",  # line 3: a field too many
            "864,\"[{'id': 2, 'name': 'b'}]",  # line 4: unbalanced quote
            "865,\"[{'id': 3, 'name': 'c'}]\"",  # line 5
            "866,\"[__import__('os').system('exit 1')]\"",  # line 6: never evaluated
        ],
    )
    path.write_bytes(text.encode("utf-16"))
    result = load_tmdb_keywords(path)
    assert result["tmdb_id"].tolist() == [862, 865]
    assert result["keywords"].tolist() == [["jealousy"], ["c"]]
    report = result.attrs["report"]
    assert report["row"].tolist() == [3, 4, 6]
    assert report["id"].tolist() == ["863", "864", "866"]
    assert report["reason"].tolist()[:2] == [
        "3 fields where the header has 2; row skipped",
        "unbalanced quote: the quoted field opened on line 4 runs on to line 5; row skipped",
    ]
    assert report["reason"].iloc[2].startswith("malformed keywords literal: ValueError")
    with pytest.raises(ValueError, match=r"keywords\.csv' line 3: 3 fields where the header"):
        load_tmdb_keywords(path, on_error="raise")


def test_on_error_reaches_every_file_and_load_dataset(tmp_path):
    keywords = _text("id,keywords", ["101,[],x"]).encode()
    root = _root(tmp_path, keywords=keywords)
    data = _load(root, join_keywords=True)
    assert _report(data, "keywords.csv") == [
        (2, "tt0000001", "3 fields where the header has 2; row skipped")
    ]
    with pytest.raises(ValueError, match=r"keywords\.csv' line 2: 3 fields"):
        _load(root, join_keywords=True, on_error="raise")
    with pytest.raises(ValueError, match=r"keywords\.csv' line 2: 3 fields"):
        load_dataset(root, on_error="raise")
    with pytest.raises(ValueError, match=r"on_error must be one of \('skip', 'raise'\)"):
        _load(root, on_error="ignore")


def test_read_table_keeps_literal_text_and_reports_problems(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'a,b\nNA,None\n\nx\x00,"q""uote"\n1,2,3\n')
    frame, lines, problems, encoding = read_table(path, id_column="a")
    assert frame.values.tolist() == [["NA", "None"], ["x", 'q"uote']]
    assert lines.tolist() == [2, 4]
    assert problems == [
        (4, "x", "1 NUL byte(s) removed"),
        (5, "1", "3 fields where the header has 2; row skipped"),
    ]
    assert encoding == "utf-8"


# ----------------------------------------------------------------------- Kaggle MovieGenre.csv

KAGGLE_HEADER = "imdbId,Imdb Link,Title,IMDB Score,Genre,Poster"


def _kaggle(tmp_path, lines, header=KAGGLE_HEADER, encoding="utf-8"):
    posters = tmp_path / "posters"
    posters.mkdir()
    for i in range(1, 10):
        (posters / f"tt{i:07d}.jpg").write_bytes(b"placeholder")
    path = tmp_path / "MovieGenre.csv"
    path.write_bytes(_text(header, lines).encode(encoding))
    return path, posters


def test_kaggle_genre_spellings_become_one_genre(tmp_path):
    lines = [
        "1,,Alien (1979),8.5,Sci-Fi|Horror,http://x/1.jpg",  # line 2
        "2,,Dune (1984),6.3,sci fi|Adventure,http://x/2.jpg",  # line 3
        "3,,Solaris (1972),8.1,Science Fiction|drama,http://x/3.jpg",  # line 4
        "4,,Heat (1995),8.3,Crime|Space Opera,http://x/4.jpg",  # line 5
        "5,,Ice (2000),5.0,space opera,http://x/5.jpg",  # line 6
    ]
    data = load_movie_genre_csv(*_kaggle(tmp_path, lines))
    assert data.genres == ["Adventure", "Crime", "Drama", "Horror", "Sci-Fi", "Space Opera"]
    assert data.frame["genres"].tolist() == [
        ["Horror", "Sci-Fi"],
        ["Adventure", "Sci-Fi"],
        ["Drama", "Sci-Fi"],
        ["Crime", "Space Opera"],
        ["Space Opera"],
    ]
    assert _report(data, "MovieGenre.csv") == [
        (3, "tt0000002", "genre 'sci fi' read as 'Sci-Fi'"),
        (4, "tt0000003", "genre 'Science Fiction' read as 'Sci-Fi', 'drama' read as 'Drama'"),
        (6, "tt0000005", "genre 'space opera' read as 'Space Opera'"),
    ]


def test_kaggle_onehot_column_with_an_invalid_cell_stays_a_genre(tmp_path):
    header = KAGGLE_HEADER + ",Action,Drama,Sci-Fi"
    lines = [
        "1,,A (2000),7,Action|Science Fiction,a.jpg,1,0,1",  # line 2: spelling agrees
        "2,,B (2001),6,Drama,b.jpg,0,1,yes",  # line 3: invalid cell -> Genre used
        "3,,C (2002),5,Drama|Western,c.jpg,0,1,0",  # line 4: Western is no column
    ]
    path, posters = _kaggle(tmp_path, header=header, lines=lines)
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (posters / name).write_bytes(b"placeholder")
    data = load_movie_genre_csv(path, posters)
    assert data.genres == ["Action", "Drama", "Sci-Fi"]  # one bad cell loses no column
    assert data.frame["genres"].tolist() == [["Action", "Sci-Fi"], ["Drama"], ["Drama"]]
    assert _report(data, "MovieGenre.csv") == [
        (3, "tt0000002", "invalid one-hot value 'yes' in column 'Sci-Fi'; labels taken from "
         "the Genre list"),
        (4, "tt0000003", "Genre 'Drama|Western' names ['Western'], which is no genre column; "
         "one-hot columns kept"),
    ]  # fmt: skip


def test_kaggle_mixed_encoding_keeps_the_utf8_lines(tmp_path):
    lines = [
        "1,,Am\u00e9lie (2001),8.3,Comedy,http://x/1.jpg",  # UTF-8
        "2,,Caf\u00e9 (2016),6.5,Drama,http://x/2.jpg",  # to be cp1252
    ]
    path, posters = _kaggle(tmp_path, lines)
    path.write_bytes(path.read_bytes().replace("Caf\u00e9".encode(), b"Caf\xe9"))
    data = load_movie_genre_csv(path, posters)
    assert data.frame["title"].tolist() == ["Am\u00e9lie", "Caf\u00e9"]
    assert data.encoding == "utf-8"
    assert _report(data, "MovieGenre.csv") == [
        (3, "2", "not valid UTF-8 (byte b'\\xe9' at position 7 of the line); line read as "
         "latin-1"),
    ]  # fmt: skip
    with pytest.raises(ValueError, match=r"MovieGenre\.csv' is not valid utf-8: line 3"):
        load_movie_genre_csv(path, posters, encoding="utf-8")


def test_kaggle_malformed_rows(tmp_path):
    lines = [
        "1,,A (2000),7,Drama,http://x/1.jpg",
        "2,,B, the sequel (2001),6,Drama,http://x/2.jpg",  # line 3: unquoted comma
        "3,,C (2002),5,Drama,http://x/3.jpg",
    ]
    path, posters = _kaggle(tmp_path, lines)
    data = load_movie_genre_csv(path, posters)
    assert data.frame["imdb_id"].tolist() == ["tt0000001", "tt0000003"]
    assert _report(data, "MovieGenre.csv") == [
        (3, "2", "7 fields where the header has 6; row skipped")
    ]
    with pytest.raises(ValueError, match=r"MovieGenre\.csv' line 3: 7 fields"):
        load_movie_genre_csv(path, posters, on_error="raise")


# ----------------------------------------------------------------------- bundled sample


def _sample_dir(tmp_path):
    folder = tmp_path / "sample"
    folder.mkdir()
    shutil.copy(DATA_DIR / FEATURES_FILE, folder / FEATURES_FILE)
    shutil.copy(DATA_DIR / MOVIES_FILE, folder / MOVIES_FILE)
    return folder


def test_damaged_sample_files_name_the_file_and_the_fix(tmp_path):
    folder = _sample_dir(tmp_path)
    features = folder / FEATURES_FILE
    features.write_bytes(features.read_bytes()[:5000])  # truncated
    with pytest.raises(ValueError, match=rf"{FEATURES_FILE}' cannot be read \(BadZipFile") as info:
        load_sample(data_dir=folder)
    assert "build_sample.py" in str(info.value)
    features.write_bytes(b"not a numpy file at all")
    with pytest.raises(ValueError, match=rf"{FEATURES_FILE}' cannot be read"):
        load_sample(data_dir=folder)
    with np.load(DATA_DIR / FEATURES_FILE, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "X_cnn"}
    np.savez(features, **arrays)
    with pytest.raises(ValueError, match=r"cannot be read \(KeyError: .*X_cnn"):
        load_sample(data_dir=folder)
    arrays["X_cnn"] = np.zeros((3, 2), dtype=np.float16)
    np.savez(features, **arrays)
    with pytest.raises(ValueError, match=r"is inconsistent: \d+ movies, .*'X_cnn': \(3, 2\)"):
        load_sample(data_dir=folder)


def test_damaged_sample_table_names_the_file(tmp_path):
    folder = _sample_dir(tmp_path)
    movies = folder / MOVIES_FILE
    movies.write_bytes(movies.read_bytes()[:1000])  # truncated gzip stream
    with pytest.raises(ValueError, match=rf"{MOVIES_FILE}' cannot be read"):
        load_sample(data_dir=folder)
    movies.write_bytes(gzip.compress(b"imdb_id,title\ntt1,x\n"))
    with pytest.raises(ValueError, match=r"columns \['year', 'genres', 'keywords'\] missing"):
        load_sample(data_dir=folder)
