"""Build the sample shipped in ``posterml/datasets/data/`` from the real AV posters.

For the labelled AV movies (``load_av_posters()``: 7,233 movies, 24 genres) it computes

- the EfficientNet-Lite0 embedding of every poster (``CNNEmbedder(backend="onnx")``, with the
  embedding cache on so that a rerun takes seconds), reduced by a PCA (``whiten=False``,
  full SVD: deterministic, signs fixed by scikit-learn's ``svd_flip``);
- the dominant-colour features (``DominantColorBrightness(output="continuous",
  palette=True, dominant_rgb=True, random_state=0)``);
- the genre indicator matrix, and the text columns (imdb_id, title, year, genres,
  keywords).

and writes

- ``av_sample.npz``: PCA scores (float16 by default), the PCA itself (components, mean,
  variances), colour features, packed genre bits, the imdb ids (to check the CSV against)
  and the provenance as JSON;
- ``av_sample.csv.gz``: one row per movie, genres and keywords joined by ``|``.

No poster image or pixel goes into either file. Both are byte-for-byte reproducible given
the data and the date (fixed seeds, zip and gzip timestamps zeroed; ``$SOURCE_DATE_EPOCH``
fixes the recorded date). The files are written to a temporary folder, checked against the
size budget and read back with :func:`posterml.datasets._sample.load_sample` before they
replace the old ones. Posters that cannot be read are left out and listed.

    python benchmarks/build_sample.py                 # ../shared/data or $POSTERML_DATA
    python benchmarks/build_sample.py --data ROOT --n-components 128 --scores-dtype float16
"""

import argparse
import datetime as dt
import gzip
import importlib.metadata
import io
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "posterml" / "datasets" / "data"
BUDGET_BYTES = 6 * 1024 * 1024
COLOR_PARAMS = {
    "output": "continuous",
    "palette": True,
    "dominant_rgb": True,
    "random_state": 0,
}
# 1980-01-01, the earliest time a zip entry can hold: no build time leaks into the file.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _die(message):
    print(f"build_sample.py: {message}", file=sys.stderr)
    sys.exit(2)


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _build_date():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date().isoformat()
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


def write_npz(path, arrays):
    """``np.savez_compressed`` with fixed entry timestamps (so the bytes are reproducible)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, array in arrays.items():
            array = np.asanyarray(array)
            if array.dtype == object:
                raise TypeError(f"{name}: object arrays would need pickle; use a str dtype")
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, allow_pickle=False)


def write_csv_gz(path, frame):
    """CSV gzip-compressed with mtime 0 and no file name in the header."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), compresslevel=9, mtime=0))


def _joined(lists, what):
    out = []
    for items in lists:
        items = [] if items is None else list(items)
        joined = "|".join(items)
        # load_sample splits on "|" and reads "" as no items: both must give `items` back.
        if (joined.split("|") if joined else []) != items:
            raise ValueError(f"{what}s {items!r} cannot be '|'-joined and split back")
        out.append(joined)
    return out


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="folder holding av-posters/ (default: $POSTERML_DATA)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder")
    parser.add_argument("--n-components", type=int, default=128)
    parser.add_argument("--scores-dtype", choices=("float16", "float32"), default="float16")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    return parser.parse_args(argv)


def find_root(data):
    from posterml._config import DATA_ENV, get_data_root

    hint = (
        f"pass --data ROOT (the folder holding av-posters/), set ${DATA_ENV}, or place "
        "shared/data beside the checkout"
    )
    try:
        root = get_data_root(data)
    except FileNotFoundError as exc:
        _die(f"real poster data not found: {exc}; {hint}")
    if root is None:
        _die(f"real poster data not found; {hint}")
    if not (root / "av-posters" / "train.csv").is_file():
        _die(f"{str(root / 'av-posters' / 'train.csv')!r} does not exist; {hint}")
    return root


def main(argv=None):
    args = parse_args(argv)
    root = find_root(args.data)

    import sklearn
    from sklearn.decomposition import PCA

    import posterml
    from posterml.datasets import load_av_posters
    from posterml.features import _cnn
    from posterml.features._cnn import CNNEmbedder
    from posterml.features._color import DominantColorBrightness

    started = time.perf_counter()

    def step(message):
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", flush=True)

    data = load_av_posters(root)
    frame, Y, genres = data.frame, data.Y, data.genres
    step(f"loaded {len(frame)} movies, {len(genres)} genres from {root}")
    paths = frame["poster_path"].to_numpy(dtype=object)

    embedder = CNNEmbedder(
        backend="onnx", cache=True, on_error="skip", n_threads=args.threads, verbose=1
    )
    embeddings = embedder.fit_transform(paths)
    keep = embedder.valid_mask_.copy()
    skipped = [
        (frame["imdb_id"].iloc[int(i)], reason)
        for i, reason in zip(embedder.skipped_["index"], embedder.skipped_["reason"])
    ]
    step(f"CNN embeddings {embeddings.shape} ({len(skipped)} posters skipped)")

    colorer = DominantColorBrightness(**COLOR_PARAMS, on_error="skip", n_jobs=args.threads or -1)
    color = colorer.fit_transform(paths[keep])
    color_valid = colorer.valid_mask_
    if not color_valid.all():
        rows = np.flatnonzero(keep)[~color_valid]
        skipped += [
            (frame["imdb_id"].iloc[int(i)], reason)
            for i, reason in zip(rows[colorer.skipped_["index"]], colorer.skipped_["reason"])
        ]
        embeddings = embeddings[color_valid]
        keep[rows] = False
    color_names = colorer.get_feature_names_out().tolist()
    step(f"colour features {color.shape}")
    for imdb_id, reason in skipped:
        print(f"  skipped {imdb_id}: {reason}")

    frame = frame.loc[keep].reset_index(drop=True)
    Y = Y[keep]
    support = Y.sum(axis=0)
    if (support == 0).any():
        empty = [g for g, s in zip(genres, support) if s == 0]
        _die(f"genres {empty} have no movie left; the sample needs at least one per genre")

    if not 1 <= args.n_components <= min(embeddings.shape):
        _die(f"--n-components must be in [1, {min(embeddings.shape)}], got {args.n_components}")
    # Full SVD: exact and deterministic (randomized SVD would depend on its seed and BLAS).
    pca = PCA(n_components=args.n_components, whiten=False, svd_solver="full")
    # transform, not fit_transform (U * S): the stored scores are exactly what
    # pca.transform gives a new poster's embedding.
    scores = pca.fit(embeddings).transform(embeddings)
    explained = float(pca.explained_variance_ratio_.sum())
    first = [round(float(v), 4) for v in pca.explained_variance_ratio_[:10]]
    step(
        f"PCA {embeddings.shape[1]} -> {pca.n_components_}: explained variance "
        f"{explained:.4f} (first 10 components: {first})"
    )
    stored_scores = scores.astype(args.scores_dtype)
    rounding = float(np.abs(stored_scores.astype(np.float32) - scores).max())

    spec = _cnn._MODELS[embedder.model]
    provenance = {
        "dataset": "Analytics Vidhya movie posters (labelled train.csv rows), OMDb titles, "
        "TMDb keywords via MovieLens links",
        "n_movies": len(frame),
        "n_genres": len(genres),
        "cnn_model": f"efficientnet-{spec.name}",
        "cnn_weights_package": spec.distribution,
        "cnn_weights_version": _cnn._weights_version(spec),
        "cnn_preprocess_version": _cnn._PREPROCESS_VERSION,
        "cnn_arch_version": _cnn._ARCH_VERSION,
        "cnn_backend": f"onnxruntime {_version('onnxruntime')} (opset {_cnn._ONNX_OPSET})",
        "cnn_embedding_dim": int(embeddings.shape[1]),
        "pca_n_components": int(pca.n_components_),
        "pca_explained_variance": explained,
        "pca_svd_solver": "full",
        "scores_dtype": args.scores_dtype,
        "scores_max_rounding": rounding,
        "color_params": {**COLOR_PARAMS, "n_colors": colorer.n_colors},
        "n_posters_skipped": len(skipped),
        "skipped": [{"imdb_id": i, "reason": r} for i, r in skipped],
        "date": _build_date(),
        "posterml_version": posterml.__version__,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "builder": "benchmarks/build_sample.py",
    }
    arrays = {
        "imdb_id": frame["imdb_id"].to_numpy(dtype=str),
        "genres": np.asarray(genres, dtype=str),
        "Y_packed": np.packbits(Y.astype(bool), axis=1),
        "X_cnn": stored_scores,
        "pca_components": pca.components_.astype(np.float32),
        "pca_mean": pca.mean_.astype(np.float32),
        "pca_explained_variance": pca.explained_variance_.astype(np.float32),
        "pca_explained_variance_ratio": pca.explained_variance_ratio_.astype(np.float32),
        "pca_singular_values": pca.singular_values_.astype(np.float32),
        "pca_noise_variance": np.float32(pca.noise_variance_),
        "pca_n_samples": np.int64(pca.n_samples_),
        "color": color.astype(np.float32),
        "color_feature_names": np.asarray(color_names, dtype=str),
        "provenance": np.asarray(json.dumps(provenance, indent=1, sort_keys=True)),
    }
    text = pd.DataFrame(
        {
            "imdb_id": frame["imdb_id"],
            "title": frame["title"],
            "year": frame["year"].astype("Int64"),
            "genres": _joined(frame["genres"], "genre"),
            "keywords": _joined(frame["keywords"], "keyword"),
        }
    )

    from posterml.datasets import _sample

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        tmp = Path(tmp)
        write_npz(tmp / _sample.FEATURES_FILE, arrays)
        write_csv_gz(tmp / _sample.MOVIES_FILE, text)
        sizes = {name: (tmp / name).stat().st_size for name in _sample.DATA_FILES}
        for name, size in sizes.items():
            print(f"  {name}: {size:,} bytes ({size / 2**20:.2f} MiB)")
        total = sum(sizes.values())
        print(f"  total: {total:,} bytes ({total / 2**20:.2f} MiB; budget 6 MiB)")
        if total > BUDGET_BYTES:
            _die(
                f"the files take {total:,} bytes, over the {BUDGET_BYTES:,}-byte budget: "
                "lower --n-components or use --scores-dtype float16"
            )
        check = _sample.load_sample(data_dir=tmp)
        np.testing.assert_array_equal(check.Y, Y)
        np.testing.assert_array_equal(check.pca.transform(embeddings[:50]), scores[:50])
        if check.frame["imdb_id"].tolist() != frame["imdb_id"].tolist():
            _die("read-back check failed: imdb ids differ")
        for name in _sample.DATA_FILES:
            os.replace(tmp / name, out / name)
    step(f"wrote {', '.join(_sample.DATA_FILES)} to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
