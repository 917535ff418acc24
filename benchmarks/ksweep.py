"""Reproduce seed 000's ML-kNN tables on the real posters (or the embedded synthetic default).

(a) 64x64 flattened pixels, a 1600/200/200 train/dev/test split by movie id (iterative
    stratification), k = 1, 3, 5, 7, 10, 15, 20, 30, 40, 50, 100: every k scored on dev from
    one neighbour search (posterml.model_selection.ksweep), the best and worst three by
    Hamming loss as the paper shows them, the best k re-scored on test, and the random
    baseline.
(b) 100x150 pixels, 2800/350/350, k = 40: ML-kNN and one-vs-rest kNN rows.

Markdown goes to stdout; CSV and JSON to --out. Seeds are fixed.

``--features`` runs the (a)-style sweep (same split, k list, columns and table shape) on
other feature sets instead, one table per set, titled with the set:

- ``pixels64``: exactly table (a); ``pixels100x150``: the same sweep on 100x150 pixels
  (raw pixels in [0, 1], as the seed);
- ``color``, ``keywords``, ``metadata``, ``cnn``: one block of
  ``posterml.features._fusion.make_fusion_features`` (extracted, imputed for metadata,
  standardised; ``--no-standardize`` keeps the raw columns), CNN features from
  ``CNNEmbedder(backend="onnx", cache=True)``;
- ``fused``: the blocks of ``--fuse`` (default cnn, keywords, metadata), each standardised
  and scaled to total variance 1 so that each adds the same share to the distances.

Every learned step (vocabulary, categories, imputation, scaling) is fitted on the training
rows only.

    python benchmarks/ksweep.py                 # real data from $POSTERML_DATA / ../shared/data
    python benchmarks/ksweep.py --synthetic     # the embedded synthetic posters
    python benchmarks/ksweep.py --features cnn fused pixels64
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier

from posterml.datasets import load_dataset, load_sample, make_posters
from posterml.features import CNNEmbedder, PixelFlattener
from posterml.features._fusion import make_fusion_features
from posterml.metrics import get_scorer
from posterml.model_selection import SEED_K_VALUES, ksweep, train_dev_test_split
from posterml.neighbors import BinaryRelevanceKNN, MLkNN

# Seed 000's columns, then the quantity its code really computed under "at least one match".
COLUMNS = {
    "All Match": "all_match",
    "At least one match": "at_least_one_match",
    "Binary": "binary_accuracy",
    "Hamming Loss": "hamming_loss",
    "Pred ⊆ true (seed code)": "predicted_subset_match",
}


def _score_row(model, X, Y):
    row = {}
    for column, name in COLUMNS.items():
        value = get_scorer(name)(model, X, Y)
        row[column] = -value if name == "hamming_loss" else value  # scorer is negated
    return row


def _split(data, sizes, seed):
    n = len(data.Y)
    if sum(sizes) > n:  # the synthetic default is smaller: keep the proportions
        sizes = tuple(max(1, int(n * s / sum(sizes))) for s in sizes)
    train, dev, test = train_dev_test_split(
        data.Y, sizes, groups=data.frame["imdb_id"].to_numpy(), random_state=seed
    )
    # Genres without a training positive can never be learnt by a kNN vote: leave them out.
    keep = data.Y[train].sum(axis=0) > 0
    return train, dev, test, keep, sizes


def _pixels(data, rows, size):
    paths = data.frame["poster_path"].to_numpy()[rows]
    return PixelFlattener(size=size).fit_transform(paths)


# --features: raw pixel sets (seed 000's features) and blocks of make_fusion_features.
PIXEL_SETS = {"pixels64": (64, 64), "pixels100x150": (100, 150)}
BLOCK_SETS = ("color", "keywords", "metadata", "cnn")
FEATURE_SETS = (*PIXEL_SETS, *BLOCK_SETS, "fused")
SAMPLE_SETS = ("cnn", "color")  # what load_sample() ships
FUSE_BLOCKS = ("pixels", "color", "cnn", "keywords", "metadata")
DEFAULT_FUSE = ("cnn", "keywords", "metadata")
_DESCRIPTIONS = {
    "pixels": "64x64 pixels",
    "color": "colour (dominant-colour luma, palette shares, dominant RGB)",
    "keywords": "TMDb keywords (top-40 words, 0/1)",
    "metadata": "OMDb metadata (numbers + missing flags + rated/language/country, imputed)",
    "cnn": "CNN (EfficientNet-Lite0 embeddings, onnxruntime)",
}


def _fusion_for(features, fuse, standardize):
    """The ColumnTransformer computing a block feature set (or the fused blocks)."""
    blocks = tuple(fuse) if features == "fused" else (features,)
    poster = {}
    for name in blocks:
        if name == "pixels":
            poster["pixels"] = PixelFlattener(size=(64, 64))
        elif name == "color":
            poster["color"] = None  # the fusion default
        elif name == "cnn":
            poster["cnn"] = CNNEmbedder(backend="onnx", cache=True)
    return make_fusion_features(
        poster=poster,
        keywords="keywords" in blocks,
        metadata="metadata" in blocks,
        standardize=standardize or features == "fused",
    )


def _features(data, rows, n_train, features, fuse=DEFAULT_FUSE, standardize=True):
    """(X of ``rows``, title) for a feature set; learned steps see the first n_train rows only."""
    if features in PIXEL_SETS:
        size = PIXEL_SETS[features]
        return _pixels(data, rows, size), f"{size[0]}x{size[1]} pixels"
    if data.source == "sample":  # the bundled derived features: no posters to read
        if features not in SAMPLE_SETS:
            raise SystemExit(
                f"ksweep.py: the bundled sample has feature sets {SAMPLE_SETS}, not {features!r}"
            )
        X = data.X_cnn if features == "cnn" else data.color
        title = (
            f"bundled sample: CNN embeddings, PCA to {X.shape[1]} components"
            if features == "cnn"
            else f"bundled sample: colour features, {X.shape[1]} columns"
        )
        return np.asarray(X[rows], dtype=np.float32), title
    frame = data.frame.iloc[rows]
    transformer = _fusion_for(features, fuse, standardize)
    X = np.vstack(
        [
            transformer.fit_transform(frame.iloc[:n_train]),
            transformer.transform(frame.iloc[n_train:]),
        ]
    ).astype(np.float32)
    if features == "fused":
        widths = ", ".join(
            f"{name} {s.stop - s.start}"
            for name, s in transformer.output_indices_.items()
            if name != "remainder"
        )
        title = f"fused features ({widths} columns; each block standardised, total variance 1)"
    else:
        scaled = "standardised" if standardize else "not standardised"
        title = f"{_DESCRIPTIONS[features]} features, {X.shape[1]} columns, {scaled}"
    return X, title


def _markdown(df):
    """A DataFrame as a Markdown table (4 decimals), without the optional tabulate package."""
    names = [n or "" for n in df.index.names]
    header = "| " + " / ".join(names) + " | " + " | ".join(map(str, df.columns)) + " |"
    lines = [header, "|" + "---|" * (len(df.columns) + 1)]
    for key, row in df.iterrows():
        label = " / ".join(map(str, key)) if isinstance(key, tuple) else str(key)
        cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + label + " | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save_sweep_plot(sweep, path, title):
    """The sweep's scores against k (KSweepDisplay) as a PNG next to the tables."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(no {path.name}: matplotlib is not installed; pip install posterml[plot])")
        return
    from posterml.plotting import KSweepDisplay

    display = KSweepDisplay.from_results(sweep, list(COLUMNS.values()))
    display.figure_.suptitle(title)
    display.figure_.savefig(path, dpi=90)
    plt.close(display.figure_)


def table_a(
    data,
    seed,
    k_values=SEED_K_VALUES,
    sizes=(1600, 200, 200),
    size=(64, 64),
    features=None,
    fuse=DEFAULT_FUSE,
    standardize=True,
):
    """Seed 000's table (a); ``features`` (a FEATURE_SETS name) replaces the 64x64 pixels."""
    train, dev, test, keep, sizes = _split(data, sizes, seed)
    rows = np.concatenate([train, dev, test])
    t0 = time.perf_counter()
    if features is None:
        X = _pixels(data, rows, size)
        title = f"{size[0]}x{size[1]} pixels"
    else:
        X, title = _features(data, rows, len(train), features, fuse, standardize)
    read_s = time.perf_counter() - t0
    Y = data.Y[rows][:, keep]
    tr = np.arange(len(train))
    dv = np.arange(len(train), len(train) + len(dev))
    te = np.arange(len(train) + len(dev), len(rows))
    t0 = time.perf_counter()
    sweep = ksweep(X, Y, k_values, cv=[(tr, dv)], scoring=list(COLUMNS.values()))
    sweep_s = time.perf_counter() - t0
    dev_table = pd.DataFrame(
        {
            col: (-1 if name == "hamming_loss" else 1) * sweep[f"mean_test_{name}"]
            for col, name in COLUMNS.items()
        },
        index=pd.Index([f"ML-kNN k={k}" for k in sweep["param_k"]], name="dev set"),
    )
    by_hamming = dev_table.sort_values("Hamming Loss", kind="stable")
    best_k = int(by_hamming.index[0].split("=")[1])
    model = MLkNN(k=best_k).fit(X[tr], Y[tr])
    dummy = DummyClassifier(strategy="stratified", random_state=seed).fit(X[tr], Y[tr])
    test_rows = pd.DataFrame(
        {
            f"ML-kNN k={best_k} (best on dev)": _score_row(model, X[te], Y[te]),
            "Random baseline": _score_row(dummy, X[te], Y[te]),
        }
    ).T
    test_rows.index.name = "test set"
    dev_table.loc["Random baseline"] = _score_row(dummy, X[dv], Y[dv])
    meta = {
        "sizes": [len(train), len(dev), len(test)],
        "requested_sizes": list(sizes),
        "genres": int(keep.sum()),
        "pixels": f"{size[0]}x{size[1]}",
        "read_seconds": round(read_s, 2),
        "sweep_seconds": round(sweep_s, 2),
        "best_k": best_k,
    }
    if features is not None:
        if features in PIXEL_SETS:
            meta["pixels"] = "x".join(map(str, PIXEL_SETS[features]))
        else:
            del meta["pixels"]
        meta.update(features=features, title=title, n_features=int(X.shape[1]))
    meta["sweep"] = sweep  # for the plot; not written to the JSON
    return dev_table, by_hamming, test_rows, meta


def table_b(data, seed, k=40, sizes=(2800, 350, 350), size=(100, 150)):
    train, dev, test, keep, sizes = _split(data, sizes, seed)
    rows = np.concatenate([train, dev, test])
    X = _pixels(data, rows, size)
    Y = data.Y[rows][:, keep]
    tr = np.arange(len(train))
    dv = np.arange(len(train), len(train) + len(dev))
    te = np.arange(len(train) + len(dev), len(rows))
    k = min(k, len(train) - 1)
    out = {}
    for name, model in {
        f"ML-kNN k={k}": MLkNN(k=k),
        f"OvR kNN k={k}": BinaryRelevanceKNN(k=k),
        "Random baseline": DummyClassifier(strategy="stratified", random_state=seed),
    }.items():
        model.fit(X[tr], Y[tr])
        for split, idx in (("dev", dv), ("test", te)):
            out[(split, name)] = _score_row(model, X[idx], Y[idx])
    table = pd.DataFrame(out).T
    table.index.names = ["set", "model"]
    return table, {"sizes": [len(train), len(dev), len(test)], "genres": int(keep.sum())}


def _print_table_a(dev_table, by_hamming, test_rows, meta, title):
    print(
        f"## (a) {title}, train/dev/test {meta['sizes']}, "
        f"{meta['genres']} genres; sweep {meta['sweep_seconds']} s, "
        f"{'reading' if 'pixels' in meta else 'features'} {meta['read_seconds']} s\n"
    )
    print(_markdown(dev_table))
    print("\nBest three and worst three k by dev Hamming loss:\n")
    print(_markdown(pd.concat([by_hamming.head(3), by_hamming.tail(3)])))
    print("\nTest set:\n")
    print(_markdown(test_rows))


def _run_feature_sets(data, args, out, sizes):
    """One (a)-style table per --features set; files suffixed with the set's name."""
    for features in args.features:
        t0 = time.perf_counter()
        dev_table, by_hamming, test_rows, meta = table_a(
            data,
            args.seed,
            sizes=sizes,
            features=features,
            fuse=args.fuse,
            standardize=not args.no_standardize,
        )
        meta["total_seconds"] = round(time.perf_counter() - t0, 2)
        save_sweep_plot(meta.pop("sweep"), out / f"ksweep_{features}.png", meta["title"])
        _print_table_a(dev_table, by_hamming, test_rows, meta, meta["title"])
        print(f"\n({features}: {meta['total_seconds']} s in all)\n")
        dev_table.to_csv(out / f"table_a_dev_{features}.csv")
        test_rows.to_csv(out / f"table_a_test_{features}.csv")
        results = {
            "source": data.source,
            "seed": args.seed,
            "table_a": meta,
            "table_a_dev": dev_table.to_dict(orient="index"),
        }
        (out / f"ksweep_{features}.json").write_text(json.dumps(results, indent=2, default=float))
    print(f"CSV and JSON written to {out}/")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="data folder holding av-posters/ (default: auto)")
    parser.add_argument("--synthetic", action="store_true", help="use synthetic posters")
    parser.add_argument(
        "--sample",
        action="store_true",
        help="use the bundled derived-feature sample (no posters needed; --features cnn|color, "
        "default cnn)",
    )
    parser.add_argument("--n-synthetic", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/out/ksweep", help="CSV/JSON folder")
    parser.add_argument("--skip-b", action="store_true", help="only table (a)")
    parser.add_argument(
        "--features",
        nargs="+",
        choices=FEATURE_SETS,
        help="run the (a)-style sweep on these feature sets instead of tables (a) and (b)",
    )
    parser.add_argument(
        "--fuse",
        nargs="+",
        choices=FUSE_BLOCKS,
        default=list(DEFAULT_FUSE),
        help="blocks of --features fused (default: %(default)s)",
    )
    parser.add_argument(
        "--no-standardize",
        action="store_true",
        help="single-block feature sets: keep the raw columns (fused blocks are always scaled)",
    )
    for name, default in zip(("train", "dev", "test"), (1600, 200, 200)):
        parser.add_argument(
            f"--n-{name}", type=int, default=default, help=f"(a) {name} movies (%(default)s)"
        )
    args = parser.parse_args(argv)
    sizes = (args.n_train, args.n_dev, args.n_test)
    if min(sizes) < 1:
        parser.error(f"--n-train/--n-dev/--n-test must be positive, got {sizes}")
    if args.features and len(set(args.fuse)) != len(args.fuse):
        parser.error(f"--fuse names a block twice: {args.fuse}")

    if args.sample:
        data = load_sample()
        data.source = "sample"
        args.features = args.features or ["cnn"]
    elif args.synthetic:
        data = make_posters(args.n_synthetic, random_state=args.seed)
        data.source = "synthetic"
    else:
        data = load_dataset(args.data, n_synthetic=args.n_synthetic, random_state=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"# Seed 000 k-sweep on {data.source} ({len(data.Y):,} movies, seed {args.seed})\n")
    if args.features:
        return _run_feature_sets(data, args, out, sizes)

    dev_table, by_hamming, test_rows, meta_a = table_a(data, args.seed, sizes=sizes)
    save_sweep_plot(
        meta_a.pop("sweep"), out / "ksweep_a.png", f"(a) {meta_a['pixels']} pixels, dev set"
    )
    _print_table_a(dev_table, by_hamming, test_rows, meta_a, f"{meta_a['pixels']} pixels")
    dev_table.to_csv(out / "table_a_dev.csv")
    test_rows.to_csv(out / "table_a_test.csv")
    results = {"source": data.source, "seed": args.seed, "table_a": meta_a}

    if not args.skip_b:
        table, meta_b = table_b(data, args.seed)
        print(
            f"\n## (b) 100x150 pixels, train/dev/test {meta_b['sizes']}, "
            f"{meta_b['genres']} genres\n"
        )
        print(_markdown(table))
        table.to_csv(out / "table_b.csv")
        results["table_b"] = meta_b
    results["table_a_dev"] = dev_table.to_dict(orient="index")
    (out / "ksweep.json").write_text(json.dumps(results, indent=2, default=float))
    print(f"\nCSV and JSON written to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
