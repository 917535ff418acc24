"""Feature-extraction throughput (posters/s) on the real posters, timed warm, best of --repeat.

Sections:

- ``read64`` / ``read224``: decode + area-resize to 64x64 / 224x224 with
  ``PosterReader(size, n_jobs=threads)``, then flatten and scale to float32 in [0, 1]
  (exactly what ``PixelFlattener(size)`` returns for paths);
- ``color``: ``DominantColorBrightness(n_jobs=threads)`` on the paths (read at 32x48 + a
  vectorised k-means per poster);
- ``keywords``: ``KeywordBagOfWords`` (``posterml.features._keywords``) on the same movies'
  TMDb keyword lists; skipped while that module does not exist;
- ``cnn-torch`` / ``cnn-onnx``: ``CNNEmbedder(backend=..., device=--device,
  batch_size=--batch-size)`` (``posterml.features._cnn``) on at most ``--n-cnn`` posters;
  skipped when the module, torch or onnxruntime is missing.

Unreadable files are skipped (``on_error="skip"``) and counted in the note.
Every section first runs on a small warm-up batch (imports, thread pools, model build, the
files' page cache), then is timed ``--repeat`` times on ``--n`` posters; the best is kept.

Posters come from ``<data>/av-posters/Images`` (``--data``, else ``$POSTERML_DATA`` or
``../shared/data``); ``--posters DIR`` times any folder of images instead (no keywords then).

    python benchmarks/bench_features.py --sections read64 color --n 1000 --repeat 3 --threads 2
"""

import argparse
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

SECTIONS = ("read64", "read224", "color", "keywords", "cnn-torch", "cnn-onnx")
# Throughput targets from the issues (posters/s on 2 cores); None: no target set.
TARGETS = {"color": 200}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
N_WARMUP = 16


class Skip(Exception):
    """A section that cannot run here (missing module or dependency)."""


# ------------------------------------------------------------------ data


def find_posters(args):
    """(sorted poster paths, data root or None); exits with status 2 when there are none."""
    if args.posters:
        folder = Path(args.posters)
        root = None
    else:
        from posterml._config import DATA_ENV, get_data_root

        hint = (
            "pass --data ROOT (the folder holding av-posters/), set "
            f"${DATA_ENV}, or place shared/data beside the checkout; or time a folder of "
            "images with --posters DIR"
        )
        try:
            root = get_data_root(args.data)
        except FileNotFoundError as exc:
            _die(f"real poster data not found: {exc}; {hint}")
        if root is None:
            _die(f"real poster data not found; {hint}")
        folder = root / "av-posters" / "Images"
    if not folder.is_dir():
        _die(f"poster folder {str(folder)!r} does not exist")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        _die(f"no poster images in {str(folder)!r}")
    return paths, root


def _die(message):
    print(f"bench_features: {message}", file=sys.stderr)
    sys.exit(2)


def _keywords_for(paths, root):
    """TMDb keyword lists of the movies whose posters are ``paths`` (real data only)."""
    if root is None:
        raise Skip("no keywords for --posters (they come from the real data's movielens/)")
    from posterml.datasets import load_av_posters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = load_av_posters(root, include_unlabelled=True).frame
    by_id = frame.drop_duplicates("imdb_id").set_index("imdb_id")["keywords"]
    ids = [p.stem for p in paths]
    return by_id.reindex(ids)


# ------------------------------------------------------------------ sections


def _reader_section(size, threads):
    from posterml.io import PosterReader

    reader = PosterReader(size=size, on_error="skip", n_jobs=threads if threads > 1 else None)

    def run(paths):
        images = reader.fit_transform([os.fspath(p) for p in paths])
        return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)

    return run, f"PosterReader(size={size}, n_jobs={reader.n_jobs}) + flatten"


def _color_section(threads):
    from posterml.features._color import DominantColorBrightness

    est = DominantColorBrightness(on_error="skip", n_jobs=threads if threads > 1 else None)

    def run(paths):
        return est.fit_transform([os.fspath(p) for p in paths])

    return run, f"sample_size={est.sample_size}, n_colors={est.n_colors}, n_jobs={est.n_jobs}"


def _keywords_section(paths, root):
    from posterml.features import KeywordBagOfWords

    keywords = _keywords_for(paths, root)
    index = {Path(p).stem: i for i, p in enumerate(paths)}

    def run(batch):
        values = keywords.iloc[[index[Path(p).stem] for p in batch]]
        return KeywordBagOfWords().fit_transform(values)

    covered = int(keywords.notna().sum())
    return run, f"{covered}/{len(paths)} movies with TMDb keywords"


def _cnn_section(backend, threads, device, batch_size):
    dependency = {"torch": "torch", "onnx": "onnxruntime"}[backend]
    for name in ("torch", dependency):  # the network is built with torch in both cases
        if importlib.util.find_spec(name) is None:
            raise Skip(f"{name} is not installed (pip install posterml[cnn])")
    from posterml.features import CNNEmbedder

    params = {
        "backend": backend,
        "device": device,
        "batch_size": batch_size,
        "on_error": "skip",
        "n_threads": threads,
    }
    est = CNNEmbedder(**params)

    def run(paths):
        return est.fit_transform([os.fspath(p) for p in paths])

    note = ", ".join(f"{k}={v}" for k, v in params.items() if k != "backend")
    return run, note


def build_section(name, args, paths, root):
    """(callable timed on a list of paths, note, number of posters)."""
    n = min(args.n, len(paths))
    if name == "read64":
        return (*_reader_section((64, 64), args.threads), n)
    if name == "read224":
        return (*_reader_section((224, 224), args.threads), n)
    if name == "color":
        return (*_color_section(args.threads), n)
    if name == "keywords":
        return (*_keywords_section(paths[:n], root), n)
    if name in ("cnn-torch", "cnn-onnx"):
        backend = name.partition("-")[2]
        run, note = _cnn_section(backend, args.threads, args.device, args.batch_size)
        return run, note, min(n, args.n_cnn)
    raise ValueError(f"unknown section {name!r}; choose from {SECTIONS}")


def time_section(name, args, paths, root):
    try:
        run, note, n = build_section(name, args, paths, root)
        batch = paths[:n]
        # Warm-up on a small batch (imports, thread pools, model build, page cache).
        with warnings.catch_warnings():
            # Unreadable files are skipped and counted in the note, not warned about.
            warnings.simplefilter("ignore", UserWarning)
            run(batch[: min(N_WARMUP, n)])
            best = cpu = None
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                out = run(batch)
                elapsed = time.perf_counter() - t0
                if best is None or elapsed < best:
                    best, cpu = elapsed, time.process_time() - c0
        rows = len(out)
    except Skip as exc:
        return {"section": name, "skipped": True, "note": f"skipped: {exc}"}
    except ImportError as exc:  # e.g. an optional dependency the section imports itself
        return {"section": name, "skipped": True, "note": f"skipped: {exc}"}
    # CPU time (all threads) per poster: on a shared machine it moves less than wall time.
    note = f"{note}; CPU {1000 * cpu / n:.2f} ms/poster"
    if rows != n:
        note = f"{note}; {n - rows} unreadable file(s) skipped"
    return {
        "section": name,
        "skipped": False,
        "posters": n,
        "seconds": best,
        "posters_per_s": n / best,
        "cpu_seconds": cpu,
        "target": TARGETS.get(name),
        "note": note,
    }


# ------------------------------------------------------------------ report


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as fp:
            for line in fp:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts(args):
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    versions = {
        dist: _version(dist)
        for dist in (
            "posterml",
            "numpy",
            "scikit-learn",
            "pillow",
            "opencv-python-headless",
            "torch",
            "onnxruntime",
        )
    }
    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "threads": args.threads,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {k: v for k, v in versions.items() if v is not None},
    }


def markdown(results, facts, args, source):
    versions = ", ".join(f"{k} {v}" for k, v in facts["versions"].items())
    lines = [
        f"{facts['cpu']}; {facts['cpus_usable']} usable of {facts['cpu_count']} CPUs; "
        f"threads={facts['threads']}; Python {facts['python']}; {versions}",
        f"posters: {source}; best of {args.repeat}, each section warm "
        f"({N_WARMUP}-poster warm-up first)",
        "",
        "| section | posters | seconds | posters/s | target | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if r["skipped"]:
            lines.append(f"| {r['section']} | – | – | – | – | {r['note']} |")
            continue
        target = "–" if r["target"] is None else f"≥ {r['target']}"
        lines.append(
            f"| {r['section']} | {r['posters']} | {r['seconds']:.3f} | "
            f"{r['posters_per_s']:.0f} | {target} | {r['note']} |"
        )
    return "\n".join(lines)


def _limit_threads(threads):
    """Cap BLAS/OpenMP and OpenCV threads at ``threads`` for this benchmark process."""
    import cv2
    from threadpoolctl import threadpool_limits

    cv2.setNumThreads(threads)
    return threadpool_limits(threads)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    parser.add_argument("--n", type=int, default=1000, help="posters per timed run")
    parser.add_argument("--n-cnn", type=int, default=256, help="at most this many for cnn-*")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per section (best)")
    try:
        default_threads = len(os.sched_getaffinity(0))
    except AttributeError:
        default_threads = os.cpu_count() or 1
    parser.add_argument("--threads", type=int, default=default_threads)
    parser.add_argument("--device", default="auto", help="CNNEmbedder device")
    parser.add_argument("--batch-size", type=int, default=32, help="CNNEmbedder batch size")
    parser.add_argument("--data", help="data root holding av-posters/ (default: get_data_root())")
    parser.add_argument("--posters", help="time this folder of images instead of the real data")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    for name in ("n", "n_cnn", "repeat", "threads", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")

    paths, root = find_posters(args)
    source = (
        f"{len(paths)} images in {args.posters}"
        if args.posters
        else f"{len(paths)} real posters in {root / 'av-posters' / 'Images'}"
    )
    facts = machine_facts(args)
    results = []
    with _limit_threads(args.threads):
        for name in args.sections:
            results.append(time_section(name, args, paths, root))
    print(markdown(results, facts, args, source))
    if args.json:
        payload = {"machine": facts, "source": source, "args": vars(args), "results": results}
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
