"""Security properties of posterml, tested through the public entry points.

1. No dangerous call in the source: ``eval``/``exec``/``compile``, unpickling, ``yaml.load``,
   ``os.system``, ``shell=True``, ``torch.load`` without ``weights_only=True`` (a static scan
   with ``ast``; the few justified uses are allowlisted by file and function).
2. Python expressions in data files (``Genre`` lists, TMDb keyword literals) are never run:
   they are reported as malformed, and the file they would create never appears.
3. Paths read from data files cannot leave their dataset root: ``..``, absolute and
   Windows-style paths and symbolic links pointing out are refused by every loader that
   joins one (``load_av_posters``, ``load_movie_genre_csv``; ``load_sample`` joins none).
4. No writes outside the folders a user chose: the CLI commands and the library's writing
   workflows run in a subprocess whose ``HOME``, ``XDG_CACHE_HOME``, ``POSTERML_CACHE``,
   ``TMPDIR`` and working directory are separate empty folders; every file that appears
   must be in the chosen output folder or posterml's cache, and an audit hook checks every
   file Python opens for writing, anywhere (the repository included).
5. Model files: skops files naming an untrusted type are refused by default, naming it;
   types that run code (``os.system``, ``builtins.eval`` ...) are refused even when named;
   ``trusted_types()`` holds no callable of that kind.
"""

import ast
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import posterml
from posterml.datasets import load_av_posters, load_movie_genre_csv, load_tmdb_keywords

REPO = Path(posterml.__file__).resolve().parents[1]
PACKAGE = REPO / "posterml"

# ---------------------------------------------------------------------- 1. static scan

# Calls flagged wherever they appear (fully qualified after resolving import aliases).
_FORBIDDEN = {
    "eval": "runs code",
    "exec": "runs code",
    "compile": "compiles code (builtins.compile; re.compile is fine)",
    "__import__": "imports a module by name",
    "builtins.eval": "runs code",
    "builtins.exec": "runs code",
    "builtins.compile": "compiles code",
    "pickle.load": "unpickles (runs code)",
    "pickle.loads": "unpickles (runs code)",
    "pickle.Unpickler": "unpickles (runs code)",
    "_pickle.load": "unpickles (runs code)",
    "_pickle.loads": "unpickles (runs code)",
    "cloudpickle.load": "unpickles (runs code)",
    "cloudpickle.loads": "unpickles (runs code)",
    "dill.load": "unpickles (runs code)",
    "dill.loads": "unpickles (runs code)",
    "marshal.loads": "loads code objects",
    "shelve.open": "unpickles (runs code)",
    "pandas.read_pickle": "unpickles (runs code)",
    "joblib.load": "unpickles (runs code)",
    "yaml.load": "can build arbitrary objects (use yaml.safe_load)",
    "yaml.unsafe_load": "builds arbitrary objects",
    "yaml.full_load": "builds arbitrary objects",
    "os.system": "runs a shell command",
    "os.popen": "runs a shell command",
    "skops.io.load": "must name trusted types (checked below)",
    "skops.io.loads": "must name trusted types (checked below)",
}
_FORBIDDEN_PREFIXES = ("os.exec", "os.spawn", "os.posix_spawn")
_SUBPROCESS = {"subprocess.run", "subprocess.call", "subprocess.check_call"}
_SUBPROCESS |= {"subprocess.check_output", "subprocess.Popen", "subprocess.getoutput"}
_SUBPROCESS |= {"subprocess.getstatusoutput"}

# (file, function, call) -> why it is safe. A stale entry fails the test, so that the list
# names only uses that exist.
ALLOWED = {
    ("posterml/persistence.py", "load_model", "joblib.load"): (
        "reached only with allow_pickle=True, the caller's statement that the file is theirs"
    ),
    ("posterml/persistence.py", "load_model", "skops.io.load"): (
        "trusted= is exactly the types get_untrusted_types found, each checked against "
        "trusted_types() and the caller's list, dangerous ones refused"
    ),
}


def _aliases(tree):
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:  # "import os.path" binds "os"
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node, aliases):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    base = aliases.get(node.id, node.id)
    return ".".join([base, *reversed(parts)])


def _keyword(call, name):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _is_const(node, value):
    return isinstance(node, ast.Constant) and node.value is value


def _findings(path, source):
    tree = ast.parse(source, filename=str(path))
    aliases = _aliases(tree)
    # the function each call is in, for the allowlist
    owner = {}
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            for child in ast.walk(func):
                owner.setdefault(child, func.name)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func, aliases)
        if name is None:
            continue
        reason = _FORBIDDEN.get(name)
        if reason is None and name.startswith(_FORBIDDEN_PREFIXES):
            reason = "runs a program"
        if name in _SUBPROCESS:
            shell = _keyword(node, "shell")
            if shell is not None and not _is_const(shell, False):
                reason = "shell=True runs a shell command"
        if name == "torch.load" and not _is_const(_keyword(node, "weights_only"), True):
            reason = "torch.load without weights_only=True unpickles"
        if name in ("numpy.load", "numpy.lib.npyio.load"):
            allow = _keyword(node, "allow_pickle")
            if allow is not None and not _is_const(allow, False):
                reason = "numpy.load(allow_pickle=True) unpickles"
        if name in ("skops.io.load", "skops.io.loads"):
            trusted = _keyword(node, "trusted")
            if trusted is None or _is_const(trusted, True):
                reason = "skops load without an explicit trusted list"
        if reason is not None:
            found.append((owner.get(node, "<module>"), name, node.lineno, reason))
    return found


def test_source_has_no_dangerous_calls():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20, files  # the scan really sees the package
    used, problems = set(), []
    for path in files:
        rel = path.relative_to(REPO).as_posix()
        for function, name, line, reason in _findings(path, path.read_text(encoding="utf-8")):
            key = (rel, function, name)
            if key in ALLOWED:
                used.add(key)
            else:
                problems.append(f"{rel}:{line} in {function}(): {name} ({reason})")
    assert not problems, "\n".join(problems)
    assert used == set(ALLOWED), f"stale allowlist entries: {set(ALLOWED) - used}"


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("eval(x)", "eval"),
        ("import builtins\nbuiltins.exec(x)", "builtins.exec"),
        ("import pickle as p\np.loads(b)", "pickle.loads"),
        ("from pickle import load\nload(f)", "pickle.load"),
        ("import yaml\nyaml.load(s)", "yaml.load"),
        ("from os import system\nsystem('ls')", "os.system"),
        ("import os\nos.execv('/bin/ls', [])", "os.execv"),
        ("import subprocess\nsubprocess.run('ls', shell=True)", "subprocess.run"),
        ("import subprocess as sp\nsp.Popen(c, shell=flag)", "subprocess.Popen"),
        ("import torch\ntorch.load(p)", "torch.load"),
        ("import torch\ntorch.load(p, weights_only=False)", "torch.load"),
        ("import numpy as np\nnp.load(p, allow_pickle=True)", "numpy.load"),
        ("import skops.io as sio\nsio.load(p, trusted=True)", "skops.io.load"),
        ("import joblib\njoblib.load(p)", "joblib.load"),
    ],
)
def test_the_scan_catches_each_pattern(source, flagged):
    assert [f[1] for f in _findings("x.py", source)] == [flagged]


@pytest.mark.parametrize(
    "source",
    [
        "import ast\nast.literal_eval(s)",
        "import re\nre.compile('x')",
        "import subprocess, sys\nsubprocess.run([sys.executable, 'x'], check=False)",
        "import subprocess\nsubprocess.run(['ls'], shell=False)",
        "import torch\ntorch.load(p, map_location='cpu', weights_only=True)",
        "import numpy as np\nnp.load(p, allow_pickle=False)\nnp.load(p)",
        "import yaml\nyaml.safe_load(s)",
        "net.eval()",  # torch's Module.eval, a method
    ],
)
def test_the_scan_passes_safe_code(source):
    assert _findings("x.py", source) == []


# ---------------------------------------------------------------------- 2. no eval of data


def _payload(target):
    """A Python expression that would create ``target`` if anything evaluated it."""
    return f"__import__('os').system('touch {target}')"


GENRES = ["Action", "Comedy", "Drama"]


def _write_av(root, rows, keywords=(), posters=None):
    """A minimal AV-format data folder: train.csv, omdb, Images/, movielens/."""
    images = root / "av-posters" / "Images"
    images.mkdir(parents=True)
    frame = pd.DataFrame([[i, g, *cells] for i, g, cells in rows], columns=["Id", "Genre", *GENRES])
    frame.to_csv(root / "av-posters" / "train.csv", index=False)
    for imdb_id, *_ in rows if posters is None else [(p,) for p in posters]:
        if imdb_id.startswith("tt"):
            (images / f"{imdb_id}.jpg").write_bytes(b"placeholder")
    pd.DataFrame({"imdbID": [r[0] for r in rows], "Title": [f"Movie {r[0]}" for r in rows]}).to_csv(
        root / "av-posters" / "omdb-metadata.csv", index=False
    )
    (root / "movielens").mkdir()
    links = [(str(n), r[0].removeprefix("tt"), str(100 + n)) for n, r in enumerate(rows)]
    pd.DataFrame(links, columns=["movieId", "imdbId", "tmdbId"]).to_csv(
        root / "movielens" / "links.csv", index=False
    )
    kw = list(keywords) or [(str(100 + n), "[]") for n in range(len(rows))]
    pd.DataFrame(kw, columns=["id", "keywords"]).to_csv(
        root / "movielens" / "keywords.csv", index=False
    )
    return root


def test_expressions_in_data_files_are_never_run_and_are_reported(tmp_path):
    pwned = tmp_path / "pwned"
    expression = _payload(pwned)
    rows = [
        ("tt0000001", expression, "100"),  # 2: a bare expression
        ("tt0000002", f"[{expression}]", "010"),  # 3: inside a list
        ("tt0000003", f"['Drama', {expression}]", "001"),  # 4
        ("tt0000004", "[" * 50_000, "100"),  # 5: deeply nested: no crash
        ("tt0000005", "['Comedy']", "010"),  # 6: a good row
    ]
    keywords = [
        ("100", expression),  # line 2
        ("101", f"[{{'id': 1, 'name': {expression}}}]"),
        ("102", f"[{{'id': {expression}, 'name': 'x'}}]"),
        ("103", "[{'id': 7, 'name': 'fine'}]"),
        ("104", "[]"),
    ]
    root = _write_av(tmp_path / "data", rows, keywords)
    data = load_av_posters(root)
    assert not pwned.exists()
    report = data.report
    by_id = {i: report.loc[report["imdb_id"].astype(str).str.contains(i), "reason"].tolist()
             for i in ("tt0000001", "tt0000002", "tt0000003", "tt0000004")}  # fmt: skip
    for imdb_id, reasons in by_id.items():
        assert any("genre list literal" in r for r in reasons), (imdb_id, reasons)
    # one-hot columns kept: the movies are not lost
    assert data.frame["imdb_id"].tolist() == [f"tt000000{i}" for i in range(1, 6)]
    kw_reasons = report.loc[report["source"] == "keywords.csv", "reason"].tolist()
    assert len([r for r in kw_reasons if "keywords literal" in r]) == 3, kw_reasons
    assert data.frame.set_index("imdb_id").loc["tt0000004", "keywords"] == ["fine"]

    # the TMDb loader on its own, raising on the first bad row, names the line
    with pytest.raises(ValueError, match=r"line 2 .*malformed keywords literal"):
        load_tmdb_keywords(root / "movielens" / "keywords.csv", on_error="raise")
    assert not pwned.exists()


def test_expressions_in_kaggle_genres_and_feature_text_stay_text(tmp_path):
    from posterml.features import KeywordBagOfWords, MovieMetadata

    pwned = tmp_path / "pwned"
    expression = _payload(pwned)
    csv = tmp_path / "MovieGenre.csv"
    csv.write_text(
        "imdbId,Imdb Link,Title,IMDB Score,Genre,Poster\n"
        f'1,x,One (1999),7.0,"Drama|{expression}",https://example.org/a.jpg\n',
        encoding="utf-8",
    )
    data = load_movie_genre_csv(csv, tmp_path, on_missing="keep")
    assert expression in data.genres  # a (strange) genre name, never code
    from posterml.datasets._common import METADATA_COLUMNS

    frame = pd.DataFrame({column: [expression, f"[{expression}]", "1999"] for column in
                          ["year", *METADATA_COLUMNS]})  # fmt: skip
    frame["keywords"] = [expression, f"[{expression}]", f"{{'name': {expression}}}"]
    KeywordBagOfWords(min_df=1).fit_transform(frame["keywords"])
    MovieMetadata().fit_transform(frame)
    assert not pwned.exists()


# ---------------------------------------------------------------------- 3. path escapes


@pytest.fixture
def outside(tmp_path):
    """A secret file outside every dataset root."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.jpg").write_bytes(b"secret")
    return folder


@pytest.mark.parametrize(
    "bad_id",
    ["../../outside/secret", "/etc/passwd", "..\\..\\outside\\secret", "C:\\Windows\\x"],
)
def test_av_ids_cannot_escape_the_image_folder(tmp_path, outside, bad_id):
    rows = [("tt0000001", "['Action']", "100"), (bad_id, "['Drama']", "001")]
    root = _write_av(tmp_path / "data", rows)
    with pytest.raises(ValueError, match="(escapes the dataset root|absolute path)") as info:
        load_av_posters(root)
    assert bad_id.replace("\\", "\\\\") in str(info.value) or bad_id in str(info.value)


def test_av_poster_symlinked_out_of_the_root_is_refused(tmp_path, outside):
    rows = [("tt0000001", "['Action']", "100"), ("tt0000002", "['Drama']", "001")]
    root = _write_av(tmp_path / "data", rows, posters=["tt0000001"])
    (root / "av-posters" / "Images" / "tt0000002.jpg").symlink_to(outside / "secret.jpg")
    with pytest.raises(ValueError, match=r"'tt0000002.jpg' escapes the dataset root"):
        load_av_posters(root)


@pytest.mark.parametrize(
    "poster",
    [
        "../outside/secret.jpg",
        "sub/../../outside/secret.jpg",
        "OUTSIDE_ABS",
        "..\\outside\\secret.jpg",
        "C:\\posters\\x.jpg",
        "\\\\server\\share\\x.jpg",
        "link.jpg",  # a symlink in the folder pointing out
        "linkdir/secret.jpg",  # through a symlinked folder
    ],
)
def test_kaggle_poster_names_cannot_escape_the_poster_folder(tmp_path, outside, poster):
    folder = tmp_path / "posters"
    folder.mkdir()
    (folder / "ok.jpg").write_bytes(b"ok")
    (folder / "link.jpg").symlink_to(outside / "secret.jpg")
    (folder / "linkdir").symlink_to(outside, target_is_directory=True)
    if poster == "OUTSIDE_ABS":
        poster = str(outside / "secret.jpg")
    csv = tmp_path / "onehot.csv"
    pd.DataFrame(
        {
            "imdbId": ["1", "2"],
            "Title": ["A (2000)", "B (2001)"],
            "Genre": ["Drama", "Comedy"],
            "Poster": ["ok.jpg", poster],
            "Drama": ["1", "0"],
            "Comedy": ["0", "1"],
        }
    ).to_csv(csv, index=False)
    with pytest.raises(ValueError, match="(escapes the dataset root|absolute path)") as info:
        load_movie_genre_csv(csv, folder)
    assert repr(poster) in str(info.value)


def test_the_bundled_sample_joins_no_path_from_its_data():
    from posterml.datasets import load_sample

    frame = load_sample().frame
    assert not [c for c in frame.columns if "path" in c]


# ---------------------------------------------------------------------- 4. no stray writes

_WORKFLOWS = r"""
import json, os, sys
from pathlib import Path

OUT = Path(sys.argv[1])
writes = []
_WRITE_EVENTS = {"os.mkdir", "os.rename", "os.replace", "os.symlink", "os.link",
                 "os.truncate", "os.chmod", "shutil.copyfile", "shutil.copytree"}


def _hook(event, args):
    # every file Python opens for writing, and every folder or rename it makes
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int) or path is None:
            return
        writing = any(c in mode for c in "wax+") if mode else bool(
            flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writing:
            writes.append([event, os.fsdecode(path)])
    elif event in _WRITE_EVENTS:
        for value in args[:2] if event in ("os.rename", "os.replace", "os.link",
                                           "shutil.copyfile", "shutil.copytree") else args[:1]:
            if isinstance(value, (str, bytes, os.PathLike)):
                writes.append([event, os.fsdecode(value)])


sys.addaudithook(_hook)

from posterml.cli import main
from posterml.datasets import make_posters

work = OUT / "work"
work.mkdir()
posters = make_posters(8, OUT / "posters", size=(48, 72)).frame["poster_path"].tolist()
model = str(work / "model.skops")
rcs = {
    "train": main(["train", "--synthetic", "--n-synthetic", "60", "--features", "color",
                   "--k", "3", "--out", model]),
    "evaluate": main(["evaluate", "--synthetic", "--n-synthetic", "60", "--model", model]),
    "predict": main(["predict", "--model", model, *posters[:2]]),
    "ksweep": main(["ksweep", "--sample", "--features", "color", "--k", "1", "3",
                    "--folds", "2"]),
}
if CNN:
    rcs["predict-default"] = main(["predict", posters[0]])
    rcs["embed"] = main(["embed", str(OUT / "posters"), "--out", str(work / "emb.npz")])
    from posterml.features import CNNEmbedder

    CNNEmbedder(cache=str(OUT / "cnn-cache")).fit_transform(posters[:2])

import numpy as np
from posterml import MLkNN
from posterml.persistence import load_model, save_model

save_model(MLkNN(k=1).fit(np.eye(4), np.eye(4, dtype=int)[:, :2]), work / "lib.skops")
load_model(work / "lib.skops")
if DASK:
    from distributed import Client, LocalCluster
    from posterml.distributed import extract_features, load_features
    from posterml.features import PixelFlattener

    import dask

    # the cluster is the user's: its scratch space goes where the user says
    with dask.config.set({"temporary-directory": str(OUT / "dask")}), LocalCluster(
            n_workers=1, processes=False, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        with Client(cluster) as client:
            extract_features(posters, PixelFlattener(size=(8, 8)), work / "features",
                             client=client, partition_size=4)
    load_features(work / "features")
print("RESULT " + json.dumps({"rcs": rcs, "writes": writes}))
"""

# Suffixes of files other engineers may add to the checkout while this test runs; posterml
# writing such a file would still be caught by the audit hook.
_SOURCE_SUFFIXES = {".py", ".md", ".rst", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml"}
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}


def _tree(root):
    files = set()
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        files.update(os.path.relpath(os.path.join(folder, n), root) for n in names)
    return files


def _importable(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


@pytest.mark.slow
def test_workflows_write_only_into_the_chosen_folders(tmp_path):
    cnn = _importable("onnxruntime") and _importable("torch") and _importable("onnx")
    dask = _importable("distributed")
    folders = {name: tmp_path / name for name in ("home", "xdg", "cache", "tmp", "cwd", "out")}
    for folder in folders.values():
        folder.mkdir()
    script = tmp_path / "workflows.py"
    script.write_text(f"CNN = {cnn}\nDASK = {dask}\n" + textwrap.dedent(_WORKFLOWS))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XDG_", "POSTERML_", "MPL", "TORCH", "ORT_", "HF_", "NUMBA"))
        and k not in ("TMP", "TEMP", "TMPDIR", "HOME")
    }
    env.update(
        HOME=str(folders["home"]),
        XDG_CACHE_HOME=str(folders["xdg"]),
        POSTERML_CACHE=str(folders["cache"]),
        TMPDIR=str(folders["tmp"]),
        PYTHONDONTWRITEBYTECODE="1",  # the interpreter's .pyc files are not posterml's
    )
    repo_before = _tree(REPO)
    done = subprocess.run(
        [sys.executable, str(script), str(folders["out"])],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=folders["cwd"],
    )
    repo_after = _tree(REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    assert set(result["rcs"].values()) == {0}, (result["rcs"], done.stderr[-3000:])

    # (a) nothing at all in HOME, XDG_CACHE_HOME, TMPDIR or the working directory
    for name in ("home", "xdg", "tmp", "cwd"):
        left = sorted(str(p.relative_to(tmp_path)) for p in folders[name].rglob("*"))
        assert not left, f"files written outside the chosen folders: {left}"
    # (b) posterml's cache holds only its own subfolders
    assert {p.name for p in folders["cache"].iterdir()} <= {"synthetic", "cnn"}
    # (c) the outputs are where they were asked for
    out = folders["out"]
    expected = (
        {"work", "posters"} | ({"cnn-cache"} if cnn else set()) | ({"dask"} if dask else set())
    )
    assert {p.name for p in out.iterdir()} == expected
    work = {p.name for p in (out / "work").iterdir()}
    assert work == {"model.skops", "lib.skops"} | ({"emb.npz"} if cnn else set()) | (
        {"features"} if dask else set()
    )
    # (d) every write Python made, anywhere (the repository included), was inside them
    allowed = [str(folders["cache"]), str(out), os.devnull]
    stray = sorted({path for _, path in result["writes"] if not path.startswith(tuple(allowed))})
    assert not stray, f"writes outside the chosen folders: {stray}"
    # (e) and no new data file appeared in the checkout (C-level writes included)
    new = sorted(p for p in repo_after - repo_before if Path(p).suffix not in _SOURCE_SUFFIXES)
    assert not new, f"files written into the repository: {new}"


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    from posterml._config import get_cache_base, get_cache_dir

    monkeypatch.delenv("POSTERML_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert get_cache_base() == tmp_path / "xdg" / "posterml"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec ignores it
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_cache_base() == tmp_path / "home" / ".cache" / "posterml"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POSTERML_CACHE", "rel-cache")
    assert get_cache_base() == tmp_path / "rel-cache"  # absolute, fixed at the call
    assert get_cache_dir("cnn") == tmp_path / "rel-cache" / "cnn"
    with pytest.raises(ValueError, match="plain folder name"):
        get_cache_dir("../escape")
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("POSTERML_CACHE", str(tmp_path / "a-file"))
    with pytest.raises(OSError, match=r"cannot create the posterml cache folder .*POSTERML_CACHE"):
        get_cache_dir("cnn")


def test_library_onnxruntime_use_writes_no_telemetry(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    folders = {name: tmp_path / name for name in ("home", "xdg", "tmp")}
    for folder in folders.values():
        folder.mkdir()
    code = textwrap.dedent(
        """
        from onnx import TensorProto, helper
        from posterml.features._cnn import _import_onnxruntime

        ort = _import_onnxruntime()
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
        graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ORT_"))}
    env.update(HOME=str(folders["home"]), XDG_CACHE_HOME=str(folders["xdg"]))
    env.update(TMPDIR=str(folders["tmp"]))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    left = sorted(str(p.relative_to(tmp_path)) for f in folders.values() for p in f.rglob("*"))
    assert not left


# ---------------------------------------------------------------------- 5. model files


def _skops_zip(path, schema):
    """A .skops file built by hand: only its schema.json, as an attacker would write it."""
    schema = {**schema, "protocol": 2, "_skops_version": "0.16.0"}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
    return path


def _object(cls, module, content=None, id_=1):
    content = content or {}
    str_type = {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"}
    key_types = [{**str_type, "__id__": id_ + 3000} for _ in content]
    return {
        "__class__": cls,
        "__module__": module,
        "__loader__": "ObjectNode",
        "content": {
            "__class__": "dict",
            "__module__": "builtins",
            "__loader__": "DictNode",
            "key_types": {
                "__class__": "list",
                "__module__": "builtins",
                "__loader__": "ListNode",
                "content": key_types,
                "__id__": id_ + 2000,
            },
            "content": content,
            "__id__": id_ + 1000,
        },
        "__id__": id_,
    }


def _function(name, module, id_):
    return {"__class__": name, "__module__": module, "__loader__": "TypeNode", "__id__": id_}


def test_hand_built_skops_with_a_custom_class_is_refused_and_named(tmp_path):
    from posterml.persistence import UntrustedModelError, load_model

    path = _skops_zip(tmp_path / "evil.skops", _object("Payload", "evil_module"))
    with pytest.raises(UntrustedModelError, match=r"not trusted: \['evil_module.Payload'\]"):
        load_model(path)
    # trusted on purpose: skops then tries to import the module, which does not exist
    with pytest.raises(ValueError, match="could not be loaded"):
        load_model(path, trusted=["evil_module.Payload"])


@pytest.mark.parametrize(
    ("module", "name", "qualified"),
    [
        ("os", "system", "os.system"),
        ("posix", "system", "posix.system"),
        ("builtins", "eval", "builtins.eval"),
        ("builtins", "exec", "builtins.exec"),
        ("subprocess", "Popen", "subprocess.Popen"),
        ("builtins", "__import__", "builtins.__import__"),
    ],
)
def test_skops_types_that_run_code_are_refused_even_when_trusted(tmp_path, module, name, qualified):
    from posterml.persistence import UntrustedModelError, load_model

    # A LogisticRegression (trusted by skops) whose parameter is the dangerous callable.
    schema = _object(
        "LogisticRegression",
        "sklearn.linear_model._logistic",
        {"C": _function(name, module, 2)},
    )
    path = _skops_zip(tmp_path / "evil.skops", schema)
    with pytest.raises(UntrustedModelError, match=rf"run programs or code: \['{qualified}'\]"):
        load_model(path)
    with pytest.raises(UntrustedModelError, match="refused even with trusted="):
        load_model(path, trusted=[qualified])


def test_a_real_skops_file_holding_os_system_is_refused(tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    from posterml.persistence import UntrustedModelError, load_model, save_model

    path = tmp_path / "ft.skops"
    save_model(FunctionTransformer(func=os.system), path)
    with pytest.raises(UntrustedModelError, match=r"\['posix.system'\]|\['nt.system'\]"):
        load_model(path, trusted=["posix.system", "nt.system"])


def test_trusted_types_hold_no_dangerous_callable():
    import importlib
    import inspect

    from sklearn.base import BaseEstimator

    from posterml.persistence import _INTERNALS, _is_dangerous, trusted_types

    names = trusted_types()
    assert names
    assert len(names) == len(set(names))
    for name in names:
        assert not _is_dangerous(name), name
        assert name.startswith("posterml.") or name == "numpy.dtype", name
        module, _, attr = name.rpartition(".")
        obj = getattr(importlib.import_module(module), attr)
        assert inspect.isclass(obj), f"{name} is not a class"
        if name.startswith("posterml."):
            assert issubclass(obj, BaseEstimator) or name in _INTERNALS, name
    # and the check recognises what it must
    for bad in ("builtins.eval", "posix.system", "os.system", "subprocess.Popen", "nt.system"):
        assert _is_dangerous(bad)
    for fine in ("builtins.dict", "numpy.dtype", "sklearn.pipeline.Pipeline", "osmium.x"):
        assert not _is_dangerous(fine)


def test_skops_itself_trusts_none_of_them():
    sio = pytest.importorskip("skops.io")
    from sklearn.preprocessing import FunctionTransformer

    for func in (eval, exec, os.system, subprocess.Popen, np.load):
        data = sio.dumps(FunctionTransformer(func=func))
        assert sio.get_untrusted_types(data=data), func
