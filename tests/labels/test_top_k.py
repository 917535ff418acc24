import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from posterml import MLkNN, TopKGenreClassifier, top_k_genres
from posterml.metrics import get_scorer, top_k_accuracy, top_k_precision


def _movies(n=200, n_genres=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    logits = X @ rng.normal(size=(5, n_genres)) + rng.normal(scale=0.5, size=(n, n_genres))
    return X, (logits > 0.8).astype(int)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_predicts_exactly_k_genres_matching_argsort(k):
    X, Y = _movies()
    model = TopKGenreClassifier(MLkNN(k=7), k=k).fit(X, Y)
    Y_pred = model.predict(X)
    assert Y_pred.shape == Y.shape
    assert Y_pred.dtype.kind == "i"
    assert (Y_pred.sum(axis=1) == k).all()
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(proba, MLkNN(k=7).fit(X, Y).predict_proba(X))
    top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    expected = np.zeros_like(Y_pred)
    np.put_along_axis(expected, top, 1, axis=1)
    np.testing.assert_array_equal(Y_pred, expected)
    # every top-k metric sees the same genres
    hits = (Y_pred & Y).astype(bool)
    assert top_k_accuracy(Y, proba, k=k) == pytest.approx(hits.any(axis=1).mean())
    assert top_k_precision(Y, proba, k=k) == pytest.approx((hits.sum(axis=1) / k).mean())


def test_ties_go_to_the_lower_column():
    class Constant(BaseEstimator):
        """A scorer giving every genre the same probability."""

        def fit(self, X, Y):
            self.n_ = np.shape(Y)[1]
            return self

        def predict_proba(self, X):
            return np.full((len(X), self.n_), 0.5)

    X, Y = _movies(n=20)
    Y_pred = TopKGenreClassifier(Constant(), k=2).fit(X, Y).predict(X)
    assert (Y_pred[:, :2] == 1).all()
    assert not Y_pred[:, 2:].any()


def test_list_of_proba_and_decision_function_estimators():
    X, Y = _movies(seed=1)
    knn = TopKGenreClassifier(KNeighborsClassifier(5), k=2).fit(X, Y)
    proba = knn.predict_proba(X)
    assert proba.shape == Y.shape
    raw = knn.estimator_.predict_proba(X)
    np.testing.assert_allclose(proba[:, 0], raw[0][:, 1])
    svm = TopKGenreClassifier(OneVsRestClassifier(LinearSVC()), k=2).fit(X, Y)
    assert svm.response_method_ == "decision_function"
    assert not hasattr(svm, "predict_proba")
    scores = svm.decision_function(X)
    assert (np.take_along_axis(svm.predict(X), scores.argmax(axis=1)[:, None], 1) == 1).all()


def test_k_is_checked_against_the_targets():
    X, Y = _movies()
    with pytest.raises(ValueError, match=r"between 1 and the number of genres \(6\); got 7"):
        TopKGenreClassifier(MLkNN(), k=7).fit(X, Y)
    with pytest.raises(ValueError, match="only k=1 applies; got k=3"):
        TopKGenreClassifier(MLkNN()).fit(X, Y.argmax(axis=1))
    single = TopKGenreClassifier(MLkNN(), k=1).fit(X, Y.argmax(axis=1))
    np.testing.assert_array_equal(
        single.predict(X), single.classes_[single.predict_proba(X).argmax(axis=1)]
    )


def test_top_k_genres_lists_names_and_scores_best_first():
    scores = np.array([[0.1, 0.9, 0.3, 0.3], [0.4, 0.2, 0.8, 0.6]])
    genres = ["Action", "Comedy", "Drama", "Horror"]
    assert top_k_genres(scores, genres, k=3) == [
        [("Comedy", 0.9), ("Drama", 0.3), ("Horror", 0.3)],
        [("Drama", 0.8), ("Horror", 0.6), ("Action", 0.4)],
    ]
    assert top_k_genres(scores, None, k=1) == [[(1, 0.9)], [(2, 0.8)]]
    as_list = [np.column_stack([1 - scores[:, j], scores[:, j]]) for j in range(4)]
    assert top_k_genres(as_list, genres, k=2) == top_k_genres(scores, genres, k=2)
    with pytest.raises(ValueError, match="genres has 3 names but scores has 4 columns"):
        top_k_genres(scores, genres[:3])
    with pytest.raises(ValueError, match="got 5"):
        top_k_genres(scores, genres, k=5)


def test_in_a_pipeline_and_grid_search():
    X, Y = _movies(n=240, seed=2)
    pipe = Pipeline([("scale", StandardScaler()), ("top", TopKGenreClassifier(MLkNN()))])
    search = GridSearchCV(
        pipe,
        {"top__k": [1, 2, 3], "top__estimator__k": [5, 10]},
        scoring=get_scorer("overall_f1"),
        cv=3,
    ).fit(X, Y)
    assert search.best_params_["top__k"] in (1, 2, 3)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert (search.predict(X).sum(axis=1) == search.best_params_["top__k"]).all()
