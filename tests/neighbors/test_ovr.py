import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from posterml.neighbors import BinaryRelevanceKNN


def _data(seed=0, n=300, d=6, n_labels=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = (X[:, :n_labels] + rng.normal(scale=0.8, size=(n, n_labels)) > 0.4).astype(int)
    return X, Y, rng.normal(size=(120, d))


@pytest.mark.parametrize("k", [1, 4, 5, 10])  # even k exercises sklearn's tie rule
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_same_predictions_as_sklearn_kneighborsclassifier(k, weights):
    X, Y, Xq = _data(k)
    ours = BinaryRelevanceKNN(k=k, weights=weights).fit(X, Y)
    ref = KNeighborsClassifier(k, weights=weights, algorithm="brute").fit(X, Y)
    np.testing.assert_array_equal(ours.predict(Xq), ref.predict(Xq))
    ref_proba = np.column_stack([p[:, 1] for p in ref.predict_proba(Xq)])
    np.testing.assert_allclose(ours.predict_proba(Xq), ref_proba, atol=1e-6)


def test_multiclass_label_vector_like_sklearn():
    X, Y, Xq = _data(11)
    y = Y.argmax(axis=1) + 10
    ours = BinaryRelevanceKNN(k=6).fit(X, y)
    ref = KNeighborsClassifier(6, algorithm="brute").fit(X, y)
    np.testing.assert_array_equal(ours.predict(Xq), ref.predict(Xq))
    np.testing.assert_allclose(ours.predict_proba(Xq), ref.predict_proba(Xq))


def test_exact_duplicate_takes_the_whole_distance_vote():
    X = np.array([[0.0], [0.0], [1.0], [2.0]])
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    model = BinaryRelevanceKNN(k=3, weights="distance").fit(X, Y)
    np.testing.assert_array_equal(model.predict_proba([[0.0]]), [[1.0, 0.0]])


def test_distance_weighted_proba_stays_in_the_unit_interval():
    # Regression (found by tests/test_properties.py): the negative vote was total - pos, so
    # with every neighbour positive pos / (pos + neg) came out as 1 + 2.2e-16.
    X = np.array([[0, -1], [-1, -2], [-2, -2], [-2, 2], [1, 2], [0, 1], [2, 1], [1, 0]], float)
    Y = np.ones((8, 2), dtype=int)
    model = BinaryRelevanceKNN(k=8, weights="distance", backend="numpy").fit(X, Y)
    np.testing.assert_array_equal(model.predict_proba(np.zeros((1, 2))), [[1.0, 1.0]])
    # Cosine distances of parallel rows rounded to about -5e-8: weights of 1 / distance
    # went negative and the probabilities left [0, 1] (-2.4e-7 and 1 + 2.4e-7).
    X = np.array([[1.0, 1e-3], [2.0, 2e-3], [0.3, 0.7], [0.1, 0.2]] * 3)
    Y = np.tile([[1, 0], [0, 1]], (6, 1))
    model = BinaryRelevanceKNN(k=3, weights="distance", metric="cosine").fit(X, Y)
    proba = model.predict_proba(X)
    assert proba.min() >= 0.0
    assert proba.max() <= 1.0
    np.testing.assert_array_equal(model.predict(X), (proba > 0.5).astype(int))


def test_distance_weights_refuse_inner_product_distances():
    # Negated inner products are negative for similar vectors: 1 / distance is no weight.
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    Y = np.array([[1, 0], [0, 1], [1, 1]])
    with pytest.raises(ValueError, match=r"weights='distance' needs non-negative distances"):
        BinaryRelevanceKNN(k=2, weights="distance", metric="inner_product").fit(X, Y)
    BinaryRelevanceKNN(k=2, metric="inner_product").fit(X, Y)  # uniform votes are fine


def test_distance_weights_use_exact_distances_so_a_duplicate_takes_the_whole_vote():
    # Regression (found by tests/test_properties.py): the weights were 1 / the float32
    # matrix-product distances, whose cancellation error (~1e-7 (|q|^2 + |x|^2)) left the
    # duplicate of query 0 at 3.4e-7 instead of 0 on numpy, so it did not take the whole vote
    # (probabilities 3e-4 away from scikit-learn's).
    rng = np.random.default_rng(1)
    n, d = int(rng.integers(3, 20)), int(rng.integers(1, 9))
    X = (rng.normal(size=(n, d)) * 1e-3).astype(np.float32).astype(float)
    Q = np.vstack([X[[1, 2]], rng.normal(size=(int(rng.integers(0, 8)), d)) * 1e-3])
    Y = rng.integers(0, 2, size=(n, 3))
    model = BinaryRelevanceKNN(k=3, weights="distance", backend="numpy").fit(X, Y)
    np.testing.assert_array_equal(model.predict_proba(Q[:2]), Y[[1, 2]])
    ref = KNeighborsClassifier(3, weights="distance", algorithm="brute").fit(X, Y)
    ref_proba = np.column_stack(
        [p[:, -1] * (c[-1] == 1) for p, c in zip(ref.predict_proba(Q), ref.classes_)]
    )
    # the other queries are float64: equal up to their rounding to float32
    np.testing.assert_allclose(model.predict_proba(Q), ref_proba, rtol=1e-6)
