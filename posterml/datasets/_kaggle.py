"""The Kaggle "movie genre from its poster" CSV (MovieGenre.csv) and its one-hot variant."""

import os
from pathlib import Path

import numpy as np

from ._common import (
    IMDB_GENRES,
    Report,
    add_problems,
    canonical_genre,
    check_on_error,
    clean_movies,
    dedupe_ids,
    genre_key,
    genre_lists,
    indicator_matrix,
    logger,
    make_bunch,
    onehot_labels,
    read_table,
    safe_join_many,
    split_genres,
    split_title_year,
    standard_frame,
)

_ON_MISSING = ("report", "keep", "raise")
_REQUIRED = ("imdbId", "Title", "Genre", "Poster")
# Columns of the Kaggle format that are not one-hot genre columns.
_KNOWN = {"imdbId", "Imdb Link", "Title", "IMDB Score", "Genre", "Poster"}
_IMDB_KEYS = {genre_key(g) for g in IMDB_GENRES}

DESCR = """\
Movies from a Kaggle "movie genre from its poster" CSV (MovieGenre.csv format): imdbId,
Imdb Link, Title ("Toy Story (1995)"), IMDB Score, Genre ('|'-separated) and Poster (a URL,
or in the one-hot variant a local file name), with poster files read from a local folder.
"""


def _respell(listed, ids, lines, source, report):
    """One spelling per genre: IMDb's for its genres, else the first row's; rows reported."""
    spelling = {}
    out = []
    for i, names in enumerate(listed):
        mapped = []
        for name in names:
            canonical = canonical_genre(name)
            mapped.append(spelling.setdefault(genre_key(canonical), canonical))
        changed = [f"{n!r} read as {m!r}" for n, m in zip(names, mapped) if n != m]
        if changed:
            report.add(source, [lines[i]], [ids[i]], "genre " + ", ".join(changed))
        out.append(list(dict.fromkeys(mapped)))
    return out


def _onehot_columns(raw, listed):
    """Columns holding 0/1 cells: all of them, or (a genre's name) most, the rest reported."""
    listed_keys = {genre_key(canonical_genre(n)) for names in listed for n in names}
    columns = []
    for column in raw.columns:
        if column in _KNOWN:
            continue
        binary = raw[column].str.strip().isin(["0", "1"])
        if binary.all():
            columns.append(column)
            continue
        key = genre_key(canonical_genre(column))
        # One bad cell must not turn a genre column into an ignored one.
        if (key in _IMDB_KEYS or key in listed_keys) and binary.mean() >= 0.5:
            columns.append(column)
    return columns


def load_movie_genre_csv(
    csv_path, poster_dir, *, on_missing="report", encoding=None, on_error="skip"
):
    """Load a Kaggle MovieGenre.csv-style file and its local poster folder.

    Two layouts are read. Variant A (the original): ``imdbId, Imdb Link, Title,
    IMDB Score, Genre, Poster`` with ``Poster`` a URL and the posters saved as
    ``<poster_dir>/<imdbId>.jpg``. Variant B adds one-hot genre columns (0/1), which then
    define the labels (disagreements with ``Genre`` are reported), and ``Poster`` holds a
    file name relative to ``poster_dir``.

    Parameters
    ----------
    csv_path : str or Path
        The CSV file.
    poster_dir : str or Path
        The folder holding the poster files.
    on_missing : {"report", "keep", "raise"}, default="report"
        A movie whose poster file is missing is dropped and reported (reason
        ``"poster file missing: <path>"``), kept, or raises FileNotFoundError.
    encoding : str, optional
        The file's encoding. Default: UTF-8 (a byte-order mark selects UTF-8, UTF-16 or
        UTF-32), falling back to latin-1 (cp1252 where the file has bytes 0x80-0x9F) when
        no line is valid non-ASCII UTF-8; in a UTF-8 file, a line that is not valid UTF-8
        is read as cp1252 and reported. With an explicit encoding an undecodable byte
        raises a ValueError naming the line.
    on_error : {"skip", "raise"}, default="skip"
        A row that cannot be read (too many or too few fields, an unbalanced quote) is
        left out and reported, or raises a ValueError naming the line.

    Returns
    -------
    sklearn.utils.Bunch
        Same fields as :func:`load_av_posters`: ``frame`` (``imdb_id``, ``title``, ``year``
        (from the title's ``(1995)`` suffix), ``genres``, ``poster_path``, ``imdb_rating``
        (the ``IMDB Score`` text), the other metadata columns as NaN, ``tmdb_id``,
        ``keywords``, plus ``imdb_link``), ``Y``, ``genres`` (one-hot column order in
        variant B, alphabetical in variant A), ``report``, ``root`` (``poster_dir``),
        ``DESCR``, and ``encoding`` (the one used).

    Raises
    ------
    FileNotFoundError
        If ``csv_path`` or ``poster_dir`` does not exist, or ``on_missing="raise"`` meets a
        missing poster.
    ValueError
        If the file is empty, a required column is missing (the message names it and the
        file), a poster name escapes ``poster_dir``, two one-hot columns are one genre
        spelled differently, or ``on_error="raise"`` meets an unreadable row.

    Notes
    -----
    Genre names are compared ignoring case, spaces, hyphens and underscores, and
    ``"Science Fiction"`` is ``"Sci-Fi"``. In variant A the genres are those of the file,
    each with one spelling: IMDb's for an IMDb genre (``"sci fi"`` -> ``"Sci-Fi"``), else
    that of its first row; a row whose spelling changed is reported. In variant B the
    one-hot columns are the genres: a column named after a genre is one even with a few
    invalid cells (each reported; that row's labels then come from ``Genre``), and a
    ``Genre`` name that is no column is reported by name. Duplicate ids keep their first
    row: identical labels are reported, conflicting ones are united into the first row and
    both rows are reported. A movie without genre is dropped (reason ``"no genres"``).
    The handling of encodings, NUL bytes and unreadable rows is that of
    :func:`load_av_posters`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from posterml.datasets import load_movie_genre_csv
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "MovieGenre.csv").write_text(
    ...     "imdbId,Imdb Link,Title,IMDB Score,Genre,Poster\\n"
    ...     "114709,http://www.imdb.com/title/tt114709,Toy Story (1995),8.3,"
    ...     "Animation|Adventure|Comedy,https://example.org/toy.jpg\\n"
    ... )
    >>> data = load_movie_genre_csv(folder / "MovieGenre.csv", folder, on_missing="keep")
    >>> row = data.frame.iloc[0]
    >>> row["imdb_id"], row["title"], float(row["year"]), data.genres
    ('tt0114709', 'Toy Story', 1995.0, ['Adventure', 'Animation', 'Comedy'])
    """
    if on_missing not in _ON_MISSING:
        raise ValueError(f"on_missing must be one of {_ON_MISSING}, got {on_missing!r}")
    check_on_error(on_error)
    csv_path = Path(csv_path)
    poster_dir = Path(poster_dir)
    if not csv_path.is_file():
        raise FileNotFoundError(f"movie genre CSV {str(csv_path)!r} does not exist")
    if not poster_dir.is_dir():
        raise FileNotFoundError(f"poster folder {str(poster_dir)!r} does not exist")
    raw, lines, problems, used_encoding = read_table(
        csv_path, required=_REQUIRED, id_column="imdbId", on_error=on_error, encoding=encoding
    )
    source = csv_path.name
    report = Report()
    add_problems(report, source, problems)

    number = raw["imdbId"].str.strip().str.removeprefix("tt").str.replace(r"\.0+$", "", regex=True)
    valid_id = number.str.fullmatch(r"\d+").to_numpy(dtype=bool)
    report.add(
        source,
        lines[~valid_id],
        raw["imdbId"][~valid_id],
        [f"invalid imdbId {v!r}" for v in raw["imdbId"][~valid_id]],
    )
    raw, lines, number = raw[valid_id], lines[valid_id], number[valid_id]
    ids = ("tt" + number.str.zfill(7)).to_numpy(dtype=object)

    listed = [split_genres(g, "|") for g in raw["Genre"]]
    onehot_columns = _onehot_columns(raw, listed) if len(raw) else []
    if onehot_columns:
        genres = onehot_columns
        Y = onehot_labels(
            raw[onehot_columns],
            onehot_columns,
            [(names, None) for names in listed],
            [f"Genre {text!r}" for text in raw["Genre"]],
            range(len(raw)),
            report,
            source,
            ids,
            lines,
            csv_path,
        )
    else:
        listed = _respell(listed, ids, lines, source, report)
        genres = sorted({g for names in listed for g in names})
        Y = indicator_matrix(listed, genres)

    keep, Y, dup_report = dedupe_ids(ids, Y, lines, source)
    report.extend(dup_report.to_frame())
    raw, lines, ids, Y = raw[keep], lines[keep], ids[keep], Y[keep]

    # Variant A's Poster is a URL (posters saved as <imdbId>.jpg); variant B's a file name.
    poster = raw["Poster"].str.strip()
    is_local = (poster != "") & ~poster.str.contains(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", regex=True)
    names = np.where(is_local.to_numpy(), poster.to_numpy(dtype=object), ids + ".jpg")
    paths = safe_join_many(poster_dir, names)
    exists = np.fromiter((os.path.isfile(p) for p in paths), dtype=bool, count=len(paths))
    if not exists.all() and on_missing != "keep":
        missing = [str(p) for p, e in zip(paths, exists) if not e]
        if on_missing == "raise":
            raise FileNotFoundError(
                f"{len(missing)} poster file(s) listed in {str(csv_path)!r} are missing, "
                f"e.g. {missing[0]!r}"
            )
        report.add(
            source, lines[~exists], ids[~exists], [f"poster file missing: {p}" for p in missing]
        )
        raw, lines, ids, Y = raw[exists], lines[exists], ids[exists], Y[exists]
        paths = [p for p, e in zip(paths, exists) if e]

    title, year = split_title_year(raw["Title"].replace("", np.nan).reset_index(drop=True))
    extra = {}
    if "Imdb Link" in raw:
        extra["imdb_link"] = raw["Imdb Link"].replace("", np.nan).to_numpy(dtype=object)
    frame = standard_frame(
        len(ids),
        imdb_id=ids,
        title=title.to_numpy(dtype=object),
        year=year.to_numpy(),
        genres=genre_lists(Y, genres),
        poster_path=[str(p) for p in paths],
        **(
            {"imdb_rating": raw["IMDB Score"].replace("", np.nan).to_numpy(dtype=object)}
            if "IMDB Score" in raw
            else {}
        ),
        **extra,
    )
    frame, Y, clean_report = clean_movies(frame, Y, source=source, rows=lines)
    report.extend(clean_report)
    report_frame = report.to_frame()
    logger.info(
        "load_movie_genre_csv: %d movies, %d genres from %s (%s); %d rows dropped or changed "
        "(see .report)",
        len(frame),
        len(genres),
        csv_path,
        used_encoding,
        len(report_frame),
    )
    return make_bunch(
        frame, Y, genres, report_frame, poster_dir.resolve(), DESCR, encoding=used_encoding
    )
