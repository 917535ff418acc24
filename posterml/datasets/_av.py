"""The Analytics Vidhya multi-label movie-poster set, joined with OMDb and TMDb keywords."""

import os
import re

import numpy as np
import pandas as pd

from .._config import DATA_ENV, _default_data_candidates, get_data_root
from ._common import (
    NA_GENRE,
    OMDB_FIELDS,
    Report,
    add_problems,
    check_on_error,
    clean_movies,
    dedupe_ids,
    genre_column_index,
    genre_lists,
    logger,
    make_bunch,
    match_genres,
    onehot_labels,
    parse_genre_literal,
    read_table,
    safe_join,
    safe_join_many,
    split_genres,
    standard_frame,
)
from ._tmdb import load_tmdb_keywords

_ON_MISSING = ("report", "keep", "raise")
_POSTER_NAME = re.compile(r"(tt\d+)\.jpg")

DESCR = """\
Analytics Vidhya multi-label movie-poster set (posters of Chu & Guo 2017).

One row per unique IMDb id of av-posters/train.csv (duplicated rows merged), labelled with
the 25 one-hot genre columns minus the pseudo-genre 'N/A'; optionally the posters without a
train.csv row, labelled from OMDb's Genre field. Metadata: OMDb fields as raw strings
(av-posters/omdb-metadata.csv); TMDb keywords through movielens/links.csv and
movielens/keywords.csv. Posters are copyrighted artwork, for research use only.
"""


def resolve_data_root(root):
    """``get_data_root(root)``, or a FileNotFoundError listing the places searched."""
    found = get_data_root(root)
    if found is None:
        looked = [f"${DATA_ENV} (unset)"] + [str(p.resolve()) for p in _default_data_candidates()]
        raise FileNotFoundError(
            "no posterml data folder found; looked in: "
            + ", ".join(looked)
            + f". Pass root=... or set ${DATA_ENV} to the folder holding av-posters/."
        )
    return found


def _read_omdb(path, report, on_error):
    """OMDb records indexed by imdbID (first kept), with their line numbers."""
    # OMDb writes missing values as "N/A"; an empty cell (Box_office) means the same.
    omdb, lines, problems, _ = read_table(
        path, required=["imdbID"], id_column="imdbID", na_values=["N/A", ""], on_error=on_error
    )
    add_problems(report, path.name, problems)
    omdb["_line"] = lines
    omdb["imdbID"] = omdb["imdbID"].str.strip()
    duplicated = omdb["imdbID"].duplicated(keep="first")
    report.add(
        path.name,
        omdb.loc[duplicated, "_line"],
        omdb.loc[duplicated, "imdbID"],
        "duplicate OMDb record (first kept)",
    )
    return omdb.loc[~duplicated].set_index("imdbID")


def _read_train(path, report, on_error):
    """train.csv → ids, line numbers, genre names (with N/A) and the one-hot matrix."""
    train, lines, problems, _ = read_table(
        path, required=["Id", "Genre"], id_column="Id", on_error=on_error
    )
    add_problems(report, path.name, problems)
    genre_columns = [c for c in train.columns if c not in ("Id", "Genre")]
    if not genre_columns:
        raise ValueError(f"{str(path)!r} has no one-hot genre columns after 'Id' and 'Genre'")
    ids = train["Id"].str.strip()
    missing_id = ids.eq("").to_numpy()
    report.add(path.name, lines[missing_id], None, "missing Id")

    # The Genre list duplicates the one-hot columns; parse each distinct string once.
    parsed = {}
    for text in train["Genre"].unique():
        try:
            parsed[text] = (parse_genre_literal(text), None)
        except ValueError as exc:
            parsed[text] = (None, str(exc))
    listed = [parsed[text] for text in train["Genre"]]
    Y = onehot_labels(
        train[genre_columns],
        genre_columns,
        listed,
        [f"Genre list {names}" for names, _ in listed],
        np.flatnonzero(~missing_id),
        report,
        path.name,
        ids.to_numpy(dtype=object),
        lines,
        path,
    )
    keep = ~missing_id
    return ids[keep].to_numpy(dtype=object), lines[keep], genre_columns, Y[keep]


def _join_keywords(root, imdb_ids, report, on_error):
    """tmdb ids (Int64) and keyword lists (None without a record) for ``imdb_ids``."""
    links_path = root / "movielens" / "links.csv"
    keywords_path = root / "movielens" / "keywords.csv"
    for path in (links_path, keywords_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"keywords join needs {str(path)!r}, which does not exist "
                "(pass join_keywords=False to load without keywords)"
            )
    links, lines, problems, _ = read_table(
        links_path, required=["imdbId", "tmdbId"], id_column="imdbId", on_error=on_error
    )
    add_problems(report, links_path.name, problems)
    # imdbId is an integer without 'tt' (e.g. 114709 or 0114709); IMDb pads it to 7 digits.
    # A 'tt' prefix (an export that kept IMDb's form) is accepted as well.
    number = (
        links["imdbId"].str.strip().str.removeprefix("tt").str.replace(r"\.0+$", "", regex=True)
    )
    links["imdb_id"] = "tt" + number.str.zfill(7)
    links["_line"] = lines
    links = links[number.str.fullmatch(r"\d+").fillna(False).astype(bool)]
    links = links[links["imdb_id"].isin(set(imdb_ids))]
    duplicated = links["imdb_id"].duplicated(keep="first")
    report.add(
        links_path.name,
        links.loc[duplicated, "_line"],
        links.loc[duplicated, "imdb_id"],
        "duplicate imdbId in links (first kept)",
    )
    links = links.loc[~duplicated].set_index("imdb_id")
    tmdb_text = links["tmdbId"].str.strip()
    tmdb = pd.to_numeric(tmdb_text.replace("", np.nan), errors="coerce").astype("Float64")
    tmdb = tmdb.where((tmdb == tmdb.round()) & (tmdb >= 0)).astype("Int64")
    # An AV movie whose link names no usable TMDb id loses its keywords: say so.
    invalid = (tmdb_text != "") & tmdb.isna()
    report.add(
        links_path.name,
        links.loc[invalid, "_line"],
        links.index[invalid],
        [f"invalid tmdbId {v!r}; no keywords" for v in tmdb_text[invalid]],
    )
    tmdb_ids = tmdb.reindex(pd.Index(imdb_ids)).astype("Int64")

    keywords = load_tmdb_keywords(keywords_path, ids=tmdb.dropna().unique(), on_error=on_error)
    kw_report = keywords.attrs.pop("report")
    if len(kw_report):
        # Name the AV movies a bad keyword record belongs to.
        by_tmdb = {}
        for imdb_id, value in tmdb.dropna().items():
            by_tmdb.setdefault(str(int(value)), []).append(imdb_id)
        report.add(
            keywords_path.name,
            kw_report["row"],
            [
                ", ".join(by_tmdb.get(str(i).strip().removesuffix(".0"), [])) or None
                for i in kw_report["id"]
            ],
            kw_report["reason"],
        )
    lookup = dict(zip(keywords["tmdb_id"].tolist(), keywords["keywords"]))
    keyword_lists = [
        None if pd.isna(t) else (list(lookup[t]) if t in lookup else None) for t in tmdb_ids
    ]
    return tmdb_ids.to_numpy(), keyword_lists


def _check_poster_names(image_dir, ids, lines, path):
    """Raise, naming the line, for an Id that cannot be a file name under ``image_dir``."""
    try:
        safe_join_many(image_dir, [f"{i}.jpg" for i in ids])
    except ValueError:
        for imdb_id, line in zip(ids, lines):
            try:
                safe_join(image_dir, f"{imdb_id}.jpg")
            except ValueError as exc:
                raise ValueError(f"{str(path)!r} line {line}: Id {imdb_id!r}: {exc}") from None
        raise


def load_av_posters(
    root=None,
    *,
    min_support=None,
    include_unlabelled=False,
    join_omdb=True,
    join_keywords=True,
    dedupe_title=False,
    on_missing="report",
    on_error="skip",
):
    """Load the Analytics Vidhya movie-poster set with its metadata.

    Parameters
    ----------
    root : str or Path, optional
        The folder holding ``av-posters/`` (and ``movielens/`` for keywords). Default:
        :func:`posterml._config.get_data_root` (``$POSTERML_DATA`` or ``../shared/data``).
    min_support : int, optional
        Drop genres with fewer positive movies than this (each affected movie is reported;
        a movie left with no genre is dropped).
    include_unlabelled : bool, default=False
        Also load the posters of ``Images/`` without a ``train.csv`` row, labelled from
        OMDb's comma-separated Genre field restricted to the known genres.
    join_omdb : bool, default=True
        Fill the OMDb columns (``title``, ``released`` ...; ``year`` from ``released``).
        Missing values are NaN.
    join_keywords : bool, default=True
        Fill ``tmdb_id`` and ``keywords`` through ``movielens/links.csv`` and
        ``movielens/keywords.csv``.
    dedupe_title : bool, default=False
        Keep only the first movie of each normalised title (needs ``join_omdb``).
    on_missing : {"report", "keep", "raise"}, default="report"
        A movie whose poster file is missing is dropped and reported, kept (its
        ``poster_path`` then points to no file), or raises FileNotFoundError.
    on_error : {"skip", "raise"}, default="skip"
        A CSV row that cannot be read (too many or too few fields, an unbalanced quote,
        malformed quoting, a truncated last line) in any of the files is left out and
        reported, or raises a ValueError naming the file and line. See Notes.

    Returns
    -------
    sklearn.utils.Bunch
        ``frame`` (DataFrame: ``imdb_id``, ``title``, ``year``, ``genres`` (list of str),
        ``poster_path`` (absolute), the OMDb fields as raw strings (``released``,
        ``omdb_genre``, ``director``, ``writer``, ``actors``, ``imdb_rating``,
        ``imdb_votes``, ``box_office``, ``rated``, ``runtime``, ``language``, ``country``,
        ``awards``, ``metascore``), ``tmdb_id`` (Int64) and ``keywords`` (list of str, or
        None without a TMDb keyword record)); ``Y`` (uint8 indicator matrix aligned with
        ``frame``); ``genres`` (column names of ``Y``, in ``train.csv`` order); ``report``
        (DataFrame of every dropped or changed row: ``source``, ``row`` (line in the file,
        header = 1), ``imdb_id``, ``reason``); ``root``; ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If no data folder is found (the message lists where it looked) or a needed file
        is absent.
    ValueError
        If a file is empty, misses a required column (the message suggests a near name),
        repeats a column, has two genre columns that are one genre spelled differently, an
        Id escapes the image folder (the message names the line), a parameter is invalid,
        or ``on_error="raise"`` meets an unreadable row.

    Notes
    -----
    How faulty input is handled; every dropped or changed row is in ``report`` with its
    file and line:

    - **Encodings**: UTF-8 with or without a byte-order mark, UTF-16/32 with one (or
      UTF-16 without, recognised by its NUL bytes). A line that is not valid UTF-8 is read
      as cp1252 and reported; a file with no valid UTF-8 line is read as latin-1/cp1252,
      with one report row. A NUL byte is removed and its line reported. CRLF, CR and LF
      line ends are all read; blank lines are ignored.
    - **Rows that cannot be read** (``on_error``): left out, reason ``"<n> fields where
      the header has <m>; row skipped"``, ``"unbalanced quote ...; row skipped"``. An
      unbalanced quote costs only its own line: reading resumes on the next line.
      Trailing empty cells (``a,b,c,``) are dropped silently.
    - **Columns**: header names are stripped of spaces; a missing required column raises
      a ValueError naming it and the near names.
    - **Genre lists** are parsed with :func:`ast.literal_eval`, never evaluated; a
      malformed or non-list literal is reported and the one-hot columns are kept. The
      list's names match the columns ignoring case, spaces and hyphens, and ``"Science
      Fiction"`` is ``"Sci-Fi"``; a name that is no column is reported by name.
    - **Duplicate Ids**: the first row is kept. With identical labels the others are
      reported as ``"duplicate id (identical labels)"``; with conflicting labels the kept
      row gets the union of the labels and both sides are reported, naming each other's
      lines.
    - **Empty label sets** (all-zero one-hot row, ``"[]"``, an empty Genre, only
      ``N/A``): the movie is dropped, reason ``"no genres"``.

    Examples
    --------
    >>> from posterml.datasets import load_av_posters
    >>> data = load_av_posters()  # doctest: +SKIP
    >>> data.Y.shape, data.genres[:3]  # doctest: +SKIP
    ((7233, 24), ['Action', 'Adventure', 'Animation'])
    """
    if on_missing not in _ON_MISSING:
        raise ValueError(f"on_missing must be one of {_ON_MISSING}, got {on_missing!r}")
    check_on_error(on_error)
    if min_support is not None and (
        isinstance(min_support, bool) or not isinstance(min_support, int | np.integer)
    ):
        raise TypeError(f"min_support must be an int or None, got {min_support!r}")
    if dedupe_title and not join_omdb:
        raise ValueError("dedupe_title=True needs join_omdb=True (titles come from OMDb)")
    root = resolve_data_root(root)
    av = root / "av-posters"
    train_path = av / "train.csv"
    omdb_path = av / "omdb-metadata.csv"
    image_dir = av / "Images"
    if not train_path.is_file():
        raise FileNotFoundError(f"AV poster labels {str(train_path)!r} do not exist")
    if (join_omdb or include_unlabelled) and not omdb_path.is_file():
        raise FileNotFoundError(
            f"OMDb metadata {str(omdb_path)!r} does not exist "
            "(pass join_omdb=False and include_unlabelled=False to load without it)"
        )
    if not image_dir.is_dir() and on_missing != "keep":
        raise FileNotFoundError(
            f"poster folder {str(image_dir)!r} does not exist "
            "(pass on_missing='keep' to load the labels anyway)"
        )

    report = Report()
    ids, lines, columns, Y_all = _read_train(train_path, report, on_error)
    # Refuse an Id such as "../../x" before anything else, even one whose poster is missing.
    _check_poster_names(image_dir, ids, lines, train_path)
    all_ids = ids
    keep, Y_all, dup_report = dedupe_ids(ids, Y_all, lines, train_path.name)
    report.extend(dup_report.to_frame())
    ids, lines, Y_all = ids[keep], lines[keep], Y_all[keep]
    sources = np.full(len(ids), train_path.name, dtype=object)

    genres = [g for g in columns if g != NA_GENRE]
    Y = Y_all[:, [columns.index(g) for g in genres]]
    if NA_GENRE in columns:
        has_na = Y_all[:, columns.index(NA_GENRE)].astype(bool)
        only_na = has_na & (Y.sum(axis=1) == 0)
        report.add(
            train_path.name,
            lines[only_na],
            ids[only_na],
            "no genres (only the pseudo-genre 'N/A')",
        )
        report.add(
            train_path.name,
            lines[has_na & ~only_na],
            ids[has_na & ~only_na],
            "pseudo-genre 'N/A' removed",
        )
        ids, lines, Y, sources = ids[~only_na], lines[~only_na], Y[~only_na], sources[~only_na]

    posters = set()
    if image_dir.is_dir():
        with os.scandir(image_dir) as entries:
            posters = {e.name for e in entries if e.is_file()}

    omdb = _read_omdb(omdb_path, report, on_error) if (join_omdb or include_unlabelled) else None

    if include_unlabelled:
        # Every train.csv id counts as labelled, also one dropped above (e.g. N/A only).
        labelled = set(all_ids)
        extra = []
        for name in sorted(posters):
            match = _POSTER_NAME.fullmatch(name)
            if match is None:
                if name.lower().endswith((".jpg", ".jpeg", ".png")):
                    report.add(
                        "Images", [None], [None], f"poster file {name!r} is not <imdb id>.jpg"
                    )
                continue
            if match.group(1) not in labelled:
                extra.append(match.group(1))
        extra_ids = np.asarray(extra, dtype=object)
        in_omdb = np.isin(extra_ids, omdb.index.to_numpy())
        report.add("Images", [None] * int((~in_omdb).sum()), extra_ids[~in_omdb], "no OMDb record")
        extra_ids = extra_ids[in_omdb]
        records = omdb.loc[extra_ids]
        extra_lines = records["_line"].to_numpy()
        omdb_genres = (
            records["Genre"] if "Genre" in records else pd.Series(np.nan, index=records.index)
        ).to_numpy(dtype=object)
        # OMDb's names match the columns as the Genre lists do ('Science Fiction' is Sci-Fi).
        index = genre_column_index(genres, train_path)
        extra_Y = np.zeros((len(omdb_genres), len(genres)), dtype=np.uint8)
        for i, text in enumerate(omdb_genres):
            extra_Y[i, match_genres(split_genres(text, ","), index)[0]] = 1
        no_genre = extra_Y.sum(axis=1) == 0
        report.add(
            omdb_path.name,
            extra_lines[no_genre],
            extra_ids[no_genre],
            [
                "no genres (unlabelled poster; "
                + (
                    f"OMDb Genre {g!r} has none of the known genres)"
                    if isinstance(g, str)
                    else "no OMDb Genre)"
                )
                for g in omdb_genres[no_genre]
            ],
        )
        keep_extra = ~no_genre
        ids = np.concatenate([ids, extra_ids[keep_extra]])
        lines = np.concatenate([lines, extra_lines[keep_extra]])
        Y = np.concatenate([Y, extra_Y[keep_extra]])
        sources = np.concatenate(
            [sources, np.full(int(keep_extra.sum()), omdb_path.name, dtype=object)]
        )

    # Poster existence: one directory listing instead of a stat per movie.
    has_poster = np.fromiter((f"{i}.jpg" in posters for i in ids), dtype=bool, count=len(ids))
    if not has_poster.all() and on_missing != "keep":
        missing_paths = [str(image_dir / f"{i}.jpg") for i in ids[~has_poster]]
        if on_missing == "raise":
            raise FileNotFoundError(
                f"{len(missing_paths)} poster file(s) missing, e.g. {missing_paths[0]!r}"
            )
        report.add(
            sources[~has_poster],
            lines[~has_poster],
            ids[~has_poster],
            [f"poster file missing: {p}" for p in missing_paths],
        )
        ids, lines, Y, sources = (
            ids[has_poster],
            lines[has_poster],
            Y[has_poster],
            sources[has_poster],
        )

    if min_support is not None:
        support = Y.sum(axis=0)
        rare = support < min_support
        for j in np.flatnonzero(rare):
            affected = Y[:, j].astype(bool)
            report.add(
                sources[affected],
                lines[affected],
                ids[affected],
                f"genre {genres[j]!r} dropped ({support[j]} positives < min_support={min_support})",
            )
        genres = [g for g, r in zip(genres, rare) if not r]
        Y = Y[:, ~rare]

    columns_data = {
        "imdb_id": ids,
        "genres": genre_lists(Y, genres),
        "poster_path": [str(p) for p in safe_join_many(image_dir, [f"{i}.jpg" for i in ids])],
    }
    if join_omdb:
        records = omdb.reindex(pd.Index(ids))
        if "Title" in records:
            columns_data["title"] = records["Title"].to_numpy(dtype=object)
        for field, column in OMDB_FIELDS.items():
            if field in records:
                columns_data[column] = records[field].to_numpy(dtype=object)
        if "Released" in records:
            year = records["Released"].str.extract(r"(\d{4})\s*$", expand=False)
            columns_data["year"] = pd.to_numeric(year, errors="coerce").to_numpy(dtype=float)
    if join_keywords:
        columns_data["tmdb_id"], columns_data["keywords"] = _join_keywords(
            root, ids, report, on_error
        )
    frame = standard_frame(len(ids), **columns_data)

    frame, Y, clean_report = clean_movies(
        frame, Y, dedupe_title=dedupe_title, source=sources, rows=lines
    )
    report.extend(clean_report)
    report_frame = report.to_frame()
    logger.info(
        "load_av_posters: %d movies, %d genres from %s; %d rows dropped or changed (see .report)",
        len(frame),
        len(genres),
        root,
        len(report_frame),
    )
    return make_bunch(frame, Y, genres, report_frame, root, DESCR)
