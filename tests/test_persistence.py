import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from posterml import (
    BinaryRelevanceKNN,
    CustomGenreClassifier,
    MLkNN,
    MLkNNCV,
    PerGenreThresholdClassifier,
    PerGenreWeightedClassifier,
    TopKGenreClassifier,
)
from posterml.persistence import UntrustedModelError, load_model, save_model, trusted_types

pytest.importorskip("skops", reason="skops is not installed")


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 6)).astype(np.float32)
    Y = (X[:, :4] + rng.normal(size=(150, 4)) > 0.3).astype(int)
    return X, Y


MODELS = {
    "mlknn": lambda: make_pipeline(StandardScaler(), MLkNN(k=5)),
    "mlknn-ivf": lambda: MLkNN(k=5, algorithm="ivf", algorithm_params={"nlist": 4}),
    "mlknn-hnsw": lambda: MLkNN(k=5, algorithm="hnsw"),
    "mlknn-numpy": lambda: MLkNN(k=5, backend="numpy"),
    "mlknncv": lambda: MLkNNCV(k_values=[1, 3, 5], cv=3),
    "ovr-knn": lambda: BinaryRelevanceKNN(k=5),
    "weighted-glm": lambda: PerGenreWeightedClassifier(LogisticRegression()),
    "thresholds": lambda: PerGenreThresholdClassifier(MLkNN(k=5), cv=3, random_state=0),
    "top2": lambda: TopKGenreClassifier(MLkNN(k=5), k=2),
}


@pytest.mark.parametrize("suffix", [".skops", ".joblib"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip_gives_identical_predictions(name, suffix, tmp_path):
    X, Y = _data()
    model = MODELS[name]().fit(X, Y)
    path = tmp_path / f"model{suffix}"
    save_model(model, path)
    loaded = load_model(path, allow_pickle=suffix == ".joblib")
    assert loaded is not model
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_custom_genre_classifier_round_trip(tmp_path):
    X = np.array([[0.0], [0.1], [0.2], [1.0], [1.1], [1.2]])
    Y = [["Horror"], ["Horror", "Thriller"], ["Horror"], ["Sci-Fi"], ["Fantasy"], ["Sci-Fi"]]
    model = CustomGenreClassifier(LogisticRegression(), random_state=0).fit(X, Y)
    save_model(model, tmp_path / "c.skops")
    loaded = load_model(tmp_path / "c.skops")
    assert loaded.predict(X).tolist() == model.predict(X).tolist()


class Stranger(ClassifierMixin, BaseEstimator):
    """A type nobody trusts: defined in a test module."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_untrusted_types_are_refused_and_named(tmp_path):
    X, Y = _data()
    path = tmp_path / "s.skops"
    save_model(Stranger().fit(X, Y[:, 0]), path)
    name = f"{Stranger.__module__}.{Stranger.__qualname__}"
    with pytest.raises(UntrustedModelError, match=rf"not trusted: \['{name}'\]"):
        load_model(path)
    loaded = load_model(path, trusted=[name])
    assert loaded.predict(X[:2]).tolist() == [0, 0]


def test_pickles_need_allow_pickle(tmp_path):
    X, Y = _data()
    save_model(MLkNN(k=3).fit(X, Y), tmp_path / "m.joblib")
    with pytest.raises(UntrustedModelError, match="allow_pickle=True"):
        load_model(tmp_path / "m.joblib")


def test_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.skops"):
        load_model(tmp_path / "missing.skops")
    corrupt = tmp_path / "corrupt.skops"
    corrupt.write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match="not a valid .skops model file"):
        load_model(corrupt)
    damaged = tmp_path / "damaged.joblib"
    damaged.write_bytes(b"\x80\x04garbage")
    with pytest.raises(ValueError, match="not a readable joblib model file"):
        load_model(damaged, allow_pickle=True)
    with pytest.raises(ValueError, match="cannot tell the format"):
        save_model(MLkNN(), tmp_path / "model.bin")


def test_trusted_types_cover_every_public_estimator():
    import inspect

    from sklearn.base import BaseEstimator as Base

    import posterml

    names = set(trusted_types())
    for public in posterml.__all__:
        obj = getattr(posterml, public)
        if inspect.isclass(obj) and issubclass(obj, Base):
            assert f"{obj.__module__}.{obj.__qualname__}" in names, public
