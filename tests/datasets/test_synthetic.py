"""make_posters: real image files, determinism, caching, genre signal."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.model_selection import cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

import posterml._config as config
import posterml.datasets._synthetic as synthetic
from posterml.datasets import make_posters
from posterml.datasets._common import FRAME_COLUMNS

SMALL = (32, 48)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))


def _bytes(data):
    return [Path(p).read_bytes() for p in data.frame["poster_path"]]


def test_files_are_real_images(tmp_path):
    data = make_posters(15, tmp_path / "out", size=SMALL)
    assert len(data.frame) == 15
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"syn{i:06d}.jpg" for i in range(1, 16)
    ]
    for path in data.frame["poster_path"]:
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert image.size == SMALL
            assert image.mode == "RGB"
    png = make_posters(3, tmp_path / "png", size=SMALL, fmt="png")
    with Image.open(png.frame["poster_path"].iloc[0]) as image:
        assert image.format == "PNG"


def test_bunch_shape_like_av(tmp_path):
    data = make_posters(30, tmp_path, size=SMALL)
    assert list(data.frame.columns) == FRAME_COLUMNS
    assert data.genres == ["Drama", "Comedy", "Action", "Romance", "Horror", "Animation"]
    assert data.Y.dtype == np.uint8
    assert data.Y.shape == (30, 6)
    assert set(data.Y.sum(axis=1)) <= {1, 2, 3}
    for genres, y in zip(data.frame["genres"], data.Y):
        assert [g for g, v in zip(data.genres, y) if v] == genres
    assert data.report.empty
    assert list(data.report.columns) == ["source", "row", "imdb_id", "reason"]
    assert data.root == tmp_path.resolve()
    assert data.frame["year"].dtype == float
    assert str(data.frame["tmdb_id"].dtype) == "Int64"
    assert data.frame["awards"].isna().all()
    keywords = data.frame["keywords"]
    assert all(k is None or isinstance(k, list) for k in keywords)
    assert keywords.isna().equals(data.frame["tmdb_id"].isna())


def test_same_bytes_for_same_parameters(tmp_path):
    first = make_posters(8, tmp_path / "a", size=SMALL, random_state=7)
    second = make_posters(8, tmp_path / "b", size=SMALL, random_state=7)
    assert _bytes(first) == _bytes(second)
    np.testing.assert_array_equal(first.Y, second.Y)
    other = make_posters(8, tmp_path / "c", size=SMALL, random_state=8)
    assert _bytes(other) != _bytes(first)
    # Poster i does not depend on n.
    longer = make_posters(10, tmp_path / "d", size=SMALL, random_state=7)
    assert _bytes(longer)[:8] == _bytes(first)
    np.testing.assert_array_equal(longer.Y[:8], first.Y)


def test_default_folder_is_cached(tmp_path, monkeypatch):
    first = make_posters(6, size=SMALL, random_state=1)
    assert first.root.parent == tmp_path / "cache" / "synthetic"
    assert (first.root / ".complete").is_file()

    def fail(*args, **kwargs):
        raise AssertionError("a complete cached folder was redrawn")

    monkeypatch.setattr(synthetic, "_render", fail)
    again = make_posters(6, size=SMALL, random_state=1)
    assert again.root == first.root
    assert again.frame.equals(first.frame)
    # A folder missing a file is incomplete: redrawn, not trusted.
    monkeypatch.undo()
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    before = _bytes(first)
    (first.root / "syn000003.jpg").unlink()
    assert _bytes(make_posters(6, size=SMALL, random_state=1)) == before
    assert make_posters(6, size=(40, 48), random_state=1).root != first.root


def test_unseeded_posters_differ(tmp_path):
    a = make_posters(3, size=SMALL, random_state=None)
    b = make_posters(3, size=SMALL, random_state=None)
    assert a.root != b.root
    assert _bytes(a) != _bytes(b)


def test_custom_genres(tmp_path):
    data = make_posters(12, tmp_path, size=SMALL, genres=["Western", "Drama"])
    assert data.genres == ["Western", "Drama"]
    assert data.Y.shape == (12, 2)
    assert data.Y.sum(axis=1).min() >= 1


def test_imbalance_and_genre_signal(tmp_path):
    data = make_posters(240, tmp_path, size=(24, 36), random_state=0)
    counts = data.Y.sum(axis=0)
    assert counts[0] == counts.max()  # Drama is the most frequent
    assert counts[0] > 2 * counts[-1]  # ... and well above Animation

    def thumbnail(path):
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB").resize((16, 16)), dtype=np.float32).ravel()

    X = np.stack([thumbnail(p) for p in data.frame["poster_path"]])
    predicted = cross_val_predict(KNeighborsClassifier(n_neighbors=10), X, data.Y, cv=4)
    accuracy = (predicted == data.Y).mean(axis=0)
    chance = np.maximum(data.Y.mean(axis=0), 1 - data.Y.mean(axis=0))
    # Better than always predicting the majority, on average and for most genres ...
    assert accuracy.mean() > chance.mean() + 0.05
    assert (accuracy > chance).sum() >= 4
    # ... yet far from trivially separable.
    assert accuracy.mean() < 0.98


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n must be a positive int"),
        ({"n": 2.5}, "n must be a positive int"),
        ({"size": (4, 10)}, "size"),
        ({"size": (32,)}, "size"),
        ({"fmt": "gif"}, "fmt"),
        ({"genres": []}, "genres"),
        ({"genres": ["A", "A"]}, "duplicates"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_invalid_parameters(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_posters(**{"n": 3, "out_dir": tmp_path, "size": SMALL, **kwargs})
    with pytest.raises(TypeError, match="genres"):
        make_posters(3, tmp_path, genres="Drama")
