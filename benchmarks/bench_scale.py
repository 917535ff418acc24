"""How ML-kNN's cost grows with the catalogue: fit and predict time and peak memory vs n.

Synthetic embeddings (Gaussian clusters, d = 256 by default, as bench_mlknn's data), n_test =
n / 8, k = 10, 20 labels. For every n and algorithm one fresh process (peak RSS is its own):

- ``exact``: MLkNN on faiss-cpu exact search (cost ~ n^2 d: the training self-search and the
  test search each compare every query with every training point);
- ``ivf``: MLkNN(algorithm="ivf"), posterml's list-batched IVF (``--ivf`` parameters; cost ~
  n * nprobe * n / nlist, with nlist ~ sqrt(n) that is ~ n^1.5), with its neighbour recall
  against exact search on 500 test queries (exact search of those 500 only).

Exact runs stop at ``--exact-max`` (default 300k: 1M x 1M x 256 is ~ 85 min of GEMM on 2 cores);
the table marks the larger n as not run, never as a guess. The fitted log-log slope of time
vs n is printed per algorithm, and ``--plot`` saves the log-log figure (matplotlib, the
``plot`` extra). Dask extraction throughput with 1, 2 and 4 workers is
``benchmarks/bench_dask_extract.py`` (``--dask`` runs it from here).

    python benchmarks/bench_scale.py --ns 10000 30000 100000 300000 1000000 --plot scale.png
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mlknn import _rss_mb, make_data, run_child  # noqa: E402


def run_one(algorithm, n, d, k, ivf_params):
    from posterml.neighbors import MLkNN, NeighborSearch, neighbor_recall

    X, Y, Xt, _ = make_data(n, d)
    MLkNN(k=3, algorithm=algorithm).fit(X[:256].copy(), Y[:256].copy())  # warm thread pools
    base = _rss_mb()
    params = ivf_params if algorithm == "ivf" else None
    model = MLkNN(k=k, backend="faiss-cpu", algorithm=algorithm, algorithm_params=params)
    t0 = time.perf_counter()
    model.fit(X, Y)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.predict(Xt)
    predict_s = time.perf_counter() - t0
    out = {"fit_s": fit_s, "predict_s": predict_s, "peak_mb": _rss_mb() - base}
    if algorithm != "exact":
        sample = Xt[:500]
        exact = NeighborSearch(backend="faiss-cpu").fit(X)
        out["recall"] = neighbor_recall(
            model.kneighbors(sample, k, return_distance=False),
            exact.kneighbors(sample, k, return_distance=False),
        )
    return out


def slope(ns, seconds):
    """Least-squares slope of log(seconds) on log(n) (the exponent of the growth)."""
    ns, seconds = np.asarray(ns, float), np.asarray(seconds, float)
    ok = np.isfinite(seconds) & (seconds > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(ns[ok]), np.log(seconds[ok]), 1)[0])


def plot(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no plot: matplotlib is not installed; pip install posterml[plot])")
        return
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for algorithm in sorted({r["algorithm"] for r in results}):
        rows = [r for r in results if r["algorithm"] == algorithm and np.isfinite(r["total_s"])]
        ns = [r["n"] for r in rows]
        total = [r["total_s"] for r in rows]
        ax.loglog(ns, total, "o-", label=f"{algorithm} (slope {slope(ns, total):.2f})")
    ax.set_xlabel("training rows n (n_test = n / 8)")
    ax.set_ylabel("MLkNN fit + predict, seconds")
    ax.set_title("ML-kNN cost vs catalogue size (d = 256, k = 10)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot saved to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns", nargs="+", type=int, default=[10000, 30000, 100000, 300000])
    parser.add_argument("--d", type=int, default=256)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--algorithms", nargs="+", default=["exact", "ivf"])
    parser.add_argument("--exact-max", type=int, default=300000)
    parser.add_argument("--ivf", default='{"nprobe": 8}', help="JSON algorithm_params of ivf")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per run")
    parser.add_argument("--plot", help="save the log-log plot here (PNG)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--dask", action="store_true", help="also run bench_dask_extract.py")
    parser.add_argument("--one", nargs=2, metavar=("ALGORITHM", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        algorithm, n = args.one
        print(json.dumps(run_one(algorithm, int(n), args.d, args.k, json.loads(args.ivf))))
        return 0

    print(f"d={args.d}, k={args.k}, n_test = n/8, 20 labels, one process per run; ivf {args.ivf}\n")
    print("| n | algorithm | fit s | predict s | total s | peak MB | note |")
    print("|---|---|---|---|---|---|---|")
    results = []
    for n in args.ns:
        for algorithm in args.algorithms:
            row = {"n": n, "algorithm": algorithm}
            if algorithm == "exact" and n > args.exact_max:
                row.update(fit_s=np.nan, predict_s=np.nan, peak_mb=np.nan, note="not run")
            else:
                cmd = [sys.executable, __file__, "--one", algorithm, str(n)]
                cmd += ["--d", str(args.d), "--k", str(args.k), "--ivf", args.ivf]
                failed = {"fit_s": np.nan, "predict_s": np.nan, "peak_mb": np.nan}
                row.update(run_child(cmd, args.timeout, failed))
                note = f"recall {row['recall']:.4f}" if "recall" in row else ""
                row["note"] = row.pop("error", note)
            row["total_s"] = row["fit_s"] + row["predict_s"]
            results.append(row)
            print(
                f"| {n} | {algorithm} | {row['fit_s']:.2f} | {row['predict_s']:.2f} | "
                f"{row['total_s']:.2f} | {row['peak_mb']:.0f} | {row['note']} |",
                flush=True,
            )
    print()
    for algorithm in args.algorithms:
        rows = [r for r in results if r["algorithm"] == algorithm]
        exponent = slope([r["n"] for r in rows], [r["total_s"] for r in rows])
        print(f"- {algorithm}: time ~ n^{exponent:.2f} (log-log least squares over the runs)")
    if args.plot:
        plot(results, args.plot)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=float))
    if args.dask:
        script = Path(__file__).resolve().parent / "bench_dask_extract.py"
        subprocess.run([sys.executable, str(script)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
