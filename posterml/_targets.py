"""Target encoding shared by the classifiers that fit one binary problem per label.

``MLkNN``, ``BinaryRelevanceKNN`` and ``PerGenreWeightedClassifier`` take either a 0/1 label
indicator matrix (multi-label output) or a 1-D vector of class labels (binarised one-vs-rest,
single-label output), and encode both the same way.
"""

import numpy as np
from scipy import sparse
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target


def encode_label_targets(estimator, y, check_indicator):
    """Encode ``y`` for ``estimator`` as an ``(n_samples, n_columns)`` uint8 matrix.

    Parameters
    ----------
    estimator : estimator object
        Receives ``_sparse_output``, ``_single_label``, ``_binarizer`` (None for an indicator
        matrix) and ``classes_`` (``arange(n_labels)``, or the class labels); its class name
        goes into the error messages.
    y : array-like or sparse matrix of shape (n_samples, n_labels) or (n_samples,)
        A binary label indicator matrix, or a label vector (an ``(n, 1)`` column is ravelled).
    check_indicator : callable
        ``check_indicator(y)`` validates an indicator matrix and returns it as an array, with
        the caller's error messages.

    Returns
    -------
    Y : ndarray of uint8
        The indicator matrix, or the one-vs-rest columns of a label vector
        (:class:`~sklearn.preprocessing.LabelBinarizer`: one column for two classes).
    """
    estimator._sparse_output = sparse.issparse(y)
    target = type_of_target(y, input_name="y")
    if target == "multilabel-indicator":
        Y = check_indicator(y)
        estimator._single_label = False
        estimator._binarizer = None
        estimator.classes_ = np.arange(Y.shape[1])
        return np.ascontiguousarray(Y, dtype=np.uint8)
    if target == "multiclass-multioutput":
        raise ValueError(
            f"{type(estimator).__name__} takes a binary label indicator matrix (one 0/1 column "
            "per genre) or a 1-D label vector, not multi-class multi-output targets; "
            "binarise each output first (sklearn.preprocessing.MultiLabelBinarizer)"
        )
    check_classification_targets(y)
    y = np.asarray(y.toarray() if sparse.issparse(y) else y)
    y = np.ravel(y) if y.ndim == 2 else y
    estimator._single_label = True
    estimator._binarizer = LabelBinarizer().fit(y)
    estimator.classes_ = estimator._binarizer.classes_
    if estimator.classes_.size < 2:
        raise ValueError(
            f"y has only one class ({estimator.classes_[0]!r}): a classifier needs at least 2 "
            "classes to learn from"
        )
    return np.ascontiguousarray(estimator._binarizer.transform(y), dtype=np.uint8)


def format_prediction(estimator, positive, score=None):
    """sklearn's ``predict`` output for the targets :func:`encode_label_targets` saw.

    ``positive`` holds the per-column 0/1 decisions; ``score`` the per-class scores whose
    argmax is the class of a multi-class label vector.
    """
    if not estimator._single_label:
        out = np.asarray(positive, dtype=np.int64)  # no copy of an int64 matrix
        return sparse.csr_matrix(out) if estimator._sparse_output else out
    if len(estimator.classes_) == 2:
        return estimator.classes_[np.asarray(positive)[:, 0].astype(np.intp)]
    return estimator.classes_[np.argmax(score, axis=1)]


def format_proba(estimator, proba):
    """sklearn's ``predict_proba`` output from per-column probabilities ``proba``.

    An indicator matrix keeps one column per label; a label vector gets
    ``(n_samples, n_classes)`` rows that sum to 1 (the one-vs-rest probabilities normalised).
    """
    if not estimator._single_label:
        return proba
    if len(estimator.classes_) == 2:
        return np.column_stack([1.0 - proba[:, 0], proba[:, 0]])
    total = proba.sum(axis=1, keepdims=True)
    return proba / np.where(total > 0, total, 1.0)
