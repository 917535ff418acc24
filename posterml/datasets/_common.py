"""Helpers shared by the dataset loaders: safe paths, genre parsing, reports, cleaning."""

import ast
import logging
import os
import re
import unicodedata
import warnings
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

logger = logging.getLogger("posterml")

REPORT_COLUMNS = ["source", "row", "imdb_id", "reason"]

# OMDb field -> frame column. The values stay raw strings ("799,579", "124 min"): the
# metadata transformer parses them, so that every loader hands over the same mess.
OMDB_FIELDS = {
    "Released": "released",
    "Genre": "omdb_genre",
    "Director": "director",
    "Writer": "writer",
    "Actors": "actors",
    "imdbRating": "imdb_rating",
    "imdbVotes": "imdb_votes",
    "Box_office": "box_office",
    "Rated": "rated",
    "Runtime": "runtime",
    "Language": "language",
    "Country": "country",
    "Awards": "awards",
    "Metascore": "metascore",
}
METADATA_COLUMNS = list(OMDB_FIELDS.values())

# Column order of every loader's ``frame``.
FRAME_COLUMNS = [
    "imdb_id",
    "title",
    "year",
    "genres",
    "poster_path",
    *METADATA_COLUMNS,
    "tmdb_id",
    "keywords",
]

_TITLE_YEAR = re.compile(r"^\s*(?P<title>.*?)\s*\((?P<year>\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)\s*$")


def safe_join(root, relative):
    """Join a path read from a data file onto ``root``, refusing any escape from it.

    Parameters
    ----------
    root : str or Path
        The folder the path must stay inside.
    relative : str or Path
        A relative path, e.g. a poster file name read from a CSV.

    Returns
    -------
    Path
        The resolved absolute path, inside the resolved ``root``.

    Raises
    ------
    ValueError
        If ``relative`` is empty, absolute, holds a NUL byte or a ``..`` component, or
        resolves (following symbolic links) outside ``root``. The message names the value
        and the root.
    TypeError
        If ``relative`` is not a string or path.

    Examples
    --------
    >>> from posterml.datasets import safe_join
    >>> safe_join("/data/posters", "tt0086425.jpg").name
    'tt0086425.jpg'
    >>> safe_join("/data/posters", "../../etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: path '../../etc/passwd' escapes the dataset root '/data/posters' ('..' is refused)
    """
    return _join_under(Path(root).resolve(), relative, os.fspath(root))


def safe_join_many(root, relatives):
    """:func:`safe_join` for many paths, resolving ``root`` once; returns a list of Path."""
    base = Path(root).resolve()
    root_text = os.fspath(root)
    return [_join_under(base, relative, root_text) for relative in relatives]


def _join_under(base, relative, root_text):
    if not isinstance(relative, str | os.PathLike):
        raise TypeError(
            f"path must be a str or os.PathLike, got {type(relative).__name__}: {relative!r}"
        )
    text = os.fspath(relative)
    if not text.strip():
        raise ValueError(f"empty path under the dataset root {root_text!r}")
    if "\0" in text:
        raise ValueError(f"path {text!r} contains a NUL byte (dataset root {root_text!r})")
    # A CSV written on Windows may hold "C:\\x" or "\\\\server\\x": absolute on either system.
    if (
        PurePosixPath(text).is_absolute()
        or PureWindowsPath(text).is_absolute()
        or PureWindowsPath(text).drive
    ):
        raise ValueError(
            f"absolute path {text!r} is not allowed under the dataset root {root_text!r}"
        )
    parts = re.split(r"[\\/]", text)
    # Any ".." is refused, even one that would stay inside: data files have no use for it.
    # Backslashes are separators on Windows: "..\\..\\x" must not slip through on POSIX.
    if ".." in parts:
        raise ValueError(f"path {text!r} escapes the dataset root {root_text!r} ('..' is refused)")
    target = base / text
    # Fast path: a plain file name under the resolved root can only escape as a symlink.
    if len(parts) == 1 and text != "." and not os.path.islink(target):
        return target
    # resolve() follows symbolic links, so a link inside root pointing outside is caught too.
    target = target.resolve()
    if not target.is_relative_to(base):
        raise ValueError(f"path {text!r} escapes the dataset root {root_text!r}")
    return target


def literal(text):
    """``ast.literal_eval`` (never ``eval``); any failure becomes a ValueError with the cause."""
    try:
        with warnings.catch_warnings():
            # Garbage such as "[1a]" or "'\\]'" makes the parser warn (SyntaxWarning, or
            # DeprecationWarning before Python 3.12): noise for users, the row is reported.
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from None


def parse_genre_literal(value):
    """Parse a Python-list string such as ``"['Comedy', 'Drama']"`` into a list of str.

    Raises
    ------
    ValueError
        If the value is not a literal list (or tuple) of strings.
    """
    try:
        parsed = literal(value)
    except ValueError as exc:
        raise ValueError(f"malformed genre list literal {value!r}: {exc}") from None
    if not isinstance(parsed, list | tuple) or not all(isinstance(g, str) for g in parsed):
        raise ValueError(f"genre list literal {value!r} is not a list of strings")
    return [g.strip() for g in parsed if g.strip()]


def split_genres(value, sep):
    """Split ``"Action|Comedy"`` (or ``"Action, Comedy"``) into stripped names; NaN gives []."""
    if not isinstance(value, str):
        return []
    return [g.strip() for g in value.split(sep) if g.strip()]


def split_title_year(titles):
    """Split ``"Toy Story (1995)"`` into title and year (float, NaN where absent).

    Parameters
    ----------
    titles : pandas.Series of str

    Returns
    -------
    title : pandas.Series of object
        The title without the year suffix (the input where there was none).
    year : pandas.Series of float
    """
    titles = pd.Series(titles, dtype=object)
    parts = titles.astype("str").str.extract(_TITLE_YEAR)
    has_year = parts["year"].notna() & titles.notna()
    title = titles.where(~has_year, parts["title"]).astype(object)
    title = title.where(title.notna(), np.nan)
    year = pd.to_numeric(parts["year"].where(has_year), errors="coerce").astype(float)
    return title, year


def indicator_matrix(genre_lists, genre_names):
    """Return the uint8 indicator matrix of ``genre_lists`` over ``genre_names``; others ignored."""
    index = {g: j for j, g in enumerate(genre_names)}
    Y = np.zeros((len(genre_lists), len(genre_names)), dtype=np.uint8)
    for i, genres in enumerate(genre_lists):
        for g in genres:
            j = index.get(g)
            if j is not None:
                Y[i, j] = 1
    return Y


def genre_lists(Y, genre_names):
    """Inverse of :func:`indicator_matrix`: one list of names per row."""
    names = np.asarray(genre_names, dtype=object)
    return [list(names[row.astype(bool)]) for row in np.asarray(Y)]


class Report:
    """Collects dropped or changed rows; ``to_frame()`` gives the loaders' ``report``."""

    def __init__(self):
        self._parts = []

    def add(self, source, rows, imdb_ids, reasons):
        """Add rows; ``source``/``reasons`` may be scalars, ``rows``/``imdb_ids`` sequences."""
        rows = pd.array(np.atleast_1d(np.asarray(rows, dtype=object)), dtype="Int64")
        n = len(rows)
        if n == 0:
            return
        part = pd.DataFrame(
            {
                "source": _broadcast(source, n),
                "row": rows,
                "imdb_id": _broadcast(imdb_ids, n),
                "reason": _broadcast(reasons, n),
            }
        )
        self._parts.append(part)

    def extend(self, frame):
        """Append a report DataFrame that already has :data:`REPORT_COLUMNS`."""
        if len(frame):
            self._parts.append(frame[REPORT_COLUMNS])

    def to_frame(self):
        if not self._parts:
            return empty_report()
        frame = pd.concat(self._parts, ignore_index=True)
        frame["row"] = frame["row"].astype("Int64")
        for column in ("source", "imdb_id", "reason"):
            frame[column] = frame[column].astype(object)
        return frame


def _broadcast(value, n):
    if isinstance(value, str) or value is None or np.ndim(value) == 0:
        return pd.Series([value] * n, dtype=object)
    values = list(value)
    if len(values) != n:
        raise ValueError(f"report column has {len(values)} values for {n} rows")
    return pd.Series(values, dtype=object)


def empty_report():
    """An empty report with the right columns and dtypes."""
    return pd.DataFrame(
        {
            "source": pd.Series(dtype=object),
            "row": pd.Series(dtype="Int64"),
            "imdb_id": pd.Series(dtype=object),
            "reason": pd.Series(dtype=object),
        }
    )


def standard_frame(n, **columns):
    """A frame with :data:`FRAME_COLUMNS` (NaN/None defaults) filled from ``columns``."""
    frame = {}
    for name in FRAME_COLUMNS:
        if name in columns:
            values = columns[name]
        elif name == "year":
            values = np.full(n, np.nan)
        elif name == "tmdb_id":
            values = pd.array([pd.NA] * n, dtype="Int64")
        elif name in ("genres", "keywords"):
            values = [None] * n
        else:
            values = [np.nan] * n
        frame[name] = values
    frame = pd.DataFrame(frame, index=pd.RangeIndex(n))
    frame["year"] = frame["year"].astype(float)
    frame["tmdb_id"] = frame["tmdb_id"].astype("Int64")
    # One text dtype across pandas 2 and 3, and across loaders: object holding str or NaN.
    for name in ("imdb_id", "title", "poster_path", *METADATA_COLUMNS):
        frame[name] = frame[name].astype(object).where(frame[name].notna(), np.nan)
    extra = [c for c in columns if c not in FRAME_COLUMNS]
    for name in extra:
        frame[name] = columns[name]
    return frame


def normalise_title(title):
    """Casefold, strip accents and punctuation: the key used to find duplicated titles."""
    if not isinstance(title, str):
        return None
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w]+", " ", text).strip()
    return text or None


def clean_movies(frame, Y, *, dedupe_title=False, source=None, rows=None):
    """Drop movies with no genres and, optionally, movies whose title repeats an earlier one.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per movie, with at least ``imdb_id`` (and ``title`` when
        ``dedupe_title=True``).
    Y : array-like of shape (n_movies, n_genres)
        The genre indicator matrix aligned with ``frame``.
    dedupe_title : bool, default=False
        Keep only the first movie of each normalised title (case, accents and punctuation
        ignored). Off by default: remakes legitimately share a title.
    source : str or sequence of str, optional
        The file each row came from, for the report (default ``"frame"``).
    rows : sequence of int, optional
        The row number of each movie in its source, for the report (default: the frame's
        index labels).

    Returns
    -------
    frame : pandas.DataFrame
        The kept movies, with a fresh ``RangeIndex``.
    Y : numpy.ndarray of uint8
        The matching rows of ``Y``.
    report : pandas.DataFrame
        One row per dropped movie: ``source``, ``row``, ``imdb_id``, ``reason``.

    Raises
    ------
    ValueError
        If ``Y`` is not 2-D or its row count differs from ``frame``'s.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from posterml.datasets import clean_movies
    >>> frame = pd.DataFrame({"imdb_id": ["tt1", "tt2", "tt3"], "title": ["Heat", "Up", "heat"]})
    >>> Y = np.array([[1, 0], [0, 0], [1, 1]])
    >>> kept, Y_kept, report = clean_movies(frame, Y, dedupe_title=True)
    >>> list(kept["imdb_id"]), list(report["reason"])
    (['tt1'], ['no genres', "duplicate title 'heat' (first: tt1)"])
    """
    Y = np.asarray(Y)
    if Y.ndim != 2:
        raise ValueError(f"Y must be 2-D (n_movies, n_genres), got shape {Y.shape}")
    if Y.shape[0] != len(frame):
        raise ValueError(f"Y has {Y.shape[0]} rows but frame has {len(frame)} movies")
    n = len(frame)
    sources = _broadcast("frame" if source is None else source, n).to_numpy()
    row_numbers = np.asarray(frame.index if rows is None else rows, dtype=object)
    if len(row_numbers) != n:
        raise ValueError(f"rows has {len(row_numbers)} values for {n} movies")
    ids = frame["imdb_id"].to_numpy(dtype=object)
    reasons = np.full(n, None, dtype=object)
    reasons[Y.sum(axis=1) == 0] = "no genres"
    if dedupe_title:
        if "title" not in frame.columns:
            raise ValueError("dedupe_title=True needs a 'title' column in frame")
        keys = frame["title"].map(normalise_title)
        candidate = pd.Series(reasons == None, index=frame.index) & keys.notna()  # noqa: E711
        first = {}
        for i in np.flatnonzero(candidate.to_numpy()):
            key = keys.iloc[i]
            if key in first:
                reasons[i] = f"duplicate title {key!r} (first: {ids[first[key]]})"
            else:
                first[key] = i
    dropped = np.flatnonzero(reasons != None)  # noqa: E711
    report = Report()
    if len(dropped):
        parts = pd.DataFrame(
            {
                "source": sources[dropped],
                "row": row_numbers[dropped],
                "imdb_id": ids[dropped],
                "reason": reasons[dropped],
            }
        )
        report.extend(parts)
    keep = reasons == None  # noqa: E711
    return (
        frame.loc[keep].reset_index(drop=True),
        Y[keep].astype(np.uint8),
        report.to_frame(),
    )


def dedupe_ids(ids, Y, rows, source):
    """Merge rows sharing an id: keep the first, unite conflicting labels, report the rest.

    Returns
    -------
    keep : ndarray of bool
    Y : ndarray of uint8 (a copy, with the first row of a conflicting group united)
    report : Report
    """
    ids = pd.Series(np.asarray(ids, dtype=object))
    Y = np.array(Y, dtype=np.uint8)
    rows = np.asarray(rows)
    keep = ~ids.duplicated(keep="first").to_numpy()
    report = Report()
    duplicated = ids.duplicated(keep=False).to_numpy()
    if not duplicated.any():
        return keep, Y, report
    for _, group in ids[duplicated].groupby(ids[duplicated], sort=False):
        members = group.index.to_numpy()
        first, others = members[0], members[1:]
        labels = Y[members]
        if (labels == labels[0]).all():
            report.add(source, rows[others], ids[others], "duplicate id (identical labels)")
            continue
        Y[first] = labels.max(axis=0)
        report.add(
            source,
            rows[others],
            ids[others],
            f"duplicate id (conflicting labels, united into row {rows[first]})",
        )
        report.add(
            source,
            [rows[first]],
            [ids[first]],
            "conflicting labels: united with duplicate row(s) "
            + ", ".join(str(r) for r in rows[others]),
        )
    return keep, Y, report


def make_bunch(frame, Y, genres, report, root, descr, **extra):
    """The loaders' return value (see :func:`posterml.datasets.load_av_posters`)."""
    return Bunch(
        frame=frame,
        Y=np.ascontiguousarray(Y, dtype=np.uint8),
        genres=list(genres),
        report=report.reset_index(drop=True),
        root=root,
        DESCR=descr,
        **extra,
    )


def read_csv_text(path, **kwargs):
    """Read a CSV with every column as text, keeping literal strings such as "NA" intact."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)


def require_columns(frame, columns, path):
    """Raise a ValueError naming the first required column missing from ``frame``."""
    for column in columns:
        if column not in frame.columns:
            raise ValueError(
                f"{os.fspath(path)!r} has no column {column!r} "
                f"(columns found: {list(frame.columns)})"
            )
