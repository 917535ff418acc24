"""Compare models x feature sets on the real posters: the seed papers' comparison tables.

Feature sets (``--features``):

- ``pixels``: 32x32 RGB pixels (``PixelFlattener``), standardised, PCA to 100 components;
- ``color``: dominant-colour features (luma of the dominant colour, palette shares, RGB);
- ``keywords``: TMDb keywords, the 40 most frequent words as 0/1 columns;
- ``metadata``: OMDb metadata (numbers, missing flags, rated/language/country), imputed;
- ``cnn``: EfficientNet-Lite0 embeddings as the bundled sample ships them (PCA to 128
  components, fitted on all posters' embeddings: unsupervised, no label involved);
- ``fused``: cnn + keywords + metadata blocks, each standardised and scaled to the same
  total variance (``make_fusion_features``).

Every learned step (vocabulary, imputation, scaling, PCA) is fitted on the training folds
only. ``color`` and ``cnn`` come from the bundled sample (``load_sample``), so they need no
poster; ``pixels`` reads the posters and ``metadata`` the OMDb table of the real data.

Models (``--models``): ML-kNN, OvR kNN, random forest (native multi-label), XGBoost
(``multi_strategy="one_output_per_tree"``), SVM-RBF and SVM-linear (one-vs-rest), GLM
(logistic regression, one-vs-rest), and the random (stratified) and most-frequent baselines.

Iteratively stratified 5-fold CV by movie id, fixed seeds. Tables:

- seed 000's columns (All Match, At least one match, Binary, Hamming Loss) on all genres;
- seed 001's OP / OR / OF1 on the top-5 genres (Drama, Comedy, Romance, Action, Crime);
- seed 003's weighted F1 on the top-10 genres, without and with ML-ROS oversampling of the
  training folds (``MultilabelRandomOverSampler``);
- seed 004's custom-genre accuracy (min / median / mean / max over folds), without and with
  seed 004's log-smoothed class weights (as ``sample_weight``; the kNN rows take none).

The 000 / 001 / 003-plain rows come from one fit per model and fold on all genres, scored on
the genre subsets: every model here but the random forest treats genres independently, so
that equals a fit on the subset. Markdown to stdout, CSV to ``--out``.

    python benchmarks/compare_models.py                # everything, real data (~1 h on 2 cores)
    python benchmarks/compare_models.py --quick        # a few minutes: 800 movies, 3 folds
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler
from sklearn.svm import SVC, LinearSVC

from posterml.datasets import load_dataset, load_sample
from posterml.features import PixelFlattener
from posterml.features._fusion import make_fusion_features
from posterml.imbalance import MultilabelRandomOverSampler, compute_log_class_weight
from posterml.labels import CustomGenreEncoder
from posterml.metrics import (
    all_match,
    at_least_one_match,
    binary_accuracy,
    hamming_loss,
    overall_f1,
    overall_precision,
    overall_recall,
    weighted_f1,
)
from posterml.model_selection import MultilabelStratifiedGroupKFold, multilabel_train_test_split
from posterml.neighbors import BinaryRelevanceKNN, MLkNN

FEATURE_SETS = ("pixels", "color", "keywords", "metadata", "cnn", "fused")
NEEDS_REAL_DATA = {"pixels": "poster files", "metadata": "the OMDb metadata table"}
MODELS = (
    "ML-kNN",
    "OvR kNN",
    "RF",
    "XGBoost",
    "SVM-RBF",
    "SVM-linear",
    "GLM",
    "random",
    "most-frequent",
)
BASELINES = ("random", "most-frequent")
KNN_MODELS = ("ML-kNN", "OvR kNN")
TOP5 = ("Drama", "Comedy", "Romance", "Action", "Crime")
MIN_SUPPORT = 10  # genres with fewer movies cannot be in every fold (Reality-TV has 2)


class LabelEncodedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit ``estimator`` on integer-coded class labels (XGBoost refuses string classes)."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, **fit_params):
        self.encoder_ = LabelEncoder().fit(y)
        self.classes_ = self.encoder_.classes_
        self.estimator_ = clone(self.estimator).fit(X, self.encoder_.transform(y), **fit_params)
        return self

    def predict(self, X):
        return self.encoder_.inverse_transform(np.asarray(self.estimator_.predict(X), dtype=int))


def make_model(name, seed, *, quick=False, multiclass=False):
    """A fresh, unfitted model; ``multiclass``: for one custom genre per movie."""
    trees = 50 if quick else 200
    if name == "ML-kNN":
        return MLkNN(k=20, on_empty_label="warn")
    if name == "OvR kNN":
        return BinaryRelevanceKNN(k=20)
    if name == "RF":
        return RandomForestClassifier(
            n_estimators=trees, min_samples_leaf=2, n_jobs=-1, random_state=seed
        )
    if name == "XGBoost":
        from xgboost import XGBClassifier

        params = dict(
            n_estimators=trees // 2,
            max_depth=4,
            learning_rate=0.1,
            tree_method="hist",
            n_jobs=2,
            random_state=seed,
        )
        if multiclass:
            return LabelEncodedClassifier(XGBClassifier(**params))
        return XGBClassifier(multi_strategy="one_output_per_tree", **params)
    if name == "SVM-RBF":
        svc = SVC(kernel="rbf", C=1.0, gamma="scale")
        return svc if multiclass else OneVsRestClassifier(svc, n_jobs=-1)
    if name == "SVM-linear":
        svc = LinearSVC(C=0.05, max_iter=5000)
        return svc if multiclass else OneVsRestClassifier(svc, n_jobs=-1)
    if name == "GLM":
        glm = LogisticRegression(C=1.0, max_iter=2000)
        return glm if multiclass else OneVsRestClassifier(glm, n_jobs=-1)
    if name == "random":
        return DummyClassifier(strategy="stratified", random_state=seed)
    if name == "most-frequent":
        return DummyClassifier(strategy="most_frequent")
    raise SystemExit(f"compare_models.py: unknown model {name!r}; choose from {MODELS}")


# --------------------------------------------------------------------------- data, features
def load(quick, seed, n_movies=None):
    """The movies frame with the sample's CNN and colour columns, Y, genres, source."""
    sample = load_sample()
    data = load_dataset()
    if data.source == "av-posters":
        if not np.array_equal(data.frame["imdb_id"].to_numpy(), sample.frame["imdb_id"]):
            raise SystemExit("compare_models.py: the bundled sample does not match the data")
        frame, source = data.frame.reset_index(drop=True), "av-posters"
    else:
        frame, source = sample.frame.reset_index(drop=True), "bundled sample"
    cnn_cols = [f"cnn_{i:03d}" for i in range(sample.X_cnn.shape[1])]
    color_cols = [f"color_{n}" for n in sample.color_feature_names]
    extra = pd.DataFrame(
        np.hstack([sample.X_cnn, sample.color]).astype(np.float32), columns=cnn_cols + color_cols
    )
    frame = pd.concat([frame, extra], axis=1)
    keep = sample.Y.sum(axis=0) >= MIN_SUPPORT
    Y, genres = sample.Y[:, keep], [g for g, k in zip(sample.genres, keep) if k]
    n = n_movies or (800 if quick else None)
    if n and n < len(frame):
        rows, _, _, _ = multilabel_train_test_split(
            np.arange(len(frame)),
            Y=Y,
            train_size=n,
            groups=frame["imdb_id"].to_numpy(),
            random_state=seed,
        )
        rows = np.sort(rows)
        frame, Y = frame.iloc[rows].reset_index(drop=True), Y[rows]
    return frame, Y, genres, source, {"cnn": cnn_cols, "color": color_cols}


def pixel_columns(frame, cache_dir):
    """32x32 RGB pixels of every poster, cached under ``cache_dir`` by movie ids."""
    key = abs(hash(tuple(frame["imdb_id"]))) % 10**12
    path = Path(cache_dir) / f"pixels32_{len(frame)}_{key}.npy"
    if path.is_file():
        return np.load(path)
    X = PixelFlattener(size=(32, 32)).fit_transform(frame["poster_path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, X)
    return X


def feature_step(name, columns):
    """An unfitted transformer from the movies frame (plus pixel rows) to the feature set."""
    if name == "pixels":
        return make_pipeline(StandardScaler(), PCA(100, random_state=0))
    if name in ("color", "cnn"):
        return ColumnTransformer([(name, StandardScaler(), columns[name])])
    if name == "keywords":
        return make_fusion_features(poster=None, keywords=True, metadata=False)
    if name == "metadata":
        return make_fusion_features(poster=None, keywords=False, metadata=True)
    if name == "fused":
        return make_fusion_features(
            poster=None, keywords=True, metadata=True, precomputed={"cnn": columns["cnn"]}
        )
    raise SystemExit(f"compare_models.py: unknown feature set {name!r}; choose {FEATURE_SETS}")


# --------------------------------------------------------------------------- one fold
def _predict(model, X):
    P = np.asarray(model.predict(X))
    return P.reshape(len(P), -1).astype(np.uint8)


PLOT_MODEL = ("fused", "GLM")  # whose fold-0 predictions the saved figures show


def run_fold(
    feature, models, frame, Y, genres, columns, pixels, train, test, seed, quick, log, keep=None
):
    """Every model on one fold of one feature set: a list of result dicts.

    ``keep``: a dict that receives the test labels and predictions of :data:`PLOT_MODEL`.
    """
    step = feature_step(feature, columns)
    source = pixels if feature == "pixels" else frame
    X_tr = np.asarray(step.fit_transform(_rows(source, train)), dtype=np.float32)
    X_te = np.asarray(step.transform(_rows(source, test)), dtype=np.float32)
    Y_tr, Y_te = Y[train], Y[test]
    top5 = [genres.index(g) for g in TOP5 if g in genres]
    top10 = np.argsort(-Y.sum(axis=0), kind="stable")[:10]
    encoder = CustomGenreEncoder(genres=genres, random_state=seed).fit(Y)
    c_tr, c_te = encoder.transform(Y_tr), encoder.transform(Y_te)
    onehot = (c_tr[:, None] == encoder.classes_[None, :]).astype(np.uint8)
    present = onehot.sum(axis=0) > 0
    class_w = dict(
        zip(encoder.classes_[present], compute_log_class_weight(onehot[:, present]).tolist())
    )
    sw = np.array([class_w[c] for c in c_tr])
    X_os, Y_os = MultilabelRandomOverSampler(random_state=seed).fit_resample(X_tr, Y_tr[:, top10])
    out = []
    for name in models:
        t0 = time.perf_counter()
        P = _predict(make_model(name, seed, quick=quick).fit(X_tr, Y_tr), X_te)
        row = {"features": feature, "model": name, "seconds": time.perf_counter() - t0}
        row.update(
            all_match=all_match(Y_te, P),
            at_least_one_match=at_least_one_match(Y_te, P),
            binary_accuracy=binary_accuracy(Y_te, P),
            hamming_loss=hamming_loss(Y_te, P),
            op5=overall_precision(Y_te[:, top5], P[:, top5]),
            or5=overall_recall(Y_te[:, top5], P[:, top5]),
            of1_5=overall_f1(Y_te[:, top5], P[:, top5]),
            wf1_10=weighted_f1(Y_te[:, top10], P[:, top10]),
        )
        t0 = time.perf_counter()
        P_os = _predict(make_model(name, seed, quick=quick).fit(X_os, Y_os), X_te)
        row["wf1_10_os"] = weighted_f1(Y_te[:, top10], P_os)
        single = make_model(name, seed, quick=quick, multiclass=True)
        c_pred = single.fit(X_tr, c_tr).predict(X_te)
        row["custom_acc"] = float(np.mean(c_pred == c_te))
        if keep is not None and (feature, name) == PLOT_MODEL:
            keep.update(Y=Y_te, P=P, c_true=c_te, c_pred=c_pred, classes=encoder.classes_)
        if name in KNN_MODELS:
            row["custom_acc_w"] = np.nan  # a neighbour vote takes no sample weights
        else:
            weighted = make_model(name, seed, quick=quick, multiclass=True)
            weighted.fit(X_tr, c_tr, sample_weight=sw)
            row["custom_acc_w"] = float(np.mean(weighted.predict(X_te) == c_te))
        row["seconds"] += time.perf_counter() - t0
        log(f"  {feature:8s} {name:13s} {row['seconds']:7.1f} s  hamming {row['hamming_loss']:.4f}")
        out.append(row)
    return out


def _rows(data, rows):
    return data.iloc[rows] if isinstance(data, pd.DataFrame) else data[rows]


# --------------------------------------------------------------------------- tables
def tables(results):
    """The four tables (DataFrames) from the per-fold results."""
    df = pd.DataFrame(results)
    mean = df.groupby(["features", "model"], sort=False).mean(numeric_only=True)
    t000 = mean[["all_match", "at_least_one_match", "binary_accuracy", "hamming_loss"]]
    t000.columns = ["All Match", "At least one match", "Binary", "Hamming Loss"]
    t001 = mean[["op5", "or5", "of1_5"]].set_axis(["OP", "OR", "OF1"], axis=1)
    t003 = mean[["wf1_10", "wf1_10_os"]].set_axis(["weighted F1", "weighted F1, ML-ROS"], axis=1)
    g = df.groupby(["features", "model"], sort=False)
    t004 = pd.concat(
        {
            f"{stat} {what}": getattr(g[col], stat)()
            for what, col in (("", "custom_acc"), ("(weights)", "custom_acc_w"))
            for stat in ("min", "median", "mean", "max")
        },
        axis=1,
    )
    t004.columns = [c.strip() for c in t004.columns]
    seconds = g["seconds"].sum().rename("seconds (all folds)")
    for t in (t000, t001, t003, t004):
        t["seconds"] = seconds
    return {"000": t000, "001": t001, "003": t003, "004": t004}


def save_plots(kept, genres, out):
    """Per-genre scores, genre co-occurrence and custom-genre confusion of PLOT_MODEL."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n(no figures: matplotlib is not installed; pip install posterml[plot])")
        return []
    from posterml.plotting import (
        CustomGenreConfusionDisplay,
        GenreCooccurrenceDisplay,
        PerGenreDisplay,
    )

    label = f"{PLOT_MODEL[1]} on {PLOT_MODEL[0]} features, fold 0"
    displays = {
        "per_genre.png": PerGenreDisplay.from_predictions(kept["Y"], kept["P"], genres=genres),
        "cooccurrence.png": GenreCooccurrenceDisplay.from_predictions(
            kept["Y"], kept["P"], genres=genres
        ),
        "custom_genre_confusion.png": CustomGenreConfusionDisplay.from_predictions(
            kept["c_true"], kept["c_pred"], labels=list(kept["classes"])
        ),
    }
    for name, display in displays.items():
        display.figure_.suptitle(label)
        display.figure_.savefig(out / name, dpi=90)
        plt.close(display.figure_)
    return list(displays)


def _markdown(df):
    head = "| features | model | " + " | ".join(df.columns) + " |"
    lines = [head, "|" + "---|" * (len(df.columns) + 2)]
    for (feature, model), row in df.iterrows():
        cells = [
            "n/a" if pd.isna(v) else (f"{v:.1f}" if c == "seconds" else f"{v:.4f}")
            for c, v in row.items()
        ]
        lines.append(f"| {feature} | {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(tabs):
    """Does each fused model beat both baselines? Hamming loss (all genres), OF1 (top-5) and
    weighted F1 (top-10): each penalises both trivial answers (few or many genres); "at least
    one match" does not (guessing many genres scores well on it)."""
    t000, t001, t003 = tabs["000"], tabs["001"], tabs["003"]
    if "fused" not in t000.index.get_level_values(0):
        return []
    checks = (
        ("Hamming loss", t000["Hamming Loss"], min),
        ("OF1 top-5", t001["OF1"], max),
        ("weighted F1 top-10", t003["weighted F1"], max),
    )
    lines = []
    for model in t000.xs("fused", level=0).index:
        if model in BASELINES:
            continue
        parts = []
        for label, column, better in checks:
            base = better(column[(f, m)] for f, m in column.index if m in BASELINES)
            value = column[("fused", model)]
            wins = better(value, base) == value and value != base
            parts.append(f"{label} {value:.4f} vs {base:.4f} {'beats' if wins else 'LOSES'}")
        lines.append(f"- fused {model}: " + "; ".join(parts))
    single = t000.drop(index="fused", level=0, errors="ignore")
    single = single.loc[[i for i in single.index if i[1] not in BASELINES]]
    if len(single):
        fused = t000.xs("fused", level=0)["Hamming Loss"].drop(list(BASELINES), errors="ignore")
        best = single["Hamming Loss"].idxmin()
        lines.append(
            f"- best single-feature row by Hamming loss: {best[0]} / {best[1]} "
            f"({single.loc[best, 'Hamming Loss']:.4f}); best fused: {fused.idxmin()} "
            f"({fused.min():.4f})"
        )
    return lines


TITLES = {
    "000": "Seed 000's columns, all genres",
    "001": "Seed 001: overall precision / recall / F1 on the top-5 genres ({})",
    "003": "Seed 003: weighted F1 on the top-10 genres, without and with ML-ROS",
    "004": "Seed 004: custom-genre accuracy over the folds, without and with log class weights",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="800 movies, 3 folds, small forests")
    parser.add_argument("--features", nargs="+", default=None, choices=FEATURE_SETS)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--folds", type=int, default=None, help="default 5 (3 with --quick)")
    parser.add_argument("--n-movies", type=int, default=None, help="stratified subset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/out/compare_models")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    frame, Y, genres, source, columns = load(args.quick, args.seed, args.n_movies)
    features = list(args.features or FEATURE_SETS)
    notes = []
    if source != "av-posters":
        for name, what in NEEDS_REAL_DATA.items():
            if name in features:
                features.remove(name)
                notes.append(f"{name} left out: needs {what} (real data absent)")
    out = Path(args.out)
    pixels = pixel_columns(frame, out / "cache") if "pixels" in features else None
    folds = args.folds or (3 if args.quick else 5)
    cv = MultilabelStratifiedGroupKFold(folds, random_state=args.seed)
    splits = list(cv.split(frame, Y, groups=frame["imdb_id"].to_numpy()))

    def log(message):
        print(message, file=sys.stderr, flush=True)

    log(f"{source}: {len(frame)} movies, {len(genres)} genres, {folds} folds, {features}")
    results, kept = [], {}
    for feature in features:
        for f, (train, test) in enumerate(splits):
            log(f"{feature} fold {f}")
            for row in run_fold(
                feature, args.models, frame, Y, genres, columns, pixels, train, test,
                args.seed, args.quick, log, keep=kept if f == 0 else None,
            ):  # fmt: skip
                results.append({**row, "fold": f})
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(results).to_csv(out / "folds.csv", index=False)
    tabs = tables(results)
    print(
        f"# Model comparison: {source}, {len(frame)} movies, {len(genres)} genres "
        f"(>= {MIN_SUPPORT} movies each), iteratively stratified {folds}-fold CV by movie id, "
        f"seed {args.seed}{', --quick' if args.quick else ''}\n"
    )
    for note in notes:
        print(f"- {note}")
    for key, table in tabs.items():
        table.to_csv(out / f"table_{key}.csv")
        title = TITLES[key].format(", ".join(g for g in TOP5 if g in genres))
        print(f"\n## {title}\n\n{_markdown(table)}")
    lines = verdict(tabs)
    if lines:
        print("\n## Fused vs the baselines\n\n" + "\n".join(lines))
    if kept:
        names = save_plots(kept, genres, out)
        if names:
            print(f"\nFigures ({PLOT_MODEL[1]} on {PLOT_MODEL[0]}, fold 0): {', '.join(names)}")
    print(f"\nTotal {time.perf_counter() - t_start:.0f} s; CSV in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
