"""Dask extraction throughput (posters/s): ``extract_features`` on 1, 2, 4 worker processes.

Times :func:`posterml.distributed.extract_features` with ``DominantColorBrightness()``
(``--transformer color``, the default) or ``PixelFlattener(size=(64, 64))``
(``--transformer pixels``) on ``--n`` posters, on a ``LocalCluster`` of each ``--workers``
count (worker processes, one thread each), against the plain single-process
``transformer.fit_transform(paths)`` in this process (BLAS and OpenCV capped at one
thread, as Dask caps its workers). The Dask time covers scheduling, the transform and
writing the partition files; the cluster start is reported apart and not counted.
Each run first extracts a small warm-up batch (imports, the files' page cache).

Dask's nanny starts worker processes with ``MALLOC_TRIM_THRESHOLD_=65536``
(``distributed.nanny.pre-spawn-environ``); on glibc this also pins the mmap threshold, so
every large numpy temporary is mmap'd and page-faulted afresh. ``--malloc-trim both`` (the
default) times every worker count with Dask's setting and with it unset.

Posters come from ``<data>/av-posters/Images`` (``--data``, else ``$POSTERML_DATA`` or
``../shared/data``), else from ``posterml.datasets.make_posters(--n)`` (cached);
``--posters DIR`` times any folder of images.

    python benchmarks/bench_dask_extract.py --n 2000 --workers 1 2 4
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
N_WARMUP = 16


def find_posters(args):
    """(paths, description): real posters when present, else synthetic ones."""
    folder = None
    if args.posters:
        folder = Path(args.posters)
        if not folder.is_dir():
            sys.exit(f"error: poster folder {str(folder)!r} does not exist")
    else:
        from posterml._config import get_data_root

        try:
            root = get_data_root(args.data)
        except FileNotFoundError as exc:
            sys.exit(f"error: {exc}")
        if root is not None and (root / "av-posters" / "Images").is_dir():
            folder = root / "av-posters" / "Images"
    if folder is not None:
        paths = sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if paths:
            paths = paths[: args.n]
            return paths, f"{len(paths)} posters from {folder}"
    from posterml.datasets import make_posters

    data = make_posters(args.n)
    paths = data.frame["poster_path"].tolist()
    return paths, f"{len(paths)} synthetic posters (make_posters, {data.root})"


def make_transformer(name):
    from posterml.features import DominantColorBrightness, PixelFlattener

    if name == "color":
        return DominantColorBrightness(on_error="skip")
    return PixelFlattener(size=(64, 64), on_error="skip")


def time_single(transformer, paths):
    import cv2
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clone(transformer).fit_transform(paths[:N_WARMUP])
            start = time.perf_counter()
            X = clone(transformer).fit_transform(paths)
            seconds = time.perf_counter() - start
    finally:
        cv2.setNumThreads(before)
    return seconds, len(X)


def time_dask(transformer, paths, n_workers, args, trim):
    import dask
    from distributed import Client, LocalCluster

    from posterml.distributed import extract_features, load_features

    start = time.perf_counter()
    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    # The nanny also sets the variable in this process, and children inherit it.
    saved = os.environ.pop("MALLOC_TRIM_THRESHOLD_", None) if trim == "unset" else None
    try:
        with dask.config.set({key: None} if trim == "unset" else {}):
            cluster = LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
    finally:
        if saved is not None:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = saved
    client = Client(cluster)
    startup = time.perf_counter() - start
    seen = set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values())
    if seen != ({None} if trim == "unset" else {"65536"}):
        sys.exit(f"error: workers have MALLOC_TRIM_THRESHOLD_={seen}, wanted trim={trim}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
            kwargs = {
                "client": client,
                "batch_size": args.batch_size,
                "partition_size": args.partition_size,
            }
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                extract_features(
                    paths[: N_WARMUP * n_workers], transformer, Path(tmp) / "warm", **kwargs
                )
                start = time.perf_counter()
                summary = extract_features(paths, transformer, Path(tmp) / "run", **kwargs)
                seconds = time.perf_counter() - start
            _, X = load_features(Path(tmp) / "run")
    finally:
        client.close()
        cluster.close()
    return seconds, summary, len(X), startup


def markdown(rows, args, source, facts):
    lines = [
        f"Dask extraction, {args.transformer} ({rows[0]['transformer']}), {source}; "
        f"partitions of {args.partition_size}, batches of {args.batch_size}.",
        f"Machine: {facts['cpus']} CPUs, {facts['platform']}, Python {facts['python']}, "
        f"dask.distributed {facts['distributed']}; load average at start "
        f"{facts['load_start']}.",
        "",
        "| run | worker processes | MALLOC_TRIM_THRESHOLD_ | posters | seconds | posters/s "
        "| vs single process | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = rows[0]["posters_per_s"]
    for r in rows:
        lines.append(
            f"| {r['run']} | {r['workers']} | {r['trim']} | {r['posters']} | {r['seconds']:.2f} | "
            f"{r['posters_per_s']:.0f} | {r['posters_per_s'] / base:.2f}x | {r['note']} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="posters per timed run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--transformer", choices=("color", "pixels"), default="color")
    parser.add_argument("--partition-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--malloc-trim",
        choices=("dask", "unset", "both"),
        default="both",
        help="workers with Dask's MALLOC_TRIM_THRESHOLD_=65536, without it, or both",
    )
    parser.add_argument("--data", help="data root holding av-posters/ (default: get_data_root())")
    parser.add_argument("--posters", help="time this folder of images instead")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    for name in ("n", "partition_size", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if min(args.workers) < 1:
        parser.error("--workers must be at least 1")
    try:
        import distributed
    except ImportError:
        sys.exit("error: dask.distributed is not installed: pip install 'posterml[dask]'")

    paths, source = find_posters(args)
    transformer = make_transformer(args.transformer)
    facts = {
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "distributed": distributed.__version__,
        "load_start": " ".join(f"{v:.1f}" for v in os.getloadavg()),
    }
    seconds, n_rows = time_single(transformer, paths)
    rows = [
        {
            "run": "single process",
            "workers": "–",
            "trim": "–",
            "posters": len(paths),
            "seconds": seconds,
            "posters_per_s": len(paths) / seconds,
            "transformer": repr(transformer),
            "note": f"{n_rows} rows, 1 thread",
        }
    ]
    trims = ("dask", "unset") if args.malloc_trim == "both" else (args.malloc_trim,)
    for n_workers, trim in ((w, t) for w in args.workers for t in trims):
        seconds, summary, n_rows, startup = time_dask(transformer, paths, n_workers, args, trim)
        rows.append(
            {
                "run": "dask LocalCluster",
                "workers": n_workers,
                "trim": "65536 (Dask default)" if trim == "dask" else "unset",
                "posters": len(paths),
                "seconds": seconds,
                "posters_per_s": len(paths) / seconds,
                "transformer": repr(transformer),
                "note": f"{n_rows} rows, {summary.n_partitions} tasks, "
                f"cluster start {startup:.1f} s (not counted)",
            }
        )
    facts["load_end"] = " ".join(f"{v:.1f}" for v in os.getloadavg())
    print(markdown(rows, args, source, facts))
    print(f"\nLoad average at the end: {facts['load_end']}.")
    if args.json:
        payload = {"machine": facts, "source": source, "args": vars(args), "results": rows}
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
