"""Tests for posterml.features.PixelFlattener."""

import os
import pickle

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from posterml.features import PixelFlattener
from posterml.io import PosterReader, PosterReadError, read_poster

# (width, height) used by the seed papers
SIZES = [(64, 64), (100, 150), (128, 192), (224, 224)]


def _images(n=3, height=90, width=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, height, width, 3), dtype=np.uint8)


def _write_pngs(folder, images):
    paths = []
    for i, image in enumerate(images):
        path = os.path.join(str(folder), f"img{i}.png")
        Image.fromarray(image).save(path)
        paths.append(path)
    return paths


@pytest.mark.parametrize("size", SIZES)
def test_seed_sizes_from_arrays_and_paths(tmp_path, size):
    width, height = size
    images = _images()
    paths = _write_pngs(tmp_path, images)
    flattener = PixelFlattener(size=size)
    from_arrays = flattener.fit_transform(images)
    assert from_arrays.shape == (3, height * width * 3)
    assert from_arrays.dtype == np.float32
    assert from_arrays.min() >= 0.0
    assert from_arrays.max() <= 1.0
    names = flattener.get_feature_names_out()
    assert len(names) == from_arrays.shape[1]
    assert names[-1] == f"b_y{height - 1}_x{width - 1}"
    # PNG is lossless and read_poster resizes with the same cv2 INTER_AREA: identical
    from_paths = flattener.fit_transform(paths)
    np.testing.assert_array_equal(from_paths, from_arrays)
    gray = PixelFlattener(size=size, grayscale=True).fit_transform(paths)
    assert gray.shape == (3, height * width)


def test_rows_are_hwc_and_scaled():
    images = _images(n=2, height=5, width=4)
    raw = PixelFlattener(size=(4, 5), scale=False).fit_transform(images)
    np.testing.assert_array_equal(raw, images.reshape(2, -1).astype(np.float32))
    scaled = PixelFlattener(size=(4, 5)).fit_transform(images)
    np.testing.assert_allclose(scaled, images.reshape(2, -1) / 255.0, rtol=1e-6)
    names = PixelFlattener(size=(4, 5)).fit(images).get_feature_names_out()
    y, x, c = 3, 2, 1
    assert names[(y * 4 + x) * 3 + c] == "g_y3_x2"
    assert scaled[1, (y * 4 + x) * 3 + c] == pytest.approx(images[1, y, x, c] / 255)


def test_dtype_parameter():
    images = _images(n=1, height=4, width=4)
    out = PixelFlattener(size=(4, 4), dtype=np.float64).fit_transform(images)
    assert out.dtype == np.float64
    with pytest.raises(ValueError, match="floating dtype"):
        PixelFlattener(dtype=np.int32).fit(images)


def test_grayscale_matches_pillow_luma():
    images = _images(n=2, height=6, width=5)
    gray = PixelFlattener(size=(5, 6), grayscale=True, scale=False).fit_transform(images)
    expected = np.stack([np.asarray(Image.fromarray(im).convert("L")) for im in images])
    np.testing.assert_array_equal(gray, expected.reshape(2, -1))
    names = PixelFlattener(size=(5, 6), grayscale=True).fit(images).get_feature_names_out()
    assert names[:2].tolist() == ["gray_y0_x0", "gray_y0_x1"]


def test_grayscale_paths_agree_with_arrays(tmp_path):
    images = _images(n=2)
    paths = _write_pngs(tmp_path, images)
    flattener = PixelFlattener(size=(30, 45), grayscale=True)
    np.testing.assert_array_equal(flattener.fit_transform(paths), flattener.fit_transform(images))


def test_jpeg_paths_close_to_arrays(tmp_path):
    # JPEGs read at a small size are DCT-scaled; they stay close to full decode + resize
    yy, xx = np.mgrid[0:600, 0:400]
    smooth = np.stack([xx * 255 // 400, yy * 255 // 600, (xx + yy) * 255 // 1000], -1)
    path = tmp_path / "big.jpg"
    Image.fromarray(smooth.astype(np.uint8)).save(path, quality=90)
    flattener = PixelFlattener(size=(64, 64))
    from_path = flattener.fit_transform([path])
    from_array = flattener.fit_transform(read_poster(path)[np.newaxis])
    assert np.abs(from_path - from_array).mean() < 1.0 / 255


def test_images_of_different_sizes_and_layouts():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    gray = rng.integers(0, 256, (50, 20), dtype=np.uint8)
    flattener = PixelFlattener(size=(10, 12))
    out = flattener.fit_transform([rgb, gray, gray[:, :, np.newaxis], rgb.astype(np.float64)])
    assert out.shape == (4, 10 * 12 * 3)
    np.testing.assert_array_equal(out[1], out[2])
    gray_rgb = out[1].reshape(12, 10, 3)
    np.testing.assert_array_equal(gray_rgb[..., 0], gray_rgb[..., 2])  # gray -> R == G == B
    np.testing.assert_allclose(out[0], out[3], atol=1e-2)  # float input, same 0-255 range
    stack = flattener.fit_transform(np.stack([gray, gray]))  # (n, H, W) grayscale stack
    np.testing.assert_array_equal(stack[0], out[1])


def test_rows_with_input_shape_are_resized():
    images = _images(n=3, height=30, width=20)
    rows = images.reshape(3, -1)
    expected = PixelFlattener(size=(8, 12)).fit_transform(images)
    flattener = PixelFlattener(size=(8, 12), input_shape=(30, 20, 3))
    np.testing.assert_array_equal(flattener.fit_transform(rows), expected)
    assert flattener.n_features_in_ == 30 * 20 * 3
    assert flattener.get_feature_names_out()[0] == "r_y0_x0"
    gray_rows = images[..., 0].reshape(3, -1)
    gray = PixelFlattener(size=(8, 12), input_shape=(30, 20), grayscale=True)
    assert gray.fit_transform(gray_rows).shape == (3, 96)
    with pytest.raises(ValueError, match="input_shape"):
        PixelFlattener(input_shape=(30, 20, 3)).fit(rows[:, :-1])
    with pytest.raises(ValueError, match="input_shape"):
        PixelFlattener(input_shape=(30, 20, 4)).fit(rows)


def test_rows_without_input_shape_pass_through():
    X = np.arange(12, dtype=np.int64).reshape(3, 4) * 20
    flattener = PixelFlattener()
    out = flattener.fit_transform(X)
    np.testing.assert_allclose(out, X / 255.0, rtol=1e-6)
    assert flattener.get_feature_names_out().tolist() == ["pixel0", "pixel1", "pixel2", "pixel3"]
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    assert flattener.fit(frame).get_feature_names_out().tolist() == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="expecting 4 features"):
        PixelFlattener().fit(X).transform(X[:, :3])


def test_rows_after_fitting_on_images_must_have_target_width():
    images = _images(n=2, height=4, width=4)
    flattener = PixelFlattener(size=(4, 4)).fit(images)
    rows = images.reshape(2, -1)
    np.testing.assert_array_equal(flattener.transform(rows), flattener.transform(images))
    with pytest.raises(ValueError, match="expects rows of 48"):
        flattener.transform(rows[:, :10])
    with pytest.raises(ValueError, match="fitted on rows of 3 features"):
        PixelFlattener(size=(4, 4)).fit(np.ones((2, 3))).transform(images)


def test_pandas_output(tmp_path):
    images = _images(n=2, height=3, width=2)
    flattener = PixelFlattener(size=(2, 3)).set_output(transform="pandas")
    frame = flattener.fit_transform(images)
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns[:3].tolist() == ["r_y0_x0", "g_y0_x0", "b_y0_x0"]
    assert frame.shape == (2, 18)
    paths = _write_pngs(tmp_path, images)
    posters = pd.DataFrame({"poster_path": paths}, index=["tt1", "tt2"])
    out = flattener.fit_transform(posters)
    assert out.index.tolist() == ["tt1", "tt2"]
    np.testing.assert_array_equal(out.to_numpy(), frame.to_numpy())


def test_skip_alignment_on_paths(tmp_path):
    images = _images(n=3, height=8, width=6)
    good = _write_pngs(tmp_path, images)
    bad_text = tmp_path / "note.jpg"
    bad_text.write_text("not a poster")
    paths = [good[0], str(tmp_path / "missing.jpg"), good[1], str(bad_text), good[2]]
    labels = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0]])
    flattener = PixelFlattener(size=(6, 8), on_error="skip")
    with pytest.warns(UserWarning, match="skipped 2 of 5 posters"):
        X = flattener.fit_transform(paths)
    assert flattener.valid_mask_.tolist() == [True, False, True, False, True]
    np.testing.assert_array_equal(labels[flattener.valid_mask_], labels[[0, 2, 4]])
    np.testing.assert_array_equal(X, PixelFlattener(size=(6, 8)).fit_transform(images))
    assert flattener.skipped_["index"].tolist() == [1, 3]
    assert flattener.skipped_["reason"].tolist() == [
        "file not found",
        "not an image: looks like text",
    ]
    # pandas output keeps the index of the rows that were read
    posters = pd.DataFrame({"poster_path": paths}, index=list("abcde"))
    flattener.set_output(transform="pandas")
    with pytest.warns(UserWarning, match="skipped 2"):
        frame = flattener.fit_transform(posters)
    assert frame.index.tolist() == ["a", "c", "e"]
    with pytest.raises(PosterReadError, match="missing.jpg"):
        PixelFlattener(size=(6, 8)).fit_transform(paths)


@pytest.mark.parametrize("container", [list, pd.Series, lambda v: np.array(v, dtype=object)])
def test_paths_after_many_missing_values_are_still_paths(tmp_path, container):
    # A poster column may start with more than 20 movies that have no poster: that used to
    # be taken for numeric rows (sklearn's "Expected 2D array" or "could not convert").
    images = _images(n=2, height=8, width=6)
    good = _write_pngs(tmp_path, images)
    values = [None, float("nan"), ""] * 8 + [good[0], None, good[1]]
    flattener = PixelFlattener(size=(6, 8), on_error="skip")
    with pytest.warns(UserWarning, match=f"skipped 25 of {len(values)} posters"):
        X = flattener.fit_transform(container(values))
    assert flattener.input_kind_ == "paths"
    np.testing.assert_array_equal(X, PixelFlattener(size=(6, 8)).fit_transform(images))
    assert np.flatnonzero(flattener.valid_mask_).tolist() == [24, 26]
    assert set(flattener.skipped_["reason"]) == {"no path given (missing value)"}
    with pytest.raises(PosterReadError, match="no path given"):
        PixelFlattener(size=(6, 8)).fit_transform(container(values))
    # only missing values: every poster is unreadable, not a malformed matrix
    with pytest.warns(UserWarning, match="skipped 2 of 2"):
        assert flattener.fit_transform(container([None, None])).shape == (0, 144)


def test_valid_mask_is_reset_by_array_input(tmp_path):
    flattener = PixelFlattener(size=(2, 2), on_error="skip")
    with pytest.warns(UserWarning, match="skipped 1"):
        flattener.fit_transform([str(tmp_path / "missing.jpg")])
    assert flattener.valid_mask_.tolist() == [False]
    flattener.transform(np.zeros((2, 12)))  # already-flattened rows at the target size
    assert flattener.valid_mask_.tolist() == [True, True]
    assert flattener.skipped_.empty


def test_pipeline_with_poster_reader(tmp_path):
    images = _images(n=2)
    paths = _write_pngs(tmp_path, images)
    pipe = make_pipeline(PosterReader(size=(16, 24)), PixelFlattener(size=(16, 24)))
    np.testing.assert_array_equal(
        pipe.fit_transform(paths), PixelFlattener(size=(16, 24)).fit_transform(paths)
    )


def test_input_errors():
    with pytest.raises(NotFittedError):
        PixelFlattener().transform(_images(n=1))
    with pytest.raises(ValueError, match="one RGB image"):
        PixelFlattener().fit_transform(_images(n=1)[0])
    with pytest.raises(ValueError, match="4 channels"):
        PixelFlattener().fit_transform(np.zeros((1, 5, 5, 4), np.uint8))
    with pytest.raises(ValueError, match="size"):
        PixelFlattener(size=(0, 4)).fit(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="on_error"):
        PixelFlattener(on_error="ignore").fit(np.zeros((1, 4)))


def test_pickle_and_clone():
    images = _images(n=2, height=10, width=10)
    flattener = PixelFlattener(size=(5, 5), grayscale=True).fit(images)
    restored = pickle.loads(pickle.dumps(flattener))
    np.testing.assert_array_equal(restored.transform(images), flattener.transform(images))
    assert clone(flattener).get_params() == flattener.get_params()


@parametrize_with_checks([PixelFlattener(input_shape=None)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.integration
def test_real_posters(data_root):
    images_dir = data_root / "av-posters" / "Images"
    names = sorted(os.listdir(images_dir))[:8] + ["tt0087730.jpg"]  # last one is grayscale
    paths = [images_dir / name for name in names]
    if not paths[-1].exists():
        pytest.skip(f"{paths[-1]} absent")
    X = PixelFlattener(size=(64, 64)).fit_transform(paths)
    assert X.shape == (len(paths), 64 * 64 * 3)
    assert X.dtype == np.float32
    assert X.min() >= 0.0
    assert X.max() <= 1.0
    np.testing.assert_array_equal(X[-1, 0::3], X[-1, 1::3])
    np.testing.assert_array_equal(X[-1, 1::3], X[-1, 2::3])
    gray = PixelFlattener(size=(100, 150), grayscale=True).fit_transform(paths)
    assert gray.shape == (len(paths), 150 * 100)
