"""TMDb keywords as features: keyword lists per movie -> binary bag of words."""

import logging
import re
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted

from posterml.datasets._common import literal
from posterml.datasets._tmdb import _PLAIN_ITEM, _PLAIN_LIST
from posterml.features._base import check_float_dtype

__all__ = ["KeywordBagOfWords"]

logger = logging.getLogger("posterml")

# The column the loaders' frames keep keyword lists in.
KEYWORDS_COLUMN = "keywords"
# Row positions named in a log message before "...".
_N_ROWS_LOGGED = 5
# Names inside a broken TMDb literal: the complete {'id': .., 'name': ..} items survive.
_NAME_FIELD = re.compile(r"""['"]name['"]\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")""")
_LITERAL_START = ("[", "{")
_STRIP_CHARS = " \t\r\n'\"[]{}"
# NUL and other control characters (a damaged file) are spaces: "love\x00" is "love".
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _is_missing(value):
    """None, NaN, pd.NA, NaT: a scalar that pandas calls missing."""
    if value is None:
        return True
    if isinstance(value, (str, bytes, list, tuple, set, frozenset, dict, np.ndarray)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _from_items(items):
    """Names from a list of names and/or ``{'name': ...}`` dicts; (names, malformed)."""
    names = []
    malformed = False
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            names.append(item["name"])
        elif not _is_missing(item):
            malformed = True
    return names, malformed


def _salvage(text, separator):
    """Best-effort names from text that looks like a literal but does not parse."""
    found = [single or double for single, double in _NAME_FIELD.findall(text)]
    if found:
        return found
    # e.g. "[love, war]" (unquoted names): drop brackets and quotes, split on both seps.
    parts = re.split("|".join(map(re.escape, {separator, ","})), text)
    return [p.strip(_STRIP_CHARS) for p in parts]


def _parse_text(text, separator):
    stripped = text.strip()
    if not stripped:
        return [], False
    if not stripped.startswith(_LITERAL_START):
        return stripped.split(separator), False
    if _PLAIN_LIST.fullmatch(stripped):
        # TMDb's exact export shape: the quoted names are their values (no escapes).
        return [quoted[1:-1] for quoted in _PLAIN_ITEM.findall(stripped)], False
    try:
        value = literal(stripped)
    except ValueError:
        return _salvage(stripped, separator), True
    if isinstance(value, dict):
        return _from_items([value])
    if isinstance(value, (list, tuple)):
        return _from_items(value)
    if isinstance(value, (set, frozenset)):
        return _from_items(sorted(value, key=str))
    return _salvage(stripped, separator), True


def parse_keyword_entry(value, separator="|"):
    """Keyword names of one entry, and whether the entry was malformed.

    Parameters
    ----------
    value : object
        A list (or tuple, set, array) of names or of TMDb ``{'id': int, 'name': str}``
        dicts; one such dict; a string (a TMDb literal such as
        ``"[{'id': 931, 'name': 'jealousy'}]"``, a Python list literal ``"['a', 'b']"``, or
        names joined by ``separator``); or a missing value (None, NaN, ``""``, ``"[]"``).
    separator : str, default="|"
        Separator of joined names.

    Returns
    -------
    names : list of str
        The names as given (not stripped or lower-cased); ``[]`` for a missing entry.
    malformed : bool
        True when the entry could not be read as documented: a string starting with ``[``
        or ``{`` that is no valid literal (its ``'name': '...'`` fields are salvaged, else
        it is split on ``separator`` and commas with brackets and quotes stripped), a
        literal item that is neither a name nor a dict with a string ``name``, or a value
        of another type (read as no keywords).

    Examples
    --------
    >>> from posterml.features._keywords import parse_keyword_entry
    >>> parse_keyword_entry("[{'id': 931, 'name': 'jealousy'}, {'id': 4290, 'name': 'toy'}]")
    (['jealousy', 'toy'], False)
    >>> parse_keyword_entry("based on novel|love")
    (['based on novel', 'love'], False)
    >>> parse_keyword_entry("[{'id': 931, 'name': 'jealousy'}, {'id': 42")
    (['jealousy'], True)
    >>> parse_keyword_entry(float("nan"))
    ([], False)
    """
    if _is_missing(value):
        return [], False
    if isinstance(value, str):
        return _parse_text(value, separator)
    if isinstance(value, bytes):
        try:
            return _parse_text(value.decode("utf-8"), separator)
        except UnicodeDecodeError:
            return [], True
    if isinstance(value, dict):
        return _from_items([value])
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return _from_items(list(value))
    if isinstance(value, (set, frozenset)):
        return _from_items(sorted(value, key=str))
    return [], True


def _keyword_analyzer(doc):
    """CountVectorizer analyzer for ``analyzer="keyword"``: documents are term lists."""
    return doc


def _identifier(text):
    """``text`` with every run of non-word characters turned into one underscore."""
    return re.sub(r"\W+", "_", text).strip("_")


def _unique_names(names, reserved=()):
    """Suffix ``_2``, ``_3``... to repeated names (and to names in ``reserved``)."""
    seen = set(reserved)
    out = []
    for name in names:
        candidate, k = name, 2
        while candidate in seen:
            candidate = f"{name}_{k}"
            k += 1
        seen.add(candidate)
        out.append(candidate)
    return out


def _positions_text(rows):
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:_N_ROWS_LOGGED])
    return shown + (", ..." if len(rows) > _N_ROWS_LOGGED else "")


class KeywordBagOfWords(TransformerMixin, BaseEstimator):
    """Bag of words over each movie's TMDb keywords: the most frequent words, 0/1 each.

    Builds on :class:`~sklearn.feature_extraction.text.CountVectorizer`: the vocabulary is
    the ``max_features`` words with the highest document frequency (number of training
    movies that have the word) after stop-word removal, learned in :meth:`fit`.

    Parameters
    ----------
    analyzer : {"word", "keyword"}, default="word"
        What one feature counts. ``"word"``: the words of the keywords, so ``"based on
        novel"`` gives ``based`` and ``novel`` (``on`` is a stop word); words of two or
        more word characters, as CountVectorizer's default ``token_pattern``. This is what
        seed 004 did, and with a small ``max_features`` it covers more movies (words such
        as ``relationship`` or ``woman`` are shared by many keywords). ``"keyword"``: each
        whole keyword is one term (``"based on novel"``), inner whitespace collapsed.
    max_features : int or None, default=40
        Keep this many terms, by decreasing document frequency (ties broken
        alphabetically). ``None`` keeps all.
    min_df : int or float in [0, 1], default=1
        Ignore terms in fewer movies than this (a float: a fraction of the movies).
    stop_words : "english", list of str or None, default="english"
        Terms dropped before counting: ``"english"`` is scikit-learn's
        ``ENGLISH_STOP_WORDS``. With ``analyzer="keyword"`` a keyword is dropped only when
        it is itself a stop word (e.g. ``"the"``). Lower-cased when ``lowercase=True``.
    binary : bool, default=True
        0/1 outputs. ``False``: how many times the term occurs in the movie's keywords
        (the vocabulary is still chosen by document frequency).
    lowercase : bool, default=True
        Lower-case the keywords before counting.
    separator : str, default="|"
        Separator of keyword names joined in one string (``"love|war"``).
    column : str, optional
        With DataFrame input: the column holding the keywords. ``None``: the only column
        of a one-column frame, else the column ``"keywords"`` (the loaders' frames).
    prefix : str, default="kw_"
        Prefix of the output feature names.
    sparse_output : bool, default=False
        Return a SciPy CSR matrix instead of a dense array (pandas output then is not
        available).
    dtype : floating dtype, default=np.float32
        dtype of the output.

    Attributes
    ----------
    vectorizer_ : CountVectorizer
        The vectorizer that counts the kept terms (a fixed ``vocabulary``, alphabetical).
    vocabulary_ : dict of str to int
        Term -> output column.
    document_frequency_ : ndarray of int64, shape (n_features_out,)
        Number of training movies with each output term.
    column_ : str or None
        The DataFrame column read in :meth:`fit` (None for a 1-D input).
    n_malformed_ : int
        Malformed entries met by the last :meth:`fit` or :meth:`transform` call.
    malformed_rows_ : ndarray of int
        Their row positions (0-based).

    See Also
    --------
    posterml.datasets.load_tmdb_keywords : Reads TMDb's ``keywords.csv``.
    parse_keyword_entry : How one entry is read.

    Notes
    -----
    ``X`` is a 1-D sequence (list, array, Series) with one entry per movie, or a DataFrame
    (see ``column``). An entry may be a list of keyword names, a list of TMDb
    ``{'id': int, 'name': str}`` dicts, TMDb's text of such a list (parsed with
    :func:`ast.literal_eval`, never ``eval``), names joined by ``separator``, or missing
    (None, NaN, ``""``, ``"[]"``); a missing entry gives a row of zeros.

    A malformed entry never raises: text that starts like a literal (``[`` or ``{``) but
    does not parse keeps the names of its complete ``'name': '...'`` items (a truncated
    TMDb cell loses only its last item), or, without any, is split on ``separator`` and
    commas with brackets and quotes stripped. Such entries are counted in
    ``n_malformed_`` and logged as a warning on the ``"posterml"`` logger with a few row
    positions.

    Examples
    --------
    >>> from posterml.features._keywords import KeywordBagOfWords
    >>> keywords = [
    ...     ["based on novel", "love"],
    ...     "[{'id': 9663, 'name': 'sequel'}, {'id': 9715, 'name': 'love triangle'}]",
    ...     "novel|war",
    ...     None,
    ... ]
    >>> bag = KeywordBagOfWords(max_features=3).fit(keywords)
    >>> bag.get_feature_names_out().tolist()
    ['kw_based', 'kw_love', 'kw_novel']
    >>> bag.transform(keywords)
    array([[1., 1., 1.],
           [0., 1., 0.],
           [0., 0., 1.],
           [0., 0., 0.]], dtype=float32)
    >>> KeywordBagOfWords(analyzer="keyword", max_features=2).fit(keywords).vocabulary_
    {'based on novel': 0, 'love': 1}
    """

    _parameter_constraints = {
        "analyzer": [StrOptions({"word", "keyword"})],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "min_df": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="both"),
        ],
        "stop_words": [StrOptions({"english"}), list, tuple, set, frozenset, None],
        "binary": ["boolean"],
        "lowercase": ["boolean"],
        "separator": [str],
        "column": [str, None],
        "prefix": [str],
        "sparse_output": ["boolean"],
        "dtype": "no_validation",  # checked in _checked_dtype: any floating numpy dtype
    }

    def __init__(
        self,
        *,
        analyzer="word",
        max_features=40,
        min_df=1,
        stop_words="english",
        binary=True,
        lowercase=True,
        separator="|",
        column=None,
        prefix="kw_",
        sparse_output=False,
        dtype=np.float32,
    ):
        self.analyzer = analyzer
        self.max_features = max_features
        self.min_df = min_df
        self.stop_words = stop_words
        self.binary = binary
        self.lowercase = lowercase
        self.separator = separator
        self.column = column
        self.prefix = prefix
        self.sparse_output = sparse_output
        self.dtype = dtype

    # ------------------------------------------------------------------ helpers

    def _checked_dtype(self):
        return check_float_dtype(self.dtype)

    def _stop_set(self):
        if self.stop_words is None:
            return frozenset()
        words = ENGLISH_STOP_WORDS if isinstance(self.stop_words, str) else self.stop_words
        for word in words:
            if not isinstance(word, str):
                raise TypeError(f"stop_words must hold strings, got {word!r}")
        return frozenset(w.lower() for w in words) if self.lowercase else frozenset(words)

    def _entries(self, X):
        """The entries of ``X`` as a list, and the DataFrame column read (or None)."""
        if isinstance(X, pd.DataFrame):
            column = self.column
            if column is None:
                column = X.columns[0] if X.shape[1] == 1 else KEYWORDS_COLUMN
            if column not in X.columns:
                near = [
                    c for c in X.columns if isinstance(c, str) and c.strip().casefold() == column
                ]
                hint = f"did you mean column={near[0]!r}?" if near else "set column=..."
                raise ValueError(
                    f"{type(self).__name__}: X has no column {column!r} "
                    f"(columns present: {list(X.columns)}); {hint}"
                )
            values = X[column]
            if isinstance(values, pd.DataFrame):
                raise ValueError(f"X has {values.shape[1]} columns named {column!r}")
            return values.tolist(), column
        if isinstance(X, (str, bytes)):
            raise TypeError(
                "X must be a sequence with one keyword entry per movie, got a single "
                f"{type(X).__name__}: wrap it in a list"
            )
        if isinstance(X, pd.Series):
            return X.tolist(), None
        if isinstance(X, np.ndarray):
            if X.ndim == 2 and X.shape[1] == 1:
                X = X[:, 0]
            if X.ndim != 1:
                raise ValueError(
                    f"X must be 1-D (one entry per movie) or a single column, got shape {X.shape}"
                )
            return list(X), None
        if hasattr(X, "__iter__") and not isinstance(X, dict):
            return list(X), None
        raise TypeError(
            "X must be a list, array, Series or DataFrame of keyword entries, got "
            f"{type(X).__name__}"
        )

    def _documents(self, X, method):
        """Parse ``X`` into CountVectorizer documents; log malformed rows.

        Returns the documents, the column read and the malformed row positions.
        """
        entries, column = self._entries(X)
        stop = self._stop_set() if self.analyzer == "keyword" else frozenset()
        documents = []
        malformed = []
        for position, entry in enumerate(entries):
            names, bad = parse_keyword_entry(entry, self.separator)
            if bad:
                malformed.append(position)
            names = [" ".join(_CONTROL.sub(" ", str(n)).split()) for n in names]
            if self.analyzer == "word":
                documents.append(" ".join(names))
                continue
            if self.lowercase:
                names = [n.lower() for n in names]
            documents.append([n for n in names if n and n not in stop])
        if malformed:
            logger.warning(
                "%s.%s: %d of %d keyword entries are malformed (rows %s); read on a "
                "best-effort basis (see n_malformed_, malformed_rows_)",
                type(self).__name__,
                method,
                len(malformed),
                len(entries),
                _positions_text(malformed),
            )
        return documents, column, np.asarray(malformed, dtype=np.int64)

    def _record_malformed(self, rows):
        self.n_malformed_ = len(rows)
        self.malformed_rows_ = rows

    def _make_vectorizer(self, dtype, binary, **kwargs):
        if self.analyzer == "keyword":
            # Lower-casing and stop words are applied in _documents (whole keywords).
            return CountVectorizer(
                analyzer=_keyword_analyzer, lowercase=False, binary=binary, dtype=dtype, **kwargs
            )
        stop = self._stop_set()
        return CountVectorizer(
            lowercase=self.lowercase,
            stop_words=sorted(stop) if stop else None,
            binary=binary,
            dtype=dtype,
            **kwargs,
        )

    def _fit(self, X):
        dtype = self._checked_dtype()
        if not self.separator:
            raise ValueError("separator must be a non-empty string")
        documents, column, malformed = self._documents(X, "fit")
        # Every term (min_df applied) with 0/1 counts: column sums are document frequencies.
        full = self._make_vectorizer(dtype, binary=True, min_df=self.min_df)
        try:
            counts = full.fit_transform(documents)
        except ValueError as exc:
            n_empty = sum(not d for d in documents)
            raise ValueError(
                f"{type(self).__name__}: no term to learn from {len(documents)} rows "
                f"({n_empty} without keywords, analyzer={self.analyzer!r}, "
                f"min_df={self.min_df!r}): {exc}"
            ) from exc
        frequency = counts.getnnz(axis=0)
        # CountVectorizer's own max_features cut breaks ties in no documented order; a
        # stable sort over its alphabetical terms breaks them alphabetically.
        keep = np.sort(np.argsort(-frequency, kind="stable")[: self.max_features])
        terms = full.get_feature_names_out()[keep]
        vectorizer = self._make_vectorizer(dtype, binary=self.binary, vocabulary=list(terms))
        self.vectorizer_ = vectorizer.fit([])
        self.vocabulary_ = {term: int(j) for term, j in vectorizer.vocabulary_.items()}
        self.document_frequency_ = frequency[keep].astype(np.int64)
        self.column_ = column
        self._record_malformed(malformed)
        self._feature_names_out = np.asarray(
            _unique_names(
                [self.prefix + (_identifier(t) or f"term{j}") for j, t in enumerate(terms)]
            ),
            dtype=object,
        )
        return documents, counts[:, keep]

    def _output(self, counts):
        counts = counts.astype(self._checked_dtype())
        return counts.tocsr() if self.sparse_output else counts.toarray()

    # ------------------------------------------------------------------ API

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the ``max_features`` most frequent terms of ``X``.

        Parameters
        ----------
        X : 1-D sequence or DataFrame of keyword entries
            See the class notes.
        y : ignored

        Returns
        -------
        self : KeywordBagOfWords

        Raises
        ------
        ValueError
            If no term is left to learn (every entry empty, or only stop words), or a
            DataFrame lacks the keyword column.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit, then transform ``X`` (parsing it once).

        Parameters
        ----------
        X : 1-D sequence or DataFrame of keyword entries
        y : ignored

        Returns
        -------
        ndarray or csr_matrix of shape (n_movies, n_features_out)
        """
        documents, counts = self._fit(X)
        if not self.binary:
            counts = self.vectorizer_.transform(documents)
        return self._output(counts)

    def transform(self, X):
        """Count the learned terms in each entry of ``X``.

        Parameters
        ----------
        X : 1-D sequence or DataFrame of keyword entries
            See the class notes. Missing and malformed entries never raise.

        Returns
        -------
        ndarray or csr_matrix of shape (n_movies, n_features_out)
            0/1 (or counts with ``binary=False``) of ``dtype``; all zeros for a movie
            without keywords.
        """
        check_is_fitted(self)
        documents, _, malformed = self._documents(X, "transform")
        self._record_malformed(malformed)
        return self._output(self.vectorizer_.transform(documents))

    def get_feature_names_out(self, input_features=None):
        """Output feature names.

        Parameters
        ----------
        input_features : array-like of str, optional
            Not used, present for API consistency.

        Returns
        -------
        ndarray of str
            ``prefix`` + term, in the vectorizer's (alphabetical) term order, with every
            run of non-word characters replaced by ``_``: ``kw_love``,
            ``kw_based_on_novel`` (``analyzer="keyword"``). A name that would repeat gets a
            ``_2`` suffix.
        """
        check_is_fitted(self)
        return self._feature_names_out.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags
