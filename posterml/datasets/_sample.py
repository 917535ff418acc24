"""The bundled AV sample: derived features of the 7,233 labelled AV movies, and a demo
genre predictor built on them.

The files in ``posterml/datasets/data/`` are made by ``python benchmarks/build_sample.py``
from the real posters. They hold no poster image or pixel: only PCA scores of CNN
embeddings, colour statistics, genre labels, titles and TMDb keywords.
"""

import functools
import json
import zipfile
import zlib
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.utils import Bunch

__all__ = ["load_sample", "predict_genres"]

DATA_DIR = Path(__file__).resolve().parent / "data"
FEATURES_FILE = "av_sample.npz"
MOVIES_FILE = "av_sample.csv.gz"
DATA_FILES = (FEATURES_FILE, MOVIES_FILE)
_BUILD_HINT = "python benchmarks/build_sample.py"
_SEP = "|"

_DESCR = """\
posterml's bundled sample of the Analytics Vidhya movie-poster set.

{n_movies} labelled movies, {n_genres} genres. Per movie: PCA scores of the poster's CNN
embedding, dominant-colour features, the genre labels, title, year and TMDb keywords.
The posters themselves are copyrighted artwork and are not included: only features derived
from them by posterml's own code (``python benchmarks/build_sample.py``).

Provenance:
"""
_PROVENANCE_LINES = (
    ("CNN model", "cnn_model"),
    ("weights package", "cnn_weights_package"),
    ("weights version", "cnn_weights_version"),
    ("preprocessing version", "cnn_preprocess_version"),
    ("CNN runtime", "cnn_backend"),
    ("embedding dimension", "cnn_embedding_dim"),
    ("PCA components", "pca_n_components"),
    ("PCA explained variance", "pca_explained_variance"),
    ("scores stored as", "scores_dtype"),
    ("colour features", "color_params"),
    ("posters skipped", "n_posters_skipped"),
    ("built on", "date"),
    ("posterml version", "posterml_version"),
    ("scikit-learn version", "sklearn_version"),
)


def _descr(provenance):
    counts = {key: provenance.get(key, "unknown") for key in ("n_movies", "n_genres")}
    lines = [_DESCR.format(**counts)]
    for label, key in _PROVENANCE_LINES:
        value = provenance.get(key, "unknown")
        if isinstance(value, float):
            value = f"{value:.4f}"
        lines.append(f"- {label}: {value}\n")
    return "".join(lines)


def _files(data_dir):
    folder = DATA_DIR if data_dir is None else Path(data_dir)
    paths = [folder / name for name in DATA_FILES]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"the bundled sample file(s) {', '.join(repr(m) for m in missing)} do not exist; "
            f"build them from the real data with `{_BUILD_HINT}`"
        )
    return paths


def _split(column):
    return [value.split(_SEP) if value else [] for value in column]


def _rebuild_pca(npz):
    """A fitted PCA equal (for transform / inverse_transform) to the one of the build."""
    components = npz["pca_components"]
    pca = PCA(n_components=components.shape[0], whiten=False, svd_solver="full")
    pca.components_ = components
    pca.mean_ = npz["pca_mean"]
    pca.explained_variance_ = npz["pca_explained_variance"]
    pca.explained_variance_ratio_ = npz["pca_explained_variance_ratio"]
    pca.singular_values_ = npz["pca_singular_values"]
    pca.noise_variance_ = float(npz["pca_noise_variance"])
    pca.n_samples_ = int(npz["pca_n_samples"])
    pca.n_components_ = components.shape[0]
    pca.n_features_in_ = components.shape[1]
    return pca


# What a damaged, truncated or foreign file raises inside numpy, zipfile, gzip or pandas.
_READ_ERRORS = (
    KeyError,
    ValueError,
    TypeError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    json.JSONDecodeError,
    UnicodeDecodeError,
)
_MOVIE_COLUMNS = ("imdb_id", "title", "year", "genres", "keywords")


def _damaged(path, exc):
    return ValueError(
        f"the sample file {str(path)!r} cannot be read ({type(exc).__name__}: {exc}); it is "
        f"damaged or not a posterml sample: rebuild it with `{_BUILD_HINT}`"
    )


def _read_features(path):
    try:
        with np.load(path, allow_pickle=False) as npz:
            genres = npz["genres"].tolist()
            features = {
                "genres": genres,
                "imdb_id": npz["imdb_id"],
                "Y": np.unpackbits(npz["Y_packed"], axis=1, count=len(genres)),
                "X_cnn": npz["X_cnn"].astype(np.float32),
                "color": npz["color"].astype(np.float32, copy=False),
                "color_names": npz["color_feature_names"].tolist(),
                "pca": _rebuild_pca(npz),
                "provenance": json.loads(str(npz["provenance"])),
            }
    except _READ_ERRORS as exc:
        raise _damaged(path, exc) from None
    if not isinstance(features["provenance"], dict):
        raise _damaged(path, TypeError("its provenance is not a JSON object"))
    n = len(features["imdb_id"])
    shapes = {
        name: features[name].shape
        for name in ("Y", "X_cnn", "color")
        if features[name].ndim != 2 or features[name].shape[0] != n
    }
    if features["color"].ndim == 2 and features["color"].shape[1] != len(features["color_names"]):
        shapes["color_feature_names"] = (len(features["color_names"]),)
    if shapes:
        raise ValueError(
            f"the sample file {str(path)!r} is inconsistent: {n} movies, but the arrays "
            f"{shapes} do not match; rebuild it with `{_BUILD_HINT}`"
        )
    return features


def _read_movies(path):
    try:
        text = pd.read_csv(
            path,
            dtype={"imdb_id": str, "title": str, "genres": str, "keywords": str},
            keep_default_na=False,  # a title such as "None" or "NA" is a title
            na_values={"title": [""], "year": [""]},
        )
        missing = [c for c in _MOVIE_COLUMNS if c not in text.columns]
        if missing:
            raise KeyError(f"columns {missing} missing (found {list(text.columns)})")
        year = text["year"].to_numpy(dtype=float)
    except _READ_ERRORS as exc:
        raise _damaged(path, exc) from None
    return text, year


def load_sample(*, return_X_y=False, as_frame=False, data_dir=None):
    """Load the bundled features of the labelled AV movies (no real data needed).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X_cnn, Y)`` instead of the Bunch.
    as_frame : bool, default=False
        Give ``X_cnn``, ``color`` and ``Y`` as DataFrames (columns ``feature_names``,
        ``color_feature_names`` and ``genres``) instead of arrays. ``frame`` is always a
        DataFrame.
    data_dir : str or path-like, optional
        Folder holding ``av_sample.npz`` and ``av_sample.csv.gz``; default: the package's
        ``datasets/data``.

    Returns
    -------
    sklearn.utils.Bunch
        ``frame``: DataFrame with ``imdb_id``, ``title`` (NaN when OMDb has none), ``year``
        (float, NaN when unknown), ``genres`` (list of str) and ``keywords`` (list of TMDb
        keyword names; empty without a TMDb keyword record);
        ``X_cnn``: float32 ``(n, n_components)`` PCA scores of the EfficientNet-Lite0
        poster embeddings (stored as float16: about 3 significant digits);
        ``color``: float32 dominant-colour features (``dominant_luma``, palette shares,
        dominant RGB);
        ``Y``: uint8 ``(n, n_genres)`` indicator matrix; ``genres``: its column names;
        ``pca``: the fitted :class:`~sklearn.decomposition.PCA` (so
        ``pca.transform(CNNEmbedder(backend="onnx").transform(paths))`` places new posters in
        the space of ``X_cnn``);
        ``feature_names`` (``pca0`` ...), ``color_feature_names``;
        ``provenance`` (dict: model, weights version, preprocessing version, date, skipped
        posters ...) and ``DESCR``.
    (X_cnn, Y) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If a data file is missing (the message names it and the command that builds it).
    ValueError
        If a file is damaged, truncated or not a sample file, its arrays disagree in
        length, or the two files do not belong together (the message names the file and
        the command that rebuilds it).

    Examples
    --------
    >>> from posterml.datasets._sample import load_sample
    >>> sample = load_sample()
    >>> sample.X_cnn.shape[0] == sample.Y.shape[0] == len(sample.frame)
    True
    >>> sample.Y.shape[1] == len(sample.genres)
    True
    """
    features_path, movies_path = _files(data_dir)
    features = _read_features(features_path)
    genres, imdb_ids, Y = features["genres"], features["imdb_id"], features["Y"]
    X_cnn, color, color_names = features["X_cnn"], features["color"], features["color_names"]
    pca, provenance = features["pca"], features["provenance"]
    text, year = _read_movies(movies_path)
    if text["imdb_id"].tolist() != imdb_ids.tolist():
        raise ValueError(
            f"{str(movies_path)!r} and {str(features_path)!r} list different movies; rebuild "
            f"both with `{_BUILD_HINT}`"
        )
    frame = pd.DataFrame(
        {
            "imdb_id": text["imdb_id"].to_numpy(dtype=object),
            "title": text["title"].to_numpy(dtype=object),
            "year": year,
            "genres": _split(text["genres"]),
            "keywords": _split(text["keywords"]),
        }
    )
    feature_names = pca.get_feature_names_out().tolist()
    if as_frame:
        X_cnn = pd.DataFrame(X_cnn, columns=feature_names)
        color = pd.DataFrame(color, columns=color_names)
        Y = pd.DataFrame(Y, columns=genres)
    if return_X_y:
        return X_cnn, Y
    return Bunch(
        frame=frame,
        X_cnn=X_cnn,
        color=color,
        Y=Y,
        genres=genres,
        pca=pca,
        feature_names=feature_names,
        color_feature_names=color_names,
        provenance=provenance,
        DESCR=_descr(provenance),
    )


# ---------------------------------------------------------------------- predictor


@functools.lru_cache(maxsize=1)
def _sample():
    return load_sample()


@functools.lru_cache(maxsize=4)
def _fitted_mlknn(k):
    from posterml.neighbors._mlknn import MLkNN

    sample = _sample()
    return MLkNN(k=k, compat="paper").fit(sample.X_cnn, sample.Y)


@functools.lru_cache(maxsize=2)
def _embedder(backend):
    from posterml.features._cnn import CNNEmbedder

    # One instance per backend: it keeps its network (or onnxruntime session) between calls.
    return CNNEmbedder(backend=backend, on_error="raise")


def _clear_cache():
    """Forget the loaded sample, the fitted models and the networks (after a rebuild)."""
    for cached in (_sample, _fitted_mlknn, _embedder):
        cached.cache_clear()


def _as_inputs(posters):
    if isinstance(posters, (str, bytes)) or hasattr(posters, "__fspath__"):
        return [posters]
    if isinstance(posters, np.ndarray) and posters.dtype != object:
        if posters.ndim == 2 or (posters.ndim == 3 and posters.shape[-1] in (3, 4)):
            return [posters]  # one image
        if posters.ndim == 1:
            return posters.tolist()
    return posters


def predict_genres(posters, *, top=3, k=10, backend="onnx"):
    """Top genres of new posters: CNN embedding, the sample's PCA, ML-kNN on the sample.

    Each poster is embedded by :class:`posterml.features.CNNEmbedder`, projected by the
    sample's PCA and classified by an :class:`posterml.neighbors.MLkNN` (``compat="paper"``)
    fitted on :func:`load_sample`'s ``X_cnn`` and ``Y``. The sample and the fitted model are
    kept in memory for later calls.

    Parameters
    ----------
    posters : path, image, or a list of them
        A poster file (str or path-like), a ``uint8`` RGB image ``(H, W, 3)``, a list of
        either, an ``(n, H, W, 3)`` stack, or a DataFrame with a ``poster_path`` column.
    top : int, default=3
        Genres returned per poster (at most the number of genres).
    k : int, default=10
        Neighbours of ML-kNN.
    backend : {"onnx", "torch"}, default="onnx"
        Backend of the CNN embedder.

    Returns
    -------
    list of list of (str, float)
        One list per poster, in input order: ``top`` distinct ``(genre, probability)``
        pairs, the ML-kNN posterior ``P(genre | neighbours)`` in [0, 1], sorted by decreasing
        probability (ties: the genre's column order). The probabilities of one poster do
        not sum to 1: each genre is a separate yes/no question.

    Raises
    ------
    posterml.io.PosterReadError
        If a poster file cannot be read (the message names it).
    FileNotFoundError
        If the sample files are missing.

    Examples
    --------
    >>> from posterml.datasets import make_posters
    >>> from posterml.datasets._sample import predict_genres
    >>> paths = make_posters(2).frame["poster_path"]
    >>> predictions = predict_genres(paths, top=2)  # doctest: +SKIP
    >>> [len(p) for p in predictions]  # doctest: +SKIP
    [2, 2]
    """
    from posterml.labels._top_k import top_k_genres

    sample = _sample()
    n_genres = len(sample.genres)
    if isinstance(top, bool) or not isinstance(top, Integral) or not 1 <= top <= n_genres:
        raise ValueError(f"top must be an int in [1, {n_genres}], got {top!r}")
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    inputs = _as_inputs(posters)
    embeddings = _embedder(backend).transform(inputs)
    proba = _fitted_mlknn(int(k)).predict_proba(sample.pca.transform(embeddings))
    return top_k_genres(proba, sample.genres, k=int(top))
