"""Helpers shared by the dataset loaders: safe paths, genre parsing, reports, cleaning."""

import ast
import codecs
import csv
import difflib
import io
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

# ---------------------------------------------------------------------- genre names
IMDB_GENRES = (
    "Action",
    "Adult",
    "Adventure",
    "Animation",
    "Biography",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "Film-Noir",
    "Game-Show",
    "History",
    "Horror",
    "Music",
    "Musical",
    "Mystery",
    "News",
    "Reality-TV",
    "Romance",
    "Sci-Fi",
    "Short",
    "Sport",
    "Talk-Show",
    "Thriller",
    "War",
    "Western",
)
# Other spellings of IMDb genres met in the poster data sets (TMDb writes "Science Fiction").
GENRE_ALIASES = {"Science Fiction": "Sci-Fi"}
# The AV data's pseudo-genre of a movie without genre.
NA_GENRE = "N/A"


def genre_key(name):
    """The key genre names are compared by: case, spaces, hyphens and underscores ignored."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


_CANONICAL = {
    **{genre_key(genre): genre for genre in IMDB_GENRES},
    **{genre_key(alias): genre for alias, genre in GENRE_ALIASES.items()},
    genre_key(NA_GENRE): NA_GENRE,
}


def canonical_genre(name):
    """IMDb's spelling of a genre name (``"sci fi"``, ``"Science Fiction"`` -> ``"Sci-Fi"``).

    A name that is not an IMDb genre (nor an alias of one) is returned stripped.
    """
    return _CANONICAL.get(genre_key(name), name.strip())


def genre_column_index(columns, path):
    """``{key of the canonical name: column position}`` of one-hot genre columns.

    Raises
    ------
    ValueError
        If two columns are the same genre spelled differently (``Sci-Fi`` and ``SciFi``);
        the message names both and the file.
    """
    index = {}
    for j, column in enumerate(columns):
        key = genre_key(canonical_genre(column))
        if key in index:
            raise ValueError(
                f"{os.fspath(path)!r}: the genre columns {columns[index[key]]!r} and "
                f"{column!r} are the same genre spelled differently; merge them into one column"
            )
        index[key] = j
    return index


def match_genres(names, index):
    """Positions of ``names`` in a :func:`genre_column_index`, and the names it lacks."""
    positions, unknown = [], []
    for name in names:
        j = index.get(genre_key(canonical_genre(name)))
        if j is None:
            unknown.append(name)
        else:
            positions.append(j)
    return positions, unknown


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


def onehot_labels(cells, columns, listed, described, rows, report, source, ids, lines, path):
    """The one-hot genre matrix of a file, checked row by row against its genre lists.

    Parameters
    ----------
    cells : DataFrame of str
        The one-hot columns (``"0"``/``"1"``, spaces ignored).
    columns : list of str
        Their names.
    listed : list of (names or None, error or None)
        Each row's parsed genre list, or why it could not be parsed.
    described : list of str
        How a report names each row's list (``"Genre list ['Comedy']"``).
    rows : sequence of int
        Positions of the rows to check (others are left as read).

    Returns
    -------
    ndarray of uint8
        An invalid cell (not 0 or 1) takes the row's labels from its list (read as 0
        without one); otherwise the one-hot cells win. Every invalid cell, unparseable
        list, list naming a genre no column has, and disagreement is reported.
    """
    index = genre_column_index(columns, path)
    cells = cells.apply(lambda c: c.str.strip())
    valid = cells.isin(["0", "1"]).to_numpy()
    onehot = (cells == "1").to_numpy().astype(np.uint8)
    Y = onehot.copy()

    def note(i, reason):
        report.add(source, [lines[i]], [ids[i]], reason)

    for i in rows:
        names, error = listed[i]
        # Names match the columns by canonical spelling: 'Science Fiction' is column 'Sci-Fi'.
        positions, unknown = match_genres(names or [], index)
        bad_cells = np.flatnonzero(~valid[i])
        if bad_cells.size:
            column = columns[int(bad_cells[0])]
            value = cells.iloc[i][column]
            if names is not None:
                Y[i] = 0
                Y[i, positions] = 1
                how = "labels taken from the Genre list"
                if unknown:
                    how += f" ({unknown} ignored: no such genre column)"
            else:
                how = "read as 0"
            note(i, f"invalid one-hot value {value!r} in column {column!r}; {how}")
        elif error is not None:
            note(i, f"{error}; one-hot columns kept")
        elif unknown:
            note(
                i,
                f"{described[i]} names {unknown}, which is no genre column; one-hot columns kept",
            )
        elif set(positions) != set(np.flatnonzero(onehot[i]).tolist()):
            from_onehot = [g for g, v in zip(columns, onehot[i]) if v]
            note(
                i,
                f"{described[i]} disagrees with one-hot columns {from_onehot}; "
                "one-hot columns kept",
            )
    return Y


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


def add_problems(report, source, problems):
    """Add :func:`read_table`'s ``(line, id, reason)`` problems to a :class:`Report`."""
    if problems:
        lines, ids, reasons = zip(*problems)
        report.add(source, list(lines), list(ids), list(reasons))


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


ON_ERROR = ("skip", "raise")


def check_on_error(on_error):
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")


# ---------------------------------------------------------------------- reading CSV text
# Checked longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LINE_END = re.compile(rb"\r\n|\r|\n")
_N_LINES_NAMED = 5


def _byte_lines(data):
    """Physical lines of ``data`` with their endings, split as ``io.StringIO(newline="")``."""
    lines, start = [], 0
    for match in _LINE_END.finditer(data):
        lines.append(data[start : match.end()])
        start = match.end()
    if start < len(data):
        lines.append(data[start:])
    return lines


def _single_byte_codec(data):
    """``"latin-1"`` for text without bytes 0x80-0x9F (both codecs agree), else cp1252."""
    if not re.search(rb"[\x80-\x9f]", data):
        return "latin-1"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:  # one of the five bytes cp1252 leaves undefined
        return "latin-1"
    return "cp1252"


def _sniff_utf16(data):
    """UTF-16 without a byte-order mark: ASCII text with every other byte NUL."""
    head = data[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _decode_error(path, data, exc, encoding, hint):
    line = data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
    return ValueError(
        f"{path!r} is not valid {encoding}: line {line} holds the byte(s) "
        f"{data[exc.start : exc.end]!r} ({exc.reason}); {hint}"
    )


def decode_text(data, path, encoding=None):
    """Decode a data file's bytes; never a UnicodeDecodeError from deep inside a reader.

    Without ``encoding``: a byte-order mark picks UTF-8, UTF-16 or UTF-32; UTF-16 without
    a mark is recognised by its NUL bytes; else UTF-8. A file that is not valid UTF-8 is
    read line by line: valid lines as UTF-8, the others as cp1252 (latin-1 where cp1252
    leaves a byte undefined), each such line noted. A file without any valid non-ASCII
    UTF-8 line is single-byte text throughout, and is read as a whole as latin-1 (cp1252
    when it has bytes 0x80-0x9F), with one note naming its first such lines.

    Returns
    -------
    text : str
    encoding : str
        The codec used (``"utf-8"`` for a UTF-8 file with a few lines read otherwise).
    notes : list of (line or None, reason)
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r} for {path!r}") from None
        try:
            return data.decode(encoding), encoding, []
        except UnicodeDecodeError as exc:
            hint = f"it was read with encoding={encoding!r}; pass the file's own encoding"
            raise _decode_error(path, data, exc, encoding, hint) from None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec, []
            except UnicodeDecodeError as exc:
                hint = "its byte-order mark says so, but the text is damaged"
                raise _decode_error(path, data, exc, codec, hint) from None
    utf16 = _sniff_utf16(data)
    if utf16 is not None:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError as exc:
            hint = "it looks like UTF-16 without a byte-order mark (NUL bytes), but is damaged"
            raise _decode_error(path, data, exc, utf16, hint) from None
        logger.info("%s has no byte-order mark but is %s text; read as such", path, utf16)
        return text, utf16, []
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    lines = _byte_lines(data)
    decoded, bad, any_utf8 = [], [], False
    for number, line in enumerate(lines, 1):
        try:
            decoded.append(line.decode("utf-8"))
            any_utf8 = any_utf8 or not line.isascii()
        except UnicodeDecodeError as exc:
            decoded.append(None)
            bad.append((number, exc))
    if not any_utf8:
        codec = _single_byte_codec(data)
        shown = ", ".join(str(number) for number, _ in bad[:_N_LINES_NAMED])
        more = f" and {len(bad) - _N_LINES_NAMED} more" if len(bad) > _N_LINES_NAMED else ""
        first = bad[0][1]
        note = (
            f"not UTF-8 (line(s) {shown}{more} hold bytes such as "
            f"{first.object[first.start : first.start + 1]!r}); the whole file read as {codec}"
        )
        return data.decode(codec), codec, [(None, note)]
    notes = []
    for number, exc in bad:
        line = lines[number - 1]
        codec = _single_byte_codec(line)
        decoded[number - 1] = line.decode(codec)
        notes.append(
            (
                number,
                f"not valid UTF-8 (byte {exc.object[exc.start : exc.start + 1]!r} at "
                f"position {exc.start + 1} of the line); line read as {codec}",
            )
        )
    return "".join(decoded), "utf-8", notes


class _Lines:
    """An iterator over physical lines that the reader can be sent back on."""

    def __init__(self, lines, pos):
        self.lines = lines
        self.pos = pos

    def __iter__(self):
        return self

    def __next__(self):
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _header(physical, path):
    first = next((i for i, line in enumerate(physical) if line.strip()), None)
    if first is None:
        raise ValueError(f"{path!r} is empty: it has no header line")
    try:
        names = next(csv.reader([physical[first]], strict=True))
    except csv.Error as exc:
        raise ValueError(
            f"{path!r} line {first + 1}: the header is malformed CSV ({exc})"
        ) from None
    # A header cell's surrounding spaces are never part of the name; pandas' name for none.
    names = [name.strip() or f"Unnamed: {j}" for j, name in enumerate(names)]
    seen = {}
    for j, name in enumerate(names):
        if name in seen:
            raise ValueError(
                f"{path!r}: column {name!r} appears twice in the header (columns "
                f"{seen[name] + 1} and {j + 1}); rename or remove one"
            )
        seen[name] = j
    return first, names


def read_table(
    path, *, required=(), id_column=None, na_values=None, on_error="skip", encoding=None
):
    """Read a CSV file as text, with every malformed row named instead of a parser traceback.

    Every cell is a str (literal text such as ``"NA"`` is kept), except those equal to one
    of ``na_values``, which are NaN. The formats read here have no field spanning lines,
    so a quoted field running on over a line end is an unbalanced quote.

    Parameters
    ----------
    path : str or Path
    required : sequence of str
        Columns that must be present (see :func:`require_columns`).
    id_column : str, optional
        Column whose value names a skipped row in the problems.
    na_values : sequence of str, optional
    on_error : {"skip", "raise"}
        A row that cannot be read (too many or too few fields, an unbalanced quote,
        malformed CSV quoting) is left out and listed in ``problems``, or raises a
        ValueError naming the file and line.
    encoding : str, optional
        See :func:`decode_text`.

    Returns
    -------
    frame : pandas.DataFrame
        One row per record, the header's columns (names stripped of spaces).
    lines : ndarray of int64
        The line of the file each row starts on (header = 1 when it is the first line).
    problems : list of (line or None, id text or None, reason)
        Rows skipped, NUL bytes removed, lines decoded with a fallback encoding.
    encoding : str
        The encoding used.

    Raises
    ------
    ValueError
        The file is empty, its header repeats a name or misses a required column, it is
        not valid text in the given encoding, or ``on_error="raise"`` meets a bad row.
    """
    check_on_error(on_error)
    path_text = os.fspath(path)
    text, used, notes = decode_text(Path(path).read_bytes(), path_text, encoding)
    problems = [(None, None, reason) for line, reason in notes if line is None]
    # Notes on a line (read in a fallback encoding, NUL bytes removed) name its row's id.
    line_notes = {}
    for line, reason in notes:
        if line is not None:
            line_notes.setdefault(line - 1, []).append(reason)
    physical = io.StringIO(text, newline="").readlines()
    for i, line in enumerate(physical):
        if "\x00" in line:
            line_notes.setdefault(i, []).append(f"{line.count(chr(0))} NUL byte(s) removed")
            physical[i] = line.replace("\x00", "")
    first, header = _header(physical, path_text)
    require_columns(header, required, path_text)
    n_fields = len(header)
    id_at = header.index(id_column) if id_column in header else None

    def id_of(record):
        if id_at is None or id_at >= len(record):
            return None
        return record[id_at].strip() or None

    def id_of_line(i):
        # A row the reader could not split: its id is still readable if it comes first.
        cells = physical[i].split(",")
        if id_at is None or id_at >= len(cells) or '"' in "".join(cells[: id_at + 1]):
            return []
        return cells[: id_at + 1]

    def bad(line, record, reason):
        if on_error == "raise":
            raise ValueError(f"{path_text!r} line {line}: {reason}")
        problems.append((line, id_of(record), f"{reason}; row skipped"))

    for reason in line_notes.pop(first, []):
        problems.append((first + 1, None, f"{reason} (the header)"))
    lines_iter = _Lines(physical, first + 1)
    reader = csv.reader(lines_iter, strict=True)
    rows, starts = [], []
    while lines_iter.pos < len(physical):
        start = lines_iter.pos
        reason = None
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                reason = (
                    f"unbalanced quote: the quoted field opened on line {start + 1} is never closed"
                )
            elif lines_iter.pos - start <= 1:
                reason = f"malformed CSV quoting ({exc})"
        if reason is None and lines_iter.pos - start > 1:
            reason = (
                f"unbalanced quote: the quoted field opened on line {start + 1} runs on "
                f"to line {lines_iter.pos}"
            )
        if reason is not None:
            bad(start + 1, id_of_line(start), reason)
            # Read on from the next line: only the line with the stray quote is lost.
            lines_iter.pos = start + 1
            reader = csv.reader(lines_iter, strict=True)
            continue
        end = lines_iter.pos
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line
        for reason in line_notes.pop(start, []):
            problems.append((start + 1, id_of(record), reason))
        if len(record) > n_fields and not any(cell.strip() for cell in record[n_fields:]):
            record = record[:n_fields]  # trailing empty cells ("a,b,c,") lose nothing
        if len(record) != n_fields:
            truncated = end == len(physical) and not physical[-1].endswith(("\n", "\r"))
            bad(
                start + 1,
                record,
                f"{len(record)} fields where the header has {n_fields}"
                + (" (truncated last line?)" if truncated and len(record) < n_fields else ""),
            )
            continue
        rows.append(record)
        starts.append(start + 1)
    # Notes on lines whose row was skipped (or that were blank) name no id.
    for i, reasons in line_notes.items():
        problems.extend((i + 1, None, reason) for reason in reasons)
    problems.sort(key=lambda problem: (problem[0] is not None, problem[0] or 0))
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    if na_values:
        frame = frame.mask(frame.isin(list(na_values)))
    return frame, np.asarray(starts, dtype=np.int64), problems, used


def require_columns(frame, columns, path):
    """Raise a ValueError naming the first required column missing from ``frame``.

    ``frame`` is a DataFrame or a list of column names. The message lists the columns
    found and a close match (another case or spacing, or a near spelling).
    """
    found = list(frame.columns) if hasattr(frame, "columns") else list(frame)
    for column in columns:
        if column not in found:
            same = [c for c in found if genre_key(str(c)) == genre_key(column)]
            close = same or difflib.get_close_matches(column, [str(c) for c in found], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"{os.fspath(path)!r} has no column {column!r} (columns found: {found}){hint}"
            )
