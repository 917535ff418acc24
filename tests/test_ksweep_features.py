"""benchmarks/ksweep.py --features: the (a)-style k-sweep on other feature sets.

On a small split of the real posters (skipped where ../shared/data is absent) and on tiny
synthetic posters.
"""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "ksweep.py"
COLUMNS = ["All Match", "At least one match", "Binary", "Hamming Loss", "Pred ⊆ true (seed code)"]
K_ROWS = [f"ML-kNN k={k}" for k in (1, 3, 5, 7, 10, 15, 20, 30, 40, 50, 100)]


def _run(*args, tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={"POSTERML_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _check_tables(out, tmp_path, features, title, sizes):
    assert f"## (a) {title}" in out
    dev = pd.read_csv(tmp_path / "o" / f"table_a_dev_{features}.csv", index_col=0)
    assert dev.columns.tolist() == COLUMNS
    assert dev.index.tolist() == [*K_ROWS, "Random baseline"]
    assert dev["Hamming Loss"].between(0, 1).all()
    assert ((dev["Binary"] + dev["Hamming Loss"] - 1).abs() < 1e-12).all()
    test = pd.read_csv(tmp_path / "o" / f"table_a_test_{features}.csv", index_col=0)
    assert test.index[0].endswith("(best on dev)")
    assert test.index[1] == "Random baseline"
    meta = json.loads((tmp_path / "o" / f"ksweep_{features}.json").read_text())
    assert meta["table_a"]["features"] == features
    assert meta["table_a"]["sizes"] == sizes
    assert meta["table_a"]["best_k"] in range(1, 101)
    return dev, meta


@pytest.mark.integration
@pytest.mark.slow
def test_color_and_keyword_sweeps_on_the_real_posters(data_root, tmp_path):
    out = _run(
        "--data",
        str(data_root),
        "--features",
        "color",
        "keywords",
        "--n-train",
        "150",
        "--n-dev",
        "50",
        "--n-test",
        "50",
        tmp_path=tmp_path,
    )
    assert "on av-posters" in out
    assert "(b) 100x150" not in out  # the feature sets replace tables (a) and (b)
    _, meta = _check_tables(out, tmp_path, "color", "colour", [150, 50, 50])
    assert meta["table_a"]["n_features"] == 9
    _, meta = _check_tables(out, tmp_path, "keywords", "TMDb keywords", [150, 50, 50])
    assert meta["table_a"]["n_features"] == 40


@pytest.mark.slow
def test_feature_sets_on_synthetic_posters(tmp_path):
    common = ("--synthetic", "--n-synthetic", "150")
    default = _run(*common, "--skip-b", tmp_path=tmp_path)
    assert "(a) 64x64 pixels" in default
    baseline = pd.read_csv(tmp_path / "o" / "table_a_dev.csv", index_col=0)
    out = _run(
        *common,
        "--features",
        "pixels64",
        "metadata",
        "fused",
        "--fuse",
        "color",
        "keywords",
        "metadata",
        tmp_path=tmp_path,
    )
    sizes = [120, 15, 15]
    pixels, _ = _check_tables(out, tmp_path, "pixels64", "64x64 pixels", sizes)
    # --features pixels64 is table (a) itself
    pd.testing.assert_frame_equal(pixels, baseline)
    _check_tables(out, tmp_path, "metadata", "OMDb metadata", sizes)
    _, meta = _check_tables(out, tmp_path, "fused", "fused features (color 9, keywords", sizes)
    assert meta["table_a"]["n_features"] > 9 + 40


def test_unknown_feature_set_is_refused(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--features", "hog", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "invalid choice: 'hog'" in done.stderr


def test_bundled_sample_sweep_needs_no_posters(tmp_path):
    # make demo's k-sweep: the shipped CNN features, seed 000's split, no poster files read
    out = _run("--sample", tmp_path=tmp_path)
    title = "bundled sample: CNN embeddings, PCA to 128 components"
    _check_tables(out, tmp_path, "cnn", title, [1600, 200, 200])
    dev = pd.read_csv(tmp_path / "o" / "table_a_dev_cnn.csv", index_col=0)
    # the embeddings carry genre information: the best k beats the random baseline clearly
    best = dev.drop(index="Random baseline")["Hamming Loss"].min()
    assert best < dev.loc["Random baseline", "Hamming Loss"] - 0.03
