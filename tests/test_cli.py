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
