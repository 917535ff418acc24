"""The benchmark scripts run end to end on tiny synthetic inputs (figures in RESULTS.md)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script, *args, tmp_path):
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={"POSTERML_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_ksweep_benchmark_on_synthetic_posters(tmp_path):
    out = _run(
        "ksweep.py",
        "--synthetic",
        "--n-synthetic",
        "240",
        "--out",
        str(tmp_path / "o"),
        tmp_path=tmp_path,
    )
    assert "(a) 64x64 pixels" in out
    assert "Best three and worst three" in out
    dev = pd.read_csv(tmp_path / "o" / "table_a_dev.csv", index_col=0)
    assert "ML-kNN k=1" in dev.index
    assert "Random baseline" in dev.index
    assert dev["Hamming Loss"].between(0, 1).all()
    # Binary is 1 - Hamming loss, row by row
    assert ((dev["Binary"] + dev["Hamming Loss"] - 1).abs() < 1e-12).all()
    table_b = pd.read_csv(tmp_path / "o" / "table_b.csv")
    assert table_b["model"].str.startswith("OvR kNN").any()
    meta = json.loads((tmp_path / "o" / "ksweep.json").read_text())
    assert meta["source"] == "synthetic"
    assert (tmp_path / "o" / "ksweep_a.png").stat().st_size > 10_000  # KSweepDisplay


@pytest.mark.slow
def test_bench_mlknn_reports_ratios_to_the_floor(tmp_path):
    out = _run(
        "bench_mlknn.py",
        "--shapes",
        "400x16",
        "--impls",
        "floor",
        "posterml",
        "posterml-hnsw",
        "--json",
        str(tmp_path / "r.json"),
        tmp_path=tmp_path,
    )
    rows = json.loads((tmp_path / "r.json").read_text())
    assert [r["impl"] for r in rows] == ["floor", "posterml", "posterml-hnsw"]
    assert rows[0]["ratio"] == 1.0
    assert all(r["seconds"] > 0 for r in rows)
    assert 0.0 <= rows[2]["recall"] <= 1.0
    assert "| 400 | 16 | posterml |" in out


@pytest.mark.slow
def test_compare_models_quick_mode(tmp_path):
    # --quick: 800 movies, 3 folds; the real data where present, else the bundled sample's
    # cnn / colour / keyword features (pixels and metadata then left out, and said so).
    out = _run("compare_models.py", "--quick", "--out", str(tmp_path / "o"), tmp_path=tmp_path)
    for title in ("Seed 000's columns", "Seed 001", "Seed 003", "Seed 004", "Fused vs"):
        assert title in out
    t000 = pd.read_csv(tmp_path / "o" / "table_000.csv", index_col=[0, 1])
    features = t000.index.get_level_values(0).unique().tolist()
    assert {"color", "keywords", "cnn", "fused"} <= set(features)
    if "av-posters" in out:
        assert {"pixels", "metadata"} <= set(features)
    else:
        assert "pixels left out" in out
    assert len(t000) == len(features) * 9  # every model on every feature set
    assert ((t000["Binary"] + t000["Hamming Loss"] - 1).abs() < 1e-12).all()
    # the fused logistic regression beats both baselines on Hamming loss and top-5 F1
    t001 = pd.read_csv(tmp_path / "o" / "table_001.csv", index_col=[0, 1])
    for baseline in ("random", "most-frequent"):
        assert (
            t000.loc[("fused", "GLM"), "Hamming Loss"]
            < t000.loc[("fused", baseline), "Hamming Loss"]
        )
        assert t001.loc[("fused", "GLM"), "OF1"] > t001.loc[("fused", baseline), "OF1"]
    t004 = pd.read_csv(tmp_path / "o" / "table_004.csv", index_col=[0, 1])
    assert (t004["min"] <= t004["median"]).all()
    assert (t004["median"] <= t004["max"]).all()
    assert np.isnan(t004.loc[("fused", "ML-kNN"), "mean (weights)"])  # kNN: no weights
    folds = pd.read_csv(tmp_path / "o" / "folds.csv")
    assert sorted(folds["fold"].unique()) == [0, 1, 2]
    for figure in ("per_genre.png", "cooccurrence.png", "custom_genre_confusion.png"):
        assert (tmp_path / "o" / figure).stat().st_size > 10_000  # the plots beside the tables


@pytest.mark.slow
def test_bench_scale_reports_times_slopes_and_skips_large_exact_runs(tmp_path):
    out = _run(
        "bench_scale.py",
        "--ns",
        "600",
        "1200",
        "2400",
        "--d",
        "16",
        "--exact-max",
        "1200",
        "--json",
        str(tmp_path / "scale.json"),
        tmp_path=tmp_path,
    )
    rows = json.loads((tmp_path / "scale.json").read_text())
    assert [(r["n"], r["algorithm"]) for r in rows] == [
        (n, a) for n in (600, 1200, 2400) for a in ("exact", "ivf")
    ]
    skipped = [r for r in rows if r["note"] == "not run"]
    assert [(r["n"], r["algorithm"]) for r in skipped] == [(2400, "exact")]
    assert all(r["recall"] > 0.9 for r in rows if r["algorithm"] == "ivf")
    assert "exact: time ~ n^" in out
    assert "ivf: time ~ n^" in out
