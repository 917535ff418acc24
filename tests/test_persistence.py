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
    with pytest.raises(UntrustedModelError, match=rf"not trusted: \['{name}'\]") as info:
        load_model(path)
    assert (info.value.reason, info.value.types) == ("untrusted", [name])
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


# ---------------------------------------------------------------------- hostile files


def _good_skops(tmp_path):
    X, Y = _data()
    path = tmp_path / "good.skops"
    save_model(MLkNN(k=3).fit(X, Y), path)
    return path


def _rezip(source, target, replace):
    """Copy a zip archive, replacing (or with None: dropping) some members."""
    import zipfile

    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            if name not in replace:
                new.writestr(name, old.read(name))
        for name, data in replace.items():
            if data is not None:
                new.writestr(name, data)
    return target


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("empty", ValueError, r"is empty \(0 bytes\)"),
        ("truncated", ValueError, "not a valid .skops model file: BadZipFile"),
        ("tail-cut", ValueError, "not a valid .skops model file"),
        ("text", ValueError, "not a valid .skops model file: BadZipFile"),
        ("zip-not-skops", ValueError, "not a valid .skops model file: KeyError.*schema.json"),
        ("schema-not-json", ValueError, "not a valid .skops model file: JSONDecodeError"),
        ("schema-a-list", ValueError, "not a valid .skops model file: AttributeError"),
        ("future-skops-protocol", ValueError, "skops protocol 999"),
        ("folder", IsADirectoryError, "is a folder, not a model file"),
        ("fifo", ValueError, "is not a regular file"),
        ("missing", FileNotFoundError, "does not exist"),
    ],
)
def test_damaged_and_foreign_files_give_clear_errors(tmp_path, case, error, message):
    import json
    import os
    import zipfile

    good = _good_skops(tmp_path)
    data = good.read_bytes()
    path = tmp_path / f"{case}.skops"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif case == "tail-cut":
        path.write_bytes(data[:-30])
    elif case == "text":
        path.write_text("MLkNN(k=3)")
    elif case == "zip-not-skops":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    elif case == "schema-not-json":
        _rezip(good, path, {"schema.json": "{not json"})
    elif case == "schema-a-list":
        _rezip(good, path, {"schema.json": "[1, 2]"})
    elif case == "future-skops-protocol":
        with zipfile.ZipFile(good) as archive:
            schema = json.loads(archive.read("schema.json"))
        _rezip(good, path, {"schema.json": json.dumps({**schema, "protocol": 999})})
    elif case == "folder":
        path.mkdir()
    elif case == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs on this system")
        os.mkfifo(path)
    with pytest.raises(error, match=message) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_a_pickle_named_skops_is_refused_even_with_allow_pickle(tmp_path):
    import joblib

    X, Y = _data()
    model = MLkNN(k=3).fit(X, Y)
    path = tmp_path / "disguised.skops"
    joblib.dump(model, path)
    for allow in (False, True):
        with pytest.raises(UntrustedModelError, match="named .skops but holds a pickle"):
            load_model(path, allow_pickle=allow)
    # the owner can still say what it is
    loaded = load_model(path, format="joblib", allow_pickle=True)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    odd = tmp_path / "model.bin"
    joblib.dump(model, odd)
    with pytest.raises(ValueError, match=r"looks like a pickle .* suffix '.bin'"):
        load_model(odd)


def test_a_skops_file_with_a_pickle_suffix_is_read_safely(tmp_path):
    X, Y = _data()
    model = MLkNN(k=3).fit(X, Y)
    path = tmp_path / "model.joblib"
    save_model(model, path, format="skops")
    # a zip is skops whatever its name: no allow_pickle needed, and no pickle run
    np.testing.assert_array_equal(load_model(path).predict(X), model.predict(X))
    np.testing.assert_array_equal(load_model(path, format="joblib").predict(X), model.predict(X))


def test_an_empty_or_damaged_pickle_names_the_file(tmp_path):
    empty = tmp_path / "empty.joblib"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.joblib' is empty \(0 bytes\)"):
        load_model(empty, allow_pickle=True)
    cut = tmp_path / "cut.joblib"
    import joblib

    joblib.dump(list(range(1000)), cut)
    cut.write_bytes(cut.read_bytes()[:40])
    with pytest.raises(ValueError, match=r"cut.joblib' is not a readable joblib model file"):
        load_model(cut, allow_pickle=True)


def test_a_model_from_a_newer_posterml_is_refused_and_another_version_warns(tmp_path):
    import json
    import zipfile

    import posterml

    good = _good_skops(tmp_path)
    with zipfile.ZipFile(good) as archive:
        meta = json.loads(archive.read("posterml.json"))
    assert meta["posterml_version"] == posterml.__version__
    assert meta["model_format"] == 1
    assert meta["class"] == "posterml.neighbors._mlknn.MLkNN"

    newer = _rezip(
        good,
        tmp_path / "newer.skops",
        {"posterml.json": json.dumps({**meta, "posterml_version": "9.0", "model_format": 7})},
    )
    with pytest.raises(ValueError, match=r"saved by posterml 9.0 in model-file format 7.*upgrade"):
        load_model(newer)
    meta_old = json.dumps({**meta, "posterml_version": "0.0.1"})
    older = _rezip(good, tmp_path / "older.skops", {"posterml.json": meta_old})
    with pytest.warns(UserWarning, match=r"saved by posterml 0.0.1 and is loaded by posterml"):
        load_model(older)
    broken = _rezip(good, tmp_path / "broken.skops", {"posterml.json": "[]"})
    with pytest.raises(ValueError, match="posterml.json is not an object"):
        load_model(broken)
    # a file written by skops itself (no posterml.json) loads
    plain = _rezip(good, tmp_path / "plain.skops", {"posterml.json": None})
    assert isinstance(load_model(plain), MLkNN)


def test_save_checks_the_output_before_writing(tmp_path, monkeypatch):
    X, Y = _data()
    model = MLkNN(k=3).fit(X, Y)
    with pytest.raises(FileNotFoundError, match="the folder .*nowhere' does not exist"):
        save_model(model, tmp_path / "nowhere" / "m.skops")
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_model(model, tmp_path / "file" / "m.skops")
    (tmp_path / "dir.skops").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        save_model(model, tmp_path / "dir.skops")
    save_model(model, tmp_path / "m.skops")
    with pytest.raises(FileExistsError, match="m.skops' exists: pass overwrite=True"):
        save_model(model, tmp_path / "m.skops", overwrite=False)
    save_model(model, tmp_path / "m.skops")  # the default replaces, as joblib.dump does
    import os

    monkeypatch.setattr(os, "access", lambda *args: False)
    with pytest.raises(PermissionError, match="is not writable"):
        save_model(model, tmp_path / "other.skops")


def test_unwritable_folder_is_a_clear_error(tmp_path):
    import os

    X, Y = _data()
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: permissions do not stop writes")
        with pytest.raises(PermissionError, match="ro' is not writable"):
            save_model(MLkNN(k=3).fit(X, Y), folder / "m.skops")
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("suffix", [".skops", ".joblib"])
def test_a_failed_save_keeps_the_earlier_file_and_leaves_no_debris(tmp_path, suffix):
    from sklearn.preprocessing import FunctionTransformer

    X, Y = _data()
    good = MLkNN(k=3).fit(X, Y)
    path = tmp_path / f"model{suffix}"
    save_model(good, path)
    before = path.read_bytes()
    # a lambda cannot be found by name when loading: neither format can hold it
    bad = FunctionTransformer(func=lambda x: x)
    with pytest.raises(ValueError, match="lambda|could not be pickled"):
        save_model(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    loaded = load_model(path, allow_pickle=suffix == ".joblib")
    np.testing.assert_array_equal(loaded.predict(X), good.predict(X))


def test_trusted_takes_a_name_or_a_list(tmp_path):
    X, Y = _data()
    path = tmp_path / "s.skops"
    save_model(Stranger().fit(X, Y[:, 0]), path)
    name = f"{Stranger.__module__}.{Stranger.__qualname__}"
    assert isinstance(load_model(path, trusted=name), Stranger)  # one name, not its letters
    assert isinstance(load_model(path, trusted=(name,)), Stranger)
    with pytest.raises(TypeError, match="trusted must be a list of type names"):
        load_model(path, trusted=True)
    with pytest.raises(TypeError, match="type names"):
        load_model(path, trusted=[Stranger])


def test_a_file_replaced_after_the_check_cannot_smuggle_types(tmp_path, monkeypatch):
    # skops audits again while loading, against exactly the types checked.
    import shutil

    import skops.io as sio

    X, Y = _data()
    path = tmp_path / "m.skops"
    save_model(MLkNN(k=3).fit(X, Y), path)
    evil = tmp_path / "evil.skops"
    save_model(Stranger().fit(X, Y[:, 0]), evil)
    real = sio.get_untrusted_types

    def check_then_swap(**kwargs):
        found = real(**kwargs)
        shutil.copy(evil, path)  # an attacker replaces the file right after the check
        return found

    monkeypatch.setattr(sio, "get_untrusted_types", check_then_swap)
    with pytest.raises(UntrustedModelError, match="changed while it was loaded"):
        load_model(path)


def test_a_path_parameter_is_not_mistaken_for_a_dangerous_type(tmp_path):
    from pathlib import Path

    model = {"folder": Path("/data/posters")}  # e.g. CNNEmbedder(cache=Path(...))
    save_model(model, tmp_path / "d.skops")
    with pytest.raises(UntrustedModelError, match="pathlib.PosixPath|pathlib.WindowsPath"):
        load_model(tmp_path / "d.skops")
    loaded = load_model(tmp_path / "d.skops", trusted=["pathlib.PosixPath", "pathlib.WindowsPath"])
    assert loaded == model
