"""Dominant colour and its brightness: posters -> Low/Medium/High luma features."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from posterml.features._base import _input_kind, finish_transform, fit_input
from posterml.features._pixels import PixelFlattener
from posterml.io import PosterReader, _check_size, _ReportStateMixin

__all__ = ["DominantColorBrightness"]

# ITU-R BT.709 luma coefficients, applied to gamma-encoded R'G'B'.
BT709_LUMA = (0.2126, 0.7152, 0.0722)
LEVELS = ("low", "medium", "high")


def _sq_dist(channels, center):
    """Squared distances of every pixel to one centre per poster.

    ``channels`` are three ``(B, P)`` arrays, ``center`` is ``(B, 3)``. Element-wise only
    (no reductions whose order depends on the batch), so a poster's result does not depend
    on the other posters in the batch.
    """
    out = channels[0] - center[:, 0, None]
    np.multiply(out, out, out=out)
    for c in (1, 2):
        tmp = channels[c] - center[:, c, None]
        np.multiply(tmp, tmp, out=tmp)
        out += tmp
    return out


def _assign(channels, centers):
    """Index of the nearest centre of every pixel, ``(B, P)`` uint8.

    The centre index is packed into the low bits of the (non-negative) float32 squared
    distance viewed as int32, whose integer order is the float order: one ``minimum`` per
    centre gives distance and index together (2-3x faster than compare-and-select). Distances
    equal to within those dropped bits (3 of float32's 23 for 5 colours) go to the lower index,
    as exact ties do.
    """
    n_colors = centers.shape[1]
    n_bits = max(1, (n_colors - 1).bit_length())
    keep = np.int32(~((1 << n_bits) - 1))
    best = None
    for k in range(n_colors):
        packed = _sq_dist(channels, centers[:, k]).view(np.int32)
        packed &= keep
        packed |= np.int32(k)
        if best is None:
            best = packed
        else:
            np.minimum(best, packed, out=best)
    best &= np.int32((1 << n_bits) - 1)
    return best.astype(np.uint8)


def _update(channels, labels, centers):
    """Cluster means and sizes; an empty cluster keeps its centre (and size 0)."""
    n_posters, n_pixels = labels.shape
    n_colors = centers.shape[1]
    flat = labels.astype(np.intp)
    flat += (np.arange(n_posters, dtype=np.intp) * n_colors)[:, None]
    flat = flat.ravel()
    size = n_posters * n_colors
    counts = np.bincount(flat, minlength=size).reshape(n_posters, n_colors)
    new = centers.copy()
    filled = counts > 0
    for c in range(3):
        # bincount adds in pixel order, whatever the batch: batch-independent sums.
        sums = np.bincount(flat, weights=channels[c].ravel(), minlength=size)
        sums = sums.reshape(n_posters, n_colors)
        new[:, :, c][filled] = (sums[filled] / counts[filled]).astype(np.float32)
    return new, counts


def _kmeans_pp_init(pixels, channels, draws):
    """k-means++ seeding (D^2 sampling) driven by the same uniforms for every poster."""
    n_posters, n_pixels, _ = pixels.shape
    n_colors = len(draws)
    rows = np.arange(n_posters)
    centers = np.empty((n_posters, n_colors, 3), dtype=np.float32)
    first = min(int(draws[0] * n_pixels), n_pixels - 1)
    centers[:, 0] = pixels[:, first]
    closest = _sq_dist(channels, centers[:, 0])
    for k in range(1, n_colors):
        cum = np.cumsum(closest, axis=1, dtype=np.float64)
        target = draws[k] * cum[:, -1]
        # First pixel whose cumulative D^2 passes the target: never a pixel already at
        # distance 0 unless every pixel is (then the centre is a duplicate, left empty).
        index = np.minimum((cum <= target[:, None]).sum(axis=1), n_pixels - 1)
        centers[:, k] = pixels[rows, index]
        np.minimum(closest, _sq_dist(channels, centers[:, k]), out=closest)
    return centers


def batched_kmeans(pixels, draws, max_iter):
    """Lloyd's k-means run separately on every poster of a batch, vectorised over posters.

    Parameters
    ----------
    pixels : ndarray of float32, shape (B, P, 3)
    draws : ndarray of float, shape (n_colors,)
        Uniforms in [0, 1) driving the k-means++ seeding (the same for every poster).
    max_iter : int
        Lloyd iterations at most; a poster stops as soon as no pixel changes cluster.

    Returns
    -------
    centers : ndarray of float32, shape (B, n_colors, 3)
    counts : ndarray of int64, shape (B, n_colors)
        Pixels per cluster, consistent with ``centers`` (each centre is the mean of its
        counted pixels; an empty cluster has count 0).
    """
    n_posters = len(pixels)
    n_colors = len(draws)
    channels = [np.ascontiguousarray(pixels[:, :, c]) for c in range(3)]
    centers = _kmeans_pp_init(pixels, channels, draws)
    labels = _assign(channels, centers)
    counts = np.zeros((n_posters, n_colors), dtype=np.int64)
    active = np.arange(n_posters)
    sub_channels, sub_labels, sub_centers = channels, labels, centers
    for _ in range(max_iter):
        new_centers, new_counts = _update(sub_channels, sub_labels, sub_centers)
        new_labels = _assign(sub_channels, new_centers)
        centers[active] = new_centers
        counts[active] = new_counts
        # A poster whose labels did not change is at a fixed point: freezing it gives what
        # more iterations would, so the result does not depend on its batch neighbours.
        moved = (new_labels != sub_labels).any(axis=1)
        if not moved.any():
            break
        active = active[moved]
        sub_channels = [c[moved] for c in sub_channels]
        sub_labels = new_labels[moved]
        sub_centers = new_centers[moved]
    return centers, counts


class DominantColorBrightness(_ReportStateMixin, TransformerMixin, BaseEstimator):
    """Brightness (Low/Medium/High) of each poster's dominant colour, by k-means.

    For every poster: downsample to ``sample_size``, cluster its pixels into ``n_colors``
    colours with k-means, take the largest cluster as the dominant colour, compute the
    BT.709 luma of its centre and bin it into Low / Medium / High.

    Parameters
    ----------
    n_colors : int, default=5
        Number of k-means clusters per poster.
    sample_size : (int, int), default=(32, 48)
        ``(width, height)`` each poster is area-downsampled to before clustering
        (1,536 pixels, the 2:3 poster aspect ratio). Paths are read directly at this size.
    output : {"onehot", "ordinal", "continuous"}, default="onehot"
        ``"onehot"``: three 0/1 columns ``brightness_low``, ``brightness_medium``,
        ``brightness_high``; ``"ordinal"``: one column ``brightness_level`` with 0, 1, 2;
        ``"continuous"``: one column ``dominant_luma`` with the luma itself.
    thresholds : (float, float), default=(1/3, 2/3)
        Luma cut points ``(t_low, t_high)``: Low if ``Y' < t_low``, Medium if
        ``t_low <= Y' < t_high``, High if ``Y' >= t_high``. The default splits the luma
        range in equal thirds (seed 004's own cut points are not recorded in the project).
    palette : bool, default=False
        Append the cluster proportions sorted in decreasing order (``palette_share0`` is the
        dominant colour's share, then ``palette_share1``, ...; empty clusters give 0).
    dominant_rgb : bool, default=False
        Append the dominant colour itself, ``dominant_r``, ``dominant_g``, ``dominant_b``
        in [0, 1].
    kmeans_max_iter : int, default=30
        Lloyd iterations at most per poster; each poster stops early once no pixel changes
        cluster. (Not ``max_iter``: scikit-learn ties that name to an ``n_iter_`` set by
        ``fit``, and here the clustering happens in ``transform``.)
    random_state : int, RandomState instance or None, default=0
        Seeds the k-means++ initialisation. The uniforms are drawn once in :meth:`fit`
        and used for every poster, so a fitted transformer is deterministic and a poster's
        features do not depend on the other posters in the batch.
    input_shape : (int, int) or (int, int, int), optional
        ``(H, W)`` or ``(H, W, C)`` (C in {1, 3}) of the images inside 2-D row input:
        rows are reshaped to it and downsampled to ``sample_size``. ``None``: each row is a
        bag of pixels, taken as RGB triples in the ``r, g, b, r, g, b, ...`` order of
        :class:`PixelFlattener` when its length is a multiple of 3, else as grey values;
        rows are not resampled.
    max_value : float, default=255.0
        Full-scale channel value of array and row input (``1.0`` for rows made by
        ``PixelFlattener(scale=True)``). Paths are decoded to 0-255 and always divided by
        255.
    on_error : {"raise", "skip"}, default="raise"
        For path input: what to do with unreadable files, as in
        :class:`posterml.io.PosterReader`.
    batch_size : int, default=256
        Posters clustered together in one vectorised k-means.
    n_jobs : int, optional
        Threads for reading paths and for clustering batches (``None``: this thread only;
        ``-1``: all cores).
    verbose : int, default=0
        Progress bar while reading paths.

    Attributes
    ----------
    input_kind_ : {"paths", "images", "rows"}
        What :meth:`fit` was given.
    init_draws_ : ndarray of float, shape (n_colors,)
        The uniforms that drive every poster's k-means++ seeding.
    n_features_in_ : int
        Number of columns of 2-D row input (only when fitted on rows).
    feature_names_in_ : ndarray of str
        Column names of a row DataFrame (only when fitted on one with string names).
    valid_mask_ : ndarray of bool
        After transforming paths or images: which inputs produced a row.
    skipped_ : DataFrame
        After transforming paths or images: unreadable inputs (``index``, ``path``,
        ``reason``).

    Notes
    -----
    **Luma, not luminance.** ``Y' = 0.2126 R' + 0.7152 G' + 0.0722 B'`` (ITU-R BT.709
    coefficients) is computed on the gamma-encoded sRGB values scaled to [0, 1], as stored
    in the file; the result is *luma*, not the relative luminance ``Y`` of colorimetry
    (which would first linearise each channel). The cluster centres are also means of
    gamma-encoded values. Pure white gives 1.0, black 0.0, sRGB mid-grey (128, 128, 128)
    0.502.

    **Algorithm.** k-means runs on all the posters of a batch at once (a ``(B, P, 3)``
    float32 array, numpy only): k-means++ seeding, then Lloyd iterations, each poster
    frozen as soon as its assignment stops changing. Distances and sums are computed per
    poster, so the result of a poster is the same in any batch and any order. Seeding uses
    D^2 sampling with shared uniforms; a poster with fewer distinct colours than
    ``n_colors`` gets duplicate centres that stay empty (share 0), so a flat two-colour
    poster gives exactly its two proportions.

    **Dominant colour.** The largest cluster; ties go to the darker cluster (lower luma),
    then to the lower cluster index.

    Accepted inputs, as for :class:`PixelFlattener`: paths (list, 1-D array, Series, or
    DataFrame with a ``poster_path`` column), images (an ``(n, H, W, 3)`` or ``(n, H, W)``
    stack, or a list of images of any sizes), or a 2-D numeric matrix of rows (see
    ``input_shape``; the path that passes scikit-learn's estimator checks).

    Examples
    --------
    >>> import numpy as np
    >>> from posterml.features._color import DominantColorBrightness
    >>> posters = np.zeros((2, 48, 32, 3), dtype=np.uint8)
    >>> posters[0, :34] = 255          # mostly white
    >>> posters[1] = 128               # mid-grey
    >>> DominantColorBrightness().fit_transform(posters).tolist()
    [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    >>> est = DominantColorBrightness(output="continuous", palette=True, n_colors=2)
    >>> est.fit_transform(posters).astype(float).round(3).tolist()
    [[1.0, 0.708, 0.292], [0.502, 1.0, 0.0]]
    >>> est.get_feature_names_out().tolist()
    ['dominant_luma', 'palette_share0', 'palette_share1']
    """

    _parameter_constraints = {
        "n_colors": [Interval(Integral, 1, 256, closed="both")],
        "sample_size": [tuple, list],
        "output": [StrOptions({"onehot", "ordinal", "continuous"})],
        "thresholds": [tuple, list],
        "palette": ["boolean"],
        "dominant_rgb": ["boolean"],
        "kmeans_max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "input_shape": [None, tuple, list],
        "max_value": [Interval(Real, 0, None, closed="neither")],
        "on_error": [StrOptions({"raise", "skip"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_colors=5,
        *,
        sample_size=(32, 48),
        output="onehot",
        thresholds=(1 / 3, 2 / 3),
        palette=False,
        dominant_rgb=False,
        kmeans_max_iter=30,
        random_state=0,
        input_shape=None,
        max_value=255.0,
        on_error="raise",
        batch_size=256,
        n_jobs=None,
        verbose=0,
    ):
        self.n_colors = n_colors
        self.sample_size = sample_size
        self.output = output
        self.thresholds = thresholds
        self.palette = palette
        self.dominant_rgb = dominant_rgb
        self.kmeans_max_iter = kmeans_max_iter
        self.random_state = random_state
        self.input_shape = input_shape
        self.max_value = max_value
        self.on_error = on_error
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ helpers

    def _checked_params(self):
        size = _check_size(self.sample_size, "sample_size")
        thresholds = self.thresholds
        valid = len(thresholds) == 2 and all(
            isinstance(t, Real) and not isinstance(t, bool) and np.isfinite(t) for t in thresholds
        )
        if not valid or thresholds[0] > thresholds[1]:
            raise ValueError(
                "thresholds must be two finite numbers (t_low, t_high) with t_low <= t_high, "
                f"got {thresholds!r}"
            )
        # PixelFlattener validates input_shape the same way; reuse its check.
        _, shape, _ = PixelFlattener(size=size, input_shape=self.input_shape)._checked_params()
        return size, (float(thresholds[0]), float(thresholds[1])), shape

    def _pixels_from_rows(self, X, size, shape):
        if shape is not None:
            if X.shape[1] != int(np.prod(shape)):
                raise ValueError(
                    f"X has {X.shape[1]} features, but input_shape={self.input_shape} needs "
                    f"{int(np.prod(shape))}"
                )
            flat = PixelFlattener(size=size, scale=False)._flatten_images(
                X.reshape((-1, *shape)), size, np.float32
            )
            return flat.reshape(len(X), flat.shape[1] // 3, 3)
        with np.errstate(over="ignore"):  # overflow becomes inf, refused in _features
            X = X.astype(np.float32)
        if X.shape[1] % 3 == 0:
            return X.reshape(len(X), X.shape[1] // 3, 3)
        return np.repeat(X[:, :, np.newaxis], 3, axis=2)

    def _features(self, pixels, scale, thresholds):
        """``(B, P, 3)`` pixels (0..scale) -> the output matrix."""
        if pixels.dtype.kind == "f" and not np.isfinite(pixels).all():
            raise ValueError(
                "posters contain NaN or infinite values (or values beyond the float32 range)"
            )
        n_posters = len(pixels)
        draws = self.init_draws_
        n_colors = len(draws)
        centers = np.empty((n_posters, n_colors, 3), dtype=np.float32)
        counts = np.empty((n_posters, n_colors), dtype=np.int64)
        starts = range(0, n_posters, self.batch_size)

        def run(start):
            chunk = pixels[start : start + self.batch_size].astype(np.float32)
            chunk /= np.float32(scale)
            return batched_kmeans(chunk, draws, self.kmeans_max_iter)

        if self.n_jobs is not None and len(starts) > 1:
            from joblib import Parallel, delayed

            # Threads: numpy's element-wise loops release the GIL.
            results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(run)(start) for start in starts
            )
        else:
            results = map(run, starts)
        for start, (c, n) in zip(starts, results):
            centers[start : start + len(c)] = c
            counts[start : start + len(n)] = n

        luma = centers.astype(np.float64) @ np.asarray(BT709_LUMA)
        # Largest count first, then lower luma, then lower cluster index.
        order = np.lexsort((np.broadcast_to(np.arange(n_colors), counts.shape), luma, -counts))
        dominant = order[:, 0]
        rows = np.arange(n_posters)
        dominant_luma = luma[rows, dominant]
        t_low, t_high = thresholds
        level = (dominant_luma >= t_low).astype(np.int64) + (dominant_luma >= t_high)

        columns = []
        if self.output == "onehot":
            columns.append(np.eye(3, dtype=np.float32)[level])
        elif self.output == "ordinal":
            columns.append(level[:, None])
        else:
            columns.append(dominant_luma[:, None])
        if self.palette:
            n_pixels = pixels.shape[1]
            columns.append(-np.sort(-counts, axis=1) / n_pixels)
        if self.dominant_rgb:
            columns.append(centers[rows, dominant])
        if not columns[0].size:
            return np.empty((0, self._n_features_out()), dtype=np.float32)
        return np.hstack([np.asarray(c, dtype=np.float32) for c in columns])

    def _n_features_out(self):
        n = 3 if self.output == "onehot" else 1
        return n + (self.n_colors if self.palette else 0) + (3 if self.dominant_rgb else 0)

    # ------------------------------------------------------------------ API

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters, draw the k-means++ uniforms, record the input kind.

        Parameters
        ----------
        X : paths, image stack or list, or 2-D numeric matrix
            See the class notes.
        y : ignored

        Returns
        -------
        self : DominantColorBrightness
        """
        _, _, shape = self._checked_params()
        kind = _input_kind(X)
        fit_input(self, X, kind, shape)
        self.init_draws_ = check_random_state(self.random_state).random_sample(self.n_colors)
        self.input_kind_ = kind
        return self

    def transform(self, X):
        """Dominant-colour brightness of every poster in ``X``.

        Parameters
        ----------
        X : paths, image stack or list, or 2-D numeric matrix
            See the class notes.

        Returns
        -------
        ndarray of float32, shape (n_rows, n_features_out)
            Columns as named by :meth:`get_feature_names_out`. With ``on_error="skip"``
            on paths, rows for unreadable files are left out (see ``valid_mask_``).
        """
        check_is_fitted(self)
        size, thresholds, shape = self._checked_params()
        n_pixels = size[0] * size[1]
        if len(self.init_draws_) != self.n_colors:
            raise ValueError(
                f"n_colors={self.n_colors} changed since fit ({len(self.init_draws_)}); refit"
            )
        kind = _input_kind(X)
        skipped = None
        if kind == "paths":
            reader = PosterReader(
                size=size, on_error=self.on_error, n_jobs=self.n_jobs, verbose=self.verbose
            )
            images, valid, skipped = reader.read_with_report(X)
            out = self._features(images.reshape(len(images), n_pixels, 3), 255.0, thresholds)
        elif kind == "images":
            flattener = PixelFlattener(size=size, scale=False)
            flat = flattener._flatten_images(flattener._image_list(X), size, np.float32)
            pixels = flat.reshape(len(flat), n_pixels, 3)
            out = self._features(pixels, self.max_value, thresholds)
            valid = np.ones(len(out), dtype=bool)
        else:
            X = validate_data(self, X, reset=False, dtype="numeric")
            pixels = self._pixels_from_rows(X, size, shape)
            out = self._features(pixels, self.max_value, thresholds)
            valid = np.ones(len(out), dtype=bool)
        return finish_transform(self, X, out, kind, valid, skipped)

    def get_feature_names_out(self, input_features=None):
        """Output feature names.

        Parameters
        ----------
        input_features : array-like of str, optional
            Only for row input: checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
            ``brightness_low, brightness_medium, brightness_high`` (onehot),
            ``brightness_level`` (ordinal) or ``dominant_luma`` (continuous); then
            ``palette_share0 ...`` with ``palette=True`` and ``dominant_r, dominant_g,
            dominant_b`` with ``dominant_rgb=True``.
        """
        check_is_fitted(self)
        if self.input_kind_ == "rows":
            _check_feature_names_in(self, input_features, generate_names=False)
        if self.output == "onehot":
            names = [f"brightness_{level}" for level in LEVELS]
        elif self.output == "ordinal":
            names = ["brightness_level"]
        else:
            names = ["dominant_luma"]
        if self.palette:
            names += [f"palette_share{i}" for i in range(self.n_colors)]
        if self.dominant_rgb:
            names += ["dominant_r", "dominant_g", "dominant_b"]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
