"""The model zoo on posterml features: every estimator in one Pipeline, and its bad input.

sklearn and XGBoost estimators, posterml's kNN models and meta-estimators, behind
``make_fusion_pipeline`` on a movies frame of synthetic posters (colour, keywords, metadata).
"""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import SVC, LinearSVC

from posterml import (
    BinaryRelevanceKNN,
    CustomGenreClassifier,
    MLkNN,
    PerGenreThresholdClassifier,
    PerGenreWeightedClassifier,
    TopKGenreClassifier,
    make_fusion_pipeline,
)
from posterml.datasets import load_dataset
from posterml.metrics import hamming_loss


def _xgb(**params):
    xgboost = pytest.importorskip("xgboost", reason="the gbm extra (xgboost-cpu) is absent")
    return xgboost.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1, random_state=0, **params)


MODELS = {
    "rf": lambda: RandomForestClassifier(n_estimators=30, random_state=0),
    "xgboost": lambda: _xgb(multi_strategy="one_output_per_tree"),
    "xgboost-weighted": lambda: PerGenreWeightedClassifier(_xgb(), class_weight="log"),
    "svm-rbf": lambda: OneVsRestClassifier(SVC()),
    "svm-linear": lambda: OneVsRestClassifier(LinearSVC()),
    "glm": lambda: OneVsRestClassifier(LogisticRegression(max_iter=1000)),
    "glm-weighted": lambda: PerGenreWeightedClassifier(LogisticRegression(max_iter=1000)),
    "mlknn": lambda: MLkNN(k=5),
    "ovr-knn": lambda: BinaryRelevanceKNN(k=5),
    "top3-glm": lambda: TopKGenreClassifier(OneVsRestClassifier(LogisticRegression()), k=3),
    "thresholds-mlknn": lambda: PerGenreThresholdClassifier(MLkNN(k=5), cv=3, random_state=0),
}


@pytest.fixture(scope="module")
def movies():
    data = load_dataset(synthetic=True, n_synthetic=160, random_state=3)
    return data.frame, data.Y, list(data.genres)


def _pipeline(model):
    return make_fusion_pipeline(model, poster=("color",), keywords=True, metadata=True)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_runs_in_one_pipeline_on_posterml_features(name, movies):
    frame, Y, _ = movies
    train, test = slice(0, 120), slice(120, None)
    pipe = _pipeline(MODELS[name]()).fit(frame.iloc[train], Y[train])
    P = np.asarray(pipe.predict(frame.iloc[test]))
    assert P.shape == Y[test].shape
    assert set(np.unique(P)) <= {0, 1}
    if name == "top3-glm":
        assert (P.sum(axis=1) == 3).all()
    # better than predicting no genre at all (synthetic posters carry their genres' colours)
    assert hamming_loss(Y[test], P) < hamming_loss(Y[test], np.zeros_like(P)) + 0.05


def test_custom_genres_in_a_pipeline(movies):
    frame, Y, genres = movies
    model = CustomGenreClassifier(LogisticRegression(max_iter=1000), genres=genres, random_state=0)
    pipe = _pipeline(model).fit(frame.iloc[:120], Y[:120])
    predicted = pipe.predict(frame.iloc[120:])
    assert set(predicted) <= set(pipe[-1].classes_)
    back = pipe[-1].predict_genres(pipe[:-1].transform(frame.iloc[120:]))
    assert back.shape == (40, len(genres))


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLkNN(k=3),
        lambda: BinaryRelevanceKNN(k=3),
        lambda: PerGenreWeightedClassifier(LogisticRegression()),
        lambda: PerGenreThresholdClassifier(MLkNN(k=3), cv=3),
        lambda: TopKGenreClassifier(MLkNN(k=3), k=2),
    ],
)
def test_mismatched_lengths_of_X_and_Y_name_both(make):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(30, 4)), (rng.random((29, 3)) < 0.5).astype(int)
    with pytest.raises(ValueError, match=r"30.*29|29.*30"):
        make().fit(X, Y)


def test_genre_absent_from_a_training_fold(movies):
    frame, Y, _ = movies
    Y = Y.copy()
    Y[:120, -1] = 0  # the last genre only in the rows we predict
    # ML-kNN refuses by default and names the column; it can be told to go on
    with pytest.raises(ValueError, match=r"label column\(s\) \[5\] have no positive"):
        _pipeline(MLkNN(k=5)).fit(frame.iloc[:120], Y[:120])
    with pytest.warns(UserWarning, match="no positive"):
        pipe = _pipeline(MLkNN(k=5, on_empty_label="warn")).fit(frame.iloc[:120], Y[:120])
    assert pipe.predict(frame.iloc[120:])[:, -1].sum() == 0  # never predicted
    # per-genre weighting: a constant predictor for that genre, with a warning naming it
    pipe = _pipeline(PerGenreWeightedClassifier(LogisticRegression(), class_weight=None))
    with pytest.warns(UserWarning, match="label column 5 has a single class in training"):
        pipe.fit(frame.iloc[:120], Y[:120])
    assert pipe.predict(frame.iloc[120:])[:, -1].sum() == 0


def test_unknown_genre_names_and_empty_genre_sets_in_custom_genres():
    X = np.arange(8, dtype=float).reshape(-1, 1)
    model = CustomGenreClassifier(LogisticRegression(), random_state=0)
    with pytest.raises(ValueError, match="Sci-Fy"):
        model.fit(X[:4], [["Horror"], ["Sci-Fy"], ["Drama"], ["Comedy"]])
    # an empty genre set is a movie of the fallback class, not an error
    model.fit(X[:4], [["Horror"], [], ["Horror"], []])
    assert set(model.classes_) == {"Ho", "Ot"}
