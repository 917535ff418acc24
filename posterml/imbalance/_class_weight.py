"""Per-genre class weights for imbalanced multi-label genre prediction.

The weights are the logarithmically smoothed ones of seed paper 004, the formula popularised
for imbalanced Keras training (``create_class_weight(labels_dict, mu=0.15)``)::

    w_j = max(1, ln(mu * total / n_j))

where ``n_j`` is the number of movies carrying genre ``j`` and ``total = sum_j n_j`` is the
number of (movie, genre) assignments, i.e. the sum of the whole indicator matrix. Frequent
genres keep weight 1; a genre gets more than 1 when its share ``n_j / total`` of the
assignments is below ``mu / e`` (about 5.5 % for ``mu=0.15``), growing only logarithmically as
it gets rarer.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    MultiOutputMixin,
    clone,
)
from sklearn.utils import get_tags
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)

from posterml._targets import encode_label_targets, format_prediction, format_proba
from posterml.metrics._multilabel import _check_indicator as _check_binary_indicator
from posterml.metrics._scorers import _positive_column

__all__ = [
    "PerGenreWeightedClassifier",
    "binary_class_weights",
    "compute_log_class_weight",
    "multilabel_sample_weight",
]


# --------------------------------------------------------------------------- validation
def _check_indicator(Y, name="Y", genres=None):
    """Validate a 2-D 0/1 label matrix; return it as a dense uint8 array and the genre names.

    ``genres`` (or the columns of a DataFrame) only serve the error messages.
    """
    if genres is None and isinstance(Y, pd.DataFrame):
        genres = [str(c) for c in Y.columns]
    arr = _check_binary_indicator(Y, name)
    if genres is not None:
        genres = list(genres)
        if len(genres) != arr.shape[1]:
            raise ValueError(
                f"genres has {len(genres)} names but {name} has {arr.shape[1]} label columns"
            )
    return np.ascontiguousarray(arr, dtype=np.uint8), genres


def _label_names(columns, genres):
    """``"column 3 ('Horror')"``-style names of label columns, for messages."""
    if genres is None:
        return [f"column {j}" for j in columns]
    return [f"column {j} ({genres[j]!r})" for j in columns]


def _log_weights(counts, mu, total=None):
    """``max(1, ln(mu * total / n_j))``; 1.0 where ``n_j == 0`` (callers decide on those)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum() if total is None else float(total)
    weights = np.ones_like(counts)
    present = counts > 0
    weights[present] = np.maximum(1.0, np.log(mu * total / counts[present]))
    return weights


def _check_weight_vector(weights, n_labels, what="class_weight"):
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} cannot be converted to an array of floats: {exc}") from None
    if w.ndim != 1 or w.shape[0] != n_labels:
        raise ValueError(
            f"{what} must hold one weight per label column ({n_labels}); got shape {w.shape}"
        )
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{what} must be positive and finite; found {w[j].item()!r} for label column {j}"
        )
    return w


# --------------------------------------------------------------------------- functions
@validate_params(
    {
        "Y": ["array-like", "sparse matrix"],
        "mu": [Interval(Real, 0, None, closed="neither")],
        "sample_weight": ["array-like", None],
        "genres": ["array-like", None],
        "on_empty_label": [StrOptions({"raise", "warn"})],
    },
    prefer_skip_nested_validation=True,
)
def compute_log_class_weight(
    Y, *, mu=0.15, sample_weight=None, genres=None, on_empty_label="raise"
):
    """Logarithmically smoothed weight of every genre (seed paper 004).

    ``w_j = max(1, ln(mu * total / n_j))`` where ``n_j`` is the number of positives of genre
    ``j`` and ``total = sum_j n_j`` the number of positives of all genres (the sum of ``Y``,
    not the number of movies: this is the Keras ``create_class_weight`` recipe applied to the
    per-genre counts).

    Parameters
    ----------
    Y : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_labels)
        Binary indicator matrix (movies x genres).
    mu : float, default=0.15
        Smoothing: a genre is up-weighted once its share of all positives is below ``mu / e``.
    sample_weight : array-like of shape (n_samples,), default=None
        Counts are sums of these weights (a movie of weight 2 counts as two positives).
    genres : list of str, default=None
        Genre names used in error messages (a DataFrame's columns are used when omitted).
    on_empty_label : {"raise", "warn"}, default="raise"
        A genre with no positive has an infinite weight: raise a ValueError naming it, or warn
        and give it weight 1.0 (it has no positive sample whose weight could matter).

    Returns
    -------
    weights : ndarray of shape (n_labels,)
        Float64 weights, all ``>= 1``, non-increasing in the genre's count.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml.imbalance import compute_log_class_weight
    >>> Y = np.zeros((100, 3), dtype=int)
    >>> Y[:90, 0] = 1; Y[:40, 1] = 1; Y[:2, 2] = 1
    >>> compute_log_class_weight(Y).round(4).tolist()  # total = 132 positives
    [1.0, 1.0, 2.2925]
    >>> float(np.log(0.15 * 132 / 2)).__round__(4)
    2.2925
    """
    Y, genres = _check_indicator(Y, "Y", genres)
    if sample_weight is None:
        counts = Y.sum(axis=0, dtype=np.float64)
    else:
        sw = _check_sample_weight(sample_weight, Y, ensure_non_negative=True)
        counts = sw @ Y
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        message = (
            f"label {', '.join(_label_names(empty, genres))} has no positive sample, so its "
            "log class weight ln(mu * total / 0) is infinite; drop the column or pass "
            "on_empty_label='warn' (weight 1.0)"
        )
        if on_empty_label == "raise":
            raise ValueError(message)
        warnings.warn(message, UserWarning, stacklevel=2)
    return _log_weights(counts, mu)


@validate_params(
    {
        "Y": ["array-like", "sparse matrix"],
        "mu": [Interval(Real, 0, None, closed="neither")],
        "genres": ["array-like", None],
        "on_empty_label": [StrOptions({"raise", "warn"})],
    },
    prefer_skip_nested_validation=True,
)
def binary_class_weights(Y, *, mu=0.15, genres=None, on_empty_label="raise"):
    """Per-genre ``class_weight`` dicts ``{0: 1.0, 1: w_j}`` for one binary estimator per genre.

    Genre ``j``'s negatives keep weight 1 and its positives get
    :func:`compute_log_class_weight`'s ``w_j``; pass ``weights[j]`` as the ``class_weight`` of
    the estimator fitted on ``Y[:, j]`` (``LogisticRegression``, ``SVC``, ...).

    Parameters
    ----------
    Y : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_labels)
        Binary indicator matrix.
    mu, genres, on_empty_label
        As in :func:`compute_log_class_weight`.

    Returns
    -------
    weights : list of dict
        ``n_labels`` dicts ``{0: 1.0, 1: w_j}`` (Python floats).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from posterml.imbalance import binary_class_weights
    >>> Y = np.zeros((100, 2), dtype=int)
    >>> Y[:95, 0] = 1; Y[:3, 1] = 1
    >>> weights = binary_class_weights(Y)
    >>> [{k: round(v, 3) for k, v in d.items()} for d in weights]
    [{0: 1.0, 1: 1.0}, {0: 1.0, 1: 1.589}]
    >>> X = np.arange(100.0).reshape(-1, 1)
    >>> clf = LogisticRegression(class_weight=weights[1]).fit(X, Y[:, 1])
    """
    w = compute_log_class_weight(Y, mu=mu, genres=genres, on_empty_label=on_empty_label)
    return [{0: 1.0, 1: float(wj)} for wj in w]


@validate_params(
    {
        "Y": ["array-like", "sparse matrix"],
        "class_weight": [StrOptions({"log"}), "array-like"],
        "reduce": [StrOptions({"max", "mean"})],
        "mu": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def multilabel_sample_weight(Y, class_weight="log", *, reduce="max", mu=0.15):
    """One weight per movie from per-genre weights, for a single multi-label estimator.

    Estimators that fit all genres at once (``RandomForestClassifier`` on a 2-D ``Y``,
    ``MLkNN``-style models, ...) take one ``sample_weight`` vector, not a weight per genre.
    A movie's weight is the ``max`` (or the ``mean``) of the weights of the genres it carries,
    and 1.0 when it carries none.

    Parameters
    ----------
    Y : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_labels)
        Binary indicator matrix.
    class_weight : "log" or array-like of shape (n_labels,), default="log"
        Per-genre weights; ``"log"`` computes :func:`compute_log_class_weight` on ``Y``.
    reduce : {"max", "mean"}, default="max"
        How the weights of a movie's genres combine. ``"max"`` lets a movie count as much as
        its rarest genre requires; ``"mean"`` dampens movies that also carry frequent genres.
    mu : float, default=0.15
        Smoothing of ``class_weight="log"``.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from posterml.imbalance import multilabel_sample_weight
    >>> Y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 0]])
    >>> multilabel_sample_weight(Y, [1.0, 2.0, 4.0]).tolist()
    [1.0, 2.0, 4.0, 1.0]
    >>> multilabel_sample_weight(Y, [1.0, 2.0, 4.0], reduce="mean").tolist()
    [1.0, 1.5, 3.0, 1.0]
    """
    Y, genres = _check_indicator(Y, "Y")
    if isinstance(class_weight, str):
        w = compute_log_class_weight(Y, mu=mu, genres=genres)
    else:
        w = _check_weight_vector(class_weight, Y.shape[1])
    positive = Y.astype(bool)
    n_pos = positive.sum(axis=1)
    if reduce == "max":
        out = np.where(positive, w, 0.0).max(axis=1)
    else:
        out = (Y @ w) / np.maximum(n_pos, 1)
    out[n_pos == 0] = 1.0
    return out


# --------------------------------------------------------------------------- estimator
class _ConstantGenre:
    """Stand-in for a genre that had a single class in training: always predicts it."""

    def __init__(self, value):
        self.value = int(value)
        self.classes_ = np.array([0, 1])  # predict_proba's columns

    def _n(self, X):
        return X.shape[0] if hasattr(X, "shape") else len(X)

    def predict(self, X):
        return np.full(self._n(X), self.value, dtype=np.int64)

    def predict_proba(self, X):
        p = float(self.value)
        return np.column_stack([np.full(self._n(X), 1.0 - p), np.full(self._n(X), p)])

    def decision_function(self, X):
        return np.full(self._n(X), np.inf if self.value else -np.inf)


def _check_2d(X):
    # X goes to the clones unconverted; only refuse a 1-D X, with scikit-learn's message.
    if hasattr(X, "shape"):
        one_d = len(X.shape) == 1
    else:
        one_d = isinstance(X, list | tuple) and len(X) > 0 and np.isscalar(X[0])
    if one_d:
        raise ValueError(
            f"Expected a 2-D X of shape (n_samples, n_features), got a 1-D array of "
            f"{len(X)} values. Reshape your data either using array.reshape(-1, 1) if it has a "
            "single feature or array.reshape(1, -1) if it is a single sample."
        )


def _fit_column(estimator, X, y, sample_weight, fit_params):
    if sample_weight is None:
        return estimator.fit(X, y, **fit_params)
    return estimator.fit(X, y, sample_weight=sample_weight, **fit_params)


def _estimator_has(attr):
    def check(self):
        if hasattr(self, "estimators_"):
            return all(hasattr(e, attr) for e in self.estimators_)
        return hasattr(self.estimator, attr)

    return check


class PerGenreWeightedClassifier(
    MultiOutputMixin, ClassifierMixin, MetaEstimatorMixin, BaseEstimator
):
    """One binary estimator per genre, each fitted with that genre's class weight.

    Genre ``j`` gets a clone of ``estimator`` fitted on ``(X, Y[:, j])`` with
    ``sample_weight = w_j`` on its positives and ``1`` on its negatives. This is how estimators
    that take a 1-D ``sample_weight`` only (XGBoost rejects 2-D weights; ``SVC``,
    ``LogisticRegression``) get per-genre weights in a multi-label problem. With
    ``class_weight=None`` it is :class:`sklearn.multioutput.MultiOutputClassifier`.

    A genre column with a single class in training (no positive, or only positives) gets a
    constant predictor instead of a clone, with a ``UserWarning``: probability 0 or 1,
    decision function ``-inf`` or ``+inf``.

    A 1-D label vector (binary or multi-class) is binarised one-vs-rest; there each sample
    weighs ``class_weight[its class]`` in every one-vs-rest fit, as scikit-learn's own
    ``class_weight`` does, and ``"log"`` counts classes over ``total = n_samples`` (the
    original Keras recipe).

    Parameters
    ----------
    estimator : estimator object
        A binary classifier whose ``fit`` takes ``sample_weight`` (needed unless
        ``class_weight=None`` and no ``sample_weight`` is given).
    class_weight : "log", array-like, dict, list of dict or None, default="log"
        For an indicator matrix ``Y`` of ``n_labels`` genres:

        - ``"log"``: :func:`compute_log_class_weight` of ``Y`` on the positives.
        - array-like of shape (n_labels,): the weight of each genre's positives.
        - dict ``{0: w_neg, 1: w_pos}``: the same weights for every genre.
        - list of ``n_labels`` such dicts (e.g. :func:`binary_class_weights`).
        - ``None``: no weighting.

        For a label vector: ``"log"``, an array of one weight per class (in ``classes_``
        order), a dict ``{class: weight}`` (missing classes weigh 1) or ``None``.
    mu : float, default=0.15
        Smoothing of ``class_weight="log"``.
    n_jobs : int, default=None
        Genres fitted in parallel by joblib (``-1``: all cores).

    Attributes
    ----------
    estimators_ : list of estimators
        One fitted estimator (or constant predictor) per genre / one-vs-rest column.
    class_weight_ : list of dict, dict or None
        The weights used: ``{0: w_neg, 1: w_pos}`` per genre for an indicator matrix,
        ``{class: weight}`` for a label vector.
    constant_labels_ : ndarray of int
        Columns fitted as constants (a single class in training).
    classes_ : ndarray
        ``arange(n_labels)`` for an indicator matrix, else the class labels.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from posterml.imbalance import PerGenreWeightedClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> Y = np.column_stack([X[:, 0] > -1, X[:, 1] > 1.8]).astype(int)  # genre 1 is rare
    >>> clf = PerGenreWeightedClassifier(LogisticRegression()).fit(X, Y)
    >>> [round(d[1], 3) for d in clf.class_weight_]
    [1.0, 1.254]
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "class_weight": [StrOptions({"log"}), "array-like", dict, None],
        "mu": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimator, *, class_weight="log", mu=0.15, n_jobs=None):
        self.estimator = estimator
        self.class_weight = class_weight
        self.mu = mu
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit one clone of ``estimator`` per genre with its class weight.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Passed unchanged to every clone (DataFrames keep their columns).
        y : array-like or sparse matrix of shape (n_samples, n_labels) or (n_samples,)
            Binary indicator matrix, or a label vector (binarised one-vs-rest).
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplies the class weights; class counts of ``"log"`` are weighted sums.
        **fit_params : dict
            Passed to every clone's ``fit``.

        Returns
        -------
        self : PerGenreWeightedClassifier
        """
        self._validate_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: "
                "give a label indicator matrix or a label vector"
            )
        _check_2d(X)
        validate_data(self, X, skip_check_array=True)
        check_consistent_length(X, y)
        Y = self._encode_targets(y)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, Y, ensure_non_negative=True)
        weights = self._sample_weights(Y, sw)
        if weights is not None and not has_fit_parameter(self.estimator, "sample_weight"):
            raise TypeError(
                f"{type(self.estimator).__name__}.fit does not take sample_weight, which "
                f"class_weight={self.class_weight!r}"
                + (" and the given sample_weight need" if sw is not None else " needs")
                + "; use class_weight=None (and no sample_weight) or an estimator that "
                "accepts sample_weight"
            )

        n_cols = Y.shape[1]
        n_pos = Y.sum(axis=0)
        constant = np.flatnonzero((n_pos == 0) | (n_pos == Y.shape[0]))
        self.constant_labels_ = constant
        if constant.size and not self._single_label:
            warnings.warn(
                f"label {', '.join(_label_names(constant, self._genres))} has a single class "
                "in training; it is predicted as a constant",
                UserWarning,
                stacklevel=2,
            )
        skip = set(constant.tolist())
        to_fit = [j for j in range(n_cols) if j not in skip]
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_column)(
                clone(self.estimator),
                X,
                Y[:, j],
                None if weights is None else weights[:, j],
                fit_params,
            )
            for j in to_fit
        )
        self.estimators_ = [None] * n_cols
        for j, est in zip(to_fit, fitted):
            self.estimators_[j] = est
        for j in constant:
            self.estimators_[j] = _ConstantGenre(Y[0, j])
        return self

    def _encode_targets(self, y):
        self._genres = [str(c) for c in y.columns] if isinstance(y, pd.DataFrame) else None
        return encode_label_targets(self, y, lambda Y: _check_indicator(Y, "y")[0])

    def _sample_weights(self, Y, sw):
        """(n_samples, n_columns) weights of every column's fit, or None for no weighting."""
        cw = self.class_weight
        if self._single_label:
            # one-vs-rest columns of a label vector: column j is class j
            codes = Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0].astype(np.intp)
            per_sample = self._vector_weights(codes, sw)
            if per_sample is None:
                return None
            return np.repeat(per_sample[:, None], Y.shape[1], axis=1)

        n_labels = Y.shape[1]
        if cw is None:
            self.class_weight_ = None
            pairs = None
        elif isinstance(cw, str):
            counts = Y.sum(axis=0, dtype=np.float64) if sw is None else sw @ Y
            pos = _log_weights(counts, self.mu)
            pairs = np.column_stack([np.ones(n_labels), pos])
        elif isinstance(cw, dict):
            pairs = np.tile(self._binary_pair(cw, "class_weight"), (n_labels, 1))
        elif isinstance(cw, list | tuple) and all(isinstance(d, dict) for d in cw):
            if len(cw) != n_labels:
                raise ValueError(
                    f"class_weight has {len(cw)} dicts but y has {n_labels} label columns"
                )
            pairs = np.array([self._binary_pair(d, f"class_weight[{j}]") for j, d in enumerate(cw)])
        else:
            pos = _check_weight_vector(cw, n_labels)
            pairs = np.column_stack([np.ones(n_labels), pos])
        if pairs is not None:
            self.class_weight_ = [{0: float(a), 1: float(b)} for a, b in pairs]
            weights = np.where(Y.astype(bool), pairs[:, 1], pairs[:, 0])
        else:
            weights = None
        if sw is not None:
            weights = sw[:, None] * (1.0 if weights is None else weights)
            weights = np.broadcast_to(weights, Y.shape)
        return weights

    @staticmethod
    def _binary_pair(d, what):
        unknown = set(d) - {0, 1}
        if unknown:
            raise ValueError(
                f"{what} keys must be the classes 0 (negative) and 1 (positive) of a genre; "
                f"got {sorted(unknown, key=str)}"
            )
        pair = np.array([d.get(0, 1.0), d.get(1, 1.0)], dtype=np.float64)
        if not np.all(np.isfinite(pair) & (pair > 0)):
            raise ValueError(f"{what} weights must be positive and finite; got {d!r}")
        return pair

    def _vector_weights(self, codes, sw):
        """Per-sample weights for a label vector (scikit-learn's class_weight semantics)."""
        cw = self.class_weight
        classes = self.classes_
        if cw is None:
            self.class_weight_ = None
            return sw
        if isinstance(cw, str):
            ones = np.ones(codes.shape[0]) if sw is None else sw
            counts = np.bincount(codes, weights=ones, minlength=classes.size)
            per_class = _log_weights(counts, self.mu, total=counts.sum())
        elif isinstance(cw, dict):
            unknown = [k for k in cw if k not in set(classes.tolist())]
            if unknown:
                raise ValueError(
                    f"class_weight has keys {unknown} that are not classes of y "
                    f"({classes.tolist()})"
                )
            per_class = np.array([float(cw.get(c, 1.0)) for c in classes.tolist()])
            per_class = _check_weight_vector(per_class, classes.size)
        else:
            per_class = _check_weight_vector(cw, classes.size)
        self.class_weight_ = {c: float(w) for c, w in zip(classes.tolist(), per_class)}
        weights = per_class[codes]
        return weights if sw is None else weights * sw

    # ------------------------------------------------------------------ prediction
    def _check_predict(self, X):
        check_is_fitted(self)
        _check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=False)

    def _stack(self, method, X):
        if method == "predict_proba":
            cols = [
                _positive_column(e.predict_proba(X), getattr(e, "classes_", [0, 1]))
                for e in self.estimators_
            ]
        else:
            cols = [np.ravel(getattr(e, method)(X)) for e in self.estimators_]
        return np.column_stack(cols)

    def predict(self, X):
        """Predicted genres (or classes).

        Returns
        -------
        Y_pred : ndarray or sparse matrix of shape (n_samples, n_labels), or (n_samples,)
            0/1 indicator matrix (CSR when ``y`` was sparse) from every genre's estimator
            ``predict``; class labels for a label vector (argmax of the one-vs-rest scores
            when multi-class).
        """
        self._check_predict(X)
        if self._single_label and len(self.classes_) > 2:
            method = "decision_function" if hasattr(self, "decision_function") else "predict_proba"
            return format_prediction(self, None, self._stack(method, X))
        return format_prediction(self, self._stack("predict", X))

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Probability of every genre.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
            ``P(genre j)`` from genre ``j``'s estimator; for a label vector, scikit-learn's
            (n_samples, n_classes) format (one-vs-rest probabilities normalised per row).
        """
        self._check_predict(X)
        return format_proba(self, self._stack("predict_proba", X))

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of every genre's estimator.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_labels), or (n_samples,) for a binary vector
        """
        self._check_predict(X)
        scores = self._stack("decision_function", X)
        if self._single_label and len(self.classes_) == 2:
            return scores[:, 0]
        return scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = get_tags(self.estimator)
        tags.classifier_tags.multi_label = True
        tags.input_tags.sparse = base.input_tags.sparse
        tags.input_tags.allow_nan = base.input_tags.allow_nan
        return tags
