"""The benchmark scripts run end to end on tiny synthetic inputs (figures in RESULTS.md)."""

import json
import subprocess
import sys
from pathlib import Path

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
