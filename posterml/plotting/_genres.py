"""Per-genre scores and genre co-occurrence of multi-label predictions."""

import numpy as np

from posterml.plotting._base import (
    _check_axes,
    _dense_indicator,
    _dense_pair,
    _genre_names,
    _import_pyplot,
    _style,
)

__all__ = ["GenreCooccurrenceDisplay", "PerGenreDisplay"]

_METRICS = ("precision", "recall", "f1")
_METRIC_LABELS = {"precision": "Precision", "recall": "Recall", "f1": "F1"}


def _join(words):
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _from_estimator(cls, estimator, X, Y, genres, kwargs):
    """``cls.from_predictions`` of ``Y`` and ``estimator.predict(X)``, genres named as
    :meth:`from_estimator` documents."""
    caller = f"{cls.__name__}.from_estimator"
    _import_pyplot(caller)
    if not hasattr(estimator, "predict"):
        raise TypeError(f"{caller} needs a fitted estimator with predict; got {estimator!r}")
    Y_pred = estimator.predict(X)
    n_labels = _dense_indicator(Y, "Y").shape[1]
    names = _genre_names(genres, Y, n_labels, estimator)
    return cls.from_predictions(Y, Y_pred, names, **kwargs)


def _format_number(value):
    value = float(value)
    return f"{value:.0f}" if value == round(value) else f"{value:.3g}"


class PerGenreDisplay:
    """Precision, recall and F1 of each genre as grouped bars, each genre's support above them.

    Create it with :meth:`from_predictions` or :meth:`from_estimator`; the numbers are those
    of :func:`posterml.metrics.per_genre_report` (scikit-learn's, ``zero_division=0``).

    Parameters
    ----------
    precision, recall, f1, support : array-like of shape (n_genres,)
        Per-genre scores and supports (number of movies with the genre).
    genres : sequence of str, default=None
        Genre names; default ``"0" .. "n_genres - 1"``.

    Attributes
    ----------
    bars_ : dict of str to matplotlib BarContainer
        The bars of each plotted metric (``"precision"``, ``"recall"``, ``"f1"``).
    support_texts_ : list of matplotlib Text or None
        The support annotation of each genre (None with ``annotate_support=False``).
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    posterml.metrics.per_genre_report : The same numbers as a table.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from posterml.plotting import PerGenreDisplay
    >>> Y_true = [[1, 0], [1, 1], [0, 1]]
    >>> Y_pred = [[1, 1], [0, 1], [0, 1]]
    >>> display = PerGenreDisplay.from_predictions(Y_true, Y_pred, genres=["Drama", "Comedy"])
    >>> display.bars_["recall"].datavalues.tolist()
    [0.5, 1.0]
    >>> [text.get_text() for text in display.support_texts_]
    ['2', '2']
    """

    def __init__(self, precision, recall, f1, support, *, genres=None):
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.support = support
        self.genres = genres

    @classmethod
    def from_predictions(
        cls,
        Y_true,
        Y_pred,
        genres=None,
        *,
        sample_weight=None,
        ax=None,
        metrics=_METRICS,
        annotate_support=True,
        bar_kw=None,
        text_kw=None,
    ):
        """Plot per-genre scores of predicted genre sets.

        Parameters
        ----------
        Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_genres)
            0/1 genre indicator matrices.
        genres : sequence of str, default=None
            One name per column; default: ``Y_true``'s columns if a DataFrame, else indices.
        sample_weight : array-like of shape (n_samples,), default=None
        ax, metrics, annotate_support, bar_kw, text_kw
            As in :meth:`plot`.

        Returns
        -------
        display : PerGenreDisplay
        """
        _import_pyplot(f"{cls.__name__}.from_predictions")
        from posterml.metrics import per_genre_report

        T, P = _dense_pair(Y_true, Y_pred)
        names = _genre_names(genres, Y_true, T.shape[1])
        report = per_genre_report(T, P, genres=names, sample_weight=sample_weight).loc[names]
        display = cls(
            report["precision"].to_numpy(),
            report["recall"].to_numpy(),
            report["f1"].to_numpy(),
            report["support"].to_numpy(),
            genres=names,
        )
        return display.plot(
            ax=ax,
            metrics=metrics,
            annotate_support=annotate_support,
            bar_kw=bar_kw,
            text_kw=text_kw,
        )

    @classmethod
    def from_estimator(cls, estimator, X, Y, genres=None, **kwargs):
        """Plot per-genre scores of a fitted multi-label estimator's predictions on ``X``.

        Parameters
        ----------
        estimator : estimator object
            Fitted; ``predict(X)`` gives a 0/1 genre indicator matrix.
        X : array-like of shape (n_samples, n_features)
        Y : {array-like, sparse matrix} of shape (n_samples, n_genres)
            True genres.
        genres : sequence of str, default=None
            Default: ``Y``'s columns if a DataFrame, else the estimator's string
            ``classes_`` (one per genre), else indices.
        **kwargs
            ``sample_weight``, ``ax``, ``metrics``, ``annotate_support``, ``bar_kw``,
            ``text_kw``, as in :meth:`from_predictions`.

        Returns
        -------
        display : PerGenreDisplay
        """
        return _from_estimator(cls, estimator, X, Y, genres, kwargs)

    def plot(
        self,
        ax=None,
        *,
        metrics=_METRICS,
        annotate_support=True,
        bar_kw=None,
        text_kw=None,
    ):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; default: a new figure, wide enough for the genres.
        metrics : sequence of {"precision", "recall", "f1"}, default=all three
            The bars of each genre, in order.
        annotate_support : bool, default=True
            Write each genre's support above its bars.
        bar_kw : dict, default=None
            Keywords for ``Axes.bar`` (all metrics).
        text_kw : dict, default=None
            Keywords for ``Axes.text`` (support annotations).

        Returns
        -------
        display : PerGenreDisplay
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        from matplotlib.patches import Rectangle
        from matplotlib.text import Text

        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in metrics if m not in _METRICS]
        if unknown or not metrics:
            raise ValueError(f"metrics must be among {list(_METRICS)}; got {metrics}")
        values = {m: np.asarray(getattr(self, m), dtype=float).ravel() for m in _METRICS}
        support = np.asarray(self.support, dtype=float).ravel()
        n = support.size
        for m, v in values.items():
            if v.size != n:
                raise ValueError(f"{m} has {v.size} values but support has {n}")
        genres = [str(g) for g in (range(n) if self.genres is None else self.genres)]
        if len(genres) != n:
            raise ValueError(f"genres has {len(genres)} names but the scores have {n} genres")

        axes = _check_axes(ax, 1, f"{type(self).__name__}.plot")
        if axes is None:
            fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * n + 2), 4.5), layout="constrained")
        else:
            ax = axes[0]
            fig = ax.figure
        x = np.arange(n)
        width = 0.8 / len(metrics)
        self.bars_ = {}
        for j, m in enumerate(metrics):
            kw = _style({"label": _METRIC_LABELS[m], "color": f"C{j}"}, bar_kw, Rectangle)
            offset = (j - (len(metrics) - 1) / 2) * width
            self.bars_[m] = ax.bar(x + offset, values[m], width, **kw)
        tallest = np.max([values[m] for m in metrics], axis=0)
        self.support_texts_ = None
        if annotate_support:
            vertical = n > 10
            kw = _style(
                {
                    "ha": "center",
                    "va": "bottom",
                    "fontsize": "small",
                    "rotation": 90 if vertical else 0,
                    "color": "0.25",
                },
                text_kw,
                Text,
            )
            self.support_texts_ = [
                ax.text(i, tallest[i] + 0.02, _format_number(support[i]), **kw) for i in range(n)
            ]
        ax.set_xticks(x, genres)
        if n > 6 or max(map(len, genres)) * n > 60:
            plt.setp(ax.get_xticklabels(), rotation=45, ha="right", rotation_mode="anchor")
        ax.set_xlim(-0.6, n - 0.4)
        ax.set_ylim(0, 1.2 if annotate_support else 1.05)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_xlabel("Genre")
        ax.set_ylabel("Score")
        words = [_METRIC_LABELS[m] if m == "f1" else m for m in metrics]
        title = f"Per-genre {_join(words)}"
        if annotate_support:
            title += " (numbers above the bars: support)"
        ax.set_title(title)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(loc="upper right", ncols=len(metrics), fontsize="small")
        self.ax_ = ax
        self.figure_ = fig
        return self


def _cooccurrence(Y, normalize):
    C = Y.T @ Y
    if normalize is None:
        return C
    if normalize == "all":
        return C / Y.shape[0]
    diag = np.diag(C).astype(float)
    out = np.zeros(C.shape)
    np.divide(C, diag[:, None], out=out, where=diag[:, None] != 0)
    return out


_NORMALIZE_TEXT = {
    None: "number of movies with both genres",
    "true": "share of the row genre's movies that also have the column genre",
    "all": "share of all movies with both genres",
}


class GenreCooccurrenceDisplay:
    """Side-by-side heat maps of how often genres go together, in the true and predicted sets.

    ``C[i, j]`` is the number of movies with both genre ``i`` and genre ``j`` (``Y.T @ Y``; the
    diagonal counts the movies of each genre), as in seed project 003's figure 5. A model
    that learns the genres' correlations has a predicted matrix like the true one.

    Parameters
    ----------
    cooccurrence_true, cooccurrence_pred : ndarray of shape (n_genres, n_genres)
        Co-occurrence matrices of the true and predicted genre sets.
    genres : sequence of str, default=None
        Genre names; default ``"0" .. "n_genres - 1"``.
    normalize : {None, "true", "all"}, default=None
        How the matrices were normalised (for the title): see :meth:`from_predictions`.

    Attributes
    ----------
    im_true_, im_pred_ : matplotlib AxesImage
        The two heat maps (one colour scale).
    text_ : ndarray of matplotlib Text of shape (2, n_genres, n_genres) or None
        The cell values, when written.
    colorbar_ : matplotlib Colorbar or None
    axes_ : ndarray of matplotlib Axes of shape (2,)
        True, then predicted.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from posterml.plotting import GenreCooccurrenceDisplay
    >>> Y_true = [[1, 1, 0], [1, 0, 1], [1, 1, 0]]
    >>> Y_pred = [[1, 1, 0], [1, 1, 0], [1, 0, 0]]
    >>> display = GenreCooccurrenceDisplay.from_predictions(
    ...     Y_true, Y_pred, genres=["Drama", "Romance", "Horror"]
    ... )
    >>> display.im_true_.get_array().tolist()
    [[3, 2, 1], [2, 2, 0], [1, 0, 1]]
    >>> display.cooccurrence_pred[0].tolist()
    [3, 2, 0]
    """

    def __init__(self, cooccurrence_true, cooccurrence_pred, *, genres=None, normalize=None):
        self.cooccurrence_true = cooccurrence_true
        self.cooccurrence_pred = cooccurrence_pred
        self.genres = genres
        self.normalize = normalize

    @classmethod
    def from_predictions(
        cls,
        Y_true,
        Y_pred,
        genres=None,
        *,
        normalize=None,
        ax=None,
        include_values=None,
        values_format=None,
        cmap="viridis",
        show_diagonal=True,
        colorbar=True,
        im_kw=None,
        text_kw=None,
    ):
        """Plot the genre co-occurrence of true and predicted genre sets.

        Parameters
        ----------
        Y_true, Y_pred : {array-like, sparse matrix} of shape (n_samples, n_genres)
            0/1 genre indicator matrices.
        genres : sequence of str, default=None
            One name per column; default: ``Y_true``'s columns if a DataFrame, else indices.
        normalize : {None, "true", "all"}, default=None
            None: counts. ``"true"``: each row divided by its diagonal, so ``C[i, j]`` is the
            share of the movies with genre ``i`` (in that matrix) that also have genre ``j``.
            ``"all"``: divided by the number of movies.
        ax, include_values, values_format, cmap, show_diagonal, colorbar, im_kw, text_kw
            As in :meth:`plot`.

        Returns
        -------
        display : GenreCooccurrenceDisplay
        """
        _import_pyplot(f"{cls.__name__}.from_predictions")
        if normalize not in (None, "true", "all"):
            raise ValueError(f"normalize must be None, 'true' or 'all'; got {normalize!r}")
        T, P = _dense_pair(Y_true, Y_pred)
        names = _genre_names(genres, Y_true, T.shape[1])
        display = cls(
            _cooccurrence(T, normalize),
            _cooccurrence(P, normalize),
            genres=names,
            normalize=normalize,
        )
        return display.plot(
            ax=ax,
            include_values=include_values,
            values_format=values_format,
            cmap=cmap,
            show_diagonal=show_diagonal,
            colorbar=colorbar,
            im_kw=im_kw,
            text_kw=text_kw,
        )

    @classmethod
    def from_estimator(cls, estimator, X, Y, genres=None, **kwargs):
        """Plot the genre co-occurrence of ``Y`` and of a fitted estimator's predictions on ``X``.

        Parameters
        ----------
        estimator : estimator object
            Fitted; ``predict(X)`` gives a 0/1 genre indicator matrix.
        X : array-like of shape (n_samples, n_features)
        Y : {array-like, sparse matrix} of shape (n_samples, n_genres)
            True genres.
        genres : sequence of str, default=None
            Default: ``Y``'s columns if a DataFrame, else the estimator's string
            ``classes_`` (one per genre), else indices.
        **kwargs
            As in :meth:`from_predictions`.

        Returns
        -------
        display : GenreCooccurrenceDisplay
        """
        return _from_estimator(cls, estimator, X, Y, genres, kwargs)

    def plot(
        self,
        ax=None,
        *,
        include_values=None,
        values_format=None,
        cmap="viridis",
        show_diagonal=True,
        colorbar=True,
        im_kw=None,
        text_kw=None,
    ):
        """Draw the two heat maps on one colour scale.

        Parameters
        ----------
        ax : sequence of two matplotlib Axes, default=None
            Axes for the true and the predicted matrix; default: a new figure.
        include_values : bool, default=None
            Write each cell's value; default: when there are at most 12 genres.
        values_format : str, default=None
            Format of the values; default ``"d"`` for counts, ``".2f"`` normalised.
        cmap : str or matplotlib Colormap, default="viridis"
        show_diagonal : bool, default=True
            False masks the diagonal (each genre's own count), which otherwise sets the
            colour scale.
        colorbar : bool, default=True
        im_kw, text_kw : dict, default=None
            Keywords for ``Axes.imshow`` and ``Axes.text``.

        Returns
        -------
        display : GenreCooccurrenceDisplay
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        from matplotlib.text import Text

        mats = [np.asarray(self.cooccurrence_true), np.asarray(self.cooccurrence_pred)]
        for name, M in zip(("cooccurrence_true", "cooccurrence_pred"), mats):
            if M.ndim != 2 or M.shape[0] != M.shape[1]:
                raise ValueError(f"{name} must be a square matrix; got shape {M.shape}")
        if mats[0].shape != mats[1].shape:
            raise ValueError(
                f"the true and predicted matrices differ in shape: {mats[0].shape} and "
                f"{mats[1].shape}"
            )
        n = mats[0].shape[0]
        genres = [str(g) for g in (range(n) if self.genres is None else self.genres)]
        if len(genres) != n:
            raise ValueError(f"genres has {len(genres)} names but the matrices are {n} x {n}")
        if self.normalize not in (None, "true", "all"):
            raise ValueError(f"normalize must be None, 'true' or 'all'; got {self.normalize!r}")
        if include_values is None:
            include_values = n <= 12
        if values_format is None:
            values_format = "d" if all(M.dtype.kind in "iub" for M in mats) else ".2f"
        if not show_diagonal:
            mask = np.eye(n, dtype=bool)
            mats = [np.ma.masked_array(M, mask=mask) for M in mats]
        vmax = max(float(M.max()) if M.count() else 0.0 for M in map(np.ma.asarray, mats))

        axes = _check_axes(ax, 2, f"{type(self).__name__}.plot")
        new_figure = axes is None
        if new_figure:
            side = max(3.5, 0.32 * n + 1.5)
            fig, grid = plt.subplots(
                1, 2, figsize=(2 * side + 1.2, side + 0.6), sharey=True, layout="constrained"
            )
            axes = list(grid)
        fig = axes[0].figure
        if not show_diagonal:
            from matplotlib import colormaps

            cmap = colormaps[cmap] if isinstance(cmap, str) else cmap
            cmap = cmap.with_extremes(bad="0.85")  # masked diagonal: grey, not white
        im_kw = {
            "interpolation": "nearest",
            "cmap": cmap,
            "vmin": 0,
            "vmax": vmax or 1,
            **(im_kw or {}),
        }
        ims = [a.imshow(M, **im_kw) for a, M in zip(axes, mats)]
        self.text_ = None
        if include_values:
            self.text_ = np.empty((2, n, n), dtype=object)
            for t, (a, M, im) in enumerate(zip(axes, mats, ims)):
                lo, hi = im.cmap(0.0), im.cmap(1.0)
                threshold = (im.norm.vmin + im.norm.vmax) / 2
                for i in range(n):
                    for j in range(n):
                        if np.ma.is_masked(M[i, j]):
                            continue
                        value = M[i, j]
                        kw = _style(
                            {
                                "ha": "center",
                                "va": "center",
                                "fontsize": "small",
                                "color": hi if value < threshold else lo,
                            },
                            text_kw,
                            Text,
                        )
                        self.text_[t, i, j] = a.text(j, i, format(value, values_format), **kw)
        for a, title in zip(axes, ("True genres", "Predicted genres")):
            a.set_xticks(np.arange(n), genres)
            a.set_yticks(np.arange(n), genres)
            a.tick_params(axis="y", labelleft=True)
            plt.setp(a.get_xticklabels(), rotation=90)
            a.set_title(title)
            a.set_xlabel("Genre")
        axes[0].set_ylabel("Genre")
        self.colorbar_ = None
        if colorbar:
            label = {None: "movies", "true": "share of the row genre's movies"}.get(
                self.normalize, "share of all movies"
            )
            self.colorbar_ = fig.colorbar(ims[1], ax=list(axes), shrink=0.8, label=label)
        if new_figure:  # a figure the caller made keeps its own title
            fig.suptitle(f"Genre co-occurrence ({_NORMALIZE_TEXT[self.normalize]})")
        self.im_true_, self.im_pred_ = ims
        self.axes_ = np.array(axes, dtype=object)
        self.figure_ = fig
        return self
