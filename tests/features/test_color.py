"""Tests for posterml.features._color.DominantColorBrightness."""

import pickle

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from posterml.datasets import make_posters
from posterml.features._color import BT709_LUMA, DominantColorBrightness, batched_kmeans
from posterml.features._pixels import PixelFlattener
from posterml.io import PosterReadError


def _two_tone(top, bottom, share_top, size=(10, 10)):
    """A (H, W, 3) poster whose first ``share_top`` of pixels (row-major) are ``top``."""
    width, height = size
    flat = np.empty((width * height, 3), dtype=np.uint8)
    n_top = round(share_top * width * height)
    flat[:n_top] = top
    flat[n_top:] = bottom
    return flat.reshape(height, width, 3)


def _noisy_posters(n=12, seed=0, size=(32, 48)):
    """Blocky posters with a few colours plus noise: k-means has real work to do."""
    rng = np.random.default_rng(seed)
    width, height = size
    posters = np.empty((n, height, width, 3), dtype=np.uint8)
    for i in range(n):
        palette = rng.integers(0, 256, (4, 3))
        blocks = rng.integers(0, 4, (6, 4))
        image = palette[np.kron(blocks, np.ones((height // 6, width // 4), dtype=int))]
        image = image + rng.normal(0, 12, image.shape)
        posters[i] = np.clip(image, 0, 255).astype(np.uint8)
    return posters


# ------------------------------------------------------------------ known answers


def test_seventy_percent_white_is_dominant_and_high():
    poster = _two_tone(255, 0, 0.7)
    est = DominantColorBrightness(sample_size=(10, 10), output="continuous", palette=True)
    out = est.fit_transform(poster[np.newaxis])
    assert out.shape == (1, 6)
    assert out[0, 0] == pytest.approx(1.0, abs=1e-6)  # luma of pure white
    # two real clusters; the three spare centres stay empty
    np.testing.assert_allclose(out[0, 1:], [0.7, 0.3, 0.0, 0.0, 0.0], atol=1e-7)
    onehot = est.set_params(output="onehot", palette=False).fit_transform(poster[np.newaxis])
    np.testing.assert_array_equal(onehot, [[0, 0, 1]])


def test_seventy_percent_black_is_low():
    poster = _two_tone(0, 255, 0.7)
    est = DominantColorBrightness(sample_size=(10, 10), output="ordinal", dominant_rgb=True)
    out = est.fit_transform(poster[np.newaxis])
    np.testing.assert_array_equal(out, [[0, 0, 0, 0]])  # level 0 (Low), RGB black


@pytest.mark.parametrize(
    ("value", "level"),
    [(0, 0), (84, 0), (86, 1), (128, 1), (169, 1), (171, 2), (255, 2)],
)
def test_grey_levels_follow_the_thresholds(value, level):
    # grey v has luma v / 255: 85 / 255 = 1/3 and 170 / 255 = 2/3 are the default cuts
    poster = np.full((1, 48, 32, 3), value, dtype=np.uint8)
    est = DominantColorBrightness(output="ordinal")
    assert est.fit_transform(poster)[0, 0] == level
    luma = DominantColorBrightness(output="continuous").fit_transform(poster)[0, 0]
    assert luma == pytest.approx(value / 255, abs=1e-6)


def test_mid_grey_is_medium():
    poster = np.full((1, 300, 200, 3), 128, dtype=np.uint8)
    out = DominantColorBrightness().fit_transform(poster)
    np.testing.assert_array_equal(out, [[0, 1, 0]])


def test_luma_is_bt709_on_gamma_encoded_values():
    colours = {(255, 0, 0): BT709_LUMA[0], (0, 255, 0): BT709_LUMA[1], (0, 0, 255): BT709_LUMA[2]}
    posters = np.stack([np.full((48, 32, 3), rgb, dtype=np.uint8) for rgb in colours])
    out = DominantColorBrightness(output="continuous").fit_transform(posters)
    np.testing.assert_allclose(out[:, 0], list(colours.values()), atol=1e-6)
    # linear-light luminance of sRGB 128 would be ~0.216; luma stays 128 / 255
    grey = np.full((1, 48, 32, 3), 128, dtype=np.uint8)
    luma = DominantColorBrightness(output="continuous").fit_transform(grey)[0, 0]
    assert luma == pytest.approx(128 / 255, abs=1e-6)


def test_dominant_is_the_largest_cluster_not_the_brightest():
    # 40 % white, 35 % red, 25 % blue: white wins, even though k-means sees three colours
    flat = np.zeros((100, 3), dtype=np.uint8)
    flat[:40] = 255
    flat[40:75] = (255, 0, 0)
    flat[75:] = (0, 0, 255)
    poster = flat.reshape(1, 10, 10, 3)
    est = DominantColorBrightness(
        n_colors=3, sample_size=(10, 10), output="continuous", palette=True, dominant_rgb=True
    )
    out = est.fit_transform(poster)[0]
    assert out[0] == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(out[1:4], [0.40, 0.35, 0.25], atol=1e-7)
    np.testing.assert_allclose(out[4:], [1, 1, 1], atol=1e-7)
    # the same without white: red (35/60) beats blue
    poster2 = flat[40:].reshape(1, 6, 10, 3)
    est.set_params(sample_size=(10, 6))
    np.testing.assert_allclose(est.fit_transform(poster2)[0, 4:], [1, 0, 0], atol=1e-7)


def test_ties_go_to_the_darker_cluster():
    poster = _two_tone(255, 0, 0.5)
    est = DominantColorBrightness(sample_size=(10, 10), output="continuous", palette=True)
    out = est.fit_transform(poster[np.newaxis])[0]
    assert out[0] == pytest.approx(0.0, abs=1e-7)
    np.testing.assert_allclose(out[1:3], [0.5, 0.5])


def test_default_sample_size_on_a_large_two_tone_poster():
    # 300 x 200 poster, top 70 % white: after the area downsample to 32 x 48 a blended
    # boundary row appears, but white still dominates with about 70 % of the pixels.
    poster = np.zeros((1, 300, 200, 3), dtype=np.uint8)
    poster[0, :210] = 255
    est = DominantColorBrightness(output="continuous", palette=True)
    out = est.fit_transform(poster)[0]
    assert out[0] == pytest.approx(1.0, abs=1e-6)
    assert 0.66 <= out[1] <= 0.71
    assert out[1:].sum() == pytest.approx(1.0)


def test_custom_thresholds():
    poster = np.full((1, 48, 32, 3), 128, dtype=np.uint8)  # luma 0.502
    est = DominantColorBrightness(output="ordinal", thresholds=(0.2, 0.5))
    assert est.fit_transform(poster)[0, 0] == 2
    est.set_params(thresholds=(0.6, 0.9))
    assert est.fit_transform(poster)[0, 0] == 0
    with pytest.raises(ValueError, match="thresholds"):
        est.set_params(thresholds=(0.9, 0.1)).fit(poster)
    with pytest.raises(ValueError, match="thresholds"):
        est.set_params(thresholds=(0.5,)).fit(poster)


# ------------------------------------------------------------------ the k-means itself


def test_batched_kmeans_matches_a_per_poster_run_and_is_order_free():
    posters = _noisy_posters(9).reshape(9, -1, 3).astype(np.float32) / 255
    draws = np.random.default_rng(3).random(5)
    centers, counts = batched_kmeans(posters, draws, 30)
    assert (counts.sum(axis=1) == posters.shape[1]).all()
    for i in range(len(posters)):
        c1, n1 = batched_kmeans(posters[i : i + 1], draws, 30)
        np.testing.assert_array_equal(c1[0], centers[i])
        np.testing.assert_array_equal(n1[0], counts[i])
    order = np.random.default_rng(0).permutation(len(posters))
    c2, n2 = batched_kmeans(posters[order], draws, 30)
    np.testing.assert_array_equal(c2, centers[order])
    np.testing.assert_array_equal(n2, counts[order])


def test_batched_kmeans_centres_are_means_of_their_pixels():
    posters = _noisy_posters(4, seed=1).reshape(4, -1, 3).astype(np.float32) / 255
    centers, counts = batched_kmeans(posters, np.linspace(0.1, 0.9, 4), 100)
    for i, pixels in enumerate(posters):
        # at convergence each pixel's nearest centre is the one whose mean it is part of
        dist = ((pixels[:, None, :] - centers[i][None]) ** 2).sum(-1)
        labels = dist.argmin(axis=1)
        np.testing.assert_array_equal(np.bincount(labels, minlength=4), counts[i])
        for k in np.flatnonzero(counts[i]):
            np.testing.assert_allclose(pixels[labels == k].mean(0), centers[i, k], atol=1e-5)


def test_kmeans_agrees_with_sklearn_on_clear_clusters():
    from sklearn.cluster import KMeans

    posters = _noisy_posters(3, seed=2)
    est = DominantColorBrightness(n_colors=4, output="continuous", palette=True)
    ours = est.fit_transform(posters)
    for i, poster in enumerate(posters):
        pixels = poster.reshape(-1, 3) / 255
        km = KMeans(4, n_init=4, random_state=0).fit(pixels)
        shares = np.sort(np.bincount(km.labels_, minlength=4))[::-1] / len(pixels)
        np.testing.assert_allclose(ours[i, 1:], shares, atol=0.02)


# ------------------------------------------------------------------ determinism


def test_deterministic_for_a_fixed_random_state():
    posters = _noisy_posters(20, seed=4)
    params = {"output": "continuous", "palette": True, "dominant_rgb": True}
    a = DominantColorBrightness(random_state=7, **params).fit_transform(posters)
    b = DominantColorBrightness(random_state=7, **params).fit_transform(posters)
    np.testing.assert_array_equal(a, b)
    # batch size, threads and input order change nothing
    c = DominantColorBrightness(random_state=7, batch_size=3, n_jobs=2, **params).fit_transform(
        posters
    )
    np.testing.assert_array_equal(a, c)
    est = DominantColorBrightness(random_state=7, **params).fit(posters)
    np.testing.assert_array_equal(est.transform(posters[::-1]), a[::-1])
    np.testing.assert_array_equal(est.transform(posters[5:6]), a[5:6])


def test_random_state_none_is_fixed_at_fit():
    posters = _noisy_posters(6, seed=5)
    est = DominantColorBrightness(random_state=None, output="continuous", palette=True)
    est.fit(posters)
    np.testing.assert_array_equal(est.transform(posters), est.transform(posters))
    assert est.init_draws_.shape == (5,)


# ------------------------------------------------------------------ outputs and names


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({}, ["brightness_low", "brightness_medium", "brightness_high"]),
        ({"output": "ordinal"}, ["brightness_level"]),
        ({"output": "continuous"}, ["dominant_luma"]),
        (
            {"output": "ordinal", "palette": True, "n_colors": 3},
            ["brightness_level", "palette_share0", "palette_share1", "palette_share2"],
        ),
        (
            {"output": "continuous", "dominant_rgb": True},
            ["dominant_luma", "dominant_r", "dominant_g", "dominant_b"],
        ),
    ],
)
def test_output_modes_and_feature_names(params, names):
    posters = _noisy_posters(5, seed=6)
    est = DominantColorBrightness(**params)
    out = est.fit_transform(posters)
    assert est.get_feature_names_out().tolist() == names
    assert out.shape == (5, len(names))
    assert out.dtype == np.float32


def test_output_modes_agree():
    posters = _noisy_posters(15, seed=7)
    luma = DominantColorBrightness(output="continuous").fit_transform(posters)[:, 0]
    level = DominantColorBrightness(output="ordinal").fit_transform(posters)[:, 0]
    onehot = DominantColorBrightness().fit_transform(posters)
    np.testing.assert_array_equal(level, np.digitize(luma, [1 / 3, 2 / 3]))
    np.testing.assert_array_equal(onehot.argmax(axis=1), level)
    np.testing.assert_array_equal(onehot.sum(axis=1), 1)


def test_pandas_output():
    posters = _noisy_posters(4, seed=8)
    est = DominantColorBrightness(palette=True, n_colors=2).set_output(transform="pandas")
    frame = est.fit_transform(posters)
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.tolist() == est.get_feature_names_out().tolist()
    assert len(frame) == 4
    rows = pd.DataFrame(posters.reshape(4, -1), index=list("abcd"))
    rows.columns = [f"p{i}" for i in rows.columns]
    out = (
        DominantColorBrightness(output="continuous", input_shape=(48, 32, 3))
        .set_output(transform="pandas")
        .fit_transform(rows)
    )
    assert out.index.tolist() == list("abcd")
    assert out.columns.tolist() == ["dominant_luma"]


# ------------------------------------------------------------------ input kinds


def test_input_kinds_agree():
    posters = _noisy_posters(4, seed=9)
    params = {"output": "continuous", "palette": True}
    from_stack = DominantColorBrightness(**params).fit_transform(posters)
    from_list = DominantColorBrightness(**params).fit_transform(list(posters))
    np.testing.assert_array_equal(from_stack, from_list)
    rows = posters.reshape(4, -1)
    from_shaped_rows = DominantColorBrightness(input_shape=(48, 32, 3), **params).fit_transform(
        rows
    )
    np.testing.assert_array_equal(from_stack, from_shaped_rows)
    # rows without input_shape are a bag of RGB pixels: the same pixels give the same answer
    from_bag = DominantColorBrightness(**params).fit_transform(rows)
    np.testing.assert_array_equal(from_stack, from_bag)
    # rows from PixelFlattener(scale=True) with max_value=1
    flat = PixelFlattener(size=(32, 48)).fit_transform(posters)
    from_flat = DominantColorBrightness(max_value=1.0, **params).fit_transform(flat)
    np.testing.assert_allclose(from_stack, from_flat, atol=1e-6)


def test_images_of_different_sizes_and_grey():
    rng = np.random.default_rng(10)
    big = np.full((300, 200, 3), 240, dtype=np.uint8)
    small = rng.integers(0, 40, (60, 40, 3), dtype=np.uint8)
    grey = np.full((90, 60), 128, dtype=np.uint8)
    out = DominantColorBrightness(output="ordinal").fit_transform([big, small, grey])
    np.testing.assert_array_equal(out[:, 0], [2, 0, 1])
    with pytest.raises(ValueError, match="batch of one"):
        DominantColorBrightness().fit_transform(big)


def test_rows_that_are_not_rgb_triples_are_grey():
    rows = np.array([[200.0, 200.0, 200.0, 200.0], [10.0, 10.0, 10.0, 250.0]])
    out = DominantColorBrightness(output="continuous").fit_transform(rows)
    np.testing.assert_allclose(out[:, 0], [200 / 255, 10 / 255], atol=1e-6)


def test_non_finite_values_are_refused():
    images = np.zeros((2, 6, 4, 3))
    images[1, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        DominantColorBrightness().fit_transform(images)
    with pytest.raises(ValueError, match="NaN or infinite"):
        DominantColorBrightness().fit_transform(np.array([[1e300, 0.0, 0.0]]))


def test_rows_with_a_wrong_input_shape():
    with pytest.raises(ValueError, match="input_shape"):
        DominantColorBrightness(input_shape=(4, 4, 3)).fit(np.zeros((2, 47)))
    with pytest.raises(ValueError, match="input_shape"):
        DominantColorBrightness(input_shape=(4, 4, 2)).fit(np.zeros((2, 32)))


def test_paths_with_a_broken_file_skip_and_raise(tmp_path):
    data = make_posters(6, tmp_path / "posters", random_state=1)
    paths = data.frame["poster_path"].tolist()
    broken = tmp_path / "empty.jpg"
    broken.write_bytes(b"")
    mixed = paths[:3] + [str(broken)] + paths[3:]

    est = DominantColorBrightness(output="continuous", palette=True, on_error="skip")
    with pytest.warns(UserWarning, match="skipped 1 of 7"):
        out = est.fit_transform(mixed)
    assert out.shape == (6, 6)
    assert est.valid_mask_.tolist() == [True, True, True, False, True, True, True]
    assert est.skipped_["index"].tolist() == [3]
    assert est.skipped_["reason"].tolist() == ["empty file (0 bytes)"]
    # the same as reading the good files alone, and as the arrays read at sample_size
    np.testing.assert_array_equal(out, est.transform(paths))
    assert est.valid_mask_.all()
    assert est.skipped_.empty

    with pytest.raises(PosterReadError, match="empty file"):
        DominantColorBrightness(on_error="raise").fit_transform(mixed)


def test_paths_after_many_missing_values_are_still_paths(tmp_path):
    data = make_posters(2, tmp_path / "posters", random_state=3, size=(32, 48))
    paths = data.frame["poster_path"].tolist()
    values = pd.Series([None] * 21 + [paths[0], float("nan"), paths[1]])
    est = DominantColorBrightness(output="continuous", on_error="skip")
    with pytest.warns(UserWarning, match="skipped 22 of 24 posters"):
        out = est.fit_transform(values)
    assert est.input_kind_ == "paths"
    np.testing.assert_array_equal(out, est.transform(paths))
    with pytest.warns(UserWarning, match="skipped 22 of 24 posters"):
        est.transform(values)
    assert np.flatnonzero(est.valid_mask_).tolist() == [21, 23]
    # a float Series of NaN stays numeric (refused as 1-D rows), never paths
    with pytest.raises(ValueError, match="Expected a 2-dimensional container"):
        DominantColorBrightness().fit(pd.Series([np.nan, np.nan]))


def test_paths_in_a_dataframe_keep_the_index_in_pandas_output(tmp_path):
    data = make_posters(4, tmp_path / "posters", random_state=2)
    broken = tmp_path / "empty.jpg"
    broken.write_bytes(b"")
    frame = pd.DataFrame(
        {"poster_path": data.frame["poster_path"].tolist() + [str(broken)]},
        index=[10, 11, 12, 13, 14],
    )
    est = DominantColorBrightness(on_error="skip", n_jobs=2).set_output(transform="pandas")
    with pytest.warns(UserWarning, match="skipped 1 of 5"):
        out = est.fit_transform(frame)
    assert out.index.tolist() == [10, 11, 12, 13]
    assert out.columns.tolist() == ["brightness_low", "brightness_medium", "brightness_high"]
    assert (out.sum(axis=1) == 1).all()


def test_paths_agree_with_arrays_for_png(tmp_path):
    posters = _noisy_posters(3, seed=11, size=(64, 96))
    paths = []
    for i, poster in enumerate(posters):
        path = tmp_path / f"p{i}.png"
        Image.fromarray(poster).save(path)
        paths.append(path)
    est = DominantColorBrightness(output="continuous", palette=True)
    np.testing.assert_array_equal(est.fit_transform(paths), est.fit_transform(posters))


# ------------------------------------------------------------------ estimator behaviour


def test_not_fitted_and_pickle():
    posters = _noisy_posters(3, seed=12)
    with pytest.raises(NotFittedError):
        DominantColorBrightness().transform(posters)
    est = DominantColorBrightness(output="continuous").fit(posters)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.transform(posters), est.transform(posters))
    np.testing.assert_array_equal(clone(est).fit_transform(posters), est.transform(posters))


def test_changing_n_colors_after_fit_asks_for_refit():
    posters = _noisy_posters(2, seed=13)
    est = DominantColorBrightness().fit(posters)
    with pytest.raises(ValueError, match="refit"):
        est.set_params(n_colors=3).transform(posters)


# the default instance is checked by tests/test_common.py (auto-discovered); this is the
# other output layout
@parametrize_with_checks(
    [DominantColorBrightness(output="continuous", palette=True, dominant_rgb=True)]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ real posters


@pytest.mark.integration
def test_real_posters(data_root):
    folder = data_root / "av-posters" / "Images"
    paths = sorted(folder.glob("*.jpg"))[:50]
    assert len(paths) == 50
    est = DominantColorBrightness(output="continuous", palette=True, dominant_rgb=True)
    out = est.fit_transform(paths)
    assert out.shape == (50, 1 + 5 + 3)
    assert np.isfinite(out).all()
    luma, shares, rgb = out[:, 0], out[:, 1:6], out[:, 6:]
    assert ((luma >= 0) & (luma <= 1)).all()
    np.testing.assert_allclose(shares.sum(axis=1), 1, atol=1e-5)
    assert (np.diff(shares, axis=1) <= 0).all()
    np.testing.assert_allclose(luma, rgb @ np.asarray(BT709_LUMA, np.float32), atol=1e-5)
    # real posters span the brightness range: not all in one level
    levels = np.digitize(luma, [1 / 3, 2 / 3])
    assert len(np.unique(levels)) >= 2
    # and the same as clustering the arrays read at sample_size
    from posterml.io import PosterReader

    images = PosterReader(size=(32, 48)).fit_transform(paths)
    np.testing.assert_array_equal(est.transform(images), out)
