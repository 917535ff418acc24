"""The ``posterml`` command, run through its installed entry point."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
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
        (["predict", "--model", "m.joblib", "MODEL_POSTER"], "pass --allow-pickle only"),
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


# ---------------------------------------------------------------------- hostile input
# In-process runs of main() (same code as the entry point, without a process start each).


@pytest.fixture
def run(trained, monkeypatch, capsys):
    """``run(*args)`` -> (exit status, stdout, stderr) of ``posterml.cli.main``."""
    from posterml.cli import main

    tmp, _, _ = trained
    monkeypatch.setenv("POSTERML_CACHE", str(tmp / "cache"))  # the synthetic posters made

    def _run(*args):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse
            code = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return _run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "--top", "-1", "x.jpg"], "argument --top: must be at least 1, got -1"),
        (["predict", "--top", "0", "x.jpg"], "argument --top: must be at least 1, got 0"),
        (["train", "--k", "0", "--out", "m.skops"], "argument --k: must be at least 1, got 0"),
        (["train", "--k", "ten", "--out", "m.skops"], "argument --k: expected an integer"),
        (["ksweep", "--sample", "--k", "5", "0"], "argument --k: must be at least 1, got 0"),
        (["ksweep", "--sample", "--folds", "1"], "argument --folds: must be at least 2, got 1"),
        (["embed", "d", "--out", "e.npz", "--batch-size", "0"], "argument --batch-size"),
        (["info", "--n-synthetic", "0"], "argument --n-synthetic: must be at least 1, got 0"),
        (["info", "--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    ],
)
def test_out_of_range_numbers_are_refused(run, args, message):
    code, _, err = run(*args)
    assert code == 2
    assert message in err


def test_outputs_are_checked_before_any_work(run, tmp_path, monkeypatch):
    import posterml.cli as cli

    def no_work(args):
        raise AssertionError("the dataset was loaded before the output was checked")

    monkeypatch.setattr(cli, "_dataset", no_work)
    existing = tmp_path / "existing.skops"
    existing.write_bytes(b"a model worth keeping")
    (tmp_path / "file").write_text("x")
    cases = [
        (tmp_path / "m.bin", "cannot tell the format of"),
        (tmp_path / "nowhere" / "m.skops", "the folder"),
        (tmp_path / "file" / "m.skops", "does not exist"),
        (tmp_path, "is a folder"),
        (existing, "existing.skops' exists: pass --overwrite to replace it"),
    ]
    for out, message in cases:
        code, _, err = run("train", "--synthetic", "--out", out)
        assert code == 2, out
        assert message in err, err
        assert len(err.strip().splitlines()) == 1
    assert existing.read_bytes() == b"a model worth keeping"
    folder = tmp_path / "posters"
    folder.mkdir()
    code, _, err = run("embed", folder, "--out", tmp_path / "e.txt")
    assert code == 2
    assert "must end with .npz" in err
    (tmp_path / "e.npz").write_bytes(b"keep")
    code, _, err = run("embed", folder, "--out", tmp_path / "e.npz")
    assert code == 2
    assert "exists: pass --overwrite" in err
    assert (tmp_path / "e.npz").read_bytes() == b"keep"


def test_train_replaces_a_model_only_with_overwrite(run, tmp_path):
    out = tmp_path / "m.skops"
    args = ["train", "--synthetic", "--n-synthetic", "120", "--features", "color", "--k", "3"]
    assert run(*args, "--out", out)[0] == 0
    first = out.read_bytes()
    code, _, err = run(*args, "--k", "4", "--out", out)
    assert code == 2
    assert "exists" in err
    assert out.read_bytes() == first
    assert run(*args, "--k", "4", "--out", out, "--overwrite")[0] == 0
    assert out.read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.skops"]  # no temporary left


def test_k_larger_than_the_training_set_is_a_clear_error(run, tmp_path):
    code, _, err = run(
        "train", "--synthetic", "--n-synthetic", "120", "--features", "color", "--k", "500",
        "--out", tmp_path / "m.skops",
    )  # fmt: skip
    assert code == 2
    assert "k=500 is too large for 96 training samples" in err
    assert not (tmp_path / "m.skops").exists()


def test_ksweep_with_more_folds_than_movies_per_genre(run):
    code, _, err = run(
        "ksweep", "--synthetic", "--n-synthetic", "120", "--features", "color", "--folds", "200"
    )
    assert code == 2
    assert "no genre has 200 movies (one per fold) among the 120 movies" in err


def test_models_that_cannot_read_posters_are_named(run, trained, tmp_path):
    from posterml import MLkNN
    from posterml.persistence import load_model, save_model

    _, model_path, posters = trained
    rng = np.random.default_rng(0)
    plain = MLkNN(k=3).fit(rng.normal(size=(30, 4)), (rng.random((30, 2)) < 0.5).astype(int))
    plain.genres_ = ["Comedy", "Drama"]
    save_model(plain, tmp_path / "plain.skops")
    for command in (["predict", posters[0]], ["evaluate", "--synthetic", "--n-synthetic", "120"]):
        code, _, err = run(*command, "--model", tmp_path / "plain.skops")
        assert code == 2
        assert "plain.skops holds a MLkNN fitted on 4 numeric feature columns" in err

    pipe = load_model(model_path)
    pipe.genres_ = pipe.genres_[:2]  # a hand-edited model: 6 score columns, 2 names
    save_model(pipe, tmp_path / "short.skops")
    code, _, err = run("predict", posters[0], "--model", tmp_path / "short.skops")
    assert code == 2
    assert "short.skops cannot score" in err
    assert "6 score columns for 2 genres" in err
    code, _, err = run("evaluate", "--synthetic", "--n-synthetic", "120", "--model",
                       tmp_path / "short.skops")  # fmt: skip
    assert code == 2
    assert "gives 6 genre scores per movie but its genres_ lists 2 genres" in err
    pipe.genres_ = ["Drama"] * 6
    save_model(pipe, tmp_path / "dup.skops")
    code, _, err = run("predict", posters[0], "--model", tmp_path / "dup.skops")
    assert code == 2
    assert "invalid genres_ list" in err


def test_evaluate_warns_about_other_data_and_unseen_genres(run, trained, monkeypatch):
    import posterml.cli as cli
    from posterml.datasets import load_dataset

    _, model, _ = trained
    code, out, err = run("evaluate", "--synthetic", "--n-synthetic", "60", "--model", model)
    assert code == 0
    assert "trained on 120 synthetic movies and is scored on 60 synthetic movies" in err

    data = load_dataset(synthetic=True, n_synthetic=120)
    data.Y = np.hstack([data.Y, np.zeros((len(data.Y), 1), np.uint8)])
    data.genres = [*data.genres, "Western"]
    monkeypatch.setattr(cli, "_dataset", lambda args: data)
    code, out, err = run("evaluate", "--model", model)
    assert code == 0
    assert "genres the model never saw are not scored: ['Western']" in err
    assert "| mlknn (12 test movies) |" in out


def test_trust_takes_one_name_per_flag_or_commas():
    from posterml.cli import build_parser

    args = build_parser().parse_args(["predict", "--trust", "a.B", "poster.jpg"])
    assert (args.trust, args.posters) == (["a.B"], ["poster.jpg"])
    args = build_parser().parse_args(["predict", "p.jpg", "--trust", "a.B,c.D", "--trust", "e.F"])
    assert args.trust == ["a.B", "c.D", "e.F"]


def test_untrusted_and_dangerous_model_files(run, trained, tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    from posterml.persistence import save_model

    _, _, posters = trained
    save_model(FunctionTransformer(func=os.system), tmp_path / "evil.skops")
    code, _, err = run("predict", posters[0], "--model", tmp_path / "evil.skops", "--trust",
                       "posix.system,nt.system")  # fmt: skip
    assert code == 2
    assert "types that can run programs or code" in err
    assert "system" in err
    import json

    save_model(FunctionTransformer(func=json.dumps), tmp_path / "odd.skops")
    code, _, err = run("predict", posters[0], "--model", tmp_path / "odd.skops")
    assert code == 2
    assert "holds types that are not trusted: ['json.dumps']; if you trust" in err
    assert "pass --trust json.dumps" in err


def test_a_csv_lacking_columns_names_the_file_and_column(run, tmp_path):
    av = tmp_path / "data" / "av-posters"
    (av / "Images").mkdir(parents=True)
    (av / "train.csv").write_text("Id,Action,Drama\ntt0000001,1,0\n")
    (av / "omdb-metadata.csv").write_text("imdbID,Title\ntt0000001,One\n")
    code, _, err = run("info", "--data", tmp_path / "data")
    assert code == 2
    assert "train.csv' has no column 'Genre'" in err


def test_unexpected_errors_are_one_line_and_exit_1(run, monkeypatch):
    import warnings

    import posterml.cli as cli

    def boom(args):
        warnings.warn("a library\nwarning on two lines", UserWarning, stacklevel=1)
        raise RuntimeError("something\nbroke")

    monkeypatch.setattr(cli, "cmd_info", boom)
    code, _, err = run("info")
    assert code == 1
    assert err.splitlines() == [
        "posterml: warning: a library warning on two lines",
        "posterml info: internal error: RuntimeError: something broke (run `posterml -v ...` "
        "for the traceback, and please report it)",
    ]
    with pytest.raises(RuntimeError, match="something"):
        cli.main(["-v", "info"])

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_info", interrupted)
    assert run("info")[0] == 130


def test_a_poster_path_that_is_not_utf8(run, trained, tmp_path):
    if sys.platform in ("darwin", "win32"):
        pytest.skip("file names must be valid Unicode on this system")
    _, model, posters = trained
    name = os.fsencode(tmp_path) + b"/caf\xe9.jpg"
    try:
        with open(name, "wb") as fp, open(posters[0], "rb") as src:
            fp.write(src.read())
    except OSError:
        pytest.skip("the file system refuses non-UTF-8 names")
    exe = shutil.which("posterml", path=os.path.dirname(sys.executable))
    cmd = [exe] if exe else [sys.executable, "-m", "posterml.cli"]
    # A strict stdout (as under a UTF-8 locale) used to fail on such a name: exit 2, no output.
    env = {**os.environ, "POSTERML_CACHE": str(tmp_path / "cache"), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [*cmd, "predict", "--model", str(model), name], capture_output=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(name + b": ")  # the same bytes back
    code, _, err = run("predict", os.fsdecode(os.fsencode(tmp_path) + b"/missing\xff.jpg"))
    assert code == 2
    assert "poster file(s) not found" in err
    assert "missing" in err


def test_a_pipeline_fitted_on_poster_paths_still_predicts(run, trained, tmp_path):
    from sklearn.pipeline import make_pipeline

    from posterml import MLkNN
    from posterml.datasets import load_dataset
    from posterml.features import DominantColorBrightness
    from posterml.persistence import save_model

    _, _, posters = trained
    data = load_dataset(synthetic=True, n_synthetic=120)
    pipe = make_pipeline(DominantColorBrightness(), MLkNN(k=3))
    pipe.fit(data.frame["poster_path"].tolist(), data.Y)
    pipe.genres_ = list(data.genres)
    save_model(pipe, tmp_path / "paths.skops")
    code, out, _ = run("predict", posters[0], "--model", tmp_path / "paths.skops", "--top", "2")
    assert code == 0
    assert out.startswith(posters[0] + ": ")


def test_cli_docs_show_the_current_help():
    # docs/user_guide/cli.rst embeds every command's --help; refresh_cli_help.py rewrites it
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "docs" / "refresh_cli_help.py"
    spec = importlib.util.spec_from_file_location("refresh_cli_help", path)
    refresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refresh)
    page = refresh.PAGE.read_text(encoding="utf-8")
    blocks = refresh._BLOCK.findall(page)
    assert len(blocks) == 7  # posterml, info, predict, embed, train, evaluate, ksweep
    new, _ = refresh.refreshed(page)

    def words(text):  # argparse wraps differently across Python versions
        return " ".join(text.split())

    assert words(new) == words(page), "stale --help in cli.rst: run python docs/refresh_cli_help.py"
