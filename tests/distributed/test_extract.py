"""posterml.distributed: partitioned extraction on Dask (resume, atomicity, retries), joblib.

No ``__init__.py`` in this folder on purpose: pytest's default import mode would import it
as a package named ``distributed`` and shadow dask.distributed itself.
"""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install posterml[dask])"
)

from distributed import Client, Future, LocalCluster, get_task_stream  # noqa: E402
from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from posterml import MLkNN, MLkNNCV  # noqa: E402
from posterml.datasets import make_posters  # noqa: E402
from posterml.distributed import (  # noqa: E402
    extract_features,
    joblib_dask_backend,
    load_features,
)
from posterml.features import PixelFlattener  # noqa: E402
from posterml.io import PosterReadError  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:skipped .* posters that could not be read:UserWarning"
)

BAD = {
    "bad-empty": ("empty.jpg", b"", "empty file (0 bytes)"),
    "bad-text": ("text.jpg", b"this is not an image\n", "not an image: looks like text"),
    "bad-missing": ("missing.jpg", None, "file not found"),
}


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0"
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def posters(tmp_path_factory):
    """33 posters: 30 synthetic ones with labels and 3 unreadable ones among them."""
    folder = tmp_path_factory.mktemp("posters")
    data = make_posters(30, folder, size=(24, 36))
    frame = data.frame[["imdb_id", "poster_path"]].copy()
    bad_rows = []
    for imdb_id, (name, content, _) in BAD.items():
        if content is not None:
            (folder / name).write_bytes(content)
        bad_rows.append({"imdb_id": imdb_id, "poster_path": str(folder / name)})
    parts = [frame.iloc[:2], pd.DataFrame(bad_rows[:1]), frame.iloc[2:11]]
    parts += [pd.DataFrame(bad_rows[1:2]), frame.iloc[11:], pd.DataFrame(bad_rows[2:])]
    frame = pd.concat(parts, ignore_index=True)
    labels = pd.DataFrame(data.Y, index=data.frame["imdb_id"])
    good = frame[~frame["imdb_id"].isin(BAD)]
    X_local = PixelFlattener(size=(8, 8)).fit_transform(good["poster_path"].tolist())
    return {"frame": frame, "labels": labels, "good": good, "X_local": X_local}


def _parts(out_dir):
    return sorted(p.name for p in out_dir.iterdir() if p.name.startswith("part-"))


def test_extract_every_good_id_once(client, posters, tmp_path):
    frame, good = posters["frame"], posters["good"]
    out = tmp_path / "feat"
    with pytest.warns(UserWarning, match=r"skipped 3 of 33 posters"):
        summary = extract_features(
            frame,
            PixelFlattener(size=(8, 8)),
            out,
            client=client,
            batch_size=3,
            partition_size=7,
        )
    assert (summary.n_rows, summary.n_written, summary.n_skipped) == (33, 30, 3)
    assert (summary.n_partitions, summary.partitions_done, summary.partitions_skipped) == (5, 5, 0)
    assert summary.out_dir == out
    assert _parts(out) == [f"part-{i:05d}.{ext}" for i in range(5) for ext in ("ids.json", "npy")]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]

    skipped = summary.skipped.set_index("id")
    assert list(summary.skipped.columns) == ["id", "path", "reason", "partition"]
    assert sorted(skipped.index) == sorted(BAD)
    positions = frame.reset_index().set_index("imdb_id")["index"]
    for imdb_id, (name, _, reason) in BAD.items():
        assert skipped.loc[imdb_id, "reason"] == reason
        assert skipped.loc[imdb_id, "path"].endswith(name)
        assert skipped.loc[imdb_id, "partition"] == positions[imdb_id] // 7

    ids, X = load_features(out)
    assert ids.tolist() == good["imdb_id"].tolist()  # every good id once, in input order
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, posters["X_local"])
    # Labels align by id.
    Y = posters["labels"].loc[ids].to_numpy()
    np.testing.assert_array_equal(Y, posters["labels"].to_numpy())


def test_paths_with_explicit_ids_and_positions(client, posters, tmp_path):
    paths = posters["good"]["poster_path"].tolist()[:9]
    summary = extract_features(
        paths, PixelFlattener(size=(8, 8)), tmp_path / "a", client=client, partition_size=4
    )
    assert summary.n_partitions == 3
    ids, X = load_features(tmp_path / "a")
    assert ids.tolist() == list(range(9))
    np.testing.assert_array_equal(X, posters["X_local"][:9])
    named = [f"m{i}" for i in range(9)]
    extract_features(paths, PixelFlattener(size=(8, 8)), tmp_path / "b", ids=named, client=client)
    assert load_features(tmp_path / "b")[0].tolist() == named


def test_resume_recomputes_only_missing_partitions(client, posters, tmp_path):
    frame, out = posters["frame"], tmp_path / "feat"
    kwargs = {"client": client, "partition_size": 7}
    first = extract_features(frame, PixelFlattener(size=(8, 8)), out, **kwargs)
    ids0, X0 = load_features(out)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    (out / "part-00002.npy").unlink()
    (out / "part-00002.ids.json").unlink()
    (out / "part-00004.npy").unlink()  # a record without its data is not complete either
    (out / ".part-00001.npy.deadbeef.tmp").write_bytes(b"half written")  # a killed task's
    with pytest.raises(FileNotFoundError, match="partition 2 .*incomplete"):
        load_features(out)

    again = extract_features(frame, PixelFlattener(size=(8, 8)), out, **kwargs)
    assert (again.partitions_done, again.partitions_skipped) == (2, 3)
    assert again.n_written == first.n_written
    assert again.n_skipped == first.n_skipped
    pd.testing.assert_frame_equal(again.skipped, first.skipped)
    for i in (0, 1, 3):
        for name in (f"part-{i:05d}.npy", f"part-{i:05d}.ids.json"):
            assert (out / name).stat().st_mtime_ns == mtimes[name], name
    assert not (out / ".part-00001.npy.deadbeef.tmp").exists()
    ids1, X1 = load_features(out)
    np.testing.assert_array_equal(ids1, ids0)
    np.testing.assert_array_equal(X1, X0)

    # Everything complete: no task, and no client needed.
    done = extract_features(frame, PixelFlattener(size=(8, 8)), out, partition_size=7)
    assert (done.partitions_done, done.partitions_skipped) == (0, 5)
    # batch_size (like n_jobs and verbose) does not change the features: no refusal.
    done = extract_features(frame, PixelFlattener(size=(8, 8)), out, partition_size=7, batch_size=2)
    assert done.partitions_skipped == 5


def test_refuses_a_different_extraction(client, posters, tmp_path):
    frame, out = posters["frame"], tmp_path / "feat"
    extract_features(frame, PixelFlattener(size=(8, 8)), out, client=client, partition_size=7)
    with pytest.raises(ValueError, match=r"transformer parameter size: \(8, 8\) -> \(16, 16\)"):
        extract_features(frame, PixelFlattener(size=(16, 16)), out, client=client, partition_size=7)
    with pytest.raises(ValueError, match="ids differ.*overwrite=True"):
        extract_features(
            frame,
            PixelFlattener(size=(8, 8)),
            out,
            ids=[f"x{i}" for i in range(33)],
            client=client,
            partition_size=7,
        )
    with pytest.raises(ValueError, match="partition_size: 7 -> 8"):
        extract_features(frame, PixelFlattener(size=(8, 8)), out, client=client, partition_size=8)
    summary = extract_features(
        frame,
        PixelFlattener(size=(16, 16)),
        out,
        client=client,
        partition_size=7,
        overwrite=True,
    )
    assert summary.partitions_done == 5
    assert load_features(out)[1].shape == (30, 16 * 16 * 3)


def test_refuses_part_files_without_manifest(client, posters, tmp_path):
    (tmp_path / "part-00000.npy").write_bytes(b"")
    with pytest.raises(ValueError, match="part-\\* files but no _manifest.json"):
        extract_features(posters["frame"], PixelFlattener(size=(8, 8)), tmp_path, client=client)


def test_duplicate_ids_and_bad_arguments(client, posters, tmp_path):
    paths = posters["good"]["poster_path"].tolist()[:4]
    with pytest.raises(ValueError, match=r"2 are duplicated: 'a' \(x2\), 'b' \(x2\)"):
        extract_features(paths, PixelFlattener(), tmp_path, ids=["a", "a", "b", "b"])
    with pytest.raises(ValueError, match="ids has 3 entries but there are 4 posters"):
        extract_features(paths, PixelFlattener(), tmp_path, ids=["a", "b", "c"])
    with pytest.raises(ValueError, match="format must be one of"):
        extract_features(paths, PixelFlattener(), tmp_path, format="csv")
    with pytest.raises(ValueError, match="partition_size must be a positive int"):
        extract_features(paths, PixelFlattener(), tmp_path, partition_size=0)
    with pytest.raises(ValueError, match="'imdb_id' column"):
        extract_features(posters["frame"][["poster_path"]], PixelFlattener(), tmp_path)
    with pytest.raises(TypeError, match=r"Client\('tcp://host:8786'\)"):
        extract_features(paths, PixelFlattener(), tmp_path / "c", client="tcp://host:8786")
    assert not (tmp_path / "_manifest.json").exists()


def test_no_client_says_how_to_start_one(posters, tmp_path, monkeypatch):
    import distributed

    def no_client():
        raise ValueError("No global client found")

    monkeypatch.setattr(distributed, "get_client", no_client)
    with pytest.raises(ValueError, match=r"no Dask client.*LocalCluster.*tcp://scheduler:8786"):
        extract_features(posters["good"]["poster_path"].tolist()[:2], PixelFlattener(), tmp_path)
    with pytest.raises(ValueError, match="no Dask client"), joblib_dask_backend():
        pass


def test_on_error_raise_fails_the_call(client, posters, tmp_path):
    # Fail fast: the first failing partition to report wins.
    with pytest.raises(PosterReadError, match="empty.jpg|text.jpg|missing.jpg"):
        extract_features(
            posters["frame"],
            PixelFlattener(size=(8, 8)),
            tmp_path,
            client=client,
            on_error="raise",
            partition_size=7,
        )


def test_load_features_checks_ids_against_manifest(client, posters, tmp_path):
    extract_features(
        posters["frame"], PixelFlattener(size=(8, 8)), tmp_path, client=client, partition_size=7
    )
    record_path = tmp_path / "part-00001.ids.json"
    record = json.loads(record_path.read_text())
    stolen = json.loads((tmp_path / "part-00000.ids.json").read_text())["ids"][0]
    record["ids"][0] = stolen
    record_path.write_text(json.dumps(record))
    with pytest.raises(
        ValueError, match=rf"partition 1 missing: .*partition 1 unexpected: \['{stolen}'\]"
    ):
        load_features(tmp_path)
    with pytest.raises(FileNotFoundError, match="is not an extract_features output"):
        load_features(tmp_path / "nowhere")


def test_gpu_resource_is_requested(client, posters, tmp_path):
    # No worker offers the resource: the task waits; cancel it once it is seen queued.
    paths = posters["good"]["poster_path"].tolist()[:2]
    errors = []

    def our_tasks(dask_scheduler):
        return {
            str(k): ts.resource_restrictions
            for k, ts in dask_scheduler.tasks.items()
            if "posterml-extract" in str(k)
        }

    before = set(client.run_on_scheduler(our_tasks))

    def run():
        try:
            extract_features(paths, PixelFlattener(), tmp_path, client=client, gpu_resource="GPU")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    restrictions = {}
    while time.monotonic() < deadline and not restrictions:
        tasks = client.run_on_scheduler(our_tasks)
        restrictions = {k: v for k, v in tasks.items() if k not in before}
        time.sleep(0.05)
    assert restrictions
    assert all(r == {"GPU": 1} for r in restrictions.values())
    assert not list(tmp_path.glob("part-*"))

    # Cancelling the queued keys makes the blocked call raise CancelledError.
    for key in restrictions:
        Future(key, client).cancel()
    thread.join(10)
    assert not thread.is_alive()
    assert errors
    assert "Cancelled" in type(errors[0]).__name__


# ------------------------------------------------------------------ joblib


def _multilabel(n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, (X[:, :3] > 0).astype(int)


def test_gridsearch_on_dask_matches_local(client):
    X, Y = _multilabel()
    local = GridSearchCV(MLkNN(), {"k": [1, 3]}, cv=3, n_jobs=2).fit(X, Y)
    with get_task_stream(client) as stream, joblib_dask_backend(client) as used:
        remote = GridSearchCV(MLkNN(), {"k": [1, 3]}, cv=3, n_jobs=2).fit(X, Y)
    assert used is client
    assert stream.data, "no task ran on the Dask cluster"
    for key in ("mean_test_score", "split0_test_score", "split1_test_score", "rank_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_


def test_mlknncv_works_inside_the_context(client):
    X, Y = _multilabel()
    local = MLkNNCV(k_values=[1, 3, 5], cv=3).fit(X, Y)
    with joblib_dask_backend(client):
        inside = MLkNNCV(k_values=[1, 3, 5], cv=3).fit(X, Y)
    assert inside.best_k_ == local.best_k_
    np.testing.assert_array_equal(
        inside.cv_results_["mean_test_hamming_loss"], local.cv_results_["mean_test_hamming_loss"]
    )


# ------------------------------------------------------------------ parquet


def test_parquet_partitions(client, posters, tmp_path):
    pytest.importorskip("pyarrow")
    summary = extract_features(
        posters["frame"],
        PixelFlattener(size=(8, 8)),
        tmp_path,
        client=client,
        partition_size=10,
        format="parquet",
    )
    assert summary.n_written == 30
    table = pd.read_parquet(tmp_path / "part-00000.parquet")
    assert table.columns[0] == "imdb_id"
    assert table.columns[1] == "r_y0_x0"
    ids, X = load_features(tmp_path)
    assert ids.tolist() == posters["good"]["imdb_id"].tolist()
    np.testing.assert_array_equal(X, posters["X_local"])


# ------------------------------------------------------------------ worker killed


class _SlowFlattener(TransformerMixin, BaseEstimator):
    """PixelFlattener that sleeps per batch, so that a worker can be killed mid-job."""

    def __init__(self, size=(8, 8), delay=0.15, on_error="raise"):
        self.size = size
        self.delay = delay
        self.on_error = on_error

    def fit(self, X, y=None):
        self.flattener_ = PixelFlattener(size=self.size, on_error=self.on_error).fit(X)
        return self

    def transform(self, X):
        time.sleep(self.delay)
        out = self.flattener_.transform(X)
        self.valid_mask_ = self.flattener_.valid_mask_
        self.skipped_ = self.flattener_.skipped_
        return out


@pytest.mark.slow
def test_worker_killed_mid_job_loses_and_duplicates_nothing(tmp_path):
    import cloudpickle

    # Worker processes cannot import this test module: ship _SlowFlattener by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    data = make_posters(200, tmp_path / "posters", size=(16, 24))
    paths = data.frame["poster_path"].tolist()
    paths[17] = str(tmp_path / "posters" / "gone.jpg")
    ids = data.frame["imdb_id"].tolist()
    out = tmp_path / "feat"
    cluster = LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    )
    try:
        client = Client(cluster)
        pids = client.run(os.getpid)
        result = {}

        def run():
            try:
                result["summary"] = extract_features(
                    paths,
                    _SlowFlattener(),
                    out,
                    ids=ids,
                    client=client,
                    partition_size=8,
                )
            except BaseException as exc:
                result["error"] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(list(out.glob("part-*.ids.json"))) < 4:
            time.sleep(0.02)
        n_before = len(list(out.glob("part-*.ids.json")))
        assert 4 <= n_before < 25, n_before
        victim = next(iter(pids))
        # The killed worker holds tasks, which Dask must re-run on another worker.
        assert client.processing()[victim], "the worker to kill is idle"
        os.kill(pids[victim], signal.SIGKILL)
        thread.join(60)
        assert not thread.is_alive(), "extraction did not finish after the kill"
        if "error" in result:
            raise result["error"]
        summary = result["summary"]
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        client.close()
        cluster.close()
    assert (summary.n_partitions, summary.partitions_done) == (25, 25)
    assert summary.n_skipped == 1
    assert summary.skipped["id"].tolist() == [ids[17]]
    got_ids, X = load_features(out)
    expected = [v for i, v in enumerate(ids) if i != 17]
    assert got_ids.tolist() == expected  # nothing lost, nothing twice
    local = PixelFlattener(size=(8, 8)).fit_transform([p for i, p in enumerate(paths) if i != 17])
    np.testing.assert_array_equal(X, local)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


# ------------------------------------------------------------------ hostile folders and files


@pytest.fixture(scope="module")
def extracted(client, posters, tmp_path_factory):
    """A finished extraction (5 partitions) to copy and damage, and its features."""
    out = tmp_path_factory.mktemp("extracted") / "feat"
    extract_features(
        posters["frame"], PixelFlattener(size=(8, 8)), out, client=client, partition_size=7
    )
    return out, load_features(out)


def _copy(extracted, tmp_path):
    import shutil

    return Path(shutil.copytree(extracted[0], tmp_path / "feat"))


def _again(posters, out, client, **kwargs):
    return extract_features(
        posters["frame"], PixelFlattener(size=(8, 8)), out, client=client, partition_size=7,
        **kwargs,
    )  # fmt: skip


def test_refuses_a_folder_of_other_files_and_never_deletes_them(client, posters, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    own = {"notes.txt": b"my notes", "part-notes.json": b"{}", ".part-old.tmp": b"old"}
    for name, data in own.items():
        (out / name).write_bytes(data)
    with pytest.raises(ValueError, match=r"is not empty and is no extract_features output") as e:
        _again(posters, out, client)
    assert "'.part-old.tmp', 'notes.txt', 'part-notes.json'" in str(e.value)
    assert not (out / "_manifest.json").exists()
    _again(posters, out, client, overwrite=True)  # beside them
    assert load_features(out)[1].shape == (30, 192)
    # a different extraction with overwrite=True replaces only extract_features' files
    extract_features(
        posters["frame"], PixelFlattener(size=(4, 4)), out, client=client, partition_size=7,
        overwrite=True,
    )  # fmt: skip
    assert load_features(out)[1].shape == (30, 48)
    for name, data in own.items():
        assert (out / name).read_bytes() == data, name


def test_out_dir_that_is_a_file(posters, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError, match="exists and is not a folder"):
        extract_features(posters["good"]["poster_path"][:2], PixelFlattener(), tmp_path / "f")


def _edit_manifest(out, edit):
    path = out / "_manifest.json"
    if callable(edit):
        manifest = json.loads(path.read_text())
        edit(manifest)
        path.write_text(json.dumps(manifest))
    else:
        path.write_text(edit)


def _swap_ids(m):
    m["ids"][0], m["ids"][1] = m["ids"][1], m["ids"][0]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_swap_ids, "its ids do not match ids_sha256"),
        (lambda m: m.update(format="npy/../../../etc/passwd"), "format 'npy/../../../etc/passwd'"),
        (lambda m: m.update(version=99), "version 99, written by a newer posterml"),
        (lambda m: m.update(n_partitions=2), "n_partitions 2 does not fit"),
        (lambda m: m.pop("partition_size"), "partition_size None"),
        (lambda m: m.update(ids="all"), "its ids are not a list"),
        ("{not json", "JSONDecodeError"),
        ("[1, 2]", "a JSON list, not an object"),
    ],
)
def test_a_tampered_manifest_is_refused(client, posters, extracted, tmp_path, edit, message):
    out = _copy(extracted, tmp_path)
    _edit_manifest(out, edit)
    for attempt in (lambda: load_features(out), lambda: _again(posters, out, client)):
        with pytest.raises(ValueError, match="is not a valid extract_features manifest") as e:
            attempt()
        assert message in str(e.value)
        assert str(out / "_manifest.json") in str(e.value)
    # overwrite=True starts over and gives the same features
    _again(posters, out, client, overwrite=True)
    np.testing.assert_array_equal(load_features(out)[1], extracted[1][1])


def test_a_partition_damaged_on_disk_is_caught_and_recomputed(client, posters, extracted, tmp_path):
    out = _copy(extracted, tmp_path)
    path = out / "part-00001.npy"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # same size: only the checksum can tell
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"part-00001.npy' does not match its record .*checksum"):
        load_features(out)
    with pytest.warns(UserWarning, match="checksum.*recomputing partition 1"):
        summary = _again(posters, out, client)
    assert (summary.partitions_done, summary.partitions_skipped) == (1, 4)
    ids, X = load_features(out)
    np.testing.assert_array_equal(ids, extracted[1][0])
    np.testing.assert_array_equal(X, extracted[1][1])

    (out / "part-00003.npy").write_bytes(b"")  # truncated: incomplete, and re-run finishes it
    with pytest.raises(FileNotFoundError, match="partition 3 .*incomplete"):
        load_features(out)
    assert _again(posters, out, client).partitions_done == 1
    np.testing.assert_array_equal(load_features(out)[1], extracted[1][1])


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r.update(skipped="none"),
        lambda r: r.update(ids={"a": 1}),
        lambda r: r.update(data_file="../../outside.npy"),
        lambda r: r.update(data_bytes="12"),
        lambda r: r.update(partition=0),
    ],
)
def test_a_tampered_record_counts_as_incomplete(client, posters, extracted, tmp_path, edit):
    out = _copy(extracted, tmp_path)
    path = out / "part-00002.ids.json"
    record = json.loads(path.read_text())
    edit(record)
    path.write_text(json.dumps(record))
    with pytest.raises(FileNotFoundError, match="partition 2 .*incomplete"):
        load_features(out)
    assert _again(posters, out, client).partitions_done == 1
    np.testing.assert_array_equal(load_features(out)[1], extracted[1][1])


def test_ids_duplicated_across_inputs(posters, tmp_path):
    frame = posters["frame"].copy()
    frame.loc[5, "imdb_id"] = frame.loc[0, "imdb_id"]
    with pytest.raises(ValueError, match=rf"1 are duplicated: '{frame.loc[0, 'imdb_id']}' \(x2\)"):
        extract_features(frame, PixelFlattener(), tmp_path)
    paths = posters["good"]["poster_path"].tolist()[:3]
    with pytest.raises(ValueError, match=r"1 are duplicated: 1 \(x2\)"):
        extract_features(paths, PixelFlattener(), tmp_path, ids=[1, np.int64(1), 2])
    with pytest.raises(TypeError, match="all str or all int"):
        extract_features(paths, PixelFlattener(), tmp_path, ids=["1", 1, 2])
    with pytest.raises(TypeError, match="got float nan at position 1"):
        extract_features(paths, PixelFlattener(), tmp_path, ids=["a", float("nan"), "c"])
    with pytest.raises(TypeError, match="got bool True at position 0"):
        extract_features(paths, PixelFlattener(), tmp_path, ids=[True, 2, 3])
    assert not list(tmp_path.iterdir())  # refused before writing anything
