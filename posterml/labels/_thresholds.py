"""One decision threshold per genre, tuned by cross-validation.

scikit-learn's ``TunedThresholdClassifierCV`` tunes the threshold of a binary classifier; a
multi-label genre model needs one threshold per genre: a rare genre's probabilities seldom
reach 0.5, so its best F1 is usually found well below it.
"""

import warnings
from numbers import Integral
from types import SimpleNamespace

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, MultiOutputMixin, clone
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_predict,
)
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from posterml.metrics._multilabel import _check_scores
from posterml.metrics._scorers import _positive_proba

from ._top_k import (
    _RESPONSE_METHODS,
    _check_label_target,
    _copy_input_attributes,
    _delegate_input_tags,
    _GenreScoresMixin,
    _label_scores,
    _resolve_response_method,
)

__all__ = ["PerGenreThresholdClassifier"]


def _candidate_thresholds(scores, thresholds):
    """Thresholds to try for one genre, ascending.

    ``None``: the lowest cross-validated score (predict every movie) and the midpoints
    between consecutive distinct scores, so that every distinct prediction ``score >= t``
    the scores allow is tried once, with ``t`` half-way between the movies it separates.
    """
    if thresholds is None:
        unique = np.unique(scores)
        return np.concatenate([unique[:1], unique[:-1] + np.diff(unique) / 2])
    if isinstance(thresholds, Integral):
        return np.linspace(scores.min(), scores.max(), thresholds)
    return np.unique(np.asarray(thresholds, dtype=float))


def _f1_per_threshold(scores, truth, candidates):
    """F1 of ``scores >= t`` for every ``t`` of ``candidates`` (0 where nothing is true or
    predicted), from one sort of the scores."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    positives_below = np.concatenate([[0], np.cumsum(truth[order])])
    first = np.searchsorted(sorted_scores, candidates, side="left")
    n_pos = positives_below[-1]
    tp = n_pos - positives_below[first]
    n_pred = scores.size - first
    den = n_pred + n_pos
    return np.divide(2.0 * tp, den, out=np.zeros(candidates.size), where=den > 0)


def _best_threshold(scores, truth, candidates, scoring):
    """``(threshold, score)`` maximising ``scoring``; the lowest threshold among ties."""
    if scoring == "f1":
        values = _f1_per_threshold(scores, truth, candidates)
    else:
        values = np.array([float(scoring(truth, scores >= t)) for t in candidates])
    best = int(np.argmax(values))
    return float(candidates[best]), float(values[best])


class PerGenreThresholdClassifier(
    _GenreScoresMixin, MetaEstimatorMixin, MultiOutputMixin, ClassifierMixin, BaseEstimator
):
    """Predict each genre when its score reaches a threshold tuned for that genre by CV.

    ``fit`` gets out-of-fold scores for every movie and genre with
    :func:`sklearn.model_selection.cross_val_predict`, chooses for each genre ``j`` the
    threshold ``t_j`` that maximises the cross-validated ``scoring`` (F1 by default), then
    refits ``estimator`` on all the data. ``predict`` returns ``score_j >= t_j``.

    Parameters
    ----------
    estimator : estimator object
        Multi-label classifier with ``predict_proba`` or ``decision_function``:
        :class:`posterml.MLkNN` (an ``(n, n_genres)`` array), ``KNeighborsClassifier`` or
        ``RandomForestClassifier`` (scikit-learn's list of ``(n, 2)`` arrays, a genre seen
        with one class in a fold included), ``OneVsRestClassifier(...)``.
    cv : int, cross-validation generator or iterable, default=5
        Folds of the out-of-fold scores; they must partition the rows. An int makes
        shuffled ``KFold`` folds (``StratifiedKFold`` for a binary label vector), or
        ``GroupKFold`` (``StratifiedGroupKFold``) folds when ``fit`` gets ``groups``, seeded
        by ``random_state``. For movies with several rows pass ``groups``, and for
        genre-balanced folds
        :class:`posterml.model_selection.MultilabelStratifiedGroupKFold` as ``cv``.
    scoring : "f1" or callable, default="f1"
        Per-genre objective, greater is better: ``"f1"`` (``zero_division=0``) or a
        function ``scoring(y_true, y_pred) -> float`` of one genre's 0/1 columns, e.g.
        ``functools.partial(sklearn.metrics.fbeta_score, beta=2)``.
    thresholds : int, array-like or None, default=None
        Candidate thresholds. ``None``: the midpoints between consecutive distinct
        out-of-fold scores of the genre, and its lowest score (every distinct decision is
        tried). An int ``m``: ``m`` evenly spaced values from the genre's lowest to highest
        score. An array: the same candidates for every genre.
    response_method : {"auto", "predict_proba", "decision_function"}, default="auto"
        Scores to threshold; ``"auto"`` uses ``predict_proba`` when the estimator has it.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the folds made for an int ``cv``; unused otherwise.
    n_jobs : int, default=None
        Folds fitted in parallel by ``cross_val_predict``.

    Attributes
    ----------
    thresholds_ : ndarray of shape (n_genres,)
        Threshold of each genre; ``+inf`` for a genre with no positive training movie
        (never predicted; a warning names it).
    best_scores_ : ndarray of shape (n_genres,)
        Cross-validated ``scoring`` of each genre at its threshold.
    estimator_ : estimator object
        ``estimator`` refitted on all the data.
    response_method_ : str
        The method whose scores are thresholded.
    classes_ : ndarray
        ``arange(n_genres)`` for an indicator matrix, else the two classes of ``y``.
    n_labels_ : int
        Number of genres (1 for a binary label vector).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When the fitted estimator has them.

    Notes
    -----
    Among thresholds with the same score the lowest wins (as in scikit-learn's
    ``TunedThresholdClassifierCV``). A binary label vector ``y`` is one genre: its
    threshold applies to the score of ``classes_[1]``. Multiclass ``y`` is refused.
    ``predict_proba`` and ``decision_function`` pass the refitted estimator's scores through,
    one column per genre; the thresholds apply in ``predict`` only.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml import MLkNN
    >>> from posterml.labels import PerGenreThresholdClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> Y = np.column_stack([X[:, 0] > 1.0, X[:, 1] + X[:, 2] > 0]).astype(int)
    >>> model = PerGenreThresholdClassifier(MLkNN(k=10), cv=3, random_state=0).fit(X, Y)
    >>> model.thresholds_.shape, model.predict(X[:4]).shape
    ((2,), (4, 2))
    >>> bool(model.best_scores_.min() > 0.5)
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "cv": ["cv_object"],
        "scoring": [StrOptions({"f1"}), callable],
        "thresholds": [Interval(Integral, 2, None, closed="left"), "array-like", None],
        "response_method": [StrOptions({"auto", *_RESPONSE_METHODS})],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        estimator,
        *,
        cv=5,
        scoring="f1",
        thresholds=None,
        response_method="auto",
        random_state=None,
        n_jobs=None,
    ):
        self.estimator = estimator
        self.cv = cv
        self.scoring = scoring
        self.thresholds = thresholds
        self.response_method = response_method
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _make_cv(self, kind, groups):
        cv = 5 if self.cv is None else self.cv
        if isinstance(cv, Integral):
            # With groups, rows of one movie must not score each other across folds.
            if groups is None:
                splitter = StratifiedKFold if kind == "binary" else KFold
            else:
                splitter = StratifiedGroupKFold if kind == "binary" else GroupKFold
            return splitter(n_splits=cv, shuffle=True, random_state=self.random_state)
        return cv

    def fit(self, X, y, groups=None):
        """Tune one threshold per genre by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Whatever ``estimator`` accepts.
        y : array-like or sparse matrix of shape (n_samples, n_genres) or (n_samples,)
            0/1 genre indicator matrix, or a binary label vector.
        groups : array-like of shape (n_samples,), default=None
            Group (movie id) of each row: the rows of a group fall in the same fold (an int
            ``cv`` makes group folds; a given ``cv`` must be group-aware).

        Returns
        -------
        self : PerGenreThresholdClassifier
        """
        self._validate_params()
        Y, kind, names = _check_label_target(y, self)
        if kind == "multiclass":
            raise ValueError(
                "Only binary classification is supported, or a 0/1 genre indicator matrix "
                f"(one threshold per genre). The type of the target is {kind!r} (classes "
                f"{np.unique(Y).tolist()}); binarise it with sklearn.preprocessing."
                "LabelBinarizer to tune one threshold per class"
            )
        method = _resolve_response_method(self.estimator, self.response_method)
        raw = cross_val_predict(
            clone(self.estimator),
            X,
            Y,
            groups=groups,
            cv=self._make_cv(kind, groups),
            n_jobs=self.n_jobs,
            method=method,
        )
        if kind == "binary":
            positive = np.unique(Y)[1]  # cross_val_predict orders the columns like this
            truth = np.equal(Y, positive)[:, None]
            scores = np.asarray(raw, dtype=float)
            scores = (scores[:, 1] if scores.ndim == 2 else scores)[:, None]
            names = [str(positive)]
        else:
            truth = Y.astype(bool)
            # cross_val_predict gives a genre one column per class of the *whole* y
            seen = SimpleNamespace(classes_=[np.unique(Y[:, j]) for j in range(Y.shape[1])])
            scores = _check_scores(_positive_proba(raw, seen) if isinstance(raw, list) else raw)
            names = names if names is not None else list(range(Y.shape[1]))
        self.thresholds_, self.best_scores_ = self._search(scores, truth, names)
        self.estimator_ = clone(self.estimator).fit(X, Y)
        self.response_method_ = method
        self._multilabel = kind == "multilabel"
        self.classes_ = np.arange(Y.shape[1]) if self._multilabel else self.estimator_.classes_
        self.n_labels_ = truth.shape[1]
        _copy_input_attributes(self, self.estimator_)
        return self

    def _search(self, scores, truth, names):
        n_labels = truth.shape[1]
        thresholds = np.full(n_labels, np.inf)
        best = np.zeros(n_labels)
        empty = []
        for j in range(n_labels):
            if not truth[:, j].any():
                empty.append(names[j])
                if self.scoring != "f1":
                    best[j] = float(self.scoring(truth[:, j], np.zeros(truth.shape[0], bool)))
                continue
            candidates = _candidate_thresholds(scores[:, j], self.thresholds)
            thresholds[j], best[j] = _best_threshold(
                scores[:, j], truth[:, j], candidates, self.scoring
            )
        if empty:
            warnings.warn(
                f"genre column(s) {empty} have no positive example in y: their threshold is "
                "+inf, so PerGenreThresholdClassifier never predicts them",
                UserWarning,
                stacklevel=3,
            )
        return thresholds, best

    def _scores(self, X):
        check_is_fitted(self)
        if self._multilabel:
            return _label_scores(self.estimator_, self.response_method_, X, self.n_labels_)
        scores = np.asarray(getattr(self.estimator_, self.response_method_)(X), dtype=float)
        return scores[:, 1] if scores.ndim == 2 else scores

    def predict(self, X):
        """Genres whose score reaches their tuned threshold.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_genres) or (n_samples,)
            ``score_j >= thresholds_[j]`` as 0/1; for a binary label vector ``y``, the
            class ``classes_[1]`` where its score reaches the threshold, else ``classes_[0]``.
        """
        scores = self._scores(X)
        if self._multilabel:
            return (scores >= self.thresholds_).astype(np.int64)
        return self.classes_[(scores >= self.thresholds_[0]).astype(np.intp)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.multi_label = True
        return _delegate_input_tags(tags, self.estimator)
