"""scikit-learn scorers for posterml's multi-label metrics."""

import copy

import numpy as np
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import get_scorer_names as _sklearn_get_scorer_names
from sklearn.metrics import make_scorer

from posterml.metrics._multilabel import (
    all_match,
    at_least_one_match,
    binary_accuracy,
    hamming_loss,
    overall_f1,
    overall_precision,
    overall_recall,
    predicted_subset_match,
    top_k_accuracy,
    top_k_precision,
    weighted_f1,
)

__all__ = ["SCORERS", "get_scorer", "get_scorer_names", "make_top_k_scorer"]

# The class make_scorer returns (sklearn's private ``_Scorer``), reached without importing a
# private module; its ``_score`` hook is stable across the pinned scikit-learn range.
_SklearnScorer = type(make_scorer(hamming_loss))


def _positive_proba(proba, estimator):
    """Recover P(label = 1) for labels a multi-output classifier saw with a single class.

    scikit-learn passes the list-of-arrays ``predict_proba`` through unchanged when the
    per-label ``classes_`` differ in length; an ``(n, 1)`` entry then holds the probability of
    the only class seen in training, which is the *negative* class for a genre absent from the
    training fold. Only ``classes_`` tells the two cases apart.
    """
    classes = getattr(estimator, "classes_", None)
    if not isinstance(proba, list) or not isinstance(classes, list | tuple):
        return proba
    if len(classes) != len(proba):
        return proba
    return np.column_stack([_positive_column(p, c) for p, c in zip(proba, classes)])


def _positive_column(label_proba, label_classes):
    """P(label = 1) from one label's ``predict_proba`` and ``classes_``; 0 if 1 was never seen."""
    label_proba = np.asarray(label_proba, dtype=float)
    positive = np.flatnonzero(np.asarray(label_classes) == 1)
    if positive.size:
        return label_proba[:, positive[0]]
    return np.zeros(label_proba.shape[0])


class _MultilabelProbaScorer(_SklearnScorer):
    """A ``make_scorer`` scorer on ``predict_proba`` that handles single-class labels."""

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        proba = method_caller(estimator, "predict_proba", X, pos_label=None)
        if isinstance(proba, np.ndarray) and proba.ndim == 1 and np.ndim(y_true) == 2:
            # Two genres: classes_ == [0, 1] reads to scikit-learn as a binary classifier
            # and it keeps one column; the genre matrix needs both.
            proba = estimator.predict_proba(X)
        proba = _positive_proba(proba, estimator)
        return self._sign * self._score_func(y_true, proba, **{**self._kwargs, **kwargs})


def make_top_k_scorer(k=3, *, metric="accuracy"):
    """Make a scorer from :func:`top_k_accuracy` or :func:`top_k_precision`.

    The scorer calls ``predict_proba`` and accepts both of its multi-label formats: one
    ``(n_samples, n_labels)`` array, or scikit-learn's list of ``(n_samples, 2)`` arrays (as
    from ``KNeighborsClassifier``), including labels seen with a single class in training.

    Parameters
    ----------
    k : int, default=3
        Number of top-scored genres considered.
    metric : {"accuracy", "precision"}, default="accuracy"
        Which top-k metric to score with.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, Y)``, greater is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from posterml.metrics import make_top_k_scorer
    >>> X = np.arange(8, dtype=float).reshape(-1, 1)
    >>> Y = np.array([[1, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]] * 2)
    >>> model = KNeighborsClassifier(n_neighbors=1).fit(X, Y)
    >>> make_top_k_scorer(k=1)(model, X, Y)
    1.0
    """
    funcs = {"accuracy": top_k_accuracy, "precision": top_k_precision}
    if metric not in funcs:
        raise ValueError(f"metric must be one of {sorted(funcs)}; got {metric!r}")
    return _MultilabelProbaScorer(funcs[metric], 1, {"k": k}, response_method="predict_proba")


SCORERS = {
    "hamming_loss": make_scorer(hamming_loss, greater_is_better=False),
    "all_match": make_scorer(all_match),
    "at_least_one_match": make_scorer(at_least_one_match),
    "predicted_subset_match": make_scorer(predicted_subset_match),
    "binary_accuracy": make_scorer(binary_accuracy),
    "overall_precision": make_scorer(overall_precision),
    "overall_recall": make_scorer(overall_recall),
    "overall_f1": make_scorer(overall_f1),
    "weighted_f1": make_scorer(weighted_f1),
    "top_k_accuracy": make_top_k_scorer(3, metric="accuracy"),
    "top_k_precision": make_top_k_scorer(3, metric="precision"),
}
"""posterml's scorers by name, ready for ``scoring=`` in ``GridSearchCV``/``cross_validate``.

``hamming_loss`` is negated (greater is better); the ``top_k_*`` scorers use ``k=3`` and
``predict_proba``; the others use ``predict``.
"""


def get_scorer_names():
    """Names accepted by :func:`get_scorer`: posterml's first, then scikit-learn's.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from posterml.metrics import get_scorer_names
    >>> get_scorer_names()[:3]
    ['hamming_loss', 'all_match', 'at_least_one_match']
    """
    ours = list(SCORERS)
    return ours + [name for name in _sklearn_get_scorer_names() if name not in SCORERS]


def get_scorer(scoring):
    """Return a scorer by name: posterml's own, else scikit-learn's.

    Parameters
    ----------
    scoring : str, callable or None
        A name from :data:`SCORERS` or :func:`sklearn.metrics.get_scorer_names`; a callable
        or ``None`` is returned as scikit-learn would.

    Returns
    -------
    scorer : callable or None
        A fresh copy, so that setting metadata requests on it leaves :data:`SCORERS` alone.

    Raises
    ------
    ValueError
        If the name is unknown; the message lists posterml's names.

    Examples
    --------
    >>> from posterml.metrics import get_scorer
    >>> get_scorer("overall_f1")
    make_scorer(overall_f1, response_method='predict')
    """
    if isinstance(scoring, str) and scoring in SCORERS:
        return copy.deepcopy(SCORERS[scoring])
    try:
        return _sklearn_get_scorer(scoring)
    except ValueError:
        if not isinstance(scoring, str):
            raise
        raise ValueError(
            f"{scoring!r} is not a valid scoring name. posterml's scorers are "
            f"{sorted(SCORERS)}; scikit-learn's are listed by "
            "sklearn.metrics.get_scorer_names()."
        ) from None
