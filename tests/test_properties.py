"""Property-based tests of the neighbour estimators and the label / imbalance meta-estimators.

Inputs (``problems``): 1 to 40 rows, 1 to 8 features, duplicated rows, constant and
all-zero feature columns, tie-heavy integer or quarter-grid features (every float32 and
float64 distance of those is exact), hypothesis' float32 values (subnormals included) or
Gaussian float32 values (tie-free); queries that coincide with training rows; targets are
0/1 indicator matrices (all-zero and all-one columns included) or label vectors (one to
four classes, integer or string); ``k`` runs from 1 to ``n + 2``. ``wide_matrices`` adds
magnitudes up to 1e300 for the float32 range check.

Every estimator may fail only with a documented ``ValueError``, and only when its documented
condition holds: the allowed messages are the regexes of ``DOCUMENTED``. Any other exception,
a documented one raised where its condition does not hold (or not raised where it does), or
an unexpected warning fails.

References written here, independently of posterml's code:

- ``_paper_reference``: ML-kNN of Zhang & Zhou (2007, Fig. 1) by brute force, with float64
  distances of the float32 features (posterml searches float32 vectors) and ties broken
  towards the lower training index, posterml's documented tie rule.
- ``_skmultilearn_reference``: scikit-multilearn's algorithm (each training point among its
  own ``k`` neighbours, ``1 - P(H1)``, ``p_true >= p_false``); where no distance tie at the
  k-th place makes scikit-learn's own tie order matter, scikit-multilearn-ng itself (the
  bench extra) when installed; scikit-learn's ``KNeighborsClassifier`` likewise for
  ``BinaryRelevanceKNN``.
- exact rational (``fractions.Fraction``) MAP decisions.

Off the exact grid, the references compare only where no near-tie at the k-th place lets
the rounding of a float64 sum decide a neighbour set (``_comparable``). Failures print the
falsifying example and an exact ``@reproduce_failure`` blob; ``POSTERML_PROPERTY_SCALE`` scales
the number of examples.
"""

import contextlib
import importlib.util
import os
import re
import warnings
from fractions import Fraction

import numpy as np
import pytest
from _support import time_limit
from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from posterml.imbalance import MultilabelRandomOverSampler
from posterml.labels import PerGenreThresholdClassifier, TopKGenreClassifier
from posterml.model_selection import MLkNNCV, ksweep
from posterml.model_selection._ksweep import _resolve_scoring
from posterml.neighbors import BinaryRelevanceKNN, MLkNN, NeighborSearch

# POSTERML_PROPERTY_SCALE=10 runs ten times the examples (a longer hunt; the default keeps
# the file well under a minute on two loaded cores).
_SCALE = float(os.environ.get("POSTERML_PROPERTY_SCALE", "1"))


def _settings(n):
    # no deadline: a loaded machine makes timings meaningless; print_blob: a failure prints
    # @reproduce_failure(...), which replays it exactly (the arrays' repr rounds float32)
    return settings(max_examples=max(1, round(n * _SCALE)), deadline=None, print_blob=True)


CPU_BACKENDS = ["numpy", "faiss-cpu"] + (
    ["torch-cpu"] if importlib.util.find_spec("torch") is not None else []
)
HAS_SKMULTILEARN = importlib.util.find_spec("skmultilearn") is not None
# Most estimator properties run on numpy; test_neighbor_search_backends_* shows that every
# backend gives the same neighbours.
FAST = "numpy"


def _jobs(backend):
    # faiss' default OpenMP threads cost ~20 ms a search on these tiny sets on a loaded
    # 2-core machine (0.1 ms with one thread); a flat search's result does not depend on them
    return 1 if backend == "faiss-cpu" else None


# Every ValueError message an estimator may raise on these inputs; anything else fails.
DOCUMENTED = {
    # MLkNN / BinaryRelevanceKNN: k larger than the points each training point can see
    "k_too_large": r"^k=(\d+) is too large for (\d+) training samples",
    # MLkNN(on_empty_label="raise"): a label column without positives, named
    "empty_label": r"^label column\(s\) \[([\d, ]*)\] have no positive training example",
    # a label vector with a single class
    "one_class": r"^y has only one class \((.+)\): a classifier needs at least 2 classes",
    # NeighborSearch.kneighbors: more neighbours than indexed points
    "search_k": r"^k=(\d+) neighbours requested but only (\d+) indexed points are available",
    # NeighborSearch: features whose float32 distances would overflow
    "too_large": r"row (\d+) is too large for float32 distances",
    # TopKGenreClassifier
    "top_k": r"^k must be between 1 and the number of genres \((\d+)\); got (\d+)",
    "top_k_vector": r"^y is a label vector \(\w+, one class per movie\), so only k=1 applies",
    # PerGenreThresholdClassifier
    "threshold_multiclass": r"^Only binary classification is supported",
    # ksweep / MLkNNCV
    "no_k": r"^no k in \[[\d, ]*\] fits the smallest training fold \((\d+) samples\)",
    # MultilabelRandomOverSampler
    "ros_empty": r"^label (column \d+(, )?)+ of y has no positive sample",
    "ros_n_least": r"^n_least_frequent=(\d+) must be smaller than the number of label columns",
}
EMPTY_LABEL_WARNING = r"label column\(s\) \[([\d, ]*)\] have no positive training example"


def _match(kind, exc):
    found = re.search(DOCUMENTED[kind], str(exc))
    assert found, f"undocumented ValueError (expected {kind!r}): {exc}"
    return found


@contextlib.contextmanager
def _expect(kind=None):
    """Fail on any exception but the documented ValueError ``kind`` (None: none at all).

    Yields a list that holds the ValueError's regex match when it was raised.
    """
    caught = []
    try:
        yield caught
    except ValueError as exc:
        if kind is None:
            raise
        caught.append(_match(kind, exc))
        event(f"documented ValueError: {kind}")
        return
    assert kind is None, f"documented ValueError {kind!r} was not raised"
    event("no error")


# --------------------------------------------------------------------------- strategies
EXACT_KINDS = ("int", "grid")  # every distance exact in float32 and float64
# "float": hypothesis' float32 values (repeats, subnormals, extremes of +-1e3); "normal":
# Gaussian float32 values from a drawn seed, left as drawn: tie-free almost surely, the case
# where training-row order must not matter and scikit-learn's own tie order cannot matter
ALL_KINDS = EXACT_KINDS + ("float", "normal")

_ELEMENTS = {
    "int": st.integers(-2, 2).map(float),  # tie-heavy: 5 values per feature
    "grid": st.integers(-16, 16).map(lambda v: v / 4),
    "float": st.floats(-1e3, 1e3, width=32, allow_nan=False, allow_infinity=False),
}


@st.composite
def feature_matrices(draw, n, d, kinds=ALL_KINDS):
    """``(n, d)`` float64 features (float32-representable) with duplicates and constants."""
    kind = draw(st.sampled_from(kinds))
    if kind == "normal":
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        # 1e-22: float32 squares in the subnormal range (the underflow floor of the near-tie
        # tolerance); 1e15: float32 cancellation errors far above 1
        scale = draw(st.sampled_from([1e-22, 1e-3, 1.0, 1e3, 1e15]))
        return (rng.standard_normal((n, d)) * scale).astype(np.float32).astype(np.float64)
    X = draw(arrays(np.float64, (n, d), elements=_ELEMENTS[kind]))
    for _ in range(draw(st.integers(0, min(n, 6)))):  # duplicated rows
        src, dst = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        X[dst] = X[src]
    for j in draw(st.sets(st.integers(0, d - 1), max_size=d)):  # constant columns
        X[:, j] = draw(st.sampled_from([0.0, 1.0, -2.0]))
    return X


@st.composite
def indicator_matrices(draw, n, min_labels=2, max_labels=4):
    """``(n, L)`` 0/1 matrices, ``L >= 2`` (one column would read as a label vector)."""
    L = draw(st.integers(min_labels, max_labels))
    Y = draw(arrays(np.int64, (n, L), elements=st.integers(0, 1)))
    if draw(st.integers(0, 3)) == 0:  # all-zero / all-one columns, in a quarter of the cases
        for j in draw(st.sets(st.integers(0, L - 1), min_size=1, max_size=L)):
            Y[:, j] = draw(st.sampled_from([0, 1]))
    elif n > 1:  # otherwise every column has a positive (and a negative)
        Y[0] = 1
        Y[-1] = 0
    return Y


@st.composite
def label_vectors(draw, n):
    n_classes = draw(st.sampled_from([1, 2, 2, 3, 3, 4, 4]))
    codes = draw(arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
    names = draw(st.sampled_from([None, np.array(["drama", "comedy", "horror", "western"])]))
    return codes if names is None else names[codes]


@st.composite
def problems(draw, kinds=ALL_KINDS, vectors=True, max_n=40, min_n=1, k_extra=2):
    """``(X, y, Q, k)``: training set, targets, queries and a k from 1 to ``n + k_extra``."""
    n = draw(st.integers(min_n, max_n))
    d = draw(st.integers(1, 8))
    X = draw(feature_matrices(n, d, kinds))
    if vectors and draw(st.booleans()):
        y = draw(label_vectors(n))
    else:
        y = draw(indicator_matrices(n))
    n_q = draw(st.integers(1, 12))
    Q = draw(feature_matrices(n_q, d, kinds))
    if draw(st.booleans()):  # queries that coincide with training points
        Q[: min(n_q, n)] = X[draw(st.permutations(range(n)))[: min(n_q, n)]]
    k = draw(st.integers(1, n + k_extra))
    return X, y, Q, k


# --------------------------------------------------------------------------- references
def _normalised(A):
    # the documented cosine vectors: float32 rows divided by their (float64) norm
    A = np.asarray(A, dtype=np.float32)
    norms = np.sqrt((A.astype(np.float64) ** 2).sum(axis=1, keepdims=True))
    return (A / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _ref_distances(Q, X, metric):
    """Float64 distances (negated inner products) between the float32 vectors."""
    if metric == "cosine":
        Q, X = _normalised(Q), _normalised(X)
    Q64 = np.asarray(Q, dtype=np.float32).astype(np.float64)
    X64 = np.asarray(X, dtype=np.float32).astype(np.float64)
    if metric in ("euclidean", "sqeuclidean"):
        return ((Q64[:, None, :] - X64[None, :, :]) ** 2).sum(axis=2)
    return -(Q64[:, None, :] * X64[None, :, :]).sum(axis=2)


def _ref_order(D):
    """Each row's columns by (distance, index): the documented tie rule."""
    index = np.broadcast_to(np.arange(D.shape[1]), D.shape)
    return np.lexsort((index, D), axis=-1)


def _ref_neighbours(Q, X, k, metric="euclidean", exclude_self=False):
    D = _ref_distances(Q, X, metric)
    if exclude_self:
        np.fill_diagonal(D, np.inf)
    return _ref_order(D)[:, :k], D


def _boundary_tie(D, k, exclude_self=False, rel=1e-12):
    """Whether some row has a (near-)tie between its k-th and (k+1)-th neighbour.

    Near: within ``rel`` times the largest distance; 1e-12 covers the float64 rounding of a
    sum of up to 8 terms, 1e-9 scikit-learn's float64 matrix-product distances too (on grid
    features every distance is exact and gaps are >= 1/16).
    """
    D = np.array(D, dtype=np.float64)
    if exclude_self:
        np.fill_diagonal(D, np.inf)
    S = np.sort(D, axis=1)
    if S.shape[1] <= k:
        return False
    scale = rel * (np.abs(D[np.isfinite(D)]).max(initial=0.0) + 1e-300)
    return bool(np.any(np.abs(S[:, k] - S[:, k - 1]) <= scale))


def _on_grid(A):
    """Whether every value is a multiple of 1/4 in [-4, 4]: exact distances."""
    return bool(np.isin(A, np.arange(-16, 17) / 4).all())


def _mlknn_tables(Y, train_nb, k, s, complement):
    """Priors and likelihood tables of Zhang & Zhou, Fig. 1 (float64, paper's expressions).

    ``P(H0) = 1 - P(H1)`` as scikit-multilearn computes it (``complement``), or as the
    equal ``(s + #negatives) / (2s + n)``, posterml's paper mode (no cancellation).
    """
    n, L = Y.shape
    prior = np.array([(s + Y[:, lab].sum()) / (s * 2 + n) for lab in range(L)])
    if complement:
        prior_not = 1 - prior
    else:
        prior_not = np.array([(s + (n - Y[:, lab].sum())) / (s * 2 + n) for lab in range(L)])
    c = np.zeros((L, k + 1), dtype=np.int64)
    c_not = np.zeros((L, k + 1), dtype=np.int64)
    for i in range(n):
        for lab in range(L):
            delta = int(Y[train_nb[i], lab].sum())
            if Y[i, lab]:
                c[lab, delta] += 1
            else:
                c_not[lab, delta] += 1
    cond = (s + c) / (s * (k + 1) + c.sum(axis=1, keepdims=True))
    cond_not = (s + c_not) / (s * (k + 1) + c_not.sum(axis=1, keepdims=True))
    return prior, prior_not, cond, cond_not, c, c_not


def _mlknn_posteriors(Y, prior, prior_not, cond, cond_not, query_nb):
    L = Y.shape[1]
    counts = np.array([[int(Y[nb, lab].sum()) for lab in range(L)] for nb in query_nb])
    p1 = prior * cond[np.arange(L), counts]
    p0 = prior_not * cond_not[np.arange(L), counts]
    return p1, p0, counts


def _paper_reference(X, Y, Q, k, s, metric="euclidean"):
    train_nb, _ = _ref_neighbours(X, X, k, metric, exclude_self=True)
    query_nb, _ = _ref_neighbours(Q, X, k, metric)
    prior, prior_not, cond, cond_not, c, c_not = _mlknn_tables(Y, train_nb, k, s, False)
    p1, p0, counts = _mlknn_posteriors(Y, prior, prior_not, cond, cond_not, query_nb)
    return {
        "predict": (p1 > p0).astype(int),
        "proba": p1 / (p1 + p0),
        "prior": prior,
        "prior_not": prior_not,
        "cond": cond,
        "cond_not": cond_not,
        "c": c,
        "c_not": c_not,
        "counts": counts,
    }


def _skmultilearn_reference(X, Y, Q, k, s, metric="euclidean"):
    # scikit-multilearn: the k nearest of *all* training points, the point itself included
    train_nb, _ = _ref_neighbours(X, X, k, metric)
    query_nb, _ = _ref_neighbours(Q, X, k, metric)
    prior, prior_not, cond, cond_not, *_ = _mlknn_tables(Y, train_nb, k, s, True)
    p1, p0, _ = _mlknn_posteriors(Y, prior, prior_not, cond, cond_not, query_nb)
    return {"predict": (p1 >= p0).astype(int), "proba": p1 / (p1 + p0), "cond": cond}


def _exact_map(Y, c, c_not, counts, k, s):
    """Exact rational ``P(H1) P(E|H1)`` vs ``P(H0) P(E|H0)``: +1, 0 (exact tie) or -1."""
    n, L = Y.shape
    s = Fraction(s)
    out = np.zeros(counts.shape, dtype=int)
    for lab in range(L):
        pos = int(Y[:, lab].sum())
        prior = (s + pos) / (2 * s + n)
        tot, tot_not = int(c[lab].sum()), int(c_not[lab].sum())
        for q in range(counts.shape[0]):
            j = counts[q, lab]
            p1 = prior * (s + int(c[lab, j])) / (s * (k + 1) + tot)
            p0 = (1 - prior) * (s + int(c_not[lab, j])) / (s * (k + 1) + tot_not)
            out[q, lab] = (p1 > p0) - (p1 < p0)
    return out


# --------------------------------------------------------------------------- helpers
def _is_indicator(y):
    return np.ndim(y) == 2


def _expected_fit_error(y, k, n, include_self, on_empty_label="raise"):
    """The documented ValueError MLkNN.fit must raise, in the order fit checks (or None)."""
    if not _is_indicator(y) and np.unique(y).size < 2:
        return "one_class"
    if k > (n if include_self else n - 1):
        return "k_too_large"
    if _is_indicator(y) and on_empty_label == "raise" and (np.sum(y, axis=0) == 0).any():
        return "empty_label"
    return None


def _fit_quietly(model, X, y, expected_warning=None):
    """Fit with every warning an error, except ``expected_warning`` (a regex), which must come."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    messages = [str(w.message) for w in caught]
    if expected_warning is None:
        assert not messages, f"unexpected warnings: {messages}"
    else:
        assert any(re.search(expected_warning, m) for m in messages), messages
        others = [m for m in messages if not re.search(expected_warning, m)]
        assert not others, f"unexpected warnings: {others}"
    return model


def _check_proba_and_predict(model, Q, y):
    """Finite probabilities in [0, 1] and ``predict`` their MAP / vote decision."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = model.predict_proba(Q)
        pred = model.predict(Q)
    assert np.isfinite(proba).all(), proba
    assert ((proba >= 0) & (proba <= 1)).all(), proba
    if _is_indicator(y):
        assert proba.shape == (Q.shape[0], np.shape(y)[1])
        pred = np.asarray(pred)
        assert set(np.unique(pred)) <= {0, 1}
        # strictly above / below one half is a decision whatever the tie rule
        assert (pred[proba > 0.5] == 1).all()
        assert (pred[proba < 0.5] == 0).all()
    else:
        assert proba.shape == (Q.shape[0], len(model.classes_))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
        chosen = np.searchsorted(model.classes_, pred)
        assert (model.classes_[chosen] == pred).all()
        np.testing.assert_array_equal(proba[np.arange(len(pred)), chosen], proba.max(axis=1))
    return proba, pred


# --------------------------------------------------------------------------- MLkNN
@_settings(120)
@given(
    problem=problems(),
    compat=st.sampled_from(["paper", "skmultilearn"]),
    on_empty_label=st.sampled_from(["raise", "warn"]),
    metric=st.sampled_from(["euclidean", "cosine", "inner_product"]),
    s=st.one_of(st.sampled_from([1.0, 0.5, 3.0]), st.floats(1e-100, 1e100)),
    sparse_input=st.booleans(),
    backend=st.sampled_from(CPU_BACKENDS),
)
def test_mlknn_only_documented_errors_and_valid_posteriors(
    problem, compat, on_empty_label, metric, s, sparse_input, backend
):
    X, y, Q, k = problem
    n = X.shape[0]
    model = MLkNN(
        k=k,
        s=s,
        compat=compat,
        on_empty_label=on_empty_label,
        metric=metric,
        backend=backend,
        n_jobs=_jobs(backend),
    )
    expected = _expected_fit_error(y, k, n, compat == "skmultilearn", on_empty_label)
    warn = None
    if expected is None and _is_indicator(y) and (np.sum(y, axis=0) == 0).any():
        warn = EMPTY_LABEL_WARNING
    Xf = sparse.csr_matrix(X) if sparse_input else X
    with _expect(expected) as caught:
        _fit_quietly(model, Xf, y, warn)
    if caught:
        found = caught[0]
        if expected == "k_too_large":
            assert found.groups() == (str(k), str(n))
        elif expected == "empty_label":
            empty = np.flatnonzero(np.sum(y, axis=0) == 0).tolist()
            assert found.group(1) == ", ".join(map(str, empty))
        return
    proba, pred = _check_proba_and_predict(model, sparse.csr_matrix(Q) if sparse_input else Q, y)
    if _is_indicator(y):
        # the MAP rule on the joint probabilities: strict (paper) or >= (skmultilearn)
        p1, p0 = model._joint(np.asarray(Q, dtype=np.float64))
        rule = p1 >= p0 if compat == "skmultilearn" else p1 > p0
        np.testing.assert_array_equal(pred, rule.astype(int))
        np.testing.assert_array_equal(proba, p1 / (p1 + p0))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            log_odds = model.decision_function(Q)
        # finite, but for scikit-multilearn's 1 - P(H1) of a label on every training point
        # rounding to 0 (s < n * 1e-16): documented log-odds +inf
        cancelled = np.broadcast_to(model.prior_false_ == 0, log_odds.shape)
        assert compat == "skmultilearn" or not cancelled.any()
        assert np.isfinite(log_odds[~cancelled]).all()
        assert (log_odds[cancelled] == np.inf).all()
        assert (pred[log_odds > 0] == 1).all()
        assert (pred[log_odds < 0] == 0).all()
    for table in (model.prior_true_, model.cond_true_, model.cond_false_):
        assert np.isfinite(table).all()
        assert (table > 0).all()
        assert (table <= 1).all()
    np.testing.assert_allclose(model.prior_true_ + model.prior_false_, 1.0, rtol=1e-15)
    assert compat == "skmultilearn" or (model.prior_false_ > 0).all()
    np.testing.assert_allclose(model.cond_true_.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(model.cond_false_.sum(axis=1), 1.0, rtol=1e-12)


# Four copies of one point, k=1: every point's neighbour is point 0 (point 1 for point 0 in
# paper mode); label 0 then has P(H1) P(E|H1) == P(H0) P(E|H0) exactly, the case where the
# strict (paper) and >= (scikit-multilearn) rules part.
POSTERIOR_TIE = (np.zeros((4, 1)), np.array([[1, 1], [1, 0], [0, 1], [0, 0]]), np.zeros((1, 1)), 1)


def _comparable(X, Q, k, metric, exclude_self, rel=1e-12):
    """Whether the reference's neighbour sets are exact: grid features, or no near-tie at the
    k-th place (where the float64 rounding of the reference's sums could decide)."""
    if _on_grid(X) and _on_grid(Q):
        return True
    comparable = not _boundary_tie(
        _ref_distances(X, X, metric), k, exclude_self=exclude_self, rel=rel
    ) and not _boundary_tie(_ref_distances(Q, X, metric), k, rel=rel)
    event(f"off-grid features, comparable: {comparable}")
    return comparable


@_settings(80)
@given(
    problem=problems(kinds=EXACT_KINDS + ("normal",), vectors=False, min_n=2, k_extra=-1),
    metric=st.sampled_from(["euclidean", "inner_product"]),
    s=st.sampled_from([1.0, 0.5, 2.0, 0.125]),
    backend=st.sampled_from(CPU_BACKENDS),
    batch_size=st.sampled_from([None, 1, 3]),
)
@example(problem=POSTERIOR_TIE, metric="euclidean", s=1.0, backend="numpy", batch_size=None)
def test_mlknn_paper_equals_brute_force_zhang_zhou(problem, metric, s, backend, batch_size):
    X, Y, Q, k = problem
    if not _comparable(X, Q, k, metric, exclude_self=True):
        return
    model = MLkNN(
        k=k,
        s=s,
        metric=metric,
        backend=backend,
        n_jobs=_jobs(backend),
        batch_size=batch_size,
        on_empty_label="warn",
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", EMPTY_LABEL_WARNING)
        model.fit(X, Y)
    ref = _paper_reference(X, Y, Q, k, s, metric)
    if _on_grid(X):  # kneighbors(): each training point's k nearest others, in order
        train_nb, _ = _ref_neighbours(X, X, k, metric, exclude_self=True)
        np.testing.assert_array_equal(model.kneighbors(return_distance=False), train_nb)
    np.testing.assert_array_equal(model.prior_true_, ref["prior"])
    np.testing.assert_array_equal(model.prior_false_, ref["prior_not"])
    np.testing.assert_array_equal(model.cond_true_, ref["cond"])
    np.testing.assert_array_equal(model.cond_false_, ref["cond_not"])
    np.testing.assert_array_equal(model.predict(Q), ref["predict"])
    np.testing.assert_allclose(model.predict_proba(Q), ref["proba"], rtol=1e-13)
    # float64 decisions are the exact rational MAP ones wherever the posteriors differ
    exact = _exact_map(Y, ref["c"], ref["c_not"], ref["counts"], k, s)
    pred = model.predict(Q)
    np.testing.assert_array_equal(pred[exact != 0], (exact[exact != 0] > 0).astype(int))


@_settings(60)
@given(
    problem=problems(kinds=EXACT_KINDS + ("normal",), vectors=False, k_extra=0),
    s=st.sampled_from([1.0, 0.5, 2.0]),
    metric=st.sampled_from(["euclidean", "inner_product"]),
)
@example(problem=POSTERIOR_TIE, s=1.0, metric="euclidean")
def test_mlknn_skmultilearn_compat_equals_its_algorithm(problem, s, metric):
    X, Y, Q, k = problem
    if not _comparable(X, Q, k, metric, exclude_self=False):
        return
    model = MLkNN(
        k=k, s=s, metric=metric, compat="skmultilearn", on_empty_label="warn", backend=FAST
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", EMPTY_LABEL_WARNING)
        model.fit(X, Y)
    ref = _skmultilearn_reference(X, Y, Q, k, s, metric)
    np.testing.assert_array_equal(model.cond_true_, ref["cond"])
    np.testing.assert_array_equal(model.predict(Q), ref["predict"])
    np.testing.assert_allclose(model.predict_proba(Q), ref["proba"], rtol=1e-13)
    if not HAS_SKMULTILEARN or metric != "euclidean":
        return
    # scikit-multilearn-ng itself, where its (scikit-learn's) tie order cannot matter
    if _boundary_tie(_ref_distances(X, X, metric), k, rel=1e-9) or _boundary_tie(
        _ref_distances(Q, X, metric), k, rel=1e-9
    ):
        return
    from skmultilearn.adapt import MLkNN as SkmMLkNN

    event("compared with scikit-multilearn-ng")

    skm = SkmMLkNN(k=k, s=s).fit(X, sparse.csr_matrix(Y))
    np.testing.assert_array_equal(model.predict(Q), skm.predict(Q).toarray())
    np.testing.assert_array_equal(model.predict_proba(Q), skm.predict_proba(Q).toarray())


@_settings(60)
@given(
    problem=problems(kinds=ALL_KINDS, min_n=2, k_extra=-1),
    compat=st.sampled_from(["paper", "skmultilearn"]),
    data=st.data(),
)
def test_mlknn_training_and_query_permutations(problem, compat, data):
    X, y, Q, k = problem
    n = X.shape[0]
    perm = np.array(data.draw(st.permutations(range(n))))
    q_perm = np.array(data.draw(st.permutations(range(Q.shape[0]))))
    include_self = compat == "skmultilearn"
    kw = {"k": k, "compat": compat, "on_empty_label": "warn", "backend": FAST}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", EMPTY_LABEL_WARNING)
        try:
            base = MLkNN(**kw).fit(X, y)
        except ValueError as exc:
            _match("one_class", exc)
            return
        permuted = MLkNN(**kw).fit(X[perm], y[perm])
    # permuting the queries permutes the outputs, ties or not (ties go by training index)
    np.testing.assert_array_equal(base.predict_proba(Q[q_perm]), base.predict_proba(Q)[q_perm])
    np.testing.assert_array_equal(base.predict(Q[q_perm]), base.predict(Q)[q_perm])
    # permuting the training rows changes nothing unless a tie at the k-th place is broken
    # by index, and in any case gives the model of the documented tie order on the new rows
    no_ties = not _boundary_tie(
        _ref_distances(X, X, "euclidean"), k, exclude_self=not include_self
    ) and not _boundary_tie(_ref_distances(Q, X, "euclidean"), k)
    event(f"training permutation, ties at the k-th place: {not no_ties}")
    if no_ties:
        np.testing.assert_array_equal(permuted.cond_true_, base.cond_true_)
        np.testing.assert_array_equal(permuted.cond_false_, base.cond_false_)
        np.testing.assert_array_equal(permuted.predict_proba(Q), base.predict_proba(Q))
        np.testing.assert_array_equal(permuted.predict(Q), base.predict(Q))
    if _is_indicator(y) and _on_grid(X) and _on_grid(Q):
        reference = (_skmultilearn_reference if include_self else _paper_reference)(
            X[perm], y[perm], Q, k, 1.0
        )
        np.testing.assert_array_equal(permuted.predict(Q), reference["predict"])


@_settings(50)
@given(problem=problems(kinds=EXACT_KINDS + ("normal",), min_n=2, k_extra=-1), data=st.data())
def test_euclidean_fit_ignores_feature_column_order(problem, data):
    X, y, Q, k = problem
    cols = np.array(data.draw(st.permutations(range(X.shape[1]))))
    # off the grid, summing the features in another order rounds differently: only a
    # near-tie at the k-th place could then change a neighbour set
    if not _comparable(X, Q, k, "euclidean", exclude_self=True):
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", EMPTY_LABEL_WARNING)
        try:
            a = MLkNN(k=k, on_empty_label="warn", backend=FAST).fit(X, y)
        except ValueError as exc:
            _match("one_class", exc)
            return
        b = MLkNN(k=k, on_empty_label="warn", backend=FAST).fit(X[:, cols], y)
    np.testing.assert_array_equal(a.cond_true_, b.cond_true_)
    np.testing.assert_array_equal(a.predict_proba(Q), b.predict_proba(Q[:, cols]))
    br_a = BinaryRelevanceKNN(k=k, backend=FAST).fit(X, y)
    br_b = BinaryRelevanceKNN(k=k, backend=FAST).fit(X[:, cols], y)
    np.testing.assert_array_equal(br_a.predict(Q), br_b.predict(Q[:, cols]))


_F32_MAX = float(np.finfo(np.float32).max)


def _first_unsearchable_row(A, metric):
    """First row the float32 search must refuse (None if none), for magnitudes far from the
    limits: a value float32 cannot hold, or (but for cosine, normalised first) a squared
    norm past float32 max / 8 (4.3e37; |x| >= 1e20 here). The strategy has none near them."""
    bad = (np.abs(A) > _F32_MAX).any(axis=1)
    if metric != "cosine":
        bad |= (np.abs(A) >= 1e20).any(axis=1)
    rows = np.flatnonzero(bad)
    return int(rows[0]) if rows.size else None


@st.composite
def wide_matrices(draw, n, d):
    """Rows of values +-[1, 2) each scaled by 1 to 1e300: searchable up to 1e17 (squared norms
    below 3.2e35, far under the 4.3e37 limit), refused from 1e20 (squared norms from 1e40),
    not float32 at all from 1e39."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scales = draw(
        arrays(np.float64, n, elements=st.sampled_from([1.0, 1e3, 1e10, 1e17, 1e20, 1e39, 1e300]))
    )
    values = rng.uniform(1, 2, size=(n, d)) * rng.choice([-1.0, 1.0], size=(n, d))
    return values * scales[:, None]


@_settings(60)
@given(
    n=st.integers(2, 20),
    d=st.integers(1, 8),
    metric=st.sampled_from(["euclidean", "cosine", "inner_product"]),
    backend=st.sampled_from(CPU_BACKENDS),
    data=st.data(),
)
def test_features_beyond_float32_range_are_a_documented_error(n, d, metric, backend, data):
    X = data.draw(wide_matrices(n, d))
    Q = data.draw(wide_matrices(data.draw(st.integers(1, 6)), d))
    Y = data.draw(indicator_matrices(n))
    Y[0], Y[-1] = 1, 0  # no empty label: only the features can fail
    model = MLkNN(k=1, metric=metric, backend=backend, n_jobs=_jobs(backend))
    bad = _first_unsearchable_row(X, metric)
    with _expect(None if bad is None else "too_large") as caught, warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X, Y)
    if caught:
        assert caught[0].group(1) == str(bad)
        assert caught[0].string.startswith("X row")
        return
    bad = _first_unsearchable_row(Q, metric)
    with _expect(None if bad is None else "too_large") as caught, warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = model.predict_proba(Q)
    if caught:
        assert caught[0].group(1) == str(bad)
        assert caught[0].string.startswith("query row")
        return
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()


# --------------------------------------------------------------------------- BinaryRelevanceKNN
@_settings(80)
@given(
    problem=problems(),
    weights=st.sampled_from(["uniform", "distance"]),
    metric=st.sampled_from(["euclidean", "cosine"]),
)
def test_binary_relevance_knn_documented_errors_and_votes(problem, weights, metric):
    X, y, Q, k = problem
    n = X.shape[0]
    model = BinaryRelevanceKNN(k=k, weights=weights, metric=metric, backend=FAST)
    expected = _expected_fit_error(y, k, n, include_self=True, on_empty_label="warn")
    with _expect(expected) as caught:
        _fit_quietly(model, X, y)
    if caught:
        return
    proba, pred = _check_proba_and_predict(model, Q, y)
    if metric != "euclidean":
        return
    D = _ref_distances(Q, X, metric)
    if not _boundary_tie(D, k, rel=1e-9):
        # scikit-learn's KNeighborsClassifier, where its tie order cannot matter
        event(f"compared with KNeighborsClassifier, weights={weights}")
        ref = KNeighborsClassifier(k, weights=weights, algorithm="brute").fit(X, y)
        ref_proba = ref.predict_proba(Q)
        if _is_indicator(y):
            ref_proba = np.column_stack(
                [
                    p[:, list(c).index(1)] if 1 in c else np.zeros(len(Q))
                    for p, c in zip(ref_proba, ref.classes_)
                ]
            )
        if weights == "uniform":
            np.testing.assert_array_equal(pred, ref.predict(Q))
            np.testing.assert_allclose(proba, ref_proba, rtol=1e-15)
        else:  # 1 / distance from float32 features: equal up to float32 rounding
            np.testing.assert_allclose(proba, ref_proba, rtol=1e-4, atol=1e-6)
    if weights == "uniform" and (_on_grid(X) and _on_grid(Q) or not _boundary_tie(D, k)):
        # the vote of the k neighbours of the documented order
        nb, _ = _ref_neighbours(Q, X, k)
        if _is_indicator(y):
            np.testing.assert_allclose(proba, y[nb].mean(axis=1), rtol=1e-15)
        if not _boundary_tie(D, k):
            # training data stacked twice: the 2k nearest are the k nearest, twice
            doubled = BinaryRelevanceKNN(k=2 * k, backend=FAST).fit(
                np.vstack([X, X]), np.concatenate([y, y])
            )
            np.testing.assert_allclose(doubled.predict_proba(Q), proba, rtol=1e-15)
            np.testing.assert_array_equal(doubled.predict(Q), pred)


# --------------------------------------------------------------------------- NeighborSearch
@_settings(60)
@given(
    n=st.integers(1, 40),
    d=st.integers(1, 8),
    metric=st.sampled_from(["euclidean", "sqeuclidean", "cosine", "inner_product"]),
    training_queries=st.booleans(),
    batch_size=st.sampled_from([None, 1, 4]),
    block_rows=st.sampled_from([1, 4, 16]),
    ooc_backend=st.sampled_from(CPU_BACKENDS),
    data=st.data(),
)
def test_neighbor_search_backends_agree_in_distance_then_index_order(
    n, d, metric, training_queries, batch_size, block_rows, ooc_backend, data
):
    X = data.draw(feature_matrices(n, d, ALL_KINDS))
    Q = X if training_queries else data.draw(feature_matrices(data.draw(st.integers(1, 12)), d))
    k = data.draw(st.integers(1, n + 2))
    exclude = np.arange(n) if training_queries else None
    available = n - 1 if training_queries else n
    # every CPU backend in memory; one out of core (training blocks merged by (distance,
    # index); a block and query batch per search call, so the cost grows as n^2 / block_rows);
    # torch over two simulated devices (row shards merged alike)
    configs = {b: {"backend": b, "n_jobs": _jobs(b)} for b in CPU_BACKENDS}
    configs[f"{ooc_backend} out of core"] = {
        **configs[ooc_backend],
        "out_of_core": True,
        "block_rows": block_rows,
    }
    if "torch-cpu" in CPU_BACKENDS:
        configs["torch-cpu x2"] = {"backend": "torch-cpu", "devices": ["cpu", "cpu"]}
    results, searches = {}, {}
    for name, params in configs.items():
        search = searches[name] = NeighborSearch(metric=metric, batch_size=batch_size, **params)
        search.fit(X)
        expected = "search_k" if not 1 <= k <= available else None
        with _expect(expected) as caught, warnings.catch_warnings():
            warnings.simplefilter("error")
            results[name] = search.kneighbors(Q, k, exclude=exclude)
        if caught:
            assert caught[0].groups() == (str(k), str(available))
            return
    D = _ref_distances(Q, X, metric)
    if training_queries:
        np.fill_diagonal(D, np.inf)
    # the float32 rounding bound of a distance computed as |q|^2 + |x|^2 - 2 q.x
    Q32 = _normalised(Q) if metric == "cosine" else np.float32(Q)
    X32 = _normalised(X) if metric == "cosine" else np.float32(X)
    q_sq = (Q32.astype(np.float64) ** 2).sum(axis=1)
    x_sq = (X32.astype(np.float64) ** 2).sum(axis=1).max()
    scale = np.sqrt(q_sq * x_sq) if metric in ("cosine", "inner_product") else q_sq + x_sq
    f32 = np.finfo(np.float32)
    bound = (8 * f32.eps * np.sqrt(d) * scale + 4 * d * f32.smallest_normal)[:, None]
    idx = results["numpy"][1]
    for backend, (dist, i_b) in results.items():
        # every backend: the same neighbours, each at its distance up to float32 rounding
        np.testing.assert_array_equal(i_b, idx, err_msg=backend)
        raw = {"euclidean": dist**2, "sqeuclidean": dist, "cosine": dist - 1}.get(metric, dist)
        ref = np.take_along_axis(D, idx, axis=1)
        assert (np.abs(raw - ref) <= bound).all(), (backend, raw, ref)
        if metric in ("euclidean", "sqeuclidean"):
            assert (dist >= 0).all()
        if metric == "cosine":
            assert ((dist >= 0) & (dist <= 2)).all()
    assert idx.shape == (Q.shape[0], k)
    assert idx.dtype == np.int64
    assert all(len(set(row)) == k for row in idx.tolist())
    if training_queries:
        assert not (idx == np.arange(n)[:, None]).any()
    got = np.take_along_axis(D, idx, axis=1)
    best = np.sort(D, axis=1)[:, :k]
    # exact_distances: the float64 distances of the float32 vectors, whatever the backend
    tol = 1e-12 * (np.abs(D[np.isfinite(D)]).max() + 1e-300)
    for name, search in searches.items():
        exact = search.exact_distances(Q, idx)
        if metric == "cosine":  # 1 - cos, clipped to [0, 2]
            np.testing.assert_allclose(exact, np.clip(got + 1, 0, 2), rtol=0, atol=4 * tol)
        else:
            raw = exact**2 if metric == "euclidean" else exact
            np.testing.assert_allclose(raw, got, rtol=0, atol=4 * tol, err_msg=name)
    if _on_grid(X) and _on_grid(Q) and metric != "cosine":
        # exact arithmetic: the documented (distance, index) order, bit for bit
        np.testing.assert_array_equal(idx, _ref_order(D)[:, :k])
    else:
        # the k nearest in order, up to the float64 rounding of a sum of <= 8 terms
        np.testing.assert_allclose(got, best, rtol=0, atol=tol)
        assert (np.diff(got, axis=1) >= -tol).all()
        # identical training vectors (equal distances to any query) come by index
        same = (X32[idx[:, 1:]] == X32[idx[:, :-1]]).all(axis=2)
        assert (np.diff(idx, axis=1)[same] > 0).all()


# --------------------------------------------------------------------------- ksweep / MLkNNCV
def _folds(n, n_splits, seed):
    return list(KFold(n_splits, shuffle=True, random_state=seed).split(np.zeros((n, 1))))


@_settings(40)
@given(
    problem=problems(max_n=30, min_n=4),
    compat=st.sampled_from(["paper", "skmultilearn"]),
    on_empty_label=st.sampled_from(["raise", "warn", "warn"]),
    n_splits=st.integers(2, 4),
    seed=st.integers(0, 3),
    search=st.sampled_from(["shared", "per-fold"]),
    data=st.data(),
)
def test_ksweep_scores_equal_mlknn_fitted_per_fold(
    problem, compat, on_empty_label, n_splits, seed, search, data
):
    X, y, _, _ = problem
    n = X.shape[0]
    assume(n >= n_splits)
    k_values = sorted(data.draw(st.sets(st.integers(1, n + 1), min_size=1, max_size=4)))
    folds = _folds(n, n_splits, seed)
    include_self = compat == "skmultilearn"
    limit = min(len(tr) for tr, _ in folds) - (0 if include_self else 1)
    usable = [k for k in k_values if k <= limit]
    # the errors a fit on each fold would raise, in the order ksweep checks them
    expected = None
    if not _is_indicator(y) and np.unique(y).size < 2:
        expected = "one_class"
    elif not usable:
        expected = "no_k"
    else:
        for train, _ in folds:
            error = _expected_fit_error(y[train], usable[-1], len(train), include_self)
            if error in ("one_class", "empty_label") and (
                error == "one_class" or on_empty_label == "raise"
            ):
                expected = error
                break
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with _expect(expected) as caught:
            res = ksweep(
                X,
                y,
                k_values,
                cv=folds,
                compat=compat,
                on_empty_label=on_empty_label,
                search=search,
                backend=FAST,
            )
        dropped = [str(w.message) for w in seen if re.search(r"^k values \[", str(w.message))]
        if caught:
            return
        assert res["param_k"].tolist() == usable
        # a k too large for the smallest training fold is dropped with a warning naming it
        too_large = [k for k in k_values if k > limit]
        if too_large:
            assert len(dropped) == 1
            assert dropped[0].startswith(f"k values {too_large} exceed"), dropped
        else:
            assert not dropped, dropped
        others = [
            str(w.message)
            for w in seen
            if not re.search(EMPTY_LABEL_WARNING, str(w.message)) and str(w.message) not in dropped
        ]
        assert not others, others
        scorers = _resolve_scoring(None, not _is_indicator(y), np.shape(y)[1] if y.ndim == 2 else 1)
        for j, k in enumerate(usable):
            for f, (train, test) in enumerate(folds):
                model = MLkNN(k=k, compat=compat, on_empty_label=on_empty_label, backend=FAST)
                model.fit(X[train], y[train])
                for name, scorer in scorers.items():
                    value = scorer(model, X[test], y[test])
                    assert res[f"split{f}_test_{name}"][j] == pytest.approx(
                        value, rel=0, abs=0, nan_ok=True
                    ), (name, k, f)


@_settings(25)
@given(problem=problems(kinds=ALL_KINDS, vectors=False, max_n=30, min_n=6), data=st.data())
def test_mlknncv_refits_the_best_k(problem, data):
    X, Y, Q, _ = problem
    Y = Y.copy()
    Y[:2] = 1  # rows 0 and 1 carry every label, but may share a test fold: warn, not raise
    folds = _folds(X.shape[0], 2, 0)
    k_values = sorted(data.draw(st.sets(st.integers(1, X.shape[0] // 2 - 1), min_size=1)))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", EMPTY_LABEL_WARNING)
        model = MLkNNCV(
            k_values=k_values,
            cv=folds,
            scoring=["hamming_loss"],
            on_empty_label="warn",
            backend=FAST,
        ).fit(X, Y)
        ref = MLkNN(k=model.best_k_, on_empty_label="warn", backend=FAST).fit(X, Y)
    scores = model.cv_results_["mean_test_hamming_loss"]
    assert model.best_k_ == k_values[int(np.argmax(scores))]
    np.testing.assert_array_equal(model.best_estimator_.cond_true_, ref.cond_true_)
    np.testing.assert_array_equal(model.predict(Q), ref.predict(Q))
    np.testing.assert_array_equal(model.predict_proba(Q), ref.predict_proba(Q))


# --------------------------------------------------------------------------- label wrappers
@_settings(50)
@given(problem=problems(min_n=2, k_extra=-1), top=st.integers(1, 5))
def test_top_k_genre_classifier_predicts_the_top_scored_columns(problem, top):
    X, y, Q, k = problem
    model = TopKGenreClassifier(MLkNN(k=k, on_empty_label="warn", backend=FAST), k=top)
    if not _is_indicator(y):
        expected = "one_class" if np.unique(y).size < 2 else ("top_k_vector" if top != 1 else None)
    else:
        expected = "top_k" if top > y.shape[1] else None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", EMPTY_LABEL_WARNING)
        with _expect(expected) as caught:
            model.fit(X, y)
    if caught:
        return
    proba = model.predict_proba(Q)
    pred = model.predict(Q)
    if not _is_indicator(y):
        np.testing.assert_array_equal(pred, model.classes_[np.argmax(proba, axis=1)])
        return
    assert (pred.sum(axis=1) == top).all()
    # the top-scored columns, equal scores going to the lower column
    chosen = np.argsort(-proba, axis=1, kind="stable")[:, :top]
    expected_pred = np.zeros_like(pred)
    np.put_along_axis(expected_pred, chosen, 1, axis=1)
    np.testing.assert_array_equal(pred, expected_pred)


@_settings(30)
@given(
    problem=problems(max_n=30, min_n=4, k_extra=-1),
    n_splits=st.integers(2, 3),
    binary_vector=st.booleans(),
)
def test_per_genre_thresholds_maximise_out_of_fold_f1(problem, n_splits, binary_vector):
    X, y, Q, k = problem
    if binary_vector and _is_indicator(y):
        y = y[:, 0]
    n = X.shape[0]
    cv = KFold(n_splits, shuffle=True, random_state=0)
    folds = list(cv.split(X))
    base = MLkNN(k=k, on_empty_label="warn", backend=FAST)
    model = PerGenreThresholdClassifier(base, cv=cv)
    # target checks first, then each fold's fit (cross_val_predict), then the refit
    errors = []
    if not _is_indicator(y) and np.unique(y).size != 2:
        errors.append("one_class" if np.unique(y).size < 2 else "threshold_multiclass")
    errors += [_expected_fit_error(y[train], k, len(train), False, "warn") for train, _ in folds]
    errors.append(_expected_fit_error(y, k, n, False, "warn"))
    expected = next((e for e in errors if e), None)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", EMPTY_LABEL_WARNING)
        warnings.filterwarnings("ignore", r"genre column\(s\) \[.*\] have no positive example")
        with _expect(expected) as caught:
            model.fit(X, y)
        if caught:
            return
        oof = cross_val_predict(base, X, y, cv=cv, method="predict_proba")
    scores = model.estimator_.predict_proba(Q)
    if _is_indicator(y):
        truth = y.astype(bool)
        pred = model.predict(Q)
        np.testing.assert_array_equal(pred, (scores >= model.thresholds_).astype(int))
    else:
        positive = model.classes_[1]
        truth = (y == positive)[:, None]
        oof = oof[:, 1:]
        pred = model.predict(Q)
        np.testing.assert_array_equal(
            pred, model.classes_[(scores[:, 1] >= model.thresholds_[0]).astype(int)]
        )
    for j in range(truth.shape[1]):
        if not truth[:, j].any():
            assert model.thresholds_[j] == np.inf
            continue
        t = model.thresholds_[j]
        got = f1_score(truth[:, j], oof[:, j] >= t, zero_division=0)
        assert model.best_scores_[j] == pytest.approx(got, abs=1e-12)
        for candidate in np.unique(oof[:, j]):  # no distinct decision does better
            better = f1_score(truth[:, j], oof[:, j] >= candidate, zero_division=0)
            assert better <= got + 1e-12, (j, candidate, better, got)


# --------------------------------------------------------------------------- oversampling
@_settings(80)
@given(
    n=st.integers(1, 40),
    data=st.data(),
    strategy=st.sampled_from(["mlros", "least_frequent"]),
    budget=st.sampled_from([None, 0.1, 0.25, 1.0, 3.0]),
    seed=st.integers(0, 5),
)
def test_oversampler_clones_are_copies_of_input_rows(n, data, strategy, budget, seed):
    X = data.draw(feature_matrices(n, data.draw(st.integers(1, 4))))
    Y = data.draw(indicator_matrices(n, min_labels=1, max_labels=5))
    if data.draw(st.booleans()):
        Y[0] = 1  # half the cases: every label has a positive
    L = Y.shape[1]
    n_least = data.draw(st.integers(1, L)) if strategy == "least_frequent" else None
    counts = Y.sum(axis=0)
    expected = None
    if (counts == 0).any():
        expected = "ros_empty"
    elif strategy == "least_frequent" and n_least >= L:
        expected = "ros_n_least"
    ros = MultilabelRandomOverSampler(
        max_clone_percentage=budget,
        strategy=strategy,
        n_least_frequent=n_least,
        random_state=seed,
    )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with time_limit(20), _expect(expected) as caught:
            X_res, Y_res = ros.fit_resample(X, Y)
    messages = [str(w.message) for w in seen]
    stopped = [m for m in messages if m.startswith("ML-ROS stopped after")]
    assert not (set(messages) - set(stopped)), messages
    assert not stopped or (strategy == "mlros" and budget is None)
    if caught:
        if expected == "ros_empty":
            named = re.findall(r"column (\d+)", str(caught[0].group(0)))
            assert [int(j) for j in named] == np.flatnonzero(counts == 0).tolist()
        return
    idx = ros.sample_indices_
    np.testing.assert_array_equal(idx[:n], np.arange(n))
    np.testing.assert_array_equal(X_res, X[idx])
    np.testing.assert_array_equal(Y_res, Y[idx])
    clones = idx[n:]
    if budget is not None:
        assert clones.size <= int(np.floor(budget * n + 1e-9))
    if clones.size:
        carried = Y[clones][:, ros.minority_labels_]
        assert carried.any(axis=1).all(), "a clone carries none of the cloned labels"
    after = Y_res.sum(axis=0)
    assert ros.imbalance_ratio_after_ == pytest.approx((after.max() / after).mean(), rel=1e-12)
    if budget is None and strategy == "mlros" and not stopped:
        # no budget and no warning: every bag closed when its label reached IRLbl <= MeanIR(y)
        # (Charte et al., 2015 check a label only then: later clones of other bags may raise
        # the majority count again). So its final count is at least what the majority count
        # before cloning needs, counts.max() / MeanIR(y)
        irlbl = counts.max() / after
        assert (irlbl[ros.minority_labels_] <= ros.imbalance_ratio_before_ * (1 + 1e-12)).all()
    if budget is None and strategy == "least_frequent":
        # no budget: each of the rarest genres reached the next rarest one's count
        target = counts[np.argsort(counts, kind="stable")[n_least]]
        assert (after[ros.minority_labels_] >= target).all()
