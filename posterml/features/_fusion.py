"""Feature fusion: poster, keyword and metadata blocks of a movies frame -> one weighted matrix.

A kNN distance adds up squared differences over all columns, so a block of 12,288 pixels
would drown a block of 40 keywords merely by its width. Each block here is standardised
(:class:`~sklearn.preprocessing.StandardScaler`) and then rescaled as a whole by
:class:`BlockWeighter` so that its total variance on the training rows equals its weight:
by default every block contributes the same share to the mean squared distance.
"""

from numbers import Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import check_is_fitted, validate_data

from posterml.features._cnn import CNNEmbedder
from posterml.features._color import DominantColorBrightness
from posterml.features._keywords import KeywordBagOfWords
from posterml.features._metadata import _CATEGORICAL_FIELDS, _NUMERIC_FIELDS, MovieMetadata
from posterml.features._pixels import PixelFlattener
from posterml.neighbors import MLkNN

__all__ = ["BlockWeighter", "make_fusion_features", "make_fusion_pipeline", "poster_block"]

POSTER_BLOCKS = ("pixels", "color", "cnn")
# Name of the ColumnTransformer step and of the estimator step in make_fusion_pipeline.
FEATURES_STEP = "features"
MODEL_STEP = "model"


def poster_block(name):
    """The default poster feature extractor of a fusion block.

    Parameters
    ----------
    name : {"pixels", "color", "cnn"}
        - ``"pixels"``: ``PixelFlattener(size=(64, 64))``, 12,288 columns (seed 000's);
        - ``"color"``: ``DominantColorBrightness(output="continuous", palette=True,
          dominant_rgb=True)``, 9 columns: the dominant colour's luma, the five palette
          shares and the dominant RGB. The seed's Low/Medium/High one-hot alone has only three
          distinct rows, which leaves a kNN search almost nothing but ties;
        - ``"cnn"``: ``CNNEmbedder(cache=True)``, 1,280 columns; the embedding cache makes
          refits (cross-validation, grid searches) read instead of recompute.

    Returns
    -------
    transformer
        A new, unfitted transformer that takes poster paths.

    Examples
    --------
    >>> from posterml.features._fusion import poster_block
    >>> poster_block("pixels")
    PixelFlattener()
    """
    if name == "pixels":
        return PixelFlattener(size=(64, 64))
    if name == "color":
        return DominantColorBrightness(output="continuous", palette=True, dominant_rgb=True)
    if name == "cnn":
        return CNNEmbedder(cache=True)
    raise ValueError(f"unknown poster block {name!r}; expected one of {list(POSTER_BLOCKS)}")


class BlockWeighter(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Rescale a block of features so that its total variance on the training data is ``weight``.

    Every column is multiplied by the same factor ``sqrt(weight / total_variance)``, where
    ``total_variance`` is the sum of the column variances seen in :meth:`fit`. The mean
    squared Euclidean distance between two training rows (over all ordered pairs, a row with
    itself included) is twice the total variance, so after this step a block adds
    ``2 * weight`` to it on average, whatever its width. Within the block the relative scale
    of the columns is kept: put a :class:`~sklearn.preprocessing.StandardScaler` in front to
    weigh the columns equally first.

    Parameters
    ----------
    weight : float, default=1.0
        Total variance of the output on the training data (>= 0; 0 switches the block off).

    Attributes
    ----------
    total_variance_ : float
        Sum of the column variances (``ddof=0``) of the training data.
    scale_ : float
        The factor applied: ``sqrt(weight / total_variance_)``, or 0 for a block that is
        constant on the training data (it holds no information on distances there).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml.features._fusion import BlockWeighter
    >>> X = np.array([[0.0, 0.0], [2.0, 4.0]])
    >>> weighter = BlockWeighter(weight=2.0).fit(X)
    >>> weighter.total_variance_, round(float(weighter.scale_), 4)
    (5.0, 0.6325)
    >>> float(weighter.transform(X).var(axis=0).sum())
    2.0
    """

    _parameter_constraints = {"weight": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, weight=1.0):
        self.weight = weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Measure the total variance of ``X``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : BlockWeighter
        """
        X = validate_data(
            self, X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32), reset=True
        )
        if sparse.issparse(X):
            _, variances = mean_variance_axis(X, axis=0)
        else:
            variances = X.var(axis=0, dtype=np.float64)
        total = float(np.sum(variances))
        self.total_variance_ = total
        self.scale_ = float(np.sqrt(self.weight / total)) if total > 0 else 0.0
        return self

    def transform(self, X):
        """Multiply ``X`` by ``scale_``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray or sparse matrix of shape (n_samples, n_features), same dtype
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32), reset=False
        )
        return X * X.dtype.type(self.scale_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _metadata_columns(meta):
    """The frame columns a MovieMetadata reads (its field parameters that are not None)."""
    fields = (*_NUMERIC_FIELDS, *_CATEGORICAL_FIELDS)
    return [getattr(meta, f) for f in fields if getattr(meta, f) is not None]


def _check_block_name(name, taken):
    if not isinstance(name, str) or not name or "__" in name:
        raise ValueError(
            f"block names must be non-empty strings without '__' (they name pipeline "
            f"parameters), got {name!r}"
        )
    if name in taken:
        raise ValueError(f"block name {name!r} is used twice")
    taken.add(name)


def _check_rows_kept(name, transformer):
    # A skipped poster would leave one block a row short of the others.
    if getattr(transformer, "on_error", None) == "skip":
        raise ValueError(
            f"block {name!r}: on_error='skip' drops rows, which cannot be aligned with the "
            "other blocks; use on_error='raise' and remove unreadable posters from the frame "
            "first (e.g. with PosterReader(on_error='skip').read_with_report)"
        )


def _poster_blocks(poster):
    """``poster`` as a list of (name, transformer)."""
    if poster is None or poster is False:
        return []
    if isinstance(poster, str):
        poster = (poster,)
    if isinstance(poster, dict):
        items = list(poster.items())
    else:
        items = [(name, None) for name in poster]
    blocks = []
    for name, transformer in items:
        if transformer is None:
            transformer = poster_block(name)
        elif not hasattr(transformer, "transform"):
            raise TypeError(
                f"poster block {name!r}: expected a transformer or None, got {transformer!r}"
            )
        blocks.append((name, transformer))
    return blocks


def _optional_block(value, kind, default, name):
    """``True`` -> a new default; ``False``/None -> None; an instance of ``kind`` as given."""
    if value is True:
        return default()
    if value is False or value is None:
        return None
    if not isinstance(value, kind):
        raise TypeError(
            f"{name} must be a bool or a {kind.__name__} instance, got {type(value).__name__}"
        )
    return value


def make_fusion_features(
    *,
    poster=("cnn",),
    keywords=True,
    metadata=True,
    precomputed=None,
    weights=None,
    standardize=True,
    poster_column="poster_path",
    keywords_column="keywords",
    n_jobs=None,
    verbose=False,
):
    """The ColumnTransformer that turns a movies frame into one block-weighted feature matrix.

    Every block is a small pipeline ``extract -> [impute] -> standardize -> block``:

    - poster blocks read the ``poster_column`` paths: ``"pixels"``, ``"color"``, ``"cnn"``
      (see :func:`poster_block` for the defaults) or any poster transformer of your own;
    - ``keywords``: :class:`KeywordBagOfWords` on ``keywords_column``;
    - ``metadata``: :class:`MovieMetadata` on the OMDb columns it names (``year``,
      ``runtime``, ``imdb_rating``, ``imdb_votes``, ``box_office``, ``metascore``,
      ``rated``, ``language``, ``country``), then ``SimpleImputer(strategy="median")`` for
      the missing numbers (the missing-indicator columns keep the fact that they were
      missing);
    - ``precomputed``: numeric columns already in the frame, e.g. stored embeddings.

    ``standardize`` scales every column to unit variance; :class:`BlockWeighter` then scales
    each block as a whole so that its total variance on the training rows is its weight.
    Every block therefore adds ``2 * weight`` to the mean squared distance between two
    training movies, however many columns it has: with the default weights of 1, 12,288
    pixels, 1,280 CNN dimensions and 40 keywords each account for an equal share.

    Parameters
    ----------
    poster : str, sequence of str, dict or None, default=("cnn",)
        Poster blocks: names among ``"pixels"``, ``"color"``, ``"cnn"`` (default
        extractors), or a dict block name -> transformer taking poster paths (None: the
        default of that name), e.g. ``{"cnn": CNNEmbedder(backend="onnx", cache=True)}``.
        None or ``()``: no poster block.
    keywords : bool or KeywordBagOfWords, default=True
        ``True``: ``KeywordBagOfWords()`` (the 40 most frequent keyword words).
    metadata : bool or MovieMetadata, default=True
        ``True``: ``MovieMetadata(log_counts=True)``: vote counts and box office are
        heavy-tailed, and on a linear scale a few blockbusters would hold most of the block's
        variance.
    precomputed : dict of str to list of str, optional
        Extra blocks of numeric frame columns: block name -> column names. A column that holds
        one vector per row must first be expanded into columns.
    weights : dict of str to float, optional
        Block name -> weight (total variance of the block, >= 0); blocks not named get 1.
    standardize : bool, default=True
        Standardise every column before the block weighting. ``False`` keeps the relative
        scale of the columns inside each block (e.g. raw 0/1 keywords, where standardising
        gives a rare word a larger distance than a common one).
    poster_column, keywords_column : str, default="poster_path", "keywords"
        Columns of the loaders' frames that hold the poster paths and the keyword lists.
    n_jobs : int, optional
        Blocks computed in parallel by the ColumnTransformer.
    verbose : bool, default=False
        Passed to the ColumnTransformer (time per block).

    Returns
    -------
    ColumnTransformer
        Named blocks in the order poster blocks, ``"keywords"``, ``"metadata"``,
        precomputed blocks; output names ``<block>__<feature>`` (``cnn__cnn_0000``,
        ``keywords__kw_love``, ``metadata__runtime``). Always a dense array. Block ``b``'s
        weight is the parameter ``b__block__weight``.

    Raises
    ------
    ValueError
        For no block at all, a weight for an unknown block, a repeated block name, or a
        poster transformer with ``on_error="skip"`` (its dropped rows could not be aligned
        with the other blocks).

    See Also
    --------
    make_fusion_pipeline : The same features in front of an estimator.

    Examples
    --------
    >>> import tempfile
    >>> from posterml.datasets import make_posters
    >>> from posterml.features._fusion import make_fusion_features
    >>> data = make_posters(30, tempfile.mkdtemp(), size=(32, 48))
    >>> features = make_fusion_features(poster=["color"], weights={"color": 2.0})
    >>> X = features.fit_transform(data.frame)
    >>> list(features.output_indices_)[:3]
    ['color', 'keywords', 'metadata']
    >>> round(float(X[:, features.output_indices_["color"]].var(axis=0).sum()), 4)
    2.0
    """
    taken = set()
    blocks = []  # (name, steps, columns)
    for name, transformer in _poster_blocks(poster):
        _check_block_name(name, taken)
        _check_rows_kept(name, transformer)
        blocks.append((name, [("extract", transformer)], poster_column))
    bag = _optional_block(keywords, KeywordBagOfWords, KeywordBagOfWords, "keywords")
    if bag is not None:
        _check_block_name("keywords", taken)
        if bag.sparse_output and standardize:
            raise ValueError(
                "keywords: sparse_output=True cannot be standardised (centring makes it "
                "dense); use a dense KeywordBagOfWords or standardize=False"
            )
        blocks.append(("keywords", [("extract", bag)], keywords_column))
    meta = _optional_block(
        metadata, MovieMetadata, lambda: MovieMetadata(log_counts=True), "metadata"
    )
    if meta is not None:
        _check_block_name("metadata", taken)
        columns = _metadata_columns(meta)
        if not columns:
            raise ValueError("metadata: the MovieMetadata reads no column (every field is None)")
        steps = [("extract", meta), ("impute", SimpleImputer(strategy="median"))]
        blocks.append(("metadata", steps, columns))
    for name, columns in (precomputed or {}).items():
        _check_block_name(name, taken)
        columns = [columns] if isinstance(columns, str) else list(columns)
        if not columns:
            raise ValueError(f"precomputed block {name!r} names no column")
        blocks.append((name, [], columns))
    if not blocks:
        raise ValueError("no feature block: give at least one of poster, keywords, metadata")

    weights = dict(weights or {})
    unknown = sorted(set(weights) - taken)
    if unknown:
        raise ValueError(f"weights name unknown block(s) {unknown}; blocks: {sorted(taken)}")
    transformers = []
    for name, steps, columns in blocks:
        steps = list(steps)
        if standardize:
            steps.append(("standardize", StandardScaler()))
        steps.append(("block", BlockWeighter(weight=weights.get(name, 1.0))))
        transformers.append((name, Pipeline(steps), columns))
    return ColumnTransformer(
        transformers,
        remainder="drop",
        sparse_threshold=0.0,
        n_jobs=n_jobs,
        verbose=verbose,
        verbose_feature_names_out=True,
    )


def make_fusion_pipeline(
    estimator=None,
    *,
    poster=("cnn",),
    keywords=True,
    metadata=True,
    precomputed=None,
    weights=None,
    standardize=True,
    poster_column="poster_path",
    keywords_column="keywords",
    n_jobs=None,
    memory=None,
    verbose=False,
):
    """Poster, keyword and metadata features of a movies frame, fused, in front of an estimator.

    ``Pipeline([("features", make_fusion_features(...)), ("model", estimator)])``: fit it on
    the frame a loader returns (:func:`~posterml.datasets.load_av_posters`,
    :func:`~posterml.datasets.make_posters` ...) and its genre matrix ``Y``. Every block is
    standardised and weighted so that it adds the same share (its weight) to a kNN's squared
    distances, whatever its width; see :func:`make_fusion_features`.

    Parameters
    ----------
    estimator : estimator, optional
        Default ``MLkNN(k=10)``. Its parameters are ``model__<name>`` in the pipeline (e.g.
        ``GridSearchCV(pipe, {"model__k": [5, 10, 20]})``).
    poster, keywords, metadata, precomputed, weights, standardize, poster_column, \
keywords_column, n_jobs, verbose
        As in :func:`make_fusion_features` (``verbose`` also goes to the Pipeline).
    memory : str, joblib.Memory or None
        Pipeline cache of the fitted feature step (worth it when grid-searching only the
        estimator's parameters over expensive blocks).

    Returns
    -------
    Pipeline
        Steps ``"features"`` (the ColumnTransformer) and ``"model"``.

    Examples
    --------
    >>> import tempfile
    >>> from posterml.datasets import make_posters
    >>> from posterml.features._fusion import make_fusion_pipeline
    >>> data = make_posters(40, tempfile.mkdtemp(), size=(32, 48))
    >>> pipe = make_fusion_pipeline(poster=["color"]).fit(data.frame, data.Y)
    >>> pipe.predict(data.frame.head(3)).shape
    (3, 6)
    """
    if estimator is None:
        estimator = MLkNN(k=10)
    features = make_fusion_features(
        poster=poster,
        keywords=keywords,
        metadata=metadata,
        precomputed=precomputed,
        weights=weights,
        standardize=standardize,
        poster_column=poster_column,
        keywords_column=keywords_column,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    return Pipeline(
        [(FEATURES_STEP, features), (MODEL_STEP, estimator)], memory=memory, verbose=verbose
    )
