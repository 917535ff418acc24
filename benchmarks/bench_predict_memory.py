"""Peak memory of MLkNN.predict on many query rows, batched two ways, against one big batch.

One fitted ML-kNN (synthetic Gaussian clusters, ``--n-train`` x ``--d`` float32, ``--n-labels``
labels, k = ``--k``, faiss-cpu exact search) predicts ``--n-query`` rows read from a
``numpy.memmap`` (written once, under ``--out-dir``), in a fresh process per run:

- ``estimator``: ``MLkNN(batch_size=B).predict(memmap)``: one call, the estimator batches;
- ``user-loop``: ``out[a:b] = model.predict(memmap[a:b])`` over chunks of B rows into a
  preallocated ``int64`` output (the dtype ``predict`` returns);
- ``user-loop-remap``: the same loop, each chunk read through its own short-lived
  ``np.memmap(..., offset=...)``, so that the pages already read leave the process;
- ``in-memory``: the queries loaded into memory first (not counted), then one
  ``predict`` call with ``batch_size`` = the number of rows (the unbatched reference).

Reported per run: seconds of the ``predict`` part; peak RSS above the process's RSS after
fitting; the peaks of its anonymous part (``RssAnon``: what the batching must bound) and of
its file-backed part (``RssFile``: the memmap's pages read so far, clean and dropped by the
kernel under memory pressure); and the size of the output array. 1 MB = 2**20 bytes.

Peak RSS is ``VmHWM`` of ``/proc/self/status`` after resetting it to the current RSS
(``/proc/self/clear_refs``, Linux >= 4.0); ``RssAnon`` / ``RssFile`` are sampled every 2 ms.
Not ``ru_maxrss`` (bench_mlknn's probe): in a child process it starts at the *parent's* RSS
at spawn time, so a child that stays below it reports 0. Elsewhere than Linux the table falls
back to ``ru_maxrss`` and leaves the anon / file columns empty. Nothing is written outside
``--out-dir`` (default: a new temporary folder, removed afterwards unless ``--keep``).

    python benchmarks/bench_predict_memory.py --n-query 100000 300000 1000000
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.dont_write_bytecode = True  # nothing outside --out-dir, not even __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mlknn import _rss_mb, run_child  # noqa: E402

CONFIGS = ("estimator", "user-loop", "user-loop-remap", "in-memory")
_N_CENTERS = 50


def _generator(d, n_labels, seed):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(_N_CENTERS, d)).astype(np.float32)
    freq = np.geomspace(0.45, 0.01, n_labels)
    cluster_p = np.clip(rng.random((_N_CENTERS, n_labels)) * 2 * freq, 0, 0.95)
    return rng, centers, cluster_p


def _rows(rng, centers, n, out=None):
    """Cluster centre + unit noise, written in 64k-row chunks (into ``out`` when given)."""
    d = centers.shape[1]
    out = np.empty((n, d), dtype=np.float32) if out is None else out
    assign = np.empty(n, dtype=np.int64)
    for start in range(0, n, 65536):
        stop = min(n, start + 65536)
        a = rng.integers(0, _N_CENTERS, stop - start)
        out[start:stop] = centers[a] + rng.standard_normal((stop - start, d), dtype=np.float32)
        assign[start:stop] = a
    return out, assign


def write_data(folder, n_train, n_query, d, n_labels, seed=0):
    """Training set as .npy, queries as a raw float32 memmap file; returns the query path."""
    rng, centers, cluster_p = _generator(d, n_labels, seed)
    X, assign = _rows(rng, centers, n_train)
    Y = (rng.random((n_train, n_labels)) < cluster_p[assign]).astype(np.uint8)
    Y[:1] = 1  # every label has a positive
    np.save(folder / "X_train.npy", X)
    np.save(folder / "Y_train.npy", Y)
    path = folder / f"queries_{n_query}x{d}.f32"
    queries = np.memmap(path, dtype=np.float32, mode="w+", shape=(n_query, d))
    _rows(rng, centers, n_query, out=queries)
    queries.flush()
    del queries
    return path


def _status_mb(*keys):
    """Fields of /proc/self/status in MB (Linux), e.g. ``_status_mb("VmRSS", "VmHWM")``."""
    values = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in keys:
                values[key] = int(rest.split()[0]) / 1024
    return values


def _reset_peak_rss():
    """Set VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


class _AnonSampler(threading.Thread):
    """Peak RssAnon / RssFile (MB) of this process, read from /proc/self/status."""

    def __init__(self, interval=0.002):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = {"RssAnon": 0.0, "RssFile": 0.0}
        self.available = os.path.exists("/proc/self/status")
        self._stop_event = threading.Event()

    @staticmethod
    def read():
        return _status_mb("RssAnon", "RssFile")

    def run(self):
        while not self._stop_event.is_set():
            for key, value in self.read().items():
                self.peak[key] = max(self.peak[key], value)
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join()
        for key, value in self.read().items():
            self.peak[key] = max(self.peak[key], value)


def run_one(config, n_query, batch, args):
    from posterml.neighbors import MLkNN

    folder = Path(args.out_dir)
    X = np.load(folder / "X_train.npy")
    Y = np.load(folder / "Y_train.npy")
    path = folder / f"queries_{args.query_rows}x{args.d}.f32"
    queries = np.memmap(path, dtype=np.float32, mode="r", shape=(args.query_rows, args.d))
    queries = queries[:n_query]
    batch_size = {"in-memory": n_query, "estimator": batch}.get(config)
    model = MLkNN(k=args.k, backend=args.backend, batch_size=batch_size).fit(X, Y)
    model.predict(X[:64])  # warm: thread pools, first-touch of library code
    if config == "in-memory":
        queries = np.array(queries)  # the user's in-memory array: not the predict's memory
    sampler = _AnonSampler()
    linux = sampler.available and _reset_peak_rss()
    if linux:
        base = _status_mb("VmRSS", "RssAnon", "RssFile")
        sampler.start()
    else:
        base = {"ru_maxrss": _rss_mb()}
    t0 = time.perf_counter()
    if config.startswith("user-loop"):
        out = np.empty((n_query, Y.shape[1]), dtype=np.int64)
        row_bytes = args.d * np.dtype(np.float32).itemsize
        for start in range(0, n_query, batch):
            stop = min(n_query, start + batch)
            if config == "user-loop":
                out[start:stop] = model.predict(queries[start:stop])
            else:
                chunk = np.memmap(
                    path, np.float32, "r", offset=start * row_bytes, shape=(stop - start, args.d)
                )
                out[start:stop] = model.predict(chunk)
                del chunk
    else:
        out = model.predict(queries)
    seconds = time.perf_counter() - t0
    result = {"seconds": seconds, "output_mb": out.nbytes / 2**20, "output_dtype": str(out.dtype)}
    if linux:
        sampler.stop()
        result["peak_mb"] = _status_mb("VmHWM")["VmHWM"] - base["VmRSS"]
        result["anon_mb"] = sampler.peak["RssAnon"] - base["RssAnon"]
        result["file_mb"] = sampler.peak["RssFile"] - base["RssFile"]
    else:
        result["peak_mb"] = _rss_mb() - base["ru_maxrss"]
    # a check that the batched predictions are the in-memory ones (first rows)
    head = min(n_query, 2000)
    result["head_ok"] = bool(np.array_equal(out[:head], model.predict(np.array(queries[:head]))))
    return result


def _plan(args):
    rows = []
    for n in args.n_query:
        rows.append(("estimator", n, args.batch_size))
        rows.append(("user-loop", n, args.batch_size))
        rows.append(("user-loop-remap", n, args.batch_size))
    for n in args.unbatched:
        rows.append(("in-memory", n, n))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--d", type=int, default=256)
    parser.add_argument("--n-labels", type=int, default=25)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--n-query", type=int, nargs="+", default=[100000, 300000, 1000000])
    parser.add_argument("--batch-size", type=int, default=8192, help="rows per batch / chunk")
    parser.add_argument(
        "--unbatched", type=int, nargs="*", default=[100000], help="n_query of in-memory runs"
    )
    parser.add_argument("--backend", default="faiss-cpu")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per run")
    parser.add_argument("--out-dir", help="working folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the query file afterwards")
    parser.add_argument("--one", nargs=3, metavar=("CONFIG", "N", "BATCH"), help=argparse.SUPPRESS)
    parser.add_argument("--query-rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:
        config, n, batch = args.one
        print(json.dumps(run_one(config, int(n), int(batch), args)))
        return 0

    made = args.out_dir is None
    folder = Path(args.out_dir or tempfile.mkdtemp(prefix="bench_predict_memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    query_rows = max([*args.n_query, *args.unbatched])
    try:
        t0 = time.perf_counter()
        path = write_data(folder, args.n_train, query_rows, args.d, args.n_labels)
        print(
            f"MLkNN k={args.k}, {args.backend} exact; train {args.n_train} x {args.d} float32, "
            f"{args.n_labels} labels; queries: a {query_rows} x {args.d} float32 memmap "
            f"({path.stat().st_size / 2**20:.0f} MB, written in {time.perf_counter() - t0:.0f} s"
            "); one process per run; MB = 2**20 bytes\n"
        )
        print(
            "| configuration | n_query | batch_size | peak RSS MB | peak anon MB | "
            "peak file MB | output MB | anon - output MB | seconds | note |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        env_cmd = [sys.executable, __file__, "--out-dir", str(folder)]
        env_cmd += ["--d", str(args.d), "--k", str(args.k), "--backend", args.backend]
        env_cmd += ["--query-rows", str(query_rows)]
        results = []
        for config, n, batch in _plan(args):
            cmd = env_cmd + ["--one", config, str(n), str(batch)]
            failed = {"seconds": float("nan"), "peak_mb": float("nan"), "output_mb": float("nan")}
            os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
            res = run_child(cmd, args.timeout, failed)
            note = res.get("error") or ("" if res.get("head_ok", True) else "MISMATCH")
            anon = res.get("anon_mb", float("nan"))
            file_mb = res.get("file_mb", float("nan"))
            print(
                f"| {config} | {n} | {batch} | {res['peak_mb']:.0f} | {anon:.0f} | "
                f"{file_mb:.0f} | {res['output_mb']:.0f} | {anon - res['output_mb']:.0f} | "
                f"{res['seconds']:.1f} | {note} |",
                flush=True,
            )
            results.append({"config": config, "n_query": n, "batch_size": batch, **res})
        with open(folder / "results.json", "w") as fh:
            json.dump(results, fh, indent=2)
    finally:
        if not args.keep:
            for name in ("X_train.npy", "Y_train.npy", f"queries_{query_rows}x{args.d}.f32"):
                (folder / name).unlink(missing_ok=True)
        if made and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
