import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score
from sklearn.multioutput import MultiOutputClassifier
from sklearn.svm import LinearSVC

import posterml
from posterml.imbalance import (
    PerGenreWeightedClassifier,
    binary_class_weights,
    compute_log_class_weight,
    multilabel_sample_weight,
)


def _tiny():
    # counts 6, 3, 1 -> total 10
    Y = np.zeros((8, 3), dtype=int)
    Y[:6, 0] = 1
    Y[5:8, 1] = 1
    Y[7, 2] = 1
    return Y


# --------------------------------------------------------------------------- weights
def test_hand_computed_weights():
    w = compute_log_class_weight(_tiny(), mu=1.0)
    # max(1, ln(10 / 6)) = 1, max(1, ln(10 / 3)) = 1.2040, ln(10) = 2.3026
    np.testing.assert_allclose(w, [1.0, math.log(10 / 3), math.log(10)])


def test_default_mu_formula():
    Y = np.zeros((1000, 4), dtype=int)
    Y[:600, 0] = 1
    Y[:300, 1] = 1
    Y[:30, 2] = 1
    Y[:5, 3] = 1
    total = 935
    expected = [max(1.0, math.log(0.15 * total / n)) for n in (600, 300, 30, 5)]
    np.testing.assert_allclose(compute_log_class_weight(Y), expected)
    assert expected[:2] == [1.0, 1.0]
    assert expected[3] == pytest.approx(math.log(0.15 * 935 / 5))


def test_dense_sparse_dataframe_agree_and_sample_weight_counts():
    Y = _tiny()
    dense = compute_log_class_weight(Y, mu=1.0)
    np.testing.assert_allclose(compute_log_class_weight(sp.csr_matrix(Y), mu=1.0), dense)
    df = pd.DataFrame(Y, columns=["Drama", "Horror", "Western"])
    np.testing.assert_allclose(compute_log_class_weight(df, mu=1.0), dense)
    # integer sample weights count like repeated rows
    sw = np.arange(1, 9)
    repeated = np.repeat(Y, sw, axis=0)
    np.testing.assert_allclose(
        compute_log_class_weight(Y, mu=1.0, sample_weight=sw),
        compute_log_class_weight(repeated, mu=1.0),
    )


def test_empty_genre_raises_with_its_name_or_warns():
    Y = _tiny()
    Y[:, 1] = 0
    df = pd.DataFrame(Y, columns=["Drama", "Horror", "Western"])
    with pytest.raises(ValueError, match=r"column 1 \('Horror'\) has no positive"):
        compute_log_class_weight(df)
    with pytest.raises(ValueError, match=r"column 1 \('Noir'\)"):
        compute_log_class_weight(Y, genres=["a", "Noir", "c"])
    with pytest.warns(UserWarning, match="column 1 has no positive"):
        w = compute_log_class_weight(Y, on_empty_label="warn")
    assert w[1] == 1.0


@pytest.mark.parametrize(
    ("Y", "match"),
    [
        (np.array([0, 1, 1]), "2-D indicator matrix"),
        (np.array([[0, 2], [1, 0]]), r"found 2 at row 0, column 1"),
        (np.array([[0.0, np.nan], [1, 0]]), "0/1 indicator"),
        (np.array([["a", "b"]]), "dtype"),
        (np.zeros((0, 3)), "empty"),
    ],
)
def test_bad_indicator_matrices(Y, match):
    with pytest.raises(ValueError, match=match):
        compute_log_class_weight(Y)


def test_bad_parameters():
    with pytest.raises(ValueError, match="mu"):
        compute_log_class_weight(_tiny(), mu=0)
    with pytest.raises(ValueError, match="genres has 2 names but Y has 3"):
        compute_log_class_weight(_tiny(), genres=["a", "b"])


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(1, 500), min_size=1, max_size=8),
    mu=st.floats(0.01, 5.0),
)
def test_property_weights_at_least_one_and_monotone(counts, mu):
    n = max(counts)
    Y = np.zeros((n, len(counts)), dtype=np.uint8)
    for j, c in enumerate(counts):
        Y[:c, j] = 1
    w = compute_log_class_weight(Y, mu=mu)
    assert np.all(w >= 1.0)
    order = np.argsort(counts, kind="stable")
    # rarer genre -> weight at least as large
    assert np.all(np.diff(w[order]) <= 1e-12)


def test_binary_class_weights_dicts():
    weights = binary_class_weights(_tiny(), mu=1.0)
    assert [d[0] for d in weights] == [1.0, 1.0, 1.0]
    assert weights[2][1] == pytest.approx(math.log(10))
    assert all(isinstance(v, float) for d in weights for v in d.values())


def test_multilabel_sample_weight_max_mean_and_unlabelled():
    Y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 0]])
    w = [1.0, 2.0, 4.0]
    np.testing.assert_allclose(multilabel_sample_weight(Y, w), [1, 2, 4, 1])
    np.testing.assert_allclose(multilabel_sample_weight(Y, w, reduce="mean"), [1, 1.5, 3, 1])
    logw = compute_log_class_weight(Y)
    np.testing.assert_allclose(multilabel_sample_weight(Y), multilabel_sample_weight(Y, logw))
    with pytest.raises(ValueError, match="one weight per label column"):
        multilabel_sample_weight(Y, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"found -1.0 for label column 1"):
        multilabel_sample_weight(Y, [1.0, -1.0, 2.0])
    with pytest.raises(ValueError, match="reduce"):
        multilabel_sample_weight(Y, w, reduce="sum")


# --------------------------------------------------------------------------- estimator
def _skewed(seed=0, n=600):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    noise = rng.normal(scale=0.7, size=(n, 3))
    Y = np.column_stack(
        [
            X[:, 0] + noise[:, 0] > -0.5,  # common
            X[:, 1] + noise[:, 1] > 0.5,  # medium
            X[:, 2] + noise[:, 2] > 2.3,  # rare (~3 %)
        ]
    ).astype(int)
    return X, Y


def test_same_as_multioutput_without_weights():
    X, Y = _skewed()
    ours = PerGenreWeightedClassifier(LogisticRegression(), class_weight=None).fit(X, Y)
    ref = MultiOutputClassifier(LogisticRegression()).fit(X, Y)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    ref_proba = np.column_stack([p[:, 1] for p in ref.predict_proba(X)])
    np.testing.assert_allclose(ours.predict_proba(X), ref_proba)
    assert ours.class_weight_ is None


def test_log_weights_raise_rare_genre_recall():
    X, Y = _skewed()
    X_test, Y_test = _skewed(seed=1, n=3000)
    plain = PerGenreWeightedClassifier(LogisticRegression(), class_weight=None).fit(X, Y)
    weighted = PerGenreWeightedClassifier(LogisticRegression(), class_weight="log").fit(X, Y)
    w = compute_log_class_weight(Y)
    assert [d[1] for d in weighted.class_weight_] == pytest.approx(w.tolist())
    assert w[2] > 1.5
    rec_plain = recall_score(Y_test[:, 2], plain.predict(X_test)[:, 2])
    rec_weighted = recall_score(Y_test[:, 2], weighted.predict(X_test)[:, 2])
    assert rec_weighted > rec_plain + 0.05


def test_weights_equal_explicit_sample_weight_fit():
    X, Y = _skewed()
    w = np.array([1.0, 2.0, 5.0])
    clf = PerGenreWeightedClassifier(LogisticRegression(), class_weight=w).fit(X, Y)
    for j in range(3):
        ref = LogisticRegression().fit(X, Y[:, j], sample_weight=np.where(Y[:, j], w[j], 1.0))
        np.testing.assert_allclose(clf.estimators_[j].coef_, ref.coef_)
    # the same through binary_class_weights-style dicts
    dicts = [{0: 1.0, 1: float(v)} for v in w]
    clf2 = PerGenreWeightedClassifier(LogisticRegression(), class_weight=dicts).fit(X, Y)
    np.testing.assert_allclose(clf2.predict_proba(X), clf.predict_proba(X))


def test_decision_function_and_methods_follow_the_base():
    X, Y = _skewed()
    clf = PerGenreWeightedClassifier(LinearSVC()).fit(X, Y)
    assert clf.decision_function(X).shape == Y.shape
    assert not hasattr(clf, "predict_proba")
    np.testing.assert_array_equal(clf.predict(X), (clf.decision_function(X) > 0).astype(int))


def test_n_jobs_gives_the_same_model():
    X, Y = _skewed()
    a = PerGenreWeightedClassifier(LogisticRegression(), n_jobs=1).fit(X, Y)
    b = PerGenreWeightedClassifier(LogisticRegression(), n_jobs=2).fit(X, Y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))


def test_single_class_genre_is_constant_and_warns():
    X, Y = _skewed()
    Y = np.column_stack([Y, np.zeros(len(Y), int), np.ones(len(Y), int)])
    y = pd.DataFrame(Y, columns=["a", "b", "c", "never", "always"])
    with pytest.warns(UserWarning, match=r"column 3 \('never'\), column 4 \('always'\)"):
        clf = PerGenreWeightedClassifier(LogisticRegression()).fit(X, y)
    np.testing.assert_array_equal(clf.constant_labels_, [3, 4])
    proba = clf.predict_proba(X[:5])
    np.testing.assert_array_equal(proba[:, 3:], [[0.0, 1.0]] * 5)
    np.testing.assert_array_equal(clf.predict(X[:5])[:, 3:], [[0, 1]] * 5)
    assert np.isneginf(clf.decision_function(X[:5])[:, 3]).all()


def test_label_vector_uses_sklearn_class_weight_semantics():
    X, Y = _skewed()
    y = Y.argmax(axis=1) + 10  # multi-class vector
    cw = {10: 1.0, 11: 3.0, 12: 0.5}
    clf = PerGenreWeightedClassifier(LogisticRegression(), class_weight=cw).fit(X, y)
    sw = np.array([cw[v] for v in y])
    for j, c in enumerate(clf.classes_):
        ref = LogisticRegression().fit(X, y == c, sample_weight=sw)
        np.testing.assert_allclose(clf.estimators_[j].coef_, ref.coef_)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


def test_sparse_target_gives_sparse_prediction():
    X, Y = _skewed()
    clf = PerGenreWeightedClassifier(LogisticRegression()).fit(X, sp.csr_matrix(Y))
    pred = clf.predict(X)
    assert sp.issparse(pred)
    dense = PerGenreWeightedClassifier(LogisticRegression()).fit(X, Y).predict(X)
    np.testing.assert_array_equal(pred.toarray(), dense)


def test_estimator_errors():
    X, Y = _skewed()
    with pytest.raises(ValueError, match="class_weight has 2 dicts but y has 3 label columns"):
        PerGenreWeightedClassifier(LogisticRegression(), class_weight=[{1: 2.0}] * 2).fit(X, Y)
    with pytest.raises(ValueError, match=r"keys must be the classes 0 \(negative\) and 1"):
        PerGenreWeightedClassifier(LogisticRegression(), class_weight={2: 3.0}).fit(X, Y)
    with pytest.raises(ValueError, match="found 0.0 for label column 1"):
        PerGenreWeightedClassifier(LogisticRegression(), class_weight=[1.0, 0.0, 1.0]).fit(X, Y)
    with pytest.raises(ValueError, match="only 0/1 indicator values; found 2"):
        PerGenreWeightedClassifier(LogisticRegression()).fit(X, Y * 2)
    with pytest.raises(ValueError, match="not classes of y"):
        PerGenreWeightedClassifier(LogisticRegression(), class_weight={5: 2.0}).fit(X, Y[:, 0])

    class NoWeights(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(len(X), int)

    with pytest.raises(TypeError, match="NoWeights.fit does not take sample_weight"):
        PerGenreWeightedClassifier(NoWeights()).fit(X, Y)


def test_public_from_the_top_level():
    assert posterml.PerGenreWeightedClassifier is PerGenreWeightedClassifier
    assert posterml.compute_log_class_weight is compute_log_class_weight


def test_xgboost_per_genre_weights():
    xgb = pytest.importorskip("xgboost")
    X, Y = _skewed()
    base = xgb.XGBClassifier(n_estimators=20, max_depth=2, n_jobs=1, verbosity=0)
    clf = PerGenreWeightedClassifier(base).fit(X, Y)
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape
    assert ((proba >= 0) & (proba <= 1)).all()
    w = compute_log_class_weight(Y)
    ref = xgb.XGBClassifier(n_estimators=20, max_depth=2, n_jobs=1, verbosity=0)
    ref.fit(X, Y[:, 2], sample_weight=np.where(Y[:, 2], w[2], 1.0))
    np.testing.assert_allclose(proba[:, 2], ref.predict_proba(X)[:, 1], rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(X)[:, 2], ref.predict(X))
