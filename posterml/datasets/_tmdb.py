"""TMDb keywords as distributed with The Movies Dataset (``keywords.csv``)."""

import os
import re

import numpy as np
import pandas as pd

from ._common import check_on_error, literal, logger, read_table

# The exact shape TMDb exports write, with names free of backslashes: for such text the
# quoted name *is* its value, so the regex gives what ast.literal_eval would, ~10x faster.
_ITEM = r"\{'id': (?:0|[1-9]\d*), 'name': ('[^'\\\r\n\x00]*'|\"[^\"\\\r\n\x00]*\")\}"
_PLAIN_LIST = re.compile(rf"\[(?:{_ITEM}(?:, {_ITEM})*)?\]")
_PLAIN_ITEM = re.compile(_ITEM)


def _parse_keywords(text):
    """Return (names, None) or (None, reason) for one ``keywords`` cell."""
    if _PLAIN_LIST.fullmatch(text):
        return [quoted[1:-1] for quoted in _PLAIN_ITEM.findall(text)], None
    try:
        value = literal(text)
    except ValueError as exc:
        return None, f"malformed keywords literal: {exc}"
    if not isinstance(value, list):
        return None, f"keywords literal is a {type(value).__name__}, not a list"
    names = []
    for position, item in enumerate(value):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("id"), int)
            and not isinstance(item.get("id"), bool)
        ):
            return None, (
                f"keywords literal item {position} is not an {{'id': int, 'name': str}} dict: "
                f"{item!r}"[:200]
            )
        names.append(item["name"])
    return names, None


def load_tmdb_keywords(path, *, on_error="skip", ids=None):
    """Load TMDb keywords: one row per TMDb id with the list of keyword names.

    The ``keywords`` field of ``keywords.csv`` is a Python literal list of
    ``{'id': int, 'name': str}`` dicts; it is parsed with :func:`ast.literal_eval`, never
    ``eval``.

    Parameters
    ----------
    path : str or Path
        The CSV file, with columns ``id`` (TMDb id) and ``keywords``.
    on_error : {"skip", "raise"}, default="skip"
        What to do with a malformed row (bad literal, wrong shape, non-integer id, a CSV
        row with too many or too few fields or an unbalanced quote): ``"skip"`` leaves it
        out and reports it, ``"raise"`` raises a ValueError naming the line.
    ids : iterable of int, optional
        Parse only these TMDb ids (much faster when joining a few thousand movies). Rows with
        a non-integer id are still reported.

    Returns
    -------
    pandas.DataFrame
        Columns ``tmdb_id`` (int64) and ``keywords`` (list of str; ``[]`` for a movie
        whose record is empty), one row per id, in file order. Duplicated ids keep their
        first valid row. ``.attrs["report"]`` is a DataFrame with columns ``row`` (Int64:
        line number in the file, the header being line 1; NA for a note on the whole
        file), ``id`` (the raw id text) and ``reason`` for every skipped row, every line
        read in a fallback encoding and every line a NUL byte was removed from (see
        :func:`posterml.datasets.load_av_posters` for the encodings read).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is empty, a column is missing (the message suggests a near name),
        ``on_error`` is unknown, or ``on_error="raise"`` meets a malformed row.

    Notes
    -----
    pandas compares ``attrs`` when it merges or concatenates two frames that both carry
    some, and cannot compare two reports: read the report, then ``result.attrs.clear()``
    before combining two results of this function with each other.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from posterml.datasets import load_tmdb_keywords
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "keywords.csv"
    >>> _ = path.write_text('id,keywords\\n862,"[{\\'id\\': 931, \\'name\\': \\'jealousy\\'}]"\\n')
    >>> load_tmdb_keywords(path)
       tmdb_id    keywords
    0      862  [jealousy]
    """
    check_on_error(on_error)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"TMDb keywords file {path!r} does not exist")
    raw, lines, problems, _ = read_table(
        path, required=["id", "keywords"], id_column="id", on_error=on_error
    )
    id_text = raw["id"].str.strip()
    report = list(problems)

    def fail(i, reason):
        if on_error == "raise":
            raise ValueError(f"{path!r} line {lines[i]} (id {raw['id'].iloc[i]!r}): {reason}")
        report.append((int(lines[i]), raw["id"].iloc[i], reason))

    # Some exports write ids as "862.0"; anything else non-integral is malformed.
    valid_id = id_text.str.fullmatch(r"\d+(\.0+)?").to_numpy(dtype=bool)
    for i in np.flatnonzero(~valid_id):
        fail(i, f"non-integer id {raw['id'].iloc[i]!r}")
    tmdb_id = np.zeros(len(raw), dtype=np.int64)
    tmdb_id[valid_id] = id_text[valid_id].str.replace(r"\.0+$", "", regex=True).astype("int64")

    selected = valid_id.copy()
    if ids is not None:
        wanted = pd.Index(pd.array(list(ids), dtype="Int64").dropna().astype("int64"))
        selected &= np.isin(tmdb_id, wanted.to_numpy())

    names = np.full(len(raw), None, dtype=object)
    parsed_ok = np.zeros(len(raw), dtype=bool)
    cache = {}
    for i in np.flatnonzero(selected):
        text = raw["keywords"].iloc[i]
        if text not in cache:
            cache[text] = _parse_keywords(text)
        value, reason = cache[text]
        if reason is not None:
            fail(i, reason)
        else:
            # A fresh list per row: callers may mutate one movie's keywords.
            names[i] = list(value)
            parsed_ok[i] = True

    rows = np.flatnonzero(parsed_ok)
    repeated = pd.Series(tmdb_id[rows]).duplicated(keep="first").to_numpy()
    first_row = dict(zip(tmdb_id[rows][~repeated].tolist(), rows[~repeated].tolist()))
    for i in rows[repeated]:
        kept = first_row[int(tmdb_id[i])]
        same = "identical" if names[i] == names[kept] else "different"
        fail(i, f"duplicate tmdb id ({same} keywords; line {lines[kept]} kept)")
    rows = rows[~repeated]

    result = pd.DataFrame(
        {
            "tmdb_id": tmdb_id[rows],
            "keywords": pd.Series(names[rows], dtype=object),
        }
    )
    report.sort(key=lambda item: (item[0] is None, item[0] or 0))
    result.attrs["report"] = pd.DataFrame(report, columns=["row", "id", "reason"]).astype(
        {"row": "Int64"}
    )
    if report:
        logger.info(
            "load_tmdb_keywords: %d keyword records from %s; %d rows skipped "
            "(see .attrs['report'])",
            len(result),
            path,
            len(report),
        )
    return result
