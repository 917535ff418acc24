"""benchmarks/bench_features.py runs end to end on a few synthetic posters."""

import json
import subprocess
import sys
from pathlib import Path

from posterml.datasets import make_posters

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_features.py"


def _run(*args, tmp_path):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"POSTERML_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
    )


def test_bench_features_on_synthetic_posters(tmp_path):
    folder = tmp_path / "posters"
    make_posters(20, folder, random_state=0)
    (folder / "broken.jpg").write_bytes(b"")  # sorts first: one of the 20 is unreadable
    out_json = tmp_path / "r.json"
    done = _run(
        "--posters",
        str(folder),
        "--sections",
        "read64",
        "color",
        "keywords",
        "--n",
        "20",
        "--repeat",
        "1",
        "--threads",
        "1",
        "--json",
        str(out_json),
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| section | posters | seconds | posters/s | target | note |" in done.stdout
    assert "| read64 | 20 |" in done.stdout
    assert "| color | 20 |" in done.stdout
    assert "| keywords | – |" in done.stdout  # skipped, with its reason
    payload = json.loads(out_json.read_text())
    results = {r["section"]: r for r in payload["results"]}
    assert results["read64"]["posters_per_s"] > 0
    assert results["color"]["note"].endswith("1 unreadable file(s) skipped")
    assert results["color"]["target"] == 200
    assert results["keywords"]["skipped"]
    assert results["keywords"]["note"].startswith("skipped: ")
    assert payload["machine"]["cpu_count"] >= 1
    assert "numpy" in payload["machine"]["versions"]


def test_bench_features_without_data_exits_2(tmp_path):
    done = _run("--data", str(tmp_path / "absent"), "--sections", "read64", tmp_path=tmp_path)
    assert done.returncode == 2
    assert "real poster data not found" in done.stderr
