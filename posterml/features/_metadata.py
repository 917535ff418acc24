"""OMDb metadata as features: the loaders' raw strings -> numbers and one-hot columns."""

import logging
import math
import re
import unicodedata
from collections import Counter
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from posterml.features._base import check_float_dtype
from posterml.features._keywords import _is_missing, _unique_names
from posterml.io import _ReportStateMixin

__all__ = ["MovieMetadata"]

logger = logging.getLogger("posterml")

# Text that means "no value": OMDb writes "N/A".
_MISSING_TEXT = frozenset({"", "n/a", "na", "nan", "none", "null"})

_NUMBER = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_YEAR_PATTERNS = (
    re.compile(r"(\d{4})(?:\.0+)?"),  # 2010, 2010.0
    re.compile(r"(\d{4})\s*[-\u2013\u2014]\s*(?:\d{4})?"),  # 2010-2013, 2010–
    re.compile(r"(\d{4})-\d{1,2}-\d{1,2}(?:[T ].*)?"),  # 2010-07-16
    re.compile(r"\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+(\d{4})"),  # 16 Jul 2010
    re.compile(r"[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+(\d{4})"),  # July 16, 2010
)
_RUNTIME = re.compile(
    r"(?:(\d+(?:\.\d+)?)\s*(?:h|hr|hrs|hour|hours)\.?)?\s*"
    r"(?:(\d+(?:\.\d+)?)\s*(?:m|min|mins|minute|minutes)?\.?)?",
    re.IGNORECASE,
)
_RATING = re.compile(_NUMBER + r"(?:\s*/\s*10)?")
_COUNT = re.compile(_NUMBER)
_MONEY = re.compile(r"(?:US)?\$?\s*" + _NUMBER, re.IGNORECASE)
_SCORE = re.compile(_NUMBER + r"(?:\s*/\s*100)?")
# "Greek,  Ancient (to 1453)": OMDb writes a comma inside a name with two spaces after it.
_LIST_SPLIT = re.compile(r",(?!\s{2})")
# Both say that no MPAA rating was given.
_RATED_SYNONYMS = {"UNRATED": "NOT RATED", "NOT-RATED": "NOT RATED"}


def _number(text):
    return float(text.replace(",", ""))


def _parse_year(text):
    for pattern in _YEAR_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return float(match.group(1))
    return None


def _parse_runtime(text):
    match = _RUNTIME.fullmatch(text)
    if match is None or (match.group(1) is None and match.group(2) is None):
        return None
    hours, minutes = match.group(1), match.group(2)
    return float(hours or 0) * 60 + float(minutes or 0)


def _regex_parser(pattern):
    def parse(text):
        match = pattern.fullmatch(text)
        return None if match is None else _number(match.group(1))

    return parse


# Output name -> (parser of a stripped, non-missing string, what the values look like).
_NUMERIC_FIELDS = {
    "year": (_parse_year, "a year such as 2010, '2010–2013' or '16 Jul 2010'"),
    "runtime": (_parse_runtime, "minutes such as '124 min', '2 h 4 min' or 124"),
    "imdb_rating": (_regex_parser(_RATING), "a rating such as '7.5' or '7.5/10'"),
    "imdb_votes": (_regex_parser(_COUNT), "a count such as '799,579'"),
    "box_office": (_regex_parser(_MONEY), "dollars such as '$290,158,751'"),
    "metascore": (_regex_parser(_SCORE), "a score such as '79' or '79/100'"),
}
# Values outside these bounds are not what the field holds (a Metascore of 79 in the IMDb
# rating column, a year of 20): unparseable, not numbers.
_RANGES = {"year": (1800, 2200), "imdb_rating": (0, 10), "metascore": (0, 100)}
_CATEGORICAL_FIELDS = ("rated", "language", "country")
_LOGGED_FIELDS = ("imdb_votes", "box_office")


def _slug(text):
    """Lower-case ASCII-ish identifier: 'PG-13' -> 'pg_13', 'Côte d'Ivoire' -> 'cote_d_ivoire'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"\W+", "_", text).strip("_")


def _missing_text(value):
    return isinstance(value, str) and value.strip().casefold() in _MISSING_TEXT


class MovieMetadata(_ReportStateMixin, TransformerMixin, BaseEstimator):
    """Parse OMDb metadata (as the dataset loaders return it) into numeric features.

    Numbers (year, runtime, IMDb rating and votes, box office, Metascore) are parsed from
    OMDb's strings (``"124 min"``, ``"799,579"``, ``"$290,158,751"``, ``"N/A"``); the MPAA
    rating, languages and countries become one-hot columns over categories learned in
    :meth:`fit`. Missing values stay NaN, with ``<name>_missing`` indicator columns, so
    that :class:`~sklearn.impute.SimpleImputer` can follow.

    Parameters
    ----------
    year, runtime, imdb_rating, imdb_votes, box_office, metascore : str or None
        The column of ``X`` holding each numeric field (defaults: the loaders' column
        names, e.g. ``runtime="runtime"``); ``None`` leaves the field out. The output
        column is named after the field, whatever the input column is called.
    rated, language, country : str or None
        The columns of the MPAA rating and the comma-separated language and country lists
        (defaults ``"rated"``, ``"language"``, ``"country"``); ``None`` leaves one out.
    top_languages, top_countries : int, default=10
        Keep at most this many languages / countries, the most frequent in :meth:`fit`.
    min_frequency : int, default=5
        A rating, language or country gets a column only when at least this many training
        movies have it; rarer ones count as ``other``.
    list_values : {"any", "first"}, default="any"
        Which entries of a language or country list count: every listed one (a movie in
        "English, Spanish" sets both columns), or only the first (OMDb lists the main one
        first). ``"any"`` keeps the information that a film is partly in Spanish.
    log_counts : bool, default=False
        Apply ``log1p`` to ``imdb_votes`` and ``box_office`` (heavy-tailed; useful before
        distance-based models).
    missing_indicators : bool, default=True
        Add a ``<name>_missing`` column (1 where the value was missing or unparseable) for
        every numeric field and categorical column.
    on_error : {"coerce", "raise"}, default="coerce"
        A non-missing value that does not parse (runtime ``"abc"``, a number in the
        rating column, an IMDb rating above 10, a Metascore above 100, a year outside
        1800-2200, a negative count): ``"coerce"`` makes it missing, records it in ``unparsed_`` and
        logs a warning on the ``"posterml"`` logger; ``"raise"`` raises a ValueError
        naming the column, row and value.
    dtype : floating dtype, default=np.float32
        dtype of the output. float32 rounds large numbers (box office to within ~64 $).

    Attributes
    ----------
    categories_ : dict of str to list of str
        For ``"rated"``, ``"language"``, ``"country"`` (those used): the categories that
        have a column, most frequent first (ties alphabetical). Ratings are upper-cased
        (``"PG-13"``, ``"NOT RATED"`` which also stands for ``"Unrated"``); languages and
        countries case-folded (``"english"``, ``"usa"``).
    category_counts_ : dict of str to dict of str to int
        Training movies per category (before ``min_frequency`` and the top-N cut).
    unparsed_ : DataFrame
        Unparseable values met by the last :meth:`fit` or :meth:`transform` call:
        ``row`` (position), ``index`` (the row's label in ``X.index``, which differs from
        the position in a shuffled or filtered frame), ``column`` (of ``X``) and ``value``.
    n_features_in_ : int
        Number of columns of the DataFrame seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Its column names.

    Notes
    -----
    Output columns, in this order (fields set to None left out):

    - ``year, runtime, imdb_rating, imdb_votes, box_office, metascore``: floats, NaN where
      missing; runtime in minutes, year the first year of a range (``"2010–2013"``) or
      the year of a date;
    - with ``missing_indicators``: ``year_missing``, ... for those numbers;
    - ``rated_<category>``... ``rated_other`` ``[rated_missing]``;
    - ``language_<category>``... ``language_other`` ``[language_missing]``;
    - ``country_<category>``... ``country_other`` ``[country_missing]``.

    Category columns are named by lower-casing the category and replacing non-word
    characters by ``_`` (``rated_pg_13``, ``country_uk``). ``<col>_other`` is 1 for a
    value without a column of its own: rare in training (``min_frequency``), beyond the
    top N, or unseen in :meth:`fit`; so a known movie never has an all-zero block, and an
    all-zero block means missing. The one-hot and indicator columns are never NaN.

    Missing values are None, NaN, and the strings ``""`` and ``"N/A"`` (any case, also
    ``"NA"``, ``"nan"``, ``"None"``, ``"null"``). A list column may also hold a Python
    list of names.

    Examples
    --------
    >>> import pandas as pd
    >>> from posterml.features._metadata import MovieMetadata
    >>> movies = pd.DataFrame({
    ...     "runtime": ["124 min", "N/A", "88 min"],
    ...     "imdb_votes": ["799,579", "17,705", None],
    ...     "rated": ["PG", "R", "Not Rated"],
    ...     "country": ["USA", "UK, USA", "France"],
    ... })
    >>> meta = MovieMetadata(
    ...     year=None, imdb_rating=None, box_office=None, metascore=None, language=None,
    ...     min_frequency=1, top_countries=1,
    ... ).set_output(transform="pandas")
    >>> out = meta.fit_transform(movies)
    >>> out.columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['runtime', 'imdb_votes', 'runtime_missing', 'imdb_votes_missing',
     'rated_not_rated', 'rated_pg', 'rated_r', 'rated_other', 'rated_missing',
     'country_usa', 'country_other', 'country_missing']
    >>> out[["runtime", "runtime_missing", "country_usa", "country_other"]]
       runtime  runtime_missing  country_usa  country_other
    0    124.0              0.0          1.0            0.0
    1      NaN              1.0          1.0            1.0
    2     88.0              0.0          0.0            1.0
    >>> meta.categories_["rated"]
    ['NOT RATED', 'PG', 'R']
    """

    _report_attributes = ("unparsed_",)

    _parameter_constraints = {
        **{name: [str, None] for name in (*_NUMERIC_FIELDS, *_CATEGORICAL_FIELDS)},
        "top_languages": [Interval(Integral, 0, None, closed="left")],
        "top_countries": [Interval(Integral, 0, None, closed="left")],
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
        "list_values": [StrOptions({"any", "first"})],
        "log_counts": ["boolean"],
        "missing_indicators": ["boolean"],
        "on_error": [StrOptions({"coerce", "raise"})],
        "dtype": "no_validation",  # checked in _checked_dtype: any floating numpy dtype
    }

    def __init__(
        self,
        *,
        year="year",
        runtime="runtime",
        imdb_rating="imdb_rating",
        imdb_votes="imdb_votes",
        box_office="box_office",
        metascore="metascore",
        rated="rated",
        language="language",
        country="country",
        top_languages=10,
        top_countries=10,
        min_frequency=5,
        list_values="any",
        log_counts=False,
        missing_indicators=True,
        on_error="coerce",
        dtype=np.float32,
    ):
        self.year = year
        self.runtime = runtime
        self.imdb_rating = imdb_rating
        self.imdb_votes = imdb_votes
        self.box_office = box_office
        self.metascore = metascore
        self.rated = rated
        self.language = language
        self.country = country
        self.top_languages = top_languages
        self.top_countries = top_countries
        self.min_frequency = min_frequency
        self.list_values = list_values
        self.log_counts = log_counts
        self.missing_indicators = missing_indicators
        self.on_error = on_error
        self.dtype = dtype

    # ------------------------------------------------------------------ helpers

    def _checked_dtype(self):
        return check_float_dtype(self.dtype)

    def _numeric_fields(self):
        return [(f, getattr(self, f)) for f in _NUMERIC_FIELDS if getattr(self, f) is not None]

    def _categorical_fields(self):
        return [(f, getattr(self, f)) for f in _CATEGORICAL_FIELDS if getattr(self, f) is not None]

    def _top_n(self, field):
        return {"language": self.top_languages, "country": self.top_countries}.get(field)

    def _check_frame(self, X):
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"{type(self).__name__} takes a pandas DataFrame of movies with named "
                f"columns (as the dataset loaders' frame), got {type(X).__name__}"
            )
        for field, column in self._numeric_fields() + self._categorical_fields():
            if column not in X.columns:
                raise ValueError(
                    f"{type(self).__name__}: X has no column {column!r} (parameter "
                    f"{field}={column!r}); columns present: {list(X.columns)}. Pass "
                    f"{field}=None to leave the field out."
                )
            if isinstance(X[column], pd.DataFrame):
                raise ValueError(f"X has {X[column].shape[1]} columns named {column!r}")

    def _fail(self, problems, column, position, value, expected, index):
        label = index[position]
        if self.on_error == "raise":
            at = f"row {position}" + ("" if label == position else f" (index {label!r})")
            raise ValueError(
                f"{type(self).__name__}: cannot parse {value!r} in column {column!r} at "
                f"{at}: expected {expected} (on_error='coerce' makes it missing)"
            )
        problems.append((position, label, column, value))

    def _parse_numeric(self, field, column, values, problems, index):
        parse, expected = _NUMERIC_FIELDS[field]
        low, high = _RANGES.get(field, (0, math.inf))
        if field in _RANGES:
            expected += f", between {low} and {high}"
        out = np.full(len(values), np.nan)
        cache = {}
        for position, value in enumerate(values):
            if _is_missing(value):
                continue
            if isinstance(value, (bool, np.bool_)):
                parsed = None
            elif isinstance(value, Real):
                parsed = float(value) if math.isfinite(value) and value >= 0 else None
            elif isinstance(value, str):
                text = value.strip()
                if text.casefold() in _MISSING_TEXT:
                    continue
                if text not in cache:
                    cache[text] = parse(text)
                parsed = cache[text]
            else:
                parsed = None
            if parsed is None or not low <= parsed <= high:
                self._fail(problems, column, position, value, expected, index)
            else:
                out[position] = parsed
        if self.log_counts and field in _LOGGED_FIELDS:
            out = np.log1p(out)
        return out

    def _category_key(self, field, name):
        name = " ".join(name.split())
        if field == "rated":
            name = name.upper()
            return _RATED_SYNONYMS.get(name, name)
        return name.casefold()

    def _parse_categories(self, field, column, values, problems, index):
        """One list of category keys per row; None where missing (or unparseable)."""
        rows = []
        for position, value in enumerate(values):
            if _is_missing(value) or _missing_text(value):
                rows.append(None)
                continue
            if isinstance(value, str):
                names = [value] if field == "rated" else _LIST_SPLIT.split(value)
            elif field != "rated" and isinstance(value, (list, tuple, np.ndarray)):
                names = list(value)
            else:
                names = None
            if names is None or not all(isinstance(n, str) for n in names):
                self._fail(problems, column, position, value, f"{field} text", index)
                rows.append(None)
                continue
            keys = [self._category_key(field, n) for n in names]
            keys = list(dict.fromkeys(k for k in keys if k.casefold() not in _MISSING_TEXT))
            if self.list_values == "first":
                keys = keys[:1]
            rows.append(keys or None)
        return rows

    def _report(self, problems, method):
        self.unparsed_ = pd.DataFrame(
            {
                "row": np.asarray([p[0] for p in problems], dtype=np.int64),
                "index": pd.Series([p[1] for p in problems], dtype=object),
                "column": pd.Series([p[2] for p in problems], dtype=object),
                "value": pd.Series([p[3] for p in problems], dtype=object),
            },
            columns=["row", "index", "column", "value"],
        )
        if problems:
            by_column = Counter(p[2] for p in problems)
            examples = [f"row {p[0]}: {p[3]!r}" for p in problems[:3]]
            logger.warning(
                "%s.%s: %d unparseable value(s) made missing (%s), e.g. %s (see unparsed_)",
                type(self).__name__,
                method,
                len(problems),
                ", ".join(f"{c!r}: {n}" for c, n in by_column.items()),
                "; ".join(examples),
            )

    def _parse(self, X):
        problems = []
        index = X.index.tolist()
        numbers = {
            field: self._parse_numeric(field, column, X[column].tolist(), problems, index)
            for field, column in self._numeric_fields()
        }
        categories = {
            field: self._parse_categories(field, column, X[column].tolist(), problems, index)
            for field, column in self._categorical_fields()
        }
        return numbers, categories, problems

    def _build(self, numbers, categories, n_rows):
        dtype = self._checked_dtype()
        blocks = [np.column_stack(list(numbers.values()))] if numbers else []
        if numbers and self.missing_indicators:
            blocks.append(np.column_stack([np.isnan(v) for v in numbers.values()]))
        for field, rows in categories.items():
            learned = {c: j for j, c in enumerate(self.categories_[field])}
            width = len(learned) + 1 + int(self.missing_indicators)
            block = np.zeros((n_rows, width))
            for i, keys in enumerate(rows):
                if keys is None:
                    if self.missing_indicators:
                        block[i, -1] = 1
                    continue
                for key in keys:
                    block[i, learned.get(key, len(learned))] = 1
            blocks.append(block)
        if not blocks:
            return np.zeros((n_rows, 0), dtype=dtype)
        return np.hstack(blocks).astype(dtype)

    # ------------------------------------------------------------------ API

    def _fit(self, X):
        self._checked_dtype()
        self._check_frame(X)
        numbers, categories, problems = self._parse(X)
        self.categories_ = {}
        self.category_counts_ = {}
        for field, rows in categories.items():
            counts = Counter(key for keys in rows if keys for key in keys)
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            kept = [key for key, n in ranked if n >= self.min_frequency]
            top = self._top_n(field)
            self.categories_[field] = kept[:top] if top is not None else kept
            self.category_counts_[field] = dict(ranked)
        names = [field for field in numbers]
        if self.missing_indicators:
            names += [f"{field}_missing" for field in numbers]
        for field in categories:
            specials = [f"{field}_other"] + (
                [f"{field}_missing"] if self.missing_indicators else []
            )
            own = _unique_names(
                [f"{field}_{_slug(c) or 'value'}" for c in self.categories_[field]],
                reserved=specials,
            )
            names += own + specials
        self._feature_names_out = np.asarray(names, dtype=object)
        validate_data(self, X, skip_check_array=True, reset=True)
        self._report(problems, "fit")
        return numbers, categories

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the rating, language and country categories of ``X``.

        Parameters
        ----------
        X : DataFrame
            One row per movie, with the columns named by the parameters.
        y : ignored

        Returns
        -------
        self : MovieMetadata

        Raises
        ------
        TypeError
            If ``X`` is not a DataFrame.
        ValueError
            If a column is missing (the message lists the columns present), or with
            ``on_error="raise"`` a value does not parse.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit, then transform ``X`` (parsing it once).

        Parameters
        ----------
        X : DataFrame
        y : ignored

        Returns
        -------
        ndarray of shape (n_movies, n_features_out)
        """
        numbers, categories = self._fit(X)
        return self._build(numbers, categories, len(X))

    def transform(self, X):
        """Parse the metadata of ``X`` into the learned columns.

        Parameters
        ----------
        X : DataFrame
            One row per movie, with the columns used in :meth:`fit` (others are ignored,
            and the order of columns does not matter).

        Returns
        -------
        ndarray of shape (n_movies, n_features_out)
            See the class notes for the columns.
        """
        check_is_fitted(self)
        self._check_frame(X)
        numbers, categories, problems = self._parse(X)
        self._report(problems, "transform")
        return self._build(numbers, categories, len(X))

    def get_feature_names_out(self, input_features=None):
        """Output feature names.

        Parameters
        ----------
        input_features : array-like of str, optional
            Not used, present for API consistency.

        Returns
        -------
        ndarray of str
            See the class notes, e.g. ``year``, ``runtime``, ``runtime_missing``,
            ``rated_pg_13``, ``rated_other``, ``language_english``, ``country_usa``.
        """
        check_is_fitted(self)
        return self._feature_names_out.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags
