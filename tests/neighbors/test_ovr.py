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
