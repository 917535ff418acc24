"""The ``posterml`` command line: thin layers over the public API.

``posterml info`` loads the default dataset (the real posters in ``$POSTERML_DATA`` or
``../shared/data`` when present, else seeded synthetic posters) and prints its summary and
the random and most-frequent baseline rows of seed 000's metrics table.
"""

import argparse
import logging
import sys

import numpy as np


def _baseline_rows(Y, groups, random_state):
    """Seed-000 metric rows of the random and most-frequent baselines on a held-out 20 %."""
    from sklearn.dummy import DummyClassifier

    from posterml.metrics import seed_metrics
    from posterml.model_selection import train_dev_test_split

    train, _, test = train_dev_test_split(
        Y, (0.8, 0.0, 0.2), groups=groups, random_state=random_state
    )
    X = np.zeros((len(Y), 1))
    rows = {}
    baselines = {
        "Random (label frequencies)": DummyClassifier(
            strategy="stratified", random_state=random_state
        ),
        "Most frequent": DummyClassifier(strategy="most_frequent"),
    }
    for name, model in baselines.items():
        model.fit(X[train], Y[train])
        rows[name] = seed_metrics(Y[test], model.predict(X[test]))
    return rows, len(train), len(test)


def _markdown_table(rows, columns, first="Model"):
    lines = ["| " + " | ".join([first, *columns]) + " |"]
    lines.append("|" + "---|" * (len(columns) + 1))
    for name, values in rows.items():
        cells = [
            f"{values[c]:.4f}" if isinstance(values[c], float) else str(values[c]) for c in columns
        ]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines)


def cmd_info(args):
    from posterml.datasets import load_dataset

    data = load_dataset(
        args.data, synthetic=args.synthetic, n_synthetic=args.n_synthetic, random_state=args.seed
    )
    Y = np.asarray(data.Y)
    counts = Y.sum(axis=0)
    print(f"# posterml dataset: {data.source}")
    print(f"root: {data.root}")
    print(f"movies: {len(Y):,}   genres: {len(data.genres)}")
    print(f"label cardinality (genres per movie): {Y.sum(axis=1).mean():.3f}")
    print(f"label density: {Y.mean():.4f}")
    if len(data.report):
        # group "duplicate tmdb id (line 36029 kept)" and its siblings under one pattern
        kinds = data.report["reason"].astype(str).str.split(":").str[0]
        reasons = kinds.str.replace(r"\d+", "N", regex=True).value_counts()
        print(f"rows dropped or changed while loading: {len(data.report)}")
        for reason, n in reasons.items():
            print(f"  {n:6d}  {reason}")
    print("\n## Genres")
    print("| Genre | Movies | Share |\n|---|---|---|")
    for i in np.argsort(-counts, kind="stable"):
        print(f"| {data.genres[i]} | {int(counts[i]):,} | {counts[i] / len(Y):.3f} |")
    rows, n_train, n_test = _baseline_rows(Y, data.frame["imdb_id"].to_numpy(), args.seed)
    print(f"\n## Baselines (seed 000's columns; train {n_train:,} / test {n_test:,} movies)")
    first = next(iter(rows.values()))
    print(_markdown_table(rows, list(first)))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="posterml", description="Predict movie genres from posters with classical ML."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser(
        "info", help="summarise the default dataset and print the baseline metric rows"
    )
    info.add_argument(
        "--data",
        default=None,
        help="data folder holding av-posters/ (default: $POSTERML_DATA or ../shared/data; "
        "synthetic posters where none is found)",
    )
    info.add_argument(
        "--synthetic",
        action="store_true",
        help="use seeded synthetic posters even where real data is found",
    )
    info.add_argument(
        "--n-synthetic", type=int, default=400, help="synthetic posters when no real data"
    )
    info.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    info.set_defaults(func=cmd_info)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"posterml {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
