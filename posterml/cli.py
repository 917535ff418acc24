"""The ``posterml`` command line: thin layers over the public API.

- ``posterml info``: the default dataset's summary and the baseline rows of seed 000's table;
- ``posterml predict POSTER...``: top genres per poster (default model: ML-kNN on the bundled
  sample's CNN embeddings; ``--model FILE`` for a pipeline saved by ``posterml train``);
- ``posterml embed DIR --out FILE``: CNN embeddings of every poster of a folder (``.npz``);
- ``posterml train``: fit features + model on a dataset's training split, save it (skops);
- ``posterml evaluate``: score a saved model on the same dataset's test split;
- ``posterml ksweep``: cross-validated ML-kNN scores for every k from one search;
- ``posterml compare``: the model comparison benchmark (a checkout's ``benchmarks/``).

Bad input (missing files, unknown names, out-of-range numbers, corrupt or untrusted model
files, an output file that exists without ``--overwrite``) prints one line naming the problem
and exits with status 2; an unexpected failure prints one line and exits with status 1
(``-v`` shows its traceback). Outputs are checked before any work and written under a
temporary name, then moved into place: a failure never leaves a half-written file.
Nothing is written outside ``--out``, the files a command is given and posterml's cache
(``$POSTERML_CACHE``); onnxruntime's telemetry is off (``ORT_DISABLE_TELEMETRY=1`` unless
set otherwise).
"""

import argparse
import contextlib
import logging
import sys
import warnings

import numpy as np

from posterml._config import atomic_write


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


FEATURES = ("cnn", "color", "pixels", "keywords", "metadata")
MODELS = ("mlknn", "ovr-knn", "rf", "xgboost", "svm-linear", "glm")
SPLIT = (0.8, 0.1, 0.1)  # train / dev / test shares of `posterml train` and `evaluate`
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")


def _dataset(args):
    from posterml.datasets import load_dataset

    return load_dataset(
        args.data, synthetic=args.synthetic, n_synthetic=args.n_synthetic, random_state=args.seed
    )


def _split(data, seed):
    from posterml.model_selection import train_dev_test_split

    return train_dev_test_split(
        data.Y, SPLIT, groups=data.frame["imdb_id"].to_numpy(), random_state=seed
    )


def _estimator(name, k, seed):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import LinearSVC

    from posterml.neighbors import BinaryRelevanceKNN, MLkNN

    if name == "mlknn":
        return MLkNN(k=k, on_empty_label="warn")
    if name == "ovr-knn":
        return BinaryRelevanceKNN(k=k)
    if name == "rf":
        return RandomForestClassifier(n_estimators=200, n_jobs=-1, random_state=seed)
    if name == "xgboost":
        try:
            from xgboost import XGBClassifier
        except ImportError:
            raise ValueError("--model xgboost needs XGBoost: pip install posterml[gbm]") from None
        return XGBClassifier(
            n_estimators=200, max_depth=4, multi_strategy="one_output_per_tree", random_state=seed
        )
    if name == "svm-linear":
        from sklearn.calibration import CalibratedClassifierCV

        return OneVsRestClassifier(CalibratedClassifierCV(LinearSVC(C=0.05), cv=3))
    return OneVsRestClassifier(LogisticRegression(max_iter=2000))


def _with_progress(estimator):
    """Progress bars (tqdm; silent when not a terminal) on the poster extractors inside."""
    keys = [k for k in estimator.get_params() if k.endswith("extract__verbose")]
    return estimator.set_params(**dict.fromkeys(keys, 1))


def _proba(model, X, n_labels):
    from posterml.labels._top_k import _label_scores

    return _label_scores(model, "predict_proba", X, n_labels)


def _print_ranked(names, ranked, as_json):
    import json

    if as_json:
        out = [
            {
                "poster": str(name),
                "genres": [{"genre": g, "probability": round(float(p), 6)} for g, p in pairs],
            }
            for name, pairs in zip(names, ranked)
        ]
        print(json.dumps(out, indent=2))
        return
    for name, pairs in zip(names, ranked):
        print(f"{name}: " + ", ".join(f"{g} {p:.2f}" for g, p in pairs))


def _existing_files(paths):
    from pathlib import Path

    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"poster file(s) not found: {', '.join(missing)}")
    return [str(p) for p in paths]


def _output_file(path, overwrite, suffixes=None):
    """Check ``--out`` before any work: suffix, folder, existing file (``--overwrite``)."""
    from pathlib import Path

    from posterml.persistence import _output_path

    if suffixes is not None and Path(path).suffix.lower() not in suffixes:
        raise ValueError(f"--out {path!r} must end with {' or '.join(suffixes)}")
    return _output_path(path, overwrite, hint="pass --overwrite")


def _check_reads_posters(model, path):
    """Refuse a model fitted on a numeric matrix: it cannot take posters or a movies frame.

    A pipeline fitted on a frame has ``feature_names_in_``; one fitted on poster paths (a
    poster transformer first) has no ``n_features_in_``.
    """
    n = getattr(model, "n_features_in_", None)
    if not hasattr(model, "feature_names_in_") and n is not None:
        raise ValueError(
            f"{path} holds a {type(model).__name__} fitted on {n} numeric feature columns, not "
            "a pipeline that reads posters: save a features + model pipeline with "
            "`posterml train`"
        )


def _scores(model, path, call):
    """``call()`` (predict or predict_proba), naming the model file when it fails."""
    from posterml.io import PosterReadError

    try:
        return call()
    except PosterReadError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(
            f"{path} cannot score these movies ({type(exc).__name__}: {exc}); was it "
            "trained by `posterml train` on this kind of data?"
        ) from exc


def _check_genre_columns(scores, genres, path):
    width = np.shape(scores)[1] if np.ndim(scores) == 2 else None
    if width != len(genres):
        raise ValueError(
            f"{path} gives {width} genre scores per movie but its genres_ lists "
            f"{len(genres)} genres: the file is inconsistent; train it again"
        )


def _poster_frame(paths, model):
    """A movies frame holding only poster paths, with the other columns a model expects."""
    import pandas as pd

    frame = pd.DataFrame(
        {"poster_path": paths, "imdb_id": [f"poster{i}" for i in range(len(paths))]}
    )
    for name in getattr(model, "feature_names_in_", []):
        if name not in frame:
            frame[name] = None  # no keywords / metadata for a bare poster
    return frame


def cmd_predict(args):
    paths = _existing_files(args.posters)
    if args.model is None:
        from posterml.datasets import predict_genres
        from posterml.datasets._sample import _sample

        top = min(args.top, len(_sample().genres))
        _print_ranked(paths, predict_genres(paths, top=top), args.json)
        return 0
    model = _load(args)
    genres = _model_genres(model, args.model)
    from posterml.labels import top_k_genres

    _check_reads_posters(model, args.model)
    X = _poster_frame(paths, model) if hasattr(model, "feature_names_in_") else paths
    proba = _scores(model, args.model, lambda: _proba(model, X, len(genres)))
    _check_genre_columns(proba, genres, args.model)
    _print_ranked(paths, top_k_genres(proba, list(genres), k=min(args.top, len(genres))), args.json)
    return 0


def _load(args):
    """``load_model`` for ``--model``, its refusals phrased with the command's flags."""
    from posterml.persistence import UntrustedModelError, load_model

    try:
        return load_model(args.model, trusted=args.trust, allow_pickle=args.allow_pickle)
    except UntrustedModelError as exc:
        if exc.reason == "untrusted":
            raise UntrustedModelError(
                f"{args.model!r} holds types that are not trusted: {exc.types}; if you trust "
                f"the file's origin, pass --trust {','.join(exc.types)}",
                types=exc.types,
            ) from exc
        if exc.reason == "pickle" and not args.allow_pickle:
            raise UntrustedModelError(
                f"{args.model!r} is a pickle (joblib) file, which can run arbitrary code when "
                "loaded; pass --allow-pickle only for a file you made yourself",
                reason="pickle",
            ) from exc
        raise


def _model_genres(model, path):
    genres = getattr(model, "genres_", None)
    if genres is None:
        raise ValueError(
            f"{path} has no genres_ list: save models with `posterml train` (or set "
            "model.genres_ = [...] before save_model)"
        )
    genres = list(genres)
    if not genres or not all(isinstance(g, str) for g in genres) or len(set(genres)) < len(genres):
        raise ValueError(f"{path} has an invalid genres_ list {genres!r}: train it again")
    return genres


def cmd_embed(args):
    from pathlib import Path

    import numpy as np

    from posterml.features import CNNEmbedder

    folder = Path(args.folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"poster folder {str(folder)!r} does not exist")
    out = _output_file(args.out, args.overwrite, suffixes=(".npz",))
    paths = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )
    if not paths:
        raise ValueError(f"no poster images ({', '.join(IMAGE_SUFFIXES)}) in {str(folder)!r}")
    embedder = CNNEmbedder(
        backend=args.backend, batch_size=args.batch_size, on_error="skip", verbose=1, cache=True
    )
    X = embedder.fit_transform([str(p) for p in paths])
    kept = [p.name for p, ok in zip(paths, embedder.valid_mask_) if ok]
    skipped = embedder.skipped_
    ids = np.asarray(kept, dtype=str)
    skipped_paths = np.asarray([str(p) for p in skipped["path"]], dtype=str)
    atomic_write(out, lambda fp: np.savez(fp, ids=ids, X=X, skipped=skipped_paths))
    print(f"{len(kept)} posters embedded ({X.shape[1]} dimensions) -> {args.out}")
    for row in skipped.itertuples():
        print(f"skipped {row.path}: {row.reason}", file=sys.stderr)
    return 0 if kept else 2


def cmd_train(args):
    from posterml.features import make_fusion_pipeline
    from posterml.persistence import _kind, save_model

    out = _output_file(args.out, args.overwrite)
    _kind(out, None)  # a suffix that names no format fails now, not after the fit
    features = list(dict.fromkeys(args.features))
    data = _dataset(args)
    train, dev, test = _split(data, args.seed)
    rows = train if args.holdout else np.arange(len(data.Y))
    keep = data.Y[rows].sum(axis=0) > 0
    if not keep.any():
        raise ValueError(f"no genre has a positive movie among the {len(rows)} training movies")
    genres = [g for g, ok in zip(data.genres, keep) if ok]
    poster = tuple(f for f in features if f in ("cnn", "color", "pixels"))
    pipe = make_fusion_pipeline(
        _estimator(args.model, args.k, args.seed),
        poster=poster or None,
        keywords="keywords" in features,
        metadata="metadata" in features,
    )
    _with_progress(pipe).fit(data.frame.iloc[rows], data.Y[rows][:, keep])
    pipe.genres_ = genres
    pipe.posterml_training_ = {
        "source": data.source,
        "seed": args.seed,
        "split": list(SPLIT),
        "rows": "train" if args.holdout else "all",
        "n_movies": len(data.Y),
        "features": features,
        "model": args.model,
    }
    save_model(pipe, out, overwrite=args.overwrite)
    print(
        f"trained {args.model} on {', '.join(features)} features of {len(rows):,} "
        f"{data.source} movies ({'the training split' if args.holdout else 'all movies'}), "
        f"{len(genres)} genres -> {args.out}"
    )
    return 0


def cmd_evaluate(args):
    from posterml.metrics import seed_metrics

    model = _load(args)
    genres = _model_genres(model, args.model)
    _check_reads_posters(model, args.model)
    info = getattr(model, "posterml_training_", None)
    info = info if isinstance(info, dict) else {}
    if info.get("rows") == "all":
        _warn("this model was trained on all movies; its test scores are optimistic")
    data = _dataset(args)
    unknown = [g for g in genres if g not in list(data.genres)]
    if unknown:
        raise ValueError(f"the model predicts genres {unknown} that the dataset does not have")
    unseen = [g for g in data.genres if g not in genres]
    if unseen:
        _warn(f"genres the model never saw are not scored: {unseen}")
    source, n_trained = info.get("source"), info.get("n_movies")
    if (source is not None and source != data.source) or (
        n_trained is not None and n_trained != len(data.Y)
    ):
        _warn(
            f"the model was trained on {n_trained or 'some'} {source} movies and is scored on "
            f"{len(data.Y)} {data.source} movies: this test split is not the one it held out, "
            "and may hold movies it was trained on"
        )
    seed = info.get("seed", args.seed)
    _, _, test = _split(data, seed if isinstance(seed, int) else args.seed)
    columns = [list(data.genres).index(g) for g in genres]
    Y_true = data.Y[test][:, columns]
    Y_pred = _scores(model, args.model, lambda: np.asarray(model.predict(data.frame.iloc[test])))
    _check_genre_columns(Y_pred, genres, args.model)
    rows = {f"{info.get('model', 'model')} ({len(test)} test movies)": seed_metrics(Y_true, Y_pred)}
    print(_markdown_table(rows, list(next(iter(rows.values())))))
    return 0


def cmd_ksweep(args):
    from posterml.model_selection import SEED_K_VALUES, MultilabelStratifiedGroupKFold, ksweep

    if args.sample or args.data is None and not args.synthetic:
        from posterml.datasets import load_sample

        if args.features not in ("cnn", "color"):
            raise ValueError("the bundled sample has the features cnn and color; pass --data")
        sample = load_sample()
        X = sample.X_cnn if args.features == "cnn" else sample.color
        Y, groups, source = sample.Y, sample.frame["imdb_id"].to_numpy(), "bundled sample"
    else:
        from posterml.features import make_fusion_features

        data = _dataset(args)
        poster = (args.features,) if args.features in ("cnn", "color", "pixels") else None
        features = make_fusion_features(
            poster=poster,
            keywords=args.features == "keywords",
            metadata=args.features == "metadata",
        )
        X = _with_progress(features).fit_transform(data.frame)
        Y, groups, source = data.Y, data.frame["imdb_id"].to_numpy(), data.source
    keep = Y.sum(axis=0) >= args.folds
    if not keep.any():
        raise ValueError(
            f"no genre has {args.folds} movies (one per fold) among the {len(Y)} movies: "
            "use fewer --folds or more data"
        )
    cv = MultilabelStratifiedGroupKFold(args.folds, random_state=args.seed)
    res = ksweep(X, Y[:, keep], args.k or SEED_K_VALUES, cv=cv, groups=groups)
    names = ["hamming_loss", "all_match", "at_least_one_match", "overall_f1"]
    print(
        f"# ML-kNN k-sweep: {source}, {args.features}, {args.folds} folds, {int(keep.sum())} genres"
    )
    rows = {
        f"k={k}": {
            n: float(-res[f"mean_test_{n}"][i] if n == "hamming_loss" else res[f"mean_test_{n}"][i])
            for n in names
        }
        for i, k in enumerate(res["param_k"])
    }
    print(_markdown_table(rows, names, first="k"))
    best = int(res["param_k"][np.argmax(res["mean_test_hamming_loss"])])
    print(f"\nbest k by Hamming loss: {best}")
    return 0


def cmd_compare(args, extra):
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_models.py"
    if not script.is_file():
        raise FileNotFoundError(
            f"posterml compare runs the benchmark script of a posterml checkout; {script} is "
            "absent (an installed package has no benchmarks/)"
        )
    return subprocess.run([sys.executable, str(script), *extra], check=False).returncode


def _warn(message):
    print(f"posterml: warning: {message}", file=sys.stderr)


def _int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"int >= {low}"  # argparse names the type in some messages
    return parse


_POSITIVE = _int_at_least(1)


def _type_names(text):
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected a type name, got {text!r}")
    return names


def _add_data_args(parser):
    parser.add_argument(
        "--data",
        default=None,
        help="data folder holding av-posters/ (default: $POSTERML_DATA or ../shared/data; "
        "synthetic posters where none is found)",
    )
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="use seeded synthetic posters even where real data is found",
    )
    parser.add_argument(
        "--n-synthetic", type=_POSITIVE, default=400, help="synthetic posters when no real data"
    )
    parser.add_argument("--seed", type=_int_at_least(0), default=0, help="random seed (default 0)")


def _add_model_file_args(parser):
    parser.add_argument(
        "--trust",
        type=_type_names,
        action="extend",
        metavar="TYPE[,TYPE...]",
        default=None,
        help="extra type names to trust in a .skops file (repeat, or separate with commas)",
    )
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="load a .joblib/.pkl model (runs code from the file: only your own files)",
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="posterml", description="Predict movie genres from posters with classical ML."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser(
        "info", help="summarise the default dataset and print the baseline metric rows"
    )
    _add_data_args(info)
    info.set_defaults(func=cmd_info)

    predict = sub.add_parser("predict", help="top genres with probabilities per poster")
    predict.add_argument("posters", nargs="+", help="poster image files")
    predict.add_argument(
        "--model", help="a model saved by `posterml train` (default: ML-kNN on the bundled sample)"
    )
    predict.add_argument("--top", type=_POSITIVE, default=3, help="genres per poster (default 3)")
    predict.add_argument("--json", action="store_true", help="JSON instead of text")
    _add_model_file_args(predict)
    predict.set_defaults(func=cmd_predict)

    embed = sub.add_parser("embed", help="CNN embeddings of every poster of a folder")
    embed.add_argument("folder", help="folder of poster images")
    embed.add_argument("--out", required=True, help="output .npz (ids, X, skipped)")
    embed.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    embed.add_argument("--backend", choices=("onnx", "torch"), default="onnx")
    embed.add_argument("--batch-size", type=_POSITIVE, default=32)
    embed.set_defaults(func=cmd_embed)

    train = sub.add_parser("train", help="fit features + model on a dataset and save it")
    _add_data_args(train)
    train.add_argument("--features", nargs="+", choices=FEATURES, default=["cnn"])
    train.add_argument("--model", choices=MODELS, default="mlknn")
    train.add_argument("--k", type=_POSITIVE, default=10, help="neighbours of the kNN models")
    train.add_argument(
        "--all",
        dest="holdout",
        action="store_false",
        help="fit on all movies, not the training split",
    )
    train.add_argument("--out", required=True, help="output model file (.skops or .joblib)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="score a saved model on the dataset's test split")
    evaluate.add_argument("--model", required=True, help="a model saved by `posterml train`")
    _add_data_args(evaluate)
    _add_model_file_args(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    sweep = sub.add_parser("ksweep", help="ML-kNN cross-validated for every k in one search")
    _add_data_args(sweep)
    sweep.add_argument("--sample", action="store_true", help="the bundled sample's features")
    sweep.add_argument("--features", choices=FEATURES, default="cnn")
    sweep.add_argument("--k", nargs="+", type=_POSITIVE, default=None, help="k values (seed 000's)")
    sweep.add_argument("--folds", type=_int_at_least(2), default=5, help="folds (default 5)")
    sweep.set_defaults(func=cmd_ksweep)

    compare = sub.add_parser(
        "compare",
        help="models x features comparison (benchmarks/compare_models.py)",
        add_help=False,
    )
    compare.set_defaults(func=None)
    return parser


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "compare":
        return cmd_compare(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # A file name that is not valid UTF-8 reaches us as surrogate escapes: print it back as
    # the same bytes rather than failing on the first such poster.
    # Messages name such files too: stderr escapes what it cannot encode (as Python's own
    # stderr does), whatever stream it is.
    for stream, errors in ((sys.stdout, "surrogateescape"), (sys.stderr, "backslashreplace")):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=errors)
    prefix = f"posterml {args.command}"
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning
        try:
            return args.func(args)
        except KeyboardInterrupt:
            print(f"{prefix}: interrupted", file=sys.stderr)
            return 130
        # OSError covers missing, unreadable and unwritable files; ValueError bad values,
        # unreadable posters and untrusted model files; ImportError a missing extra.
        except (OSError, ValueError, ImportError) as exc:
            print(f"{prefix}: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        except Exception as exc:
            if args.verbose:
                raise
            print(
                f"{prefix}: internal error: {type(exc).__name__}: {_one_line(exc)} (run "
                "`posterml -v ...` for the traceback, and please report it)",
                file=sys.stderr,
            )
            return 1


def _one_line(exc):
    text = " ".join(str(exc).split()) if str(exc).strip() else type(exc).__name__
    return text


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    stream = sys.stderr if file is None else file
    # a closed stderr must not turn a warning into a failure
    with contextlib.suppress(OSError, ValueError):
        print(f"posterml: warning: {_one_line(message)}", file=stream)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
