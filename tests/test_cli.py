"""The ``posterml`` command, run through its installed entry point."""

import os
import shutil
import subprocess
import sys

import pytest


def _posterml(*args, env_extra=None, tmp_path):
    exe = shutil.which("posterml", path=os.path.dirname(sys.executable))
    cmd = [exe] if exe else [sys.executable, "-m", "posterml.cli"]
    env = {**os.environ, "POSTERML_CACHE": str(tmp_path / "cache"), **(env_extra or {})}
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )


@pytest.mark.parametrize("how", ["flag", "empty-data-folder"])
def test_info_on_synthetic_posters(tmp_path, how):
    # --synthetic forces the synthetic posters even beside ../shared/data; a data folder
    # without av-posters/ falls back to them.
    if how == "flag":
        args, env = ["--synthetic"], {}
    else:
        (tmp_path / "empty").mkdir()
        args, env = [], {"POSTERML_DATA": str(tmp_path / "empty")}
    done = _posterml("info", *args, "--n-synthetic", "120", env_extra=env, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "# posterml dataset: synthetic" in out
    assert "movies: 120" in out
    assert "label cardinality" in out
    assert "| Random (label frequencies) |" in out
    assert "| Most frequent |" in out
    header = next(line for line in out.splitlines() if line.startswith("| Model |"))
    assert header == "| Model | All Match | At least one match | Binary | Hamming Loss |"


def test_info_on_the_real_data(data_root, tmp_path):
    done = _posterml("info", "--data", str(data_root), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "movies: 7,233   genres: 24" in done.stdout
    assert "| Drama | 3,617 |" in done.stdout


def test_bad_data_folder_is_a_clear_error_and_exit_code(tmp_path):
    done = _posterml("info", "--data", str(tmp_path / "nowhere"), tmp_path=tmp_path)
    assert done.returncode == 2
    assert "posterml info: error:" in done.stderr
    assert "nowhere" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["--help"], ["info", "--help"]])
def test_help(args, tmp_path):
    done = _posterml(*args, tmp_path=tmp_path)
    assert done.returncode == 0
    assert "usage: posterml" in done.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained through the CLI on synthetic posters, and some of its posters."""
    tmp = tmp_path_factory.mktemp("cli")
    model = tmp / "model.skops"
    done = _posterml(
        "train", "--synthetic", "--n-synthetic", "120", "--features", "color", "keywords",
        "--model", "mlknn", "--k", "5", "--out", str(model), tmp_path=tmp,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "trained mlknn on color, keywords features of 96 synthetic movies" in done.stdout
    from posterml.datasets import load_dataset

    frame = load_dataset(synthetic=True, n_synthetic=120).frame
    return tmp, model, frame["poster_path"].tolist()[:3]


def test_train_evaluate_predict_round_trip(trained):
    tmp, model, posters = trained
    done = _posterml(
        "evaluate", "--synthetic", "--n-synthetic", "120", "--model", str(model), tmp_path=tmp
    )
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("| mlknn"))
    assert "(12 test movies)" in row
    hamming = float(row.rstrip(" |").split("|")[-1])
    assert 0 <= hamming < 0.3
    done = _posterml(
        "predict", "--model", str(model), "--top", "2", "--json", *posters, tmp_path=tmp
    )
    assert done.returncode == 0, done.stderr
    import json

    out = json.loads(done.stdout)
    assert [item["poster"] for item in out] == posters
    for item in out:
        probs = [g["probability"] for g in item["genres"]]
        assert len(probs) == 2
        assert probs == sorted(probs, reverse=True)
        assert all(0 <= p <= 1 for p in probs)
    # the same model in the library gives the same top genres
    from posterml.cli import _poster_frame
    from posterml.labels import top_k_genres
    from posterml.persistence import load_model

    loaded = load_model(model)
    proba = loaded.predict_proba(_poster_frame(posters, loaded))
    expected = top_k_genres(proba, loaded.genres_, k=2)
    assert [[g["genre"] for g in item["genres"]] for item in out] == [
        [g for g, _ in pairs] for pairs in expected
    ]


def test_predict_with_the_bundled_default_model(tmp_path, trained):
    _, _, posters = trained
    pytest.importorskip("onnxruntime", reason="the cnn extra is absent")
    done = _posterml("predict", posters[0], tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith(posters[0] + ": ")
    assert len(line.split(": ", 1)[1].split(", ")) == 3  # top 3 genres


def test_embed_a_folder_skips_and_reports_bad_posters(tmp_path, trained):
    pytest.importorskip("onnxruntime", reason="the cnn extra is absent")
    _, _, posters = trained
    folder = tmp_path / "posters"
    folder.mkdir()
    for p in posters[:2]:
        shutil.copy(p, folder)
    (folder / "empty.jpg").write_bytes(b"")
    done = _posterml("embed", str(folder), "--out", str(tmp_path / "e.npz"), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "empty.jpg: empty file" in done.stderr
    import numpy as np

    saved = np.load(tmp_path / "e.npz")
    assert saved["X"].shape == (2, 1280)
    assert sorted(saved["ids"].tolist()) == sorted(os.path.basename(p) for p in posters[:2])


def test_ksweep_on_the_bundled_sample(tmp_path):
    done = _posterml("ksweep", "--sample", "--k", "1", "10", "--folds", "3", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "| k=1 |" in done.stdout
    assert "| k=10 |" in done.stdout
    assert "best k by Hamming loss:" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "missing.jpg"], "poster file(s) not found: missing.jpg"),
        (["predict", "--model", "bad.skops", "MODEL_POSTER"], "not a valid .skops model file"),
        (["predict", "--model", "nothere.skops", "MODEL_POSTER"], "does not exist"),
        (["predict", "--model", "m.joblib", "MODEL_POSTER"], "allow_pickle"),
        (["train", "--features", "nope", "--out", "x.skops"], "invalid choice: 'nope'"),
        (["embed", "no-such-folder", "--out", "x.npz"], "does not exist"),
        (["ksweep", "--sample", "--features", "keywords"], "has the features cnn and color"),
    ],
)
def test_bad_input_exits_2_with_a_readable_message(args, message, tmp_path, trained):
    _, _, posters = trained
    (tmp_path / "bad.skops").write_text("garbage")
    (tmp_path / "m.joblib").write_bytes(b"whatever")
    args = [posters[0] if a == "MODEL_POSTER" else a for a in args]
    done = _posterml(*args, tmp_path=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["info", "predict", "embed", "train", "evaluate", "ksweep"])
def test_every_command_has_help(command, tmp_path):
    done = _posterml(command, "--help", tmp_path=tmp_path)
    assert done.returncode == 0
    assert f"usage: posterml {command}" in done.stdout
