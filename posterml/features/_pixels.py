"""Raw pixels as features: posters (paths or arrays) -> flat float rows."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from posterml.features._base import (
    _input_kind,
    check_float_dtype,
    check_image_shape,
    finish_transform,
    fit_input,
)
from posterml.io import PosterReader, _check_size, _ReportStateMixin, _resize

__all__ = ["PixelFlattener"]

_RGB_CHANNELS = ("r", "g", "b")
_GRAY_CHANNELS = ("gray",)


def _rgb_to_gray(image):
    """ITU-R 601-2 luma; bit-exact with Pillow's ``convert("L")`` for uint8."""
    if image.dtype == np.uint8:
        rgb = image.astype(np.uint32)
        gray = rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000
        return (gray >> 16).astype(np.uint8)
    return image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


class PixelFlattener(_ReportStateMixin, TransformerMixin, BaseEstimator):
    """Flatten poster pixels into float rows (HWC order), scaled to [0, 1].

    Parameters
    ----------
    size : (int, int), default=(64, 64)
        ``(width, height)`` every image is brought to before flattening.
    scale : bool, default=True
        Divide pixel values by 255. Inputs are taken to hold 0-255 values, whatever their
        dtype.
    grayscale : bool, default=False
        One luma channel (ITU-R 601-2, as Pillow's ``convert("L")``) instead of RGB.
    input_shape : (int, int) or (int, int, int), optional
        ``(H, W)`` or ``(H, W, C)`` (numpy order, C in {1, 3}) of the images inside 2-D
        row input: rows are reshaped to it, resized to ``size`` and flattened. ``None``:
        2-D rows are taken as already flattened at the target size and are only scaled and
        cast (``size`` and ``grayscale`` do not apply to them).
    on_error : {"raise", "skip"}, default="raise"
        For path input: what to do with unreadable files, as in
        :class:`posterml.io.PosterReader`.
    dtype : floating dtype, default=np.float32
        dtype of the output.

    Attributes
    ----------
    input_kind_ : {"paths", "images", "rows"}
        What :meth:`fit` was given.
    n_features_in_ : int
        Number of columns of 2-D row input (only when fitted on rows).
    feature_names_in_ : ndarray of str
        Column names of a row DataFrame (only when fitted on one with string names).
    valid_mask_ : ndarray of bool
        After transforming paths or images: which inputs produced a row. Align labels with
        ``Y[flattener.valid_mask_]``.
    skipped_ : DataFrame
        After transforming paths or images: unreadable inputs (``index``, ``path``,
        ``reason``).

    Notes
    -----
    Accepted inputs:

    - paths: a list or 1-D array of ``str``/``Path``, or a DataFrame with a
      ``poster_path`` column; read with :func:`posterml.io.read_poster` at ``size``;
    - images: a ``(n, H, W, 3)`` or ``(n, H, W)`` stack, or a list of images of any sizes
      (``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``); a single image must be given as a
      batch of one;
    - rows: a 2-D numeric matrix (see ``input_shape``). This is the path that passes
      scikit-learn's estimator checks.

    Arrays are resized with ``cv2.resize(..., interpolation=cv2.INTER_AREA)``, the same
    resize :func:`~posterml.io.read_poster` applies after decoding, so paths and the
    arrays read from them agree (exactly, except for JPEGs that ``read_poster`` decodes
    with DCT scaling).

    Examples
    --------
    >>> import numpy as np
    >>> from posterml.features import PixelFlattener
    >>> images = np.zeros((2, 30, 20, 3), dtype=np.uint8)
    >>> images[1] = 255
    >>> flat = PixelFlattener(size=(8, 12)).fit_transform(images)
    >>> flat.shape, flat.dtype, flat.max(axis=1).tolist()
    ((2, 288), dtype('float32'), [0.0, 1.0])
    >>> PixelFlattener(size=(8, 12)).fit(images).get_feature_names_out()[:4].tolist()
    ['r_y0_x0', 'g_y0_x0', 'b_y0_x0', 'r_y0_x1']
    """

    _parameter_constraints = {
        "size": [tuple, list],
        "scale": ["boolean"],
        "grayscale": ["boolean"],
        "input_shape": [None, tuple, list],
        "on_error": [StrOptions({"raise", "skip"})],
        "dtype": "no_validation",  # checked in _checked_params: any floating numpy dtype
    }

    def __init__(
        self,
        size=(64, 64),
        *,
        scale=True,
        grayscale=False,
        input_shape=None,
        on_error="raise",
        dtype=np.float32,
    ):
        self.size = size
        self.scale = scale
        self.grayscale = grayscale
        self.input_shape = input_shape
        self.on_error = on_error
        self.dtype = dtype

    # ------------------------------------------------------------------ helpers

    def _checked_params(self):
        size = _check_size(self.size)
        dtype = check_float_dtype(self.dtype)
        shape = self.input_shape
        if shape is not None:
            valid = len(shape) in (2, 3) and all(
                isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in shape
            )
            if not valid or (len(shape) == 3 and shape[2] not in (1, 3)):
                raise ValueError(
                    "input_shape must be (H, W) or (H, W, C) with positive ints and C in "
                    f"(1, 3), got {shape!r}"
                )
            shape = tuple(int(v) for v in shape) + ((1,) if len(shape) == 2 else ())
        return size, shape, dtype

    @property
    def _channels(self):
        return _GRAY_CHANNELS if self.grayscale else _RGB_CHANNELS

    def _n_image_features(self):
        width, height = _check_size(self.size)
        return width * height * len(self._channels)

    def _passthrough(self):
        return self.input_kind_ == "rows" and self.input_shape is None

    def _n_features_out(self):
        return self.n_features_in_ if self._passthrough() else self._n_image_features()

    def _prepare_image(self, image, index, size):
        image = np.asarray(image)
        if image.dtype.kind not in "uifb":
            raise TypeError(f"image {index} has non-numeric dtype {image.dtype}")
        image = check_image_shape(image, index)
        if image.dtype == np.bool_:
            image = image.astype(np.uint8) * 255
        if self.grayscale and image.ndim == 3:
            image = _rgb_to_gray(image)
        resized = _resize(image, size, "area")
        if not self.grayscale and resized.ndim == 2:
            resized = np.repeat(resized[:, :, np.newaxis], 3, axis=2)
        return resized.reshape(-1)

    def _flatten_images(self, images, size, dtype):
        width, height = size
        out = np.empty((len(images), width * height * len(self._channels)), dtype=dtype)
        for i, image in enumerate(images):
            out[i] = self._prepare_image(image, i, size)
        return out

    def _image_list(self, X):
        if isinstance(X, np.ndarray) and X.dtype.kind != "O":
            if X.ndim == 3 and X.shape[-1] in (3, 4):
                raise ValueError(
                    f"X has shape {X.shape}: this looks like one RGB image, not a stack of "
                    "grayscale images; pass a batch of one (X[np.newaxis])"
                )
            return X
        return list(X)

    # ------------------------------------------------------------------ API

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and record what kind of input ``X`` is.

        Parameters
        ----------
        X : paths, image stack or list, or 2-D numeric matrix
            See the class notes.
        y : ignored

        Returns
        -------
        self : PixelFlattener
        """
        _, shape, _ = self._checked_params()
        kind = _input_kind(X)
        fit_input(self, X, kind, shape)
        self.input_kind_ = kind
        return self

    def transform(self, X):
        """Flatten the images in ``X``.

        Parameters
        ----------
        X : paths, image stack or list, or 2-D numeric matrix
            See the class notes.

        Returns
        -------
        ndarray of shape (n_rows, n_features_out)
            With ``on_error="skip"`` on paths, rows for unreadable files are left out
            (see ``valid_mask_``).
        """
        check_is_fitted(self)
        size, shape, dtype = self._checked_params()
        kind = _input_kind(X)
        n_expected = self._n_features_out()
        if kind != "rows" and self._passthrough() and n_expected != self._n_image_features():
            raise ValueError(
                f"fitted on rows of {n_expected} features, but images at size={self.size} "
                f"give {self._n_image_features()}"
            )
        skipped = None
        if kind == "paths":
            reader = PosterReader(
                size=size, mode="L" if self.grayscale else "RGB", on_error=self.on_error
            )
            images, valid, skipped = reader.read_with_report(X)
            out = images.reshape(len(images), self._n_image_features()).astype(dtype)
        elif kind == "images":
            out = self._flatten_images(self._image_list(X), size, dtype)
            valid = np.ones(len(out), dtype=bool)
        else:
            X = validate_data(self, X, reset=False, dtype="numeric")
            if shape is not None:
                out = self._flatten_images(X.reshape((-1, *shape)), size, dtype)
            elif X.shape[1] != n_expected:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} fitted on "
                    f"{self.input_kind_} expects rows of {n_expected} (size={self.size}); "
                    "set input_shape to resize other images"
                )
            else:
                out = X.astype(dtype)
            valid = np.ones(len(out), dtype=bool)
        if self.scale:
            out /= dtype.type(255)
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
            ``r_y0_x0, g_y0_x0, b_y0_x0, r_y0_x1, ...`` (``gray_y0_x0, ...`` with
            ``grayscale=True``), in the HWC order of the rows. For passed-through 2-D rows,
            the input feature names or ``pixel0, pixel1, ...``.
        """
        check_is_fitted(self)
        if self.input_kind_ == "rows":
            names = _check_feature_names_in(self, input_features, generate_names=False)
            if self._passthrough():
                if names is None:
                    names = [f"pixel{i}" for i in range(self.n_features_in_)]
                return np.asarray(names, dtype=object)
        width, height = _check_size(self.size)
        channels = self._channels
        return np.asarray(
            [f"{c}_y{y}_x{x}" for y in range(height) for x in range(width) for c in channels],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.transformer_tags.preserves_dtype = [np.dtype(self.dtype).name]
        except TypeError:
            tags.transformer_tags.preserves_dtype = []
        return tags
