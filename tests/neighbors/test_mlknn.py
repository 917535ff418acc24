import pickle
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from posterml.neighbors import MLkNN


def _data(seed=0, n=240, d=8, n_labels=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, n_labels))
    Y = ((X @ W + rng.normal(scale=1.5, size=(n, n_labels))) > 1.0).astype(int)
    Y[:3, :] = 1  # every label has positives
    return X, Y


def _paper_reference(X, Y, Xq, k, s):
    """Zhang & Zhou (2007), Fig. 1, with explicit loops and brute-force neighbours."""
    n, n_labels = Y.shape

    def neighbours(x, exclude=None):
        d = ((X - x) ** 2).sum(axis=1)
        order = sorted((d[j], j) for j in range(n) if j != exclude)
        return [j for _, j in order[:k]]

    prior = [(s + Y[:, lab].sum()) / (2 * s + n) for lab in range(n_labels)]
    c = np.zeros((n_labels, k + 1))
    c_not = np.zeros((n_labels, k + 1))
    for i in range(n):
        nb = neighbours(X[i], exclude=i)
        for lab in range(n_labels):
            delta = sum(Y[j, lab] for j in nb)
            if Y[i, lab]:
                c[lab, delta] += 1
            else:
                c_not[lab, delta] += 1
    proba = np.zeros((len(Xq), n_labels))
    pred = np.zeros((len(Xq), n_labels), dtype=int)
    for t, x in enumerate(Xq):
        nb = neighbours(x)
        for lab in range(n_labels):
            cl = sum(Y[j, lab] for j in nb)
            p1 = prior[lab] * (s + c[lab, cl]) / (s * (k + 1) + c[lab].sum())
            p0 = (1 - prior[lab]) * (s + c_not[lab, cl]) / (s * (k + 1) + c_not[lab].sum())
            proba[t, lab] = p1 / (p1 + p0)
            pred[t, lab] = int(p1 > p0)
    return pred, proba


@pytest.mark.parametrize(("k", "s"), [(1, 1.0), (5, 1.0), (8, 0.5)])
def test_matches_the_paper_step_by_step(k, s):
    X, Y = _data(1, n=80, d=4, n_labels=3)
    Xq = np.random.default_rng(2).normal(size=(25, 4))
    pred, proba = _paper_reference(X, Y, Xq, k, s)
    model = MLkNN(k=k, s=s).fit(X, Y)
    np.testing.assert_array_equal(model.predict(Xq), pred)
    np.testing.assert_allclose(model.predict_proba(Xq), proba, rtol=1e-12)


def test_paper_mode_excludes_self_and_compat_mode_does_not():
    X, Y = _data(3)
    paper = MLkNN(k=5).fit(X, Y)
    compat = MLkNN(k=5, compat="skmultilearn").fit(X, Y)
    # Counting itself pushes positives' counts up: the likelihood tables must differ.
    assert not np.allclose(paper.cond_true_, compat.cond_true_)
    # With itself counted, a positive always has at least one positive neighbour.
    assert np.all(compat.cond_true_[:, 0] == compat.s / (compat.s * 6 + Y.sum(axis=0)))


def test_compat_mode_equals_scikit_multilearn_ng():
    skm = pytest.importorskip("skmultilearn.adapt", reason="scikit-multilearn-ng (bench extra)")
    for seed in range(3):
        X, Y = _data(seed, n=300)
        Xq = np.random.default_rng(seed + 10).normal(size=(150, 8))
        for k in (1, 4, 10):
            ours = MLkNN(k=k, compat="skmultilearn").fit(X, Y)
            ref = skm.MLkNN(k=k).fit(X, sparse.csr_matrix(Y))
            diff = (ours.predict(Xq) != ref.predict(Xq).toarray()).sum()
            assert diff == 0, f"{diff} label cells differ (seed={seed}, k={k})"
            np.testing.assert_allclose(
                ours.predict_proba(Xq), ref.predict_proba(Xq).toarray(), rtol=1e-12
            )


def test_duplicates_count_each_other_as_neighbours():
    X = np.array([[0.0], [0.0], [10.0], [11.0], [12.0]])
    Y = np.array([[1, 0], [0, 1], [0, 1], [1, 0], [0, 1]])
    model = MLkNN(k=1, on_empty_label="raise").fit(X, Y)
    # Point 0's only neighbour is its duplicate, point 1 (not itself): label 0 count 0.
    _, idx = model.kneighbors()
    assert idx[:2, 0].tolist() == [1, 0]


@pytest.mark.parametrize("backend", ["numpy", "faiss-cpu"])
def test_backends_give_identical_models(backend):
    X, Y = _data(4)
    ref = MLkNN(k=7, backend="faiss-cpu").fit(X, Y)
    other = MLkNN(k=7, backend=backend, batch_size=32).fit(X, Y)
    assert other.backend_ == backend
    np.testing.assert_array_equal(other.cond_true_, ref.cond_true_)
    np.testing.assert_array_equal(other.predict_proba(X), ref.predict_proba(X))


def test_sparse_inputs_and_sparse_output():
    X, Y = _data(5)
    dense = MLkNN(k=5).fit(X, Y)
    sp = MLkNN(k=5).fit(sparse.csr_matrix(X), sparse.csr_matrix(Y))
    out = sp.predict(sparse.csr_matrix(X))
    assert sparse.issparse(out)
    np.testing.assert_array_equal(out.toarray(), dense.predict(X))


def test_label_vector_targets():
    X, Y = _data(6)
    y = np.array(["drama", "comedy", "horror"])[Y[:, :3].argmax(axis=1)]
    model = MLkNN(k=5).fit(X, y)
    assert model.classes_.tolist() == ["comedy", "drama", "horror"]
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])


def test_approximate_search_is_close_to_exact():
    X, Y = _data(7, n=1500, d=16)
    exact = MLkNN(k=10).fit(X, Y).predict(X)
    approx = MLkNN(k=10, algorithm="hnsw").fit(X, Y).predict(X)
    assert (exact == approx).mean() > 0.97


def test_pipeline_clone_gridsearch_pickle_and_repr():
    X, Y = _data(8)
    pipe = make_pipeline(StandardScaler(), MLkNN())
    search = GridSearchCV(
        pipe,
        {"mlknn__k": [3, 7], "mlknn__s": [0.5, 1.0]},
        cv=KFold(3, shuffle=True, random_state=0),
        scoring="f1_micro",
    ).fit(X, Y)
    assert search.best_params_["mlknn__k"] in (3, 7)
    model = search.best_estimator_
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert clone(MLkNN(k=4, s=0.3)).get_params()["k"] == 4
    assert "MLkNN" in MLkNN()._repr_html_()


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.array([[np.nan, 1.0]] * 10), "NaN"),
        (np.array([[np.inf, 1.0]] * 10), "infinity"),
    ],
)
def test_non_finite_input_is_rejected(X, message):
    Y = np.tile([[1, 0], [0, 1]], (5, 1))
    with pytest.raises(ValueError, match=message):
        MLkNN(k=2).fit(X, Y)


def test_bad_input_errors_say_what_to_fix():
    X, Y = _data(9, n=20)
    with pytest.raises(ValueError, match=r"k=20 is too large for 20 training samples.*k <= 19"):
        MLkNN(k=20).fit(X, Y)
    MLkNN(k=20, compat="skmultilearn").fit(X, Y)  # itself counted: 20 points available
    Y_empty = Y.copy()
    Y_empty[:, 2] = 0
    with pytest.raises(ValueError, match=r"label column\(s\) \[2\] have no positive"):
        MLkNN(k=3).fit(X, Y_empty)
    with pytest.warns(UserWarning, match="no positive"):
        MLkNN(k=3, on_empty_label="warn").fit(X, Y_empty)
    model = MLkNN(k=3).fit(X, Y)
    with pytest.raises(ValueError, match="X has 3 features, but MLkNN is expecting 8"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match="0 sample"):
        MLkNN(k=3).fit(X[:0], Y[:0])
    with pytest.raises(ValueError, match=r"only 0 and 1, found values \[0, 2\]"):
        MLkNN(k=3).fit(X, Y * 2)
    with pytest.raises(ValueError, match="multi-class multi-output"):
        MLkNN(k=3).fit(X, Y + Y[:, ::-1] + Y[:, [1, 2, 3, 4, 0]])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MLkNN(k=3).fit(X, Y[:-1])


def test_kneighbors_on_training_set_excludes_self():
    X, Y = _data(10, n=50)
    model = MLkNN(k=4).fit(X, Y)
    dist, idx = model.kneighbors()
    assert idx.shape == (50, 4)
    assert not (idx == np.arange(50)[:, None]).any()
    d2, i2 = model.kneighbors(X, n_neighbors=5)
    np.testing.assert_array_equal(i2[:, 0], np.arange(50))
    np.testing.assert_array_equal(i2[:, 1:], idx)
    np.testing.assert_allclose(d2[:, 1:], dist, rtol=1e-5)


def test_smoothing_is_bounded_so_that_posteriors_stay_finite():
    # Regression (found by tests/test_properties.py): s=1e308 overflowed 2s + n and every
    # posterior was 0 / 0 = nan; s near 5e-324 underflowed the joint probabilities alike.
    X, Y = _data(11, n=40, d=3, n_labels=3)
    with pytest.raises(ValueError, match=r"'s' parameter of MLkNN must be a float in the range"):
        MLkNN(k=3, s=1e308).fit(X, Y)
    with pytest.raises(ValueError, match=r"'s' parameter of MLkNN"):
        MLkNN(k=3, s=5e-324).fit(X, Y)
    for s in (1e-100, 1e100):
        for k in (1, 39):
            proba = MLkNN(k=k, s=s).fit(X, Y).predict_proba(X)
            assert np.isfinite(proba).all()
            assert ((proba >= 0) & (proba <= 1)).all()


@pytest.mark.parametrize(("compat", "expected"), [("paper", 0), ("skmultilearn", 1)])
def test_an_exact_posterior_tie_follows_the_compat_rule(compat, expected):
    # Four copies of one point, k=1: label 0's joint probabilities are equal (0.5 * 0.75 on
    # both sides), so the strict rule says no and scikit-multilearn's >= says yes.
    X = np.zeros((4, 1))
    Y = np.array([[1, 1], [1, 0], [0, 1], [0, 0]])
    model = MLkNN(k=1, compat=compat).fit(X, Y)
    assert model.predict_proba([[0.0]])[0, 0] == 0.5
    assert model.predict([[0.0]])[0, 0] == expected


def test_tiny_smoothing_keeps_the_complement_prior_of_an_all_positive_label():
    # Regression (found by tests/test_properties.py): P(H0) was 1 - P(H1), which cancels to
    # 0 for a label on every training point once s < n * 1e-16; decision_function then
    # warned "divide by zero in log" and returned +inf. Paper mode computes
    # (s + #negatives) / (2s + n); compat mode keeps scikit-multilearn's 1 - P(H1).
    X, Y = _data(12, n=30, d=3, n_labels=3)
    Y[:, 1] = 1
    paper = MLkNN(k=3, s=1e-100).fit(X, Y)
    assert paper.prior_false_[1] == pytest.approx(1e-100 / 30, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(paper.decision_function(X)).all()
    compat = MLkNN(k=3, s=1e-100, compat="skmultilearn").fit(X, Y)
    assert compat.prior_false_[1] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_odds = compat.decision_function(X)
    assert (log_odds[:, 1] == np.inf).all()
    np.testing.assert_array_equal(compat.predict_proba(X)[:, 1], 1.0)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function"])
def test_prediction_memory_beyond_the_output_does_not_grow_with_the_queries(method):
    # numpy reports its allocations to tracemalloc: beyond the output, the peak is one
    # batch's temporaries whatever the number of queries (float64 arrays for every query,
    # 4x the output, before)
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 8)).astype(np.float32)
    Y = (rng.random((500, 25)) < 0.3).astype(int)
    model = MLkNN(k=10, backend="numpy", batch_size=500).fit(X, Y)
    overhead = []
    for n in (10_000, 80_000):
        Q = rng.normal(size=(n, 8)).astype(np.float32)
        tracemalloc.start()
        try:
            result = getattr(model, method)(Q)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.nbytes == n * Y.shape[1] * 8  # int64 or float64
        overhead.append(peak - result.nbytes)
    # 70,000 more queries would cost 14 MB more in whole-array temporaries
    assert overhead[1] < overhead[0] + 200_000, overhead
