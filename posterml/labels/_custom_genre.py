"""Seed paper 004's "custom genres": one coarse class per movie, by majority vote of its genres.

The paper groups IMDb genres that go together on posters into eight classes (``AcAdDr`` for
Action, Adventure, Drama ...) and trains a single-label classifier on them. A genre may
belong to several classes (Drama to three); each of a movie's genres votes for every class
that holds it, and the class with the most votes wins.
"""

import zlib
from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, TransformerMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, check_random_state, column_or_1d

from posterml.datasets._common import GENRE_ALIASES, NA_GENRE, genre_key
from posterml.datasets._common import IMDB_GENRES as _IMDB_GENRES
from posterml.metrics._multilabel import _check_indicator

from ._top_k import _copy_input_attributes, _estimator_has

__all__ = ["DEFAULT_CUSTOM_GENRES", "IMDB_GENRES", "CustomGenreClassifier", "CustomGenreEncoder"]

IMDB_GENRES = _IMDB_GENRES
"""IMDb's genre names, as the poster data sets spell them."""

DEFAULT_CUSTOM_GENRES = {
    "AcAdDr": ("Action", "Adventure", "Drama"),
    "CoFaDr": ("Comedy", "Family", "Drama"),
    "RoCoDa": ("Romance", "Comedy", "Drama"),  # the paper's "Da" is Drama
    "AcThMi": ("Action", "Thriller", "Mystery"),
    "AcCrTh": ("Action", "Crime", "Thriller"),
    "ScFa": ("Sci-Fi", "Fantasy"),
    "Ho": ("Horror",),
    "Ot": (),
}
"""Seed paper 004's table: custom class -> the IMDb genres that vote for it (``Ot``: other)."""

# The AV data's pseudo-genre of a movie without genre: known, but votes for nothing.
_NOT_A_GENRE = NA_GENRE
# One vocabulary with the dataset loaders (posterml.datasets._common).
_BUILTIN_ALIASES = GENRE_ALIASES
_MISSING = object()

_key = genre_key  # case, spaces, hyphens and underscores do not matter: "sci fi" is "Sci-Fi"


def _name_table(aliases):
    """Normalised name -> IMDb genre (None: a known name that is not a genre)."""
    table = {_key(genre): genre for genre in IMDB_GENRES}
    table[_key(_NOT_A_GENRE)] = None
    for alias, genre in _BUILTIN_ALIASES.items():
        table[_key(alias)] = genre
    if aliases is None:
        return table
    if not isinstance(aliases, Mapping):
        raise TypeError(
            f"aliases must be a dict {{name: IMDb genre or None}}; got {type(aliases).__name__}"
        )
    for alias, genre in aliases.items():
        if not isinstance(alias, str):
            raise TypeError(f"aliases keys must be genre names (str); got {alias!r}")
        if genre is None:
            table[_key(alias)] = None
            continue
        target = table.get(_key(genre), _MISSING) if isinstance(genre, str) else _MISSING
        if target is _MISSING or target is None:
            raise ValueError(
                f"aliases maps {alias!r} to {genre!r}, which is not an IMDb genre; map it to "
                f"one of {list(IMDB_GENRES)}, or to None to ignore it"
            )
        table[_key(alias)] = target
    return table


def _unknown_genres_error(unknown, where):
    return ValueError(
        f"unknown genre name(s) {sorted(unknown)} in {where}; the known genres are IMDb's "
        f"({', '.join(IMDB_GENRES)}) and 'N/A' (case, spaces and hyphens do not matter); "
        "map other names with aliases={'Science Fiction': 'Sci-Fi'}, or to None to ignore them"
    )


def _resolve(names, table, where, rows=None):
    """IMDb genre (or None) of each name; a ValueError lists every unknown name.

    ``rows`` (one per name) names the row of each unknown name in the message.
    """
    resolved, unknown = [], {}
    for position, name in enumerate(names):
        if not isinstance(name, str):
            at = "" if rows is None else f" row {rows[position]} of"
            raise TypeError(f"genre names must be strings; got {name!r} in{at} {where}")
        genre = table.get(_key(name), _MISSING)
        if genre is _MISSING:
            unknown.setdefault(name, None if rows is None else rows[position])
        resolved.append(genre)
    if unknown:
        if rows is not None:
            where += " (" + ", ".join(f"{n!r} first in row {r}" for n, r in unknown.items()) + ")"
        raise _unknown_genres_error(unknown, where)
    return resolved


def _check_mapping(mapping, table):
    """The mapping table as ``{class: tuple of IMDb genres}``, in its own order."""
    if mapping is None:
        mapping = DEFAULT_CUSTOM_GENRES
    if isinstance(mapping, pd.DataFrame):
        missing = [c for c in ("custom_genre", "genre") if c not in mapping.columns]
        if missing:
            raise ValueError(
                f"a mapping DataFrame needs the columns 'custom_genre' and 'genre' (one row "
                f"per pair); missing {missing}, found {list(mapping.columns)}"
            )
        pairs = {}
        for name, genre in zip(mapping["custom_genre"], mapping["genre"]):
            pairs.setdefault(name, [])
            if not (genre is None or genre == "" or (np.isscalar(genre) and pd.isna(genre))):
                pairs[name].append(genre)  # an empty genre declares a class with no genre
        mapping = pairs
    elif not isinstance(mapping, Mapping):
        raise TypeError(
            "mapping must be a dict {custom class: genres} or a DataFrame with columns "
            f"'custom_genre' and 'genre'; got {type(mapping).__name__}"
        )
    if not mapping:
        raise ValueError("mapping is empty: give at least one custom class")
    checked = {}
    for name, genres in mapping.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"custom class names must be non-empty strings; got {name!r}")
        if genres is None:
            genres = ()
        elif isinstance(genres, str):
            genres = (genres,)
        try:
            genres = list(genres)
        except TypeError:
            raise TypeError(
                f"the genres of custom class {name!r} must be a list of genre names; got {genres!r}"
            ) from None
        resolved = _resolve(genres, table, f"mapping class {name!r}")
        if None in resolved:
            bad = genres[resolved.index(None)]
            raise ValueError(f"mapping class {name!r} lists {bad!r}, which is not a genre")
        checked[name] = tuple(dict.fromkeys(resolved))
    return checked


def _is_indicator(y):
    if isinstance(y, pd.DataFrame) or sp.issparse(y):
        return True
    if isinstance(y, np.ndarray):
        return y.ndim == 2 and y.dtype.kind in "biuf"
    return False


def _row_lists(y):
    """``y`` as a list of genre-name lists, or None when its rows hold numbers."""
    if isinstance(y, str):
        raise TypeError(f"y must be one list of genre names per movie; got the string {y!r}")
    try:
        rows = list(y)
    except TypeError:
        raise TypeError(
            f"y must be a genre indicator matrix or genre-name lists; got {type(y).__name__}"
        ) from None
    lists = []
    for i, row in enumerate(rows):
        if isinstance(row, str):
            if row.strip().startswith(("[", "(")):
                hint = (
                    "genre-list text from a CSV: parse it first, e.g. with "
                    "ast.literal_eval (the posterml.datasets loaders return lists)"
                )
            else:
                hint = f"write [{row!r}]; [] for a movie without genres"
            raise TypeError(
                f"each row of y must be a list of genre names; row {i} is the string "
                f"{row!r} ({hint})"
            )
        if row is None or (np.ndim(row) == 0 and pd.isna(row)):
            raise TypeError(
                f"each row of y must be a list of genre names; row {i} is missing ({row!r}): "
                "give [] for a movie without genres, or drop the movie"
            )
        try:
            lists.append(list(row))
        except TypeError:
            raise TypeError(
                f"each row of y must be a list of genre names; row {i} is {row!r}"
            ) from None
    values = [v for row in lists for v in row]
    if values and not any(isinstance(v, str) for v in values):
        return None  # numbers: an indicator matrix as nested lists
    return lists


class CustomGenreEncoder(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Map each movie's genre set to one custom genre by majority vote (seed paper 004).

    Every genre of a movie votes for each custom class whose genre list holds it; the class
    with the most votes wins. Movies without a mapped genre (or without any genre) go to
    ``fallback``. A label transformer like
    :class:`sklearn.preprocessing.MultiLabelBinarizer`: ``fit(y)`` and ``transform(y)``
    take targets, not features.

    Parameters
    ----------
    mapping : dict or DataFrame, default=None
        Custom class -> its IMDb genres (a dict of lists or tuples), or a DataFrame with
        one ``(custom_genre, genre)`` pair per row (a row with an empty genre declares a
        class without genre). Default: :data:`DEFAULT_CUSTOM_GENRES`, the paper's table.
    genres : sequence of str, default=None
        Names of the columns of an indicator matrix ``y`` given as an array. Default: a
        DataFrame's columns; genre-name lists need none.
    aliases : dict, default=None
        Other spellings of genres, ``{name: IMDb genre}``; a name mapped to None is
        ignored (e.g. TMDb's ``"TV Movie"``). Built in: case, spaces, hyphens and
        underscores do not matter (``"SciFi"``, ``"sci fi"`` are ``"Sci-Fi"``),
        ``"Science Fiction"`` is ``"Sci-Fi"`` and ``"N/A"`` is no genre.
    fallback : str, default="Ot"
        Class of the movies that no mapped genre votes for; added to the classes if the
        mapping lacks it.
    random_state : int, RandomState instance or None, default=None
        Seeds the tie-breaking (see Notes). ``None`` draws a seed once in ``fit``.

    Attributes
    ----------
    classes_ : ndarray of str
        Sorted custom class names, ``fallback`` included.
    mapping_ : dict
        The validated table ``{class: tuple of IMDb genres}``, ``fallback`` included.
    genres_ : ndarray of str
        Genre columns of the indicator matrices: those ``fit`` saw (``genres`` or the
        DataFrame's columns), or, for genre-name lists, the IMDb genres of the data and of
        the mapping, in IMDb order. ``inverse_transform`` returns these columns.
    seed_ : int
        Seed of the tie-breaking.

    Notes
    -----
    **Ties** (e.g. ``{Action, Thriller}``: ``AcThMi`` and ``AcCrTh`` get two votes each) are
    broken at random, but as a function of the seed and the movie's genre set only: the
    tied class is drawn by ``numpy.random.default_rng([seed_, crc32(sorted genre names)])``.
    So for a given ``random_state`` every movie with the same genres gets the same class;
    ``transform`` is deterministic, independent of row order and batching, and agrees
    between training and test data, while different seeds spread a tied genre set over
    its tied classes.

    **Genre names** are matched ignoring case, spaces, hyphens and underscores, and
    ``"Science Fiction"`` is ``"Sci-Fi"`` (the loaders of :mod:`posterml.datasets` use the
    same rule). Any other name raises a ValueError that lists every unknown name with the
    first row holding it, in :meth:`fit` as in :meth:`transform` (a genre met only at
    predict time); map it with ``aliases``. A blank name (``""``) is ignored. An empty
    genre set (``[]``, an all-zero indicator row) goes to ``fallback``; a missing row
    (None, NaN) or a string row raises a TypeError naming the row.

    Examples
    --------
    >>> from posterml.labels import CustomGenreEncoder
    >>> encoder = CustomGenreEncoder(random_state=0)
    >>> movies = [["Action", "Crime", "Thriller"], ["Horror"], ["Animation"], []]
    >>> encoder.fit_transform(movies).tolist()
    ['AcCrTh', 'Ho', 'Ot', 'Ot']
    >>> encoder.classes_.tolist()
    ['AcAdDr', 'AcCrTh', 'AcThMi', 'CoFaDr', 'Ho', 'Ot', 'RoCoDa', 'ScFa']
    >>> encoder.inverse_transform(["ScFa"])[:, encoder.genres_ == "Sci-Fi"].tolist()
    [[1]]
    """

    _parameter_constraints: dict = {
        "mapping": [Mapping, pd.DataFrame, None],
        "genres": ["array-like", None],
        "aliases": [Mapping, None],
        "fallback": [str],
        "random_state": ["random_state"],
    }

    def __init__(
        self, mapping=None, *, genres=None, aliases=None, fallback="Ot", random_state=None
    ):
        self.mapping = mapping
        self.genres = genres
        self.aliases = aliases
        self.fallback = fallback
        self.random_state = random_state

    # ------------------------------------------------------------------ parsing
    def _column_names(self, y, n_columns, fitting):
        if self.genres is not None:
            names = list(self.genres)
        elif isinstance(y, pd.DataFrame):
            names = list(y.columns)
        elif not fitting and hasattr(self, "genres_"):  # never the columns of an earlier fit
            names = list(self.genres_)
        else:
            raise ValueError(
                "y is an indicator matrix without genre names: pass genres=[...] (one name "
                "per column) or a DataFrame whose columns are the genres"
            )
        if len(names) != n_columns:
            source = (
                "genres"
                if self.genres is not None
                else "y's columns"
                if isinstance(y, pd.DataFrame)
                else "the fitted genres_"
            )
            raise ValueError(
                f"{len(names)} genre names ({source}: {names}) for an indicator y of "
                f"{n_columns} columns; give one name per column"
            )
        return names

    def _parse(self, y, table, fitting=False):
        """``(genre sets as a list of frozensets of IMDb genres, column names or None)``."""
        rows = None if _is_indicator(y) else _row_lists(y)
        if rows is None:
            Y = _check_indicator(y, "y")
            names = self._column_names(y, Y.shape[1], fitting)
            resolved = _resolve(names, table, "the genre columns")
            keep = [j for j, genre in enumerate(resolved) if genre is not None]
            sets = [frozenset(resolved[j] for j in keep if row[j]) for row in Y]
            return sets, [str(name) for name in names]
        # a blank name ("Drama|" split) is no genre
        rows = [[g for g in row if not (isinstance(g, str) and not g.strip())] for row in rows]
        row_of = [i for i, row in enumerate(rows) for _ in row]
        genres = [g for row in rows for g in row]
        lookup = dict(zip(genres, _resolve(genres, table, "y", rows=row_of)))
        sets = [frozenset(lookup[g] for g in row) - {None} for row in rows]
        return sets, None

    # ------------------------------------------------------------------ fit / transform
    def fit(self, y):
        """Validate the mapping and learn the genre columns and the tie-breaking seed.

        Parameters
        ----------
        y : {array-like, sparse matrix} of shape (n_samples, n_genres), or list of lists
            0/1 genre indicator matrix (a DataFrame, or an array with ``genres``), or one
            list of genre names per movie.

        Returns
        -------
        self : CustomGenreEncoder
        """
        self._validate_params()
        table = _name_table(self.aliases)
        mapping = _check_mapping(self.mapping, table)
        mapping.setdefault(self.fallback, ())
        if self.genres is not None:
            names = list(self.genres)
            _resolve(names, table, "genres")
            if len(set(names)) != len(names):
                raise ValueError(f"genres must be unique; got {names}")
        sets, columns = self._parse(y, table, fitting=True)
        if columns is None:
            columns = list(self.genres) if self.genres is not None else None
        if columns is None:
            used = set().union(*sets, *mapping.values())
            columns = [genre for genre in IMDB_GENRES if genre in used]
        self.mapping_ = mapping
        self.classes_ = np.array(sorted(mapping), dtype=object)
        self.genres_ = np.array(columns, dtype=object)
        if isinstance(self.random_state, int | np.integer):
            self.seed_ = int(self.random_state)
        else:
            self.seed_ = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._table = table
        return self

    def _votes(self, sets):
        """Votes of each genre set for each class (columns: ``classes_``)."""
        member = {c: set(self.mapping_[c]) for c in self.classes_}
        return np.array([[len(s & member[c]) for c in self.classes_] for s in sets], dtype=int)

    def _encode(self, sets):
        labels = np.empty(len(sets), dtype=object)
        cache = {}
        for i, genre_set in enumerate(sets):
            if genre_set not in cache:
                cache[genre_set] = self._winner(genre_set)
            labels[i] = cache[genre_set]
        return labels

    def _winner(self, genre_set):
        votes = self._votes([genre_set])[0]
        best = votes.max(initial=0)
        if best == 0:
            return self.fallback
        tied = np.flatnonzero(votes == best)
        if tied.size == 1:
            return self.classes_[tied[0]]
        digest = zlib.crc32("|".join(sorted(genre_set)).encode())
        rng = np.random.default_rng([self.seed_, digest])
        return self.classes_[tied[rng.integers(tied.size)]]

    def transform(self, y):
        """The custom genre of each movie.

        Parameters
        ----------
        y : {array-like, sparse matrix} of shape (n_samples, n_genres), or list of lists
            As in :meth:`fit`; an array without ``genres`` takes the columns ``genres_``.

        Returns
        -------
        labels : ndarray of str of shape (n_samples,)
            One of ``classes_`` per movie.
        """
        check_is_fitted(self)
        sets, _ = self._parse(y, self._table)
        return self._encode(sets)

    def fit_transform(self, y):
        """Fit, then transform ``y``.

        Parameters
        ----------
        y : {array-like, sparse matrix} of shape (n_samples, n_genres), or list of lists

        Returns
        -------
        labels : ndarray of str of shape (n_samples,)
        """
        return self.fit(y).transform(y)

    def votes(self, y):
        """How many of each movie's genres belong to each custom class.

        Parameters
        ----------
        y : {array-like, sparse matrix} of shape (n_samples, n_genres), or list of lists

        Returns
        -------
        votes : ndarray of int of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.

        Examples
        --------
        >>> from posterml.labels import CustomGenreEncoder
        >>> encoder = CustomGenreEncoder().fit([["Drama"]])
        >>> encoder.classes_[:3].tolist()
        ['AcAdDr', 'AcCrTh', 'AcThMi']
        >>> encoder.votes([["Action", "Thriller", "Crime"]])[:, :3].tolist()
        [[1, 3, 2]]
        """
        check_is_fitted(self)
        sets, _ = self._parse(y, self._table)
        return self._votes(sets)

    def inverse_transform(self, labels):
        """The genres of each custom class, as an indicator matrix over ``genres_``.

        Parameters
        ----------
        labels : array-like of shape (n_samples,)
            Custom class names, from ``classes_``.

        Returns
        -------
        Y : ndarray of int of shape (n_samples, len(genres_))
            1 for every genre of the row's class (the union of the class's genres); the
            fallback class, unless the mapping gives it genres, is an all-zero row.
        """
        check_is_fitted(self)
        labels = column_or_1d(np.asarray(labels, dtype=object))
        unknown = sorted({str(v) for v in labels} - set(self.classes_))
        if unknown:
            raise ValueError(
                f"unknown custom genre(s) {unknown}; the classes are {self.classes_.tolist()}"
            )
        columns = _resolve(list(self.genres_), self._table, "genres_")
        table = np.array(
            [[genre in self.mapping_[c] for genre in columns] for c in self.classes_], dtype=int
        )
        return table[np.searchsorted(self.classes_, labels)]

    def get_feature_names_out(self, input_features=None):
        """Names of the custom classes: the columns of a one-hot encoding of ``transform``.

        Parameters
        ----------
        input_features : None
            Ignored; present for API consistency.

        Returns
        -------
        ndarray of str
            ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.two_d_labels = True
        return tags


class CustomGenreClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Train a single-label classifier on seed paper 004's custom genres.

    ``fit(X, Y)`` maps the genre sets ``Y`` to one custom class per movie with a
    :class:`CustomGenreEncoder` and fits a clone of ``estimator`` (any multi-class
    classifier) on those classes.

    Parameters
    ----------
    estimator : estimator object
        Multi-class classifier (``LogisticRegression``, ``KNeighborsClassifier``,
        :class:`posterml.MLkNN` with a label vector ...).
    mapping, genres, aliases, fallback, random_state
        As in :class:`CustomGenreEncoder` (``random_state`` seeds its tie-breaking only;
        set the estimator's own ``random_state`` on it).

    Attributes
    ----------
    encoder_ : CustomGenreEncoder
        Fitted on ``Y``.
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    classes_ : ndarray
        The custom classes seen in training (``estimator_.classes_``); a class no training
        movie falls into is never predicted.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When the fitted estimator has them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from posterml.labels import CustomGenreClassifier
    >>> X = np.array([[0.0], [0.1], [0.2], [1.0], [1.1], [1.2]])
    >>> Y = [["Horror"], ["Horror", "Thriller", "Mystery", "Action"], ["Horror"],
    ...      ["Sci-Fi"], ["Fantasy", "Sci-Fi"], ["Sci-Fi", "Fantasy", "Drama"]]
    >>> model = CustomGenreClassifier(LogisticRegression(), random_state=0).fit(X, Y)
    >>> model.classes_.tolist()
    ['AcThMi', 'Ho', 'ScFa']
    >>> model.predict([[0.05], [1.15]]).tolist()
    ['Ho', 'ScFa']
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        **CustomGenreEncoder._parameter_constraints,
    }

    def __init__(
        self,
        estimator,
        *,
        mapping=None,
        genres=None,
        aliases=None,
        fallback="Ot",
        random_state=None,
    ):
        self.estimator = estimator
        self.mapping = mapping
        self.genres = genres
        self.aliases = aliases
        self.fallback = fallback
        self.random_state = random_state

    def fit(self, X, y, **fit_params):
        """Encode ``y`` to custom genres and fit a clone of ``estimator`` on them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Whatever ``estimator`` accepts.
        y : {array-like, sparse matrix} of shape (n_samples, n_genres), or list of lists
            Genre sets, as :meth:`CustomGenreEncoder.fit` takes them.
        **fit_params : dict
            Passed to ``estimator.fit``.

        Returns
        -------
        self : CustomGenreClassifier
        """
        self._validate_params()
        if y is None:
            raise ValueError("CustomGenreClassifier requires y, the genre sets of the movies")
        self.encoder_ = CustomGenreEncoder(
            self.mapping,
            genres=self.genres,
            aliases=self.aliases,
            fallback=self.fallback,
            random_state=self.random_state,
        ).fit(y)
        labels = self.encoder_.transform(y)
        self.estimator_ = clone(self.estimator).fit(X, labels, **fit_params)
        self.classes_ = self.estimator_.classes_
        _copy_input_attributes(self, self.estimator_)
        return self

    def predict(self, X):
        """The custom genre of each movie.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Names from ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def predict_genres(self, X):
        """The genres of each movie's predicted custom class.

        Returns
        -------
        Y : ndarray of int of shape (n_samples, n_genres)
            Columns ``encoder_.genres_`` (see :meth:`CustomGenreEncoder.inverse_transform`).
        """
        return self.encoder_.inverse_transform(self.predict(X))

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Probability of each custom class.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """The estimator's decision function on the custom classes."""
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    def score(self, X, y, sample_weight=None):
        """Accuracy of the predicted custom genres against those of the genre sets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : {array-like, sparse matrix} of shape (n_samples, n_genres), or list of lists
            Genre sets, encoded with ``encoder_``.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        check_is_fitted(self)
        truth = self.encoder_.transform(y)
        return accuracy_score(truth, self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.two_d_labels = True
        return tags
