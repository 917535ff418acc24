"""What the poster transformers share: input kinds, the skip report, kept-row indexes."""

import itertools
import os

import numpy as np
import pandas as pd
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import validate_data

from posterml.io import _is_missing, _report_skipped

_INPUT_STATE = ("n_features_in_", "feature_names_in_", "valid_mask_", "skipped_")


def _is_path(value):
    return isinstance(value, (str, bytes, os.PathLike))


def _holds_paths(values, all_missing_is_paths=True):
    """Whether a 1-D sequence holds poster paths.

    Judged on its first 20 values that are not missing (None, NaN, ""): a column of paths
    may start with any number of movies that have no poster. A non-empty sequence of only
    missing values counts as paths (every one is then an unreadable poster).
    """
    present = list(itertools.islice((v for v in values if not _is_missing(v)), 20))
    if not present:
        return all_missing_is_paths and len(values) > 0
    return any(_is_path(v) for v in present)


def _input_kind(X):
    """'paths', 'images' (a stack or list of arrays) or 'rows' (a 2-D numeric matrix)."""
    if isinstance(X, pd.DataFrame):
        return "paths" if "poster_path" in X.columns else "rows"
    if isinstance(X, pd.Series):
        return "paths" if _holds_paths(X, X.dtype == object) else "rows"
    if isinstance(X, np.ndarray):
        if X.dtype.kind in "USO" and X.ndim == 1:
            if X.dtype.kind in "US" or _holds_paths(X):
                return "paths"
            if len(X) and all(isinstance(v, np.ndarray) for v in X[:20]):
                return "images"
            return "rows"
        return "images" if X.ndim in (3, 4) and X.dtype.kind in "uifb" else "rows"
    if isinstance(X, (list, tuple)) and len(X):
        if _holds_paths(X):
            return "paths"
        if isinstance(X[0], np.ndarray) and X[0].ndim >= 2:
            return "images"
    return "rows"


def check_float_dtype(value):
    """``value`` as a floating numpy dtype, or a ValueError naming it."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype, got {value!r}")
    return dtype


def check_image_shape(image, index):
    """``image`` as (H, W) or (H, W, 3): a single channel is squeezed, others refused."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(
            f"image {index} has {image.shape[2]} channels; expected 1 or 3 (RGB)"
            + (" - composite the alpha channel first" if image.shape[2] == 4 else "")
        )
    if image.ndim not in (2, 3) or 0 in image.shape[:2]:
        raise ValueError(f"image {index} has shape {image.shape}; expected (H, W[, 3])")
    return image


def empty_skip_report():
    """The ``skipped_`` report of a call that skipped nothing."""
    return pd.DataFrame(
        {"index": np.array([], np.int64), "path": [], "reason": []},
        columns=["index", "path", "reason"],
    )


def fit_input(estimator, X, kind, shape=None):
    """Forget the previous input's state; validate 2-D rows (and their ``input_shape``)."""
    for attr in _INPUT_STATE:
        if hasattr(estimator, attr):
            delattr(estimator, attr)
    if kind == "rows":
        validate_data(estimator, X, reset=True, dtype="numeric")
        if shape is not None and estimator.n_features_in_ != int(np.prod(shape)):
            raise ValueError(
                f"X has {estimator.n_features_in_} features, but "
                f"input_shape={estimator.input_shape} needs {int(np.prod(shape))}"
            )


def finish_transform(estimator, X, out, kind, valid=None, skipped=None):
    """Record ``valid_mask_`` / ``skipped_``, report skipped files, keep the kept rows' index.

    Row input leaves the estimator as it is unless these already exist, so a stale mask
    from an earlier batch of paths never survives.
    """
    if valid is None:
        valid = np.ones(len(out), dtype=bool)
    if kind != "rows" or hasattr(estimator, "valid_mask_"):
        estimator.valid_mask_ = valid
        estimator.skipped_ = skipped if skipped is not None else empty_skip_report()
    if skipped is not None:
        _report_skipped(skipped, len(valid))
        if (
            not valid.all()
            and isinstance(X, (pd.DataFrame, pd.Series))
            and _get_output_config("transform", estimator)["dense"] == "pandas"
        ):
            # The set_output wrapper would reuse X's full index: give it the kept rows'.
            return pd.DataFrame(
                out, index=X.index[valid], columns=estimator.get_feature_names_out()
            )
    return out
