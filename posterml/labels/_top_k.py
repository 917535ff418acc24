"""Seed paper 002's output: the ``k`` most probable genres of each poster.

Also home of the plumbing the label meta-estimators share: target validation, the choice of
``predict_proba`` or ``decision_function``, and per-genre score matrices.
"""

from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, MultiOutputMixin, clone
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from posterml.metrics._multilabel import _check_scores, _top_k_columns
from posterml.metrics._scorers import _positive_proba

__all__ = ["TopKGenreClassifier", "top_k_genres"]

_RESPONSE_METHODS = ("predict_proba", "decision_function")


# --------------------------------------------------------------------------- shared plumbing
def _estimator_has(attr):
    """``available_if`` test: the fitted estimator, else the unfitted one, has ``attr``."""

    def check(self):
        estimator = getattr(self, "estimator_", self.estimator)
        return hasattr(estimator, attr)

    return check


def _resolve_response_method(estimator, response_method):
    """The scoring method to call: ``"auto"`` prefers ``predict_proba``."""
    wanted = _RESPONSE_METHODS if response_method == "auto" else (response_method,)
    for name in wanted:
        if hasattr(estimator, name):
            return name
    raise ValueError(
        f"{type(estimator).__name__} has no "
        + " or ".join(wanted)
        + f" (response_method={response_method!r}); a per-genre score is needed"
    )


def _check_label_target(y, meta):
    """Validate ``y``: a 0/1 indicator matrix, or a label vector.

    Returns
    -------
    y : ndarray
        The indicator matrix (2-D), or the label vector (1-D; an ``(n, 1)`` column is
        ravelled with a DataConversionWarning, as scikit-learn does).
    kind : {"multilabel", "binary", "multiclass"}
    names : list or None
        The column names of a DataFrame indicator matrix.
    """
    name = type(meta).__name__
    if y is None:
        raise ValueError(
            f"{name} requires y to be passed, but the target y is None: give a genre "
            "indicator matrix (n_samples, n_genres)"
        )
    names = [str(c) for c in y.columns] if isinstance(y, pd.DataFrame) else None
    if sp.issparse(y):
        y = y.toarray()
    target = type_of_target(y, input_name="y")
    if target != "multilabel-indicator":
        check_classification_targets(y)
    if target == "multilabel-indicator":
        Y = np.asarray(y)
        values = np.unique(Y)
        if not np.isin(values, (0, 1)).all():
            raise ValueError(
                f"the genre indicator matrix y must hold only 0 and 1; found values "
                f"{values.tolist()}"
            )
        return Y, "multilabel", names
    if target not in ("binary", "multiclass"):
        raise ValueError(
            f"{name} takes a 0/1 genre indicator matrix or a label vector; got a {target} "
            "target (binarise each output with sklearn.preprocessing.MultiLabelBinarizer)"
        )
    y = column_or_1d(y, warn=True)
    if y.size == 0:
        raise ValueError(f"{name} got an empty y (0 samples); at least 2 are needed")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(
            f"y has only one class ({classes[0]!r}): a classifier needs at least 2 classes "
            "to learn from"
        )
    return y, target, None


def _label_scores(estimator, method, X, n_labels):
    """``(n_samples, n_labels)`` scores of a fitted multi-label estimator.

    ``predict_proba`` may be scikit-learn's list of per-label ``(n, 2)`` arrays (or ``(n, 1)``
    for a genre seen with one class in training); the positive column is taken.
    """
    raw = getattr(estimator, method)(X)
    if isinstance(raw, list) and raw and np.ndim(raw[0]) == 1:
        raw = np.column_stack(raw)  # multi-output decision_function
    scores = _check_scores(_positive_proba(raw, estimator))
    if scores.shape[1] != n_labels:
        raise ValueError(
            f"{type(estimator).__name__}.{method} returned {scores.shape[1]} score columns for "
            f"{n_labels} genres"
        )
    return scores


def _copy_input_attributes(meta, estimator):
    """Expose the fitted base estimator's ``n_features_in_`` / ``feature_names_in_``."""
    for attr in ("n_features_in_", "feature_names_in_"):
        if hasattr(estimator, attr):
            setattr(meta, attr, getattr(estimator, attr))


def _delegate_input_tags(tags, estimator):
    base = get_tags(estimator)
    tags.input_tags.sparse = base.input_tags.sparse
    tags.input_tags.allow_nan = base.input_tags.allow_nan
    return tags


def _check_k(k, n_labels):
    if isinstance(k, bool) or not isinstance(k, Integral):
        raise TypeError(f"k must be an integer; got {k!r}")
    if not 1 <= k <= n_labels:
        raise ValueError(f"k must be between 1 and the number of genres ({n_labels}); got {k}")


class _GenreScoresMixin:
    """``predict_proba`` / ``decision_function`` of the fitted ``estimator_``, passed through.

    For an indicator matrix ``y`` they are one column per genre, whatever format the
    estimator uses; for a label vector, the estimator's own output.
    """

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """The fitted estimator's probabilities, one column per genre.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_genres) or (n_samples, n_classes)
            ``P(genre)`` per column for an indicator matrix ``y`` (scikit-learn's
            list-of-arrays format is turned into this matrix); the estimator's own
            ``predict_proba`` for a label vector ``y``.
        """
        check_is_fitted(self)
        if self._multilabel:
            return _label_scores(self.estimator_, "predict_proba", X, self.n_labels_)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """The fitted estimator's decision function, one column per genre.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_genres)
            For a label vector ``y``, the estimator's own ``decision_function``.
        """
        check_is_fitted(self)
        if self._multilabel:
            return _label_scores(self.estimator_, "decision_function", X, self.n_labels_)
        return self.estimator_.decision_function(X)


# --------------------------------------------------------------------------- public API
def top_k_genres(scores, genres, k=3):
    """The ``k`` best-scored genres of each movie, with their scores, best first.

    Parameters
    ----------
    scores : array-like of shape (n_samples, n_genres) or list of (n_samples, 2) arrays
        Scores or probabilities per genre: ``predict_proba`` of a multi-label estimator in
        either of scikit-learn's formats, or ``decision_function``.
    genres : sequence of str or None
        Genre names, one per column; ``None`` uses the DataFrame's columns, else the column
        indices.
    k : int, default=3
        Genres returned per movie, ``1 <= k <= n_genres``.

    Returns
    -------
    list of list of (str, float)
        One list per movie: ``k`` distinct ``(genre, score)`` pairs sorted by decreasing
        score (ties: the lower column first, as in :func:`posterml.metrics.top_k_accuracy`).

    See Also
    --------
    posterml.datasets.predict_genres : the same list for new poster files.
    TopKGenreClassifier : the indicator-matrix form, as an estimator.

    Examples
    --------
    >>> from posterml.labels import top_k_genres
    >>> scores = [[0.1, 0.7, 0.4], [0.5, 0.2, 0.5]]
    >>> top_k_genres(scores, ["Action", "Drama", "Horror"], k=2)
    [[('Drama', 0.7), ('Horror', 0.4)], [('Action', 0.5), ('Horror', 0.5)]]
    """
    if genres is None and isinstance(scores, pd.DataFrame):
        genres = list(scores.columns)
    S = _check_scores(scores)
    genres = list(range(S.shape[1])) if genres is None else list(genres)
    if len(genres) != S.shape[1]:
        raise ValueError(f"genres has {len(genres)} names but scores has {S.shape[1]} columns")
    _check_k(k, S.shape[1])
    top = _top_k_columns(S, k)
    return [[(genres[j], float(row[j])) for j in idx] for row, idx in zip(S, top)]


class TopKGenreClassifier(
    _GenreScoresMixin, MetaEstimatorMixin, MultiOutputMixin, ClassifierMixin, BaseEstimator
):
    """Predict exactly the ``k`` best-scored genres of each movie (seed paper 002).

    Wraps any multi-label estimator with ``predict_proba`` or ``decision_function``
    (:class:`posterml.MLkNN`, ``KNeighborsClassifier``, ``RandomForestClassifier``,
    ``OneVsRestClassifier(LogisticRegression())``...): ``predict`` sets the ``k`` top-scored
    genres of every row to 1, however low their scores.

    Parameters
    ----------
    estimator : estimator object
        Multi-label classifier; cloned and fitted on ``(X, Y)``.
    k : int, default=3
        Genres predicted per movie; at most the number of genres. For a label vector ``y``
        (one class per movie) only ``k=1`` applies, and ``predict`` returns the best-scored
        class.
    response_method : {"auto", "predict_proba", "decision_function"}, default="auto"
        Scores to rank; ``"auto"`` uses ``predict_proba`` when the estimator has it.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    response_method_ : str
        The method whose scores are ranked.
    classes_ : ndarray
        ``arange(n_genres)`` for an indicator matrix, else the classes of ``y``.
    n_labels_ : int
        Number of genre columns (number of classes for a label vector).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When the fitted estimator has them.

    See Also
    --------
    top_k_genres : genre names and scores of the ``k`` best genres.
    posterml.metrics.top_k_accuracy : scores ``predict_proba`` the same way.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml import MLkNN
    >>> from posterml.labels import TopKGenreClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 4))
    >>> Y = (X[:, :4] > 0.5).astype(int)
    >>> model = TopKGenreClassifier(MLkNN(k=5), k=2).fit(X, Y)
    >>> model.predict(X[:3]).sum(axis=1).tolist()
    [2, 2, 2]
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "k": [Interval(Integral, 1, None, closed="left")],
        "response_method": [StrOptions({"auto", *_RESPONSE_METHODS})],
    }

    def __init__(self, estimator, *, k=3, response_method="auto"):
        self.estimator = estimator
        self.k = k
        self.response_method = response_method

    def fit(self, X, y, **fit_params):
        """Fit a clone of ``estimator`` on ``(X, y)``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Whatever ``estimator`` accepts.
        y : array-like or sparse matrix of shape (n_samples, n_genres) or (n_samples,)
            0/1 genre indicator matrix, or a label vector (then ``k`` must be 1).
        **fit_params : dict
            Passed to ``estimator.fit``.

        Returns
        -------
        self : TopKGenreClassifier
        """
        self._validate_params()
        Y, kind, _ = _check_label_target(y, self)
        method = _resolve_response_method(self.estimator, self.response_method)
        if kind == "multilabel":
            _check_k(self.k, Y.shape[1])
        elif self.k != 1:
            raise ValueError(
                f"y is a label vector ({kind}, one class per movie), so only k=1 applies; got "
                f"k={self.k}: pass a genre indicator matrix to predict {self.k} genres"
            )
        self.estimator_ = clone(self.estimator).fit(X, Y, **fit_params)
        self.response_method_ = method
        self._multilabel = kind == "multilabel"
        if self._multilabel:
            self.n_labels_ = Y.shape[1]
            self.classes_ = np.arange(self.n_labels_)
        else:
            self.classes_ = self.estimator_.classes_
            self.n_labels_ = len(self.classes_)
        _copy_input_attributes(self, self.estimator_)
        return self

    def _scores(self, X):
        check_is_fitted(self)
        if self._multilabel:
            return _label_scores(self.estimator_, self.response_method_, X, self.n_labels_)
        return np.asarray(getattr(self.estimator_, self.response_method_)(X))

    def predict(self, X):
        """Indicator matrix with the ``k`` best-scored genres of each row set to 1.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_genres) or (n_samples,)
            Exactly ``k`` ones per row (ties: the lower column); for a label vector ``y``,
            the best-scored class of each row.
        """
        scores = self._scores(X)
        if not self._multilabel:
            if scores.ndim == 1:  # binary decision_function
                return self.classes_[(scores > 0).astype(np.intp)]
            return self.classes_[np.argmax(scores, axis=1)]
        Y_pred = np.zeros(scores.shape, dtype=np.int64)
        np.put_along_axis(Y_pred, _top_k_columns(scores, self.k), 1, axis=1)
        return Y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return _delegate_input_tags(tags, self.estimator)
