import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, fbeta_score
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from posterml import MLkNN, PerGenreThresholdClassifier
from posterml.model_selection import MultilabelStratifiedGroupKFold


def _imbalanced(n=900, seed=0):
    """Three genres with 4 %, 10 % and 25 % positives, each a noisy linear function of X."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    W = rng.normal(size=(6, 3))
    logits = X @ W + rng.normal(scale=0.8, size=(n, 3))
    cut = np.quantile(logits, [0.96, 0.90, 0.75], axis=0).diagonal()
    return X, (logits > cut).astype(int)


def test_tuning_beats_the_default_threshold():
    X, Y = _imbalanced()
    base = MLkNN(k=15)
    model = PerGenreThresholdClassifier(base, cv=5, random_state=0).fit(X, Y)
    # cross-validated F1 at 0.5, on the same folds
    folds = KFold(5, shuffle=True, random_state=0)
    proba = np.zeros(Y.shape)
    for train, test in folds.split(X):
        proba[test] = clone(base).fit(X[train], Y[train]).predict_proba(X[test])
    f1_at_half = f1_score(Y, proba >= 0.5, average=None, zero_division=0)
    assert (model.best_scores_ >= f1_at_half - 1e-12).all()
    assert model.best_scores_.mean() > f1_at_half.mean() + 0.05
    # and on held-out movies
    tuned = PerGenreThresholdClassifier(base, cv=5, random_state=0).fit(X[:600], Y[:600])
    plain = clone(base).fit(X[:600], Y[:600])
    f1_tuned = f1_score(Y[600:], tuned.predict(X[600:]), average="macro", zero_division=0)
    f1_plain = f1_score(Y[600:], plain.predict(X[600:]), average="macro", zero_division=0)
    assert f1_tuned > f1_plain + 0.05
    assert len(np.unique(model.thresholds_)) == 3
    assert (model.thresholds_ < 0.5).all()


def _brute_force(scores, truth):
    """Lowest threshold with the best sklearn F1, over every threshold worth trying."""
    unique = np.unique(scores)
    candidates = np.concatenate([unique[:1], (unique[:-1] + unique[1:]) / 2])
    values = [f1_score(truth, scores >= t, zero_division=0) for t in candidates]
    best = int(np.argmax(values))
    return candidates[best], values[best]


def test_thresholds_equal_a_brute_force_search():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(24, 2))
    Y = np.column_stack([X[:, 0] > 0.3, X[:, 0] + X[:, 1] > 0, X[:, 1] > 0.8]).astype(int)
    folds = list(KFold(3).split(X))
    base = LogisticRegression()
    model = PerGenreThresholdClassifier(OneVsRestClassifier(base), cv=folds).fit(X, Y)
    scores = np.zeros(Y.shape)
    for train, test in folds:
        for j in range(3):
            fitted = clone(base).fit(X[train], Y[train, j])
            scores[test, j] = fitted.predict_proba(X[test])[:, 1]
    for j in range(3):
        threshold, value = _brute_force(scores[:, j], Y[:, j])
        assert model.thresholds_[j] == pytest.approx(threshold)
        assert model.best_scores_[j] == pytest.approx(value)
        # no threshold of a fine grid does better
        grid = np.linspace(0, 1, 2001)
        predicted = scores[:, j][:, None] >= grid
        tp = (predicted & Y[:, j, None].astype(bool)).sum(axis=0)
        best_on_grid = (2 * tp / (predicted.sum(axis=0) + Y[:, j].sum())).max()
        assert model.best_scores_[j] >= best_on_grid - 1e-12
    full = OneVsRestClassifier(base).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(model.predict(X), (full >= model.thresholds_).astype(int))


@pytest.mark.filterwarnings("ignore:Number of classes in training fold:RuntimeWarning")
def test_list_of_proba_estimators_and_a_genre_absent_from_folds():
    X, Y = _imbalanced(n=300, seed=1)
    Y = Y.copy()
    Y[:, 0] = 0
    Y[[3, 250], 0] = 1  # two positives: most folds train without one
    model = PerGenreThresholdClassifier(KNeighborsClassifier(5), cv=4, random_state=0).fit(X, Y)
    assert np.isfinite(model.thresholds_).all()
    assert model.predict_proba(X).shape == (300, 3)
    assert model.predict(X).shape == (300, 3)


def test_genre_without_positive_is_never_predicted():
    X, Y = _imbalanced(n=200, seed=2)
    Y = pd.DataFrame(Y, columns=["Drama", "Comedy", "Western"])
    Y["Western"] = 0
    base = MLkNN(k=5, on_empty_label="warn")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ML-kNN can never predict")
        with pytest.warns(UserWarning, match=r"\['Western'\] have no positive"):
            model = PerGenreThresholdClassifier(base, cv=3, random_state=0).fit(X, Y)
    assert model.thresholds_[2] == np.inf
    assert model.best_scores_[2] == 0.0
    assert not model.predict(X)[:, 2].any()


def test_group_aware_splitter():
    X, Y = _imbalanced(n=240, seed=4)
    groups = np.repeat(np.arange(120), 2)
    cv = MultilabelStratifiedGroupKFold(n_splits=3, random_state=0)
    model = PerGenreThresholdClassifier(MLkNN(k=5), cv=cv).fit(X, Y, groups=groups)
    assert model.thresholds_.shape == (3,)


def test_int_cv_with_groups_keeps_the_rows_of_a_movie_in_one_fold():
    # every movie twice, labels unrelated to X: a 1-NN finds the twin whenever it is in the
    # training folds, which makes the out-of-fold F1 perfect unless groups are respected
    rng = np.random.default_rng(6)
    X = np.repeat(rng.normal(size=(100, 4)), 2, axis=0)
    Y = np.repeat((rng.random((100, 2)) < 0.3).astype(int), 2, axis=0)
    groups = np.repeat(np.arange(100), 2)
    base = KNeighborsClassifier(n_neighbors=1)
    model = PerGenreThresholdClassifier(base, cv=4, random_state=0).fit(X, Y, groups=groups)
    assert (model.best_scores_ < 0.8).all()
    folds = GroupKFold(4, shuffle=True, random_state=0)
    ref = PerGenreThresholdClassifier(base, cv=folds).fit(X, Y, groups=groups)
    np.testing.assert_allclose(model.best_scores_, ref.best_scores_)
    binary = PerGenreThresholdClassifier(base, cv=4, random_state=0)
    assert binary.fit(X, Y[:, 0], groups=groups).best_scores_[0] < 0.8


def test_threshold_grids_scoring_and_response_method():
    X, Y = _imbalanced(n=300, seed=5)
    grid = PerGenreThresholdClassifier(MLkNN(k=7), cv=3, thresholds=11, random_state=0).fit(X, Y)
    assert grid.thresholds_.shape == (3,)
    fixed = [0.1, 0.2, 0.3, 0.4, 0.5]
    model = PerGenreThresholdClassifier(MLkNN(k=7), cv=3, thresholds=fixed, random_state=0)
    assert set(model.fit(X, Y).thresholds_) <= set(fixed)
    f2 = functools.partial(fbeta_score, beta=2, zero_division=0)
    f1_model = PerGenreThresholdClassifier(MLkNN(k=7), cv=3, random_state=0).fit(X, Y)
    f2_model = PerGenreThresholdClassifier(MLkNN(k=7), cv=3, scoring=f2, random_state=0)
    f2_model.fit(X, Y)
    assert (f2_model.thresholds_ <= f1_model.thresholds_).all()  # F2 favours recall
    proba = np.zeros(Y.shape)
    for train, test in KFold(3, shuffle=True, random_state=0).split(X):
        proba[test] = MLkNN(k=7).fit(X[train], Y[train]).predict_proba(X[test])
    at_threshold = [f2(Y[:, j], proba[:, j] >= f2_model.thresholds_[j]) for j in range(3)]
    np.testing.assert_allclose(f2_model.best_scores_, at_threshold)
    logit = PerGenreThresholdClassifier(
        MLkNN(k=7), cv=3, response_method="decision_function", random_state=0
    ).fit(X, Y)
    assert logit.response_method_ == "decision_function"
    assert (logit.predict(X) == (logit.decision_function(X) >= logit.thresholds_)).all()


def test_binary_label_vector_and_multiclass_refusal():
    X, Y = _imbalanced(n=300, seed=6)
    y = np.where(Y[:, 1] == 1, "yes", "no")
    model = PerGenreThresholdClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, y)
    assert model.classes_.tolist() == ["no", "yes"]
    proba = model.predict_proba(X)[:, 1]
    assert (model.predict(X) == np.where(proba >= model.thresholds_[0], "yes", "no")).all()
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        PerGenreThresholdClassifier(LogisticRegression()).fit(X, Y.sum(axis=1))


def test_in_a_pipeline_and_grid_search():
    X, Y = _imbalanced(n=240, seed=7)
    Y = Y[:, 1:]  # folds of folds: the 4 % genre would miss from some
    pipe = make_pipeline(StandardScaler(), PerGenreThresholdClassifier(MLkNN(), cv=3))
    search = GridSearchCV(
        pipe,
        {"pergenrethresholdclassifier__estimator__k": [5, 10]},
        scoring="f1_macro",
        cv=2,
    ).fit(X, Y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_["pergenrethresholdclassifier__estimator__k"] in (5, 10)
    assert search.predict(X).shape == Y.shape
