"""Helpers shared by the Display classes; nothing here imports matplotlib at module level."""

import numpy as np
import pandas as pd

_INSTALL_HINT = "pip install posterml[plot]"


def _import_pyplot(caller):
    """``matplotlib.pyplot``, or an ImportError naming ``caller`` and the extra to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"{caller} needs matplotlib: {_INSTALL_HINT}") from exc
    return plt


def _style(defaults, user, artist):
    """``defaults`` updated with the user's keywords, aliases (``c``, ``lw`` ...) resolved so a
    user's ``c`` replaces a default ``color`` instead of clashing with it."""
    from matplotlib.cbook import normalize_kwargs

    return {**normalize_kwargs(defaults, artist), **normalize_kwargs(user or {}, artist)}


def _check_axes(ax, n, caller, allow_one=False):
    """``ax`` as a flat list of Axes, one per panel (``n`` of them; or one, shared, with
    ``allow_one``), or None."""
    if ax is None:
        return None
    from matplotlib.axes import Axes

    axes = [ax] if isinstance(ax, Axes) else list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) not in ((1, n) if allow_one else (n,)) or not all(
        isinstance(a, Axes) for a in axes
    ):
        kinds = sorted({type(a).__name__ for a in axes})
        need = (
            f"one matplotlib Axes or {n} (one per metric)" if allow_one else f"{n} matplotlib Axes"
        )
        raise ValueError(f"{caller} needs ax to be {need}; got {len(axes)} of {kinds}")
    return axes


def _genre_names(genres, Y, n_labels, estimator=None):
    """Names of the ``n_labels`` columns: ``genres``, the DataFrame's columns, the estimator's
    string ``classes_``/``genres_`` (one per column), else ``"0" .. "n_labels - 1"``."""
    if genres is None:
        if isinstance(Y, pd.DataFrame):
            genres = list(Y.columns)
        else:
            for attr in ("genres_", "classes_"):
                names = getattr(estimator, attr, None)
                if names is None:
                    continue
                try:
                    names = np.asarray(names)
                except ValueError:  # ragged per-label classes_ of a multi-output estimator
                    continue
                if names.ndim == 1 and names.shape[0] == n_labels:
                    genres = names.tolist()
                    break
            else:
                genres = range(n_labels)
    genres = [str(g) for g in genres]
    if len(genres) != n_labels:
        raise ValueError(
            f"genres has {len(genres)} names but the genre matrices have {n_labels} columns"
        )
    return genres


def _dense_indicator(Y, name):
    """``Y`` as a dense 2-D 0/1 int array (posterml.metrics' checks and messages)."""
    from posterml.metrics._multilabel import _check_indicator

    return _check_indicator(Y, name).astype(np.int64)


def _dense_pair(Y_true, Y_pred):
    """``Y_true`` and ``Y_pred`` as dense 0/1 int arrays of the same shape (posterml.metrics)."""
    from posterml.metrics._multilabel import _check_pair

    T, P = _check_pair(Y_true, Y_pred)
    return T.astype(np.int64), P.astype(np.int64)
