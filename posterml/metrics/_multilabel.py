"""Multi-label metrics on binary indicator matrices (movies x genres).

Every metric takes ``Y_true`` and ``Y_pred`` of shape ``(n_samples, n_labels)``, dense or scipy
sparse, holding only 0/1 (or booleans). Where scikit-learn has the same metric the values agree
with it (``zero_division=0``); the others reproduce the tables of the seed projects under names
that say what they compute.
"""

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "all_match",
    "at_least_one_match",
    "binary_accuracy",
    "hamming_loss",
    "overall_f1",
    "overall_precision",
    "overall_recall",
    "per_genre_report",
    "predicted_subset_match",
    "seed_metrics",
    "top_k_accuracy",
    "top_k_precision",
    "weighted_f1",
]


# --------------------------------------------------------------------------- validation
def _as_dense_2d(Y, name):
    if Y is None:
        raise ValueError(f"{name} is None; give a 2-D 0/1 indicator matrix (samples x labels)")
    if sp.issparse(Y):
        Y = Y.toarray()
    try:
        arr = np.asarray(Y)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} cannot be converted to an array: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D indicator matrix of shape (n_samples, n_labels); got an "
            f"array of shape {arr.shape} (binarise genre lists with "
            "sklearn.preprocessing.MultiLabelBinarizer, or reshape one label with "
            "reshape(-1, 1))"
        )
    if arr.shape[0] == 0:
        raise ValueError(
            f"{name} is empty: it has no rows (shape {arr.shape}); need at least one sample"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: it has no label columns (shape {arr.shape})")
    return arr


def _check_binary(arr, name):
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must hold 0/1 indicator values; got dtype {arr.dtype} "
            "(binarise genre lists with sklearn.preprocessing.MultiLabelBinarizer)"
        )
    bad = ~((arr == 0) | (arr == 1))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} must hold only 0/1 indicator values; found {arr[row, col].item()!r} at "
            f"row {row}, column {col} ({int(bad.sum())} non-binary cells in all)"
        )
    return arr.astype(bool)


def _check_indicator(Y, name):
    """``Y`` as a dense 2-D boolean array; errors name ``name`` and the offending cell."""
    return _check_binary(_as_dense_2d(Y, name), name)


def _check_same_genres(Y_true, Y_pred, pred_name="Y_pred"):
    """Two DataFrames must name the same genre columns in the same order.

    Arrays carry no names, so their columns are matched by position; a DataFrame pair
    whose genres differ (a genre present only at predict time) or are in another order
    would be scored column against wrong column.
    """
    if not (isinstance(Y_true, pd.DataFrame) and isinstance(Y_pred, pd.DataFrame)):
        return
    true_columns, pred_columns = list(Y_true.columns), list(Y_pred.columns)
    if true_columns == pred_columns:
        return
    only_true = [c for c in true_columns if c not in pred_columns]
    only_pred = [c for c in pred_columns if c not in true_columns]
    if only_true or only_pred:
        raise ValueError(
            f"Y_true and {pred_name} have different genre columns: only in Y_true "
            f"{only_true}, only in {pred_name} {only_pred}"
        )
    raise ValueError(
        f"Y_true and {pred_name} have the same genre columns in a different order "
        f"({true_columns} and {pred_columns}); reorder one, e.g. {pred_name}[Y_true.columns]"
    )


def _shape_error(T, P, pred_name):
    if T.shape[0] != P.shape[0]:
        detail = f"{T.shape[0]} and {P.shape[0]} movies"
    else:
        detail = (
            f"{T.shape[1]} and {P.shape[1]} genre columns: every genre must be a column of "
            "both, in the same order"
        )
    return ValueError(
        f"Y_true and {pred_name} must have the same shape; got {T.shape} and {P.shape} ({detail})"
    )


def _check_pair(Y_true, Y_pred):
    _check_same_genres(Y_true, Y_pred)
    T = _check_indicator(Y_true, "Y_true")
    P = _check_indicator(Y_pred, "Y_pred")
    if T.shape != P.shape:
        raise _shape_error(T, P, "Y_pred")
    return T, P


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=float)
    if w.ndim != 1 or w.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must be 1-D with one weight per sample ({n_samples}); "
            f"got shape {w.shape}"
        )
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight contains NaN or infinite values")
    if np.any(w < 0):
        raise ValueError(f"sample_weight must be non-negative; found {w.min()!r}")
    if w.sum() == 0:
        raise ValueError("sample_weight sums to zero; at least one sample needs weight")
    return w


def _rowwise_average(values, sample_weight):
    return float(np.average(values, weights=sample_weight))


def _safe_divide(num, den):
    """num / den with 0 where den == 0 (scikit-learn's ``zero_division=0``)."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _label_counts(T, P, sample_weight):
    """Per-label (weighted) true positives, predicted positives and true positives."""
    w = np.ones(T.shape[0]) if sample_weight is None else sample_weight
    tp = w @ (T & P)
    n_pred = w @ P
    n_true = w @ T
    return tp, n_pred, n_true


# --------------------------------------------------------------------------- row metrics
def hamming_loss(Y_true, Y_pred, *, sample_weight=None):
    """Fraction of label cells predicted wrongly (lower is better).

    Equal to :func:`sklearn.metrics.hamming_loss` on indicator matrices.

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        In ``[0, 1]``; ``0`` for a perfect prediction.

    Examples
    --------
    >>> from posterml.metrics import hamming_loss
    >>> hamming_loss([[1, 0, 1], [0, 1, 0]], [[1, 1, 1], [0, 1, 0]])
    0.16666666666666666
    """
    T, P = _check_pair(Y_true, Y_pred)
    w = _check_sample_weight(sample_weight, T.shape[0])
    return _rowwise_average((T != P).mean(axis=1), w)


def binary_accuracy(Y_true, Y_pred, *, sample_weight=None):
    """Fraction of label cells predicted correctly: ``1 - hamming_loss``.

    This is the "Binary" column of seed 000's results table (Keras ``binary_accuracy``).

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> from posterml.metrics import binary_accuracy
    >>> round(binary_accuracy([[1, 0, 1], [0, 1, 0]], [[1, 1, 1], [0, 1, 0]]), 4)
    0.8333
    """
    return 1.0 - hamming_loss(Y_true, Y_pred, sample_weight=sample_weight)


def all_match(Y_true, Y_pred, *, sample_weight=None):
    """Subset accuracy: fraction of movies whose predicted genre set equals the true set.

    Equal to :func:`sklearn.metrics.accuracy_score` on indicator matrices (seed 000's
    "All Match").

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> from posterml.metrics import all_match
    >>> all_match([[1, 0, 1], [0, 1, 0]], [[1, 0, 1], [0, 1, 1]])
    0.5
    """
    T, P = _check_pair(Y_true, Y_pred)
    w = _check_sample_weight(sample_weight, T.shape[0])
    return _rowwise_average((T == P).all(axis=1), w)


def at_least_one_match(Y_true, Y_pred, *, sample_weight=None):
    """Fraction of movies for which at least one predicted genre is a true genre.

    A movie counts when ``|predicted ∩ true| >= 1``; extra wrong genres do not matter.
    Movies with no true genre (or no predicted genre) never count.

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        In ``[0, 1]``.

    See Also
    --------
    predicted_subset_match : what seed 000 reported under the name "At least one match".

    Examples
    --------
    >>> from posterml.metrics import at_least_one_match
    >>> at_least_one_match([[1, 0, 1], [0, 1, 0]], [[1, 1, 0], [0, 0, 1]])
    0.5
    """
    T, P = _check_pair(Y_true, Y_pred)
    w = _check_sample_weight(sample_weight, T.shape[0])
    return _rowwise_average((T & P).any(axis=1), w)


def predicted_subset_match(Y_true, Y_pred, *, sample_weight=None):
    """Fraction of movies whose predicted genre set is non-empty and inside the true set.

    Seed 000 reported this quantity as "At least one match", but its code counted a movie only
    when *every* predicted genre was a true genre (and at least one genre was predicted). So a
    prediction ``{Drama, Horror}`` for a ``{Drama}`` movie matches under
    :func:`at_least_one_match` but not here, while ``{Drama}`` for ``{Drama, Comedy}`` matches
    under both. Every movie counted here is counted by :func:`at_least_one_match`, and every
    exact match (:func:`all_match`) of a movie that has a genre is counted here.

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        In ``[0, 1]``; ``0`` when nothing is predicted.

    Examples
    --------
    >>> from posterml.metrics import predicted_subset_match
    >>> Y_true = [[1, 0, 1], [1, 0, 0]]
    >>> Y_pred = [[1, 0, 0], [1, 0, 1]]
    >>> predicted_subset_match(Y_true, Y_pred)  # the second row predicts a wrong genre
    0.5
    """
    T, P = _check_pair(Y_true, Y_pred)
    w = _check_sample_weight(sample_weight, T.shape[0])
    inside = ~(P & ~T).any(axis=1)
    return _rowwise_average(P.any(axis=1) & inside, w)


# --------------------------------------------------------------------------- label metrics
def overall_precision(Y_true, Y_pred, *, sample_weight=None):
    """Micro-averaged precision over all (movie, genre) cells (seed 001's "OP").

    Equal to ``sklearn.metrics.precision_score(average="micro", zero_division=0)``.

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        ``TP / (TP + FP)``; ``0`` when nothing is predicted.

    Examples
    --------
    >>> from posterml.metrics import overall_precision
    >>> overall_precision([[1, 0, 1], [0, 1, 0]], [[1, 1, 0], [0, 1, 0]])
    0.6666666666666666
    """
    T, P = _check_pair(Y_true, Y_pred)
    tp, n_pred, _ = _label_counts(T, P, _check_sample_weight(sample_weight, T.shape[0]))
    return float(_safe_divide(tp.sum(), n_pred.sum()))


def overall_recall(Y_true, Y_pred, *, sample_weight=None):
    """Micro-averaged recall over all (movie, genre) cells (seed 001's "OR").

    Equal to ``sklearn.metrics.recall_score(average="micro", zero_division=0)``.

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        ``TP / (TP + FN)``; ``0`` when there is no true genre at all.

    Examples
    --------
    >>> from posterml.metrics import overall_recall
    >>> overall_recall([[1, 0, 1], [0, 1, 0]], [[1, 1, 0], [0, 1, 0]])
    0.6666666666666666
    """
    T, P = _check_pair(Y_true, Y_pred)
    tp, _, n_true = _label_counts(T, P, _check_sample_weight(sample_weight, T.shape[0]))
    return float(_safe_divide(tp.sum(), n_true.sum()))


def overall_f1(Y_true, Y_pred, *, sample_weight=None):
    """Micro-averaged F1 (seed 001's "OF1").

    Equal to ``sklearn.metrics.f1_score(average="micro", zero_division=0)``.

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        ``2 TP / (2 TP + FP + FN)``; ``0`` when there is neither a true nor a predicted genre.

    Examples
    --------
    >>> from posterml.metrics import overall_f1
    >>> overall_f1([[1, 0, 1], [0, 1, 0]], [[1, 1, 0], [0, 1, 0]])
    0.6666666666666666
    """
    T, P = _check_pair(Y_true, Y_pred)
    tp, n_pred, n_true = _label_counts(T, P, _check_sample_weight(sample_weight, T.shape[0]))
    return float(_safe_divide(2 * tp.sum(), n_pred.sum() + n_true.sum()))


def _per_label_prf(tp, n_pred, n_true):
    precision = _safe_divide(tp, n_pred)
    recall = _safe_divide(tp, n_true)
    f1 = _safe_divide(2 * tp, n_pred + n_true)
    return precision, recall, f1


def weighted_f1(Y_true, Y_pred, *, sample_weight=None):
    """Per-genre F1 averaged with the genres' supports as weights (seed 003).

    Equal to ``sklearn.metrics.f1_score(average="weighted", zero_division=0)``.

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        In ``[0, 1]``; ``0`` when ``Y_true`` has no positive cell.

    Examples
    --------
    >>> from posterml.metrics import weighted_f1
    >>> round(weighted_f1([[1, 0, 1], [0, 1, 0]], [[1, 1, 0], [0, 1, 0]]), 4)
    0.5556
    """
    T, P = _check_pair(Y_true, Y_pred)
    tp, n_pred, n_true = _label_counts(T, P, _check_sample_weight(sample_weight, T.shape[0]))
    _, _, f1 = _per_label_prf(tp, n_pred, n_true)
    total = n_true.sum()
    if total == 0:
        return 0.0
    return float(f1 @ n_true / total)


def per_genre_report(Y_true, Y_pred, genres=None, *, sample_weight=None):
    """Precision, recall, F1 and support for each genre, plus micro/macro/weighted averages.

    The numbers equal those of ``sklearn.metrics.classification_report(..., zero_division=0)``.

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    genres : sequence of str, default=None
        Genre names, one per column. When ``None``, the columns of ``Y_true`` are used if it is
        a DataFrame, else the column indices ``0 .. n_labels - 1``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie; supports are then weighted sums.

    Returns
    -------
    pandas.DataFrame
        Indexed by genre then the rows ``"micro avg"``, ``"macro avg"``, ``"weighted avg"``;
        columns ``precision``, ``recall``, ``f1``, ``support`` (the average rows carry the
        total support).

    Examples
    --------
    >>> from posterml.metrics import per_genre_report
    >>> report = per_genre_report([[1, 0], [1, 1]], [[1, 1], [0, 1]], genres=["Drama", "Comedy"])
    >>> report.loc["Drama", ["precision", "recall", "support"]].tolist()
    [1.0, 0.5, 2.0]
    >>> list(report.index)
    ['Drama', 'Comedy', 'micro avg', 'macro avg', 'weighted avg']
    """
    T, P = _check_pair(Y_true, Y_pred)
    n_labels = T.shape[1]
    if genres is None:
        genres = list(Y_true.columns) if isinstance(Y_true, pd.DataFrame) else range(n_labels)
    genres = list(genres)
    if len(genres) != n_labels:
        raise ValueError(f"genres has {len(genres)} names but Y_true has {n_labels} label columns")
    if len(set(genres)) != len(genres):
        dupes = sorted({str(g) for g in genres if genres.count(g) > 1})
        raise ValueError(f"genres must be unique; repeated: {dupes}")
    avg_names = ["micro avg", "macro avg", "weighted avg"]
    clash = [g for g in genres if g in avg_names]
    if clash:
        raise ValueError(f"genre names {clash} clash with the report's average rows")

    w = _check_sample_weight(sample_weight, T.shape[0])
    tp, n_pred, n_true = _label_counts(T, P, w)
    precision, recall, f1 = _per_label_prf(tp, n_pred, n_true)
    total = n_true.sum()
    micro = _per_label_prf(tp.sum(), n_pred.sum(), n_true.sum())
    macro = (precision.mean(), recall.mean(), f1.mean())
    if total > 0:
        weighted = tuple(float(v @ n_true / total) for v in (precision, recall, f1))
    else:
        weighted = (0.0, 0.0, 0.0)

    rows = np.column_stack([precision, recall, f1, n_true])
    avg_rows = np.array([[*map(float, stats), total] for stats in (micro, macro, weighted)])
    report = pd.DataFrame(
        np.vstack([rows, avg_rows]),
        index=pd.Index([*genres, *avg_names], name="genre"),
        columns=["precision", "recall", "f1", "support"],
    )
    if w is None:
        report["support"] = report["support"].round().astype(np.int64)
    return report


# --------------------------------------------------------------------------- ranking metrics
def _check_scores(scores, n_labels_expected=None):
    """Turn scores or ``predict_proba`` output into an ``(n_samples, n_labels)`` float matrix.

    Accepts a single matrix, or scikit-learn's multi-output ``predict_proba`` format: a list with
    one ``(n_samples, 2)`` array per label whose second column is the positive-class probability.
    """
    if isinstance(scores, list | tuple) and scores and np.ndim(scores[0]) == 2:
        columns = []
        for j, proba in enumerate(scores):
            proba = np.asarray(proba, dtype=float)
            if proba.ndim != 2 or proba.shape[1] != 2:
                raise ValueError(
                    f"scores is a list of per-label predict_proba arrays, but entry {j} has shape "
                    f"{proba.shape} instead of (n_samples, 2); a label seen with a single class in "
                    "training has no positive-class column (posterml's top-k scorers recover it "
                    "from the estimator's classes_)"
                )
            columns.append(proba[:, 1])
        if len({c.shape[0] for c in columns}) != 1:
            raise ValueError("the per-label predict_proba arrays have different numbers of rows")
        S = np.column_stack(columns)
    else:
        if sp.issparse(scores):
            scores = scores.toarray()
        S = np.asarray(scores, dtype=float)
        if S.ndim != 2:
            raise ValueError(
                "scores must be a 2-D array of shape (n_samples, n_labels) or a list of "
                f"(n_samples, 2) predict_proba arrays; got shape {S.shape}"
            )
    if not np.all(np.isfinite(S)):
        raise ValueError("scores contain NaN or infinite values")
    return S


def _top_k_columns(S, k):
    """Columns of the ``k`` largest scores per row, best first; equal scores: lower column."""
    if k > 8:  # a stable sort of the negated scores keeps the lower column first among equals
        return np.argsort(-S, axis=1, kind="stable")[:, :k]
    # few picks: repeated argmax (first maximum = lower column), k passes instead of a sort
    S = S.copy()
    rows = np.arange(S.shape[0])
    top = np.empty((S.shape[0], k), dtype=np.intp)
    for j in range(k):
        top[:, j] = np.argmax(S, axis=1)
        S[rows, top[:, j]] = -np.inf
    return top


def _top_k_hits(Y_true, scores, k, sample_weight):
    _check_same_genres(Y_true, scores, "scores")
    T = _check_indicator(Y_true, "Y_true")
    S = _check_scores(scores)
    if S.shape != T.shape:
        raise _shape_error(T, S, "scores")
    n_labels = T.shape[1]
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer; got {k!r}")
    if not 1 <= k <= n_labels:
        raise ValueError(f"k must be between 1 and the number of labels ({n_labels}); got {k}")
    w = _check_sample_weight(sample_weight, T.shape[0])
    top = _top_k_columns(S, k)
    hits = np.take_along_axis(T, top, axis=1)
    return hits, w


def top_k_accuracy(Y_true, scores, *, k=3, sample_weight=None):
    """Fraction of movies for which at least one of the ``k`` best-scored genres is true.

    Seed 002 shows the three most probable genres of a poster; this metric asks whether any of
    them is right. Movies with no true genre never count.

    Parameters
    ----------
    Y_true : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrix.
    scores : array-like of shape (n_samples, n_labels) or list of (n_samples, 2) arrays
        Scores or probabilities per genre; the list form is scikit-learn's multi-output
        ``predict_proba`` output (the second column of each array is used).
    k : int, default=3
        Number of top-scored genres considered, ``1 <= k <= n_labels``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        In ``[0, 1]``.

    Notes
    -----
    Ties among scores are broken in favour of the lower label index, so the result is
    deterministic.

    Examples
    --------
    >>> from posterml.metrics import top_k_accuracy
    >>> Y_true = [[0, 0, 1, 0], [1, 0, 0, 0]]
    >>> scores = [[0.1, 0.5, 0.3, 0.1], [0.2, 0.3, 0.4, 0.1]]
    >>> top_k_accuracy(Y_true, scores, k=2)
    0.5
    >>> top_k_accuracy(Y_true, scores, k=3)
    1.0
    """
    hits, w = _top_k_hits(Y_true, scores, k, sample_weight)
    return _rowwise_average(hits.any(axis=1), w)


def top_k_precision(Y_true, scores, *, k=3, sample_weight=None):
    """Mean fraction of the ``k`` best-scored genres that are true genres.

    Parameters
    ----------
    Y_true : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrix.
    scores : array-like of shape (n_samples, n_labels) or list of (n_samples, 2) arrays
        Scores or probabilities per genre (see :func:`top_k_accuracy`).
    k : int, default=3
        Number of top-scored genres considered, ``1 <= k <= n_labels``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    float
        In ``[0, 1]``. A movie with fewer than ``k`` true genres cannot reach 1.

    Notes
    -----
    Ties among scores are broken in favour of the lower label index.

    Examples
    --------
    >>> from posterml.metrics import top_k_precision
    >>> Y_true = [[1, 0, 1, 0], [1, 0, 0, 0]]
    >>> scores = [[0.9, 0.5, 0.3, 0.1], [0.2, 0.3, 0.4, 0.1]]
    >>> top_k_precision(Y_true, scores, k=2)
    0.25
    """
    hits, w = _top_k_hits(Y_true, scores, k, sample_weight)
    return _rowwise_average(hits.mean(axis=1), w)


# --------------------------------------------------------------------------- seed table
def seed_metrics(Y_true, Y_pred, *, sample_weight=None):
    """The four columns of seed 000's results table, in its order.

    Parameters
    ----------
    Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary indicator matrices.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each movie.

    Returns
    -------
    dict
        ``{"All Match": ..., "At least one match": ..., "Binary": ..., "Hamming Loss": ...}``.
        "At least one match" is :func:`at_least_one_match` (at least one predicted genre is
        true), not seed 000's own computation, which is :func:`predicted_subset_match`.

    Examples
    --------
    >>> from posterml.metrics import seed_metrics
    >>> scores = seed_metrics([[1, 0, 1], [0, 1, 0]], [[1, 0, 0], [0, 1, 0]])
    >>> {name: round(value, 4) for name, value in scores.items()}
    {'All Match': 0.5, 'At least one match': 1.0, 'Binary': 0.8333, 'Hamming Loss': 0.1667}
    """
    T, P = _check_pair(Y_true, Y_pred)
    kwargs = {"sample_weight": sample_weight}
    return {
        "All Match": all_match(T, P, **kwargs),
        "At least one match": at_least_one_match(T, P, **kwargs),
        "Binary": binary_accuracy(T, P, **kwargs),
        "Hamming Loss": hamming_loss(T, P, **kwargs),
    }
