"""Cross-validated scores of an ML-kNN k-sweep against k."""

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted

from posterml.plotting._base import _check_axes, _import_pyplot, _style

__all__ = ["KSweepDisplay"]

_PRETTY = {"f1": "F1"}


def _negated_scorer_names():
    """Scorer names whose scores are stored negated (sklearn's greater-is-better sign)."""
    from posterml.metrics import SCORERS

    return {name for name, scorer in SCORERS.items() if getattr(scorer, "_sign", 1) < 0}


def _pretty(name):
    if name.startswith("neg_"):  # sklearn's negated losses: the plot shows the loss
        name = name[len("neg_") :]
    words = name.split("_")
    words = [_PRETTY.get(w, w) for w in words]
    text = " ".join(words).replace("top k ", "top-k ")
    return text[:1].upper() + text[1:]


def _as_float(values, key):
    try:
        return np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"results[{key!r}] must hold numbers; got {values!r}") from None


class KSweepDisplay:
    """Cross-validated scores of ML-kNN against k: the mean over folds, their spread, the best k.

    Create it with :meth:`from_estimator` (a fitted :class:`posterml.MLkNNCV`) or
    :meth:`from_results` (the dict of :func:`posterml.ksweep`, or any ``cv_results_`` with a
    ``param_k`` column). The constructor takes scores already in the plotted sign: losses
    (``hamming_loss``, ``neg_*`` scores, which scikit-learn stores negated) positive.

    Parameters
    ----------
    k_values : array-like of shape (n_k,)
        Increasing k values.
    mean_scores : dict of str to array-like of shape (n_k,)
        Mean cross-validated score of each metric at each k.
    std_scores : dict of str to array-like of shape (n_k,), default=None
        Standard deviation across folds (the shaded band is mean ± 1 std).
    fold_scores : dict of str to array-like of shape (n_folds, n_k), default=None
        The score of each fold (drawn with ``spread="folds"``).
    lower_is_better : collection of str, default=()
        Metrics that are losses: their best k is the smallest mean.
    best_k : int, default=None
        The k a search chose (drawn as a dashed vertical line), e.g. ``MLkNNCV.best_k_``.
    best_k_metric : str, default=None
        The metric that chose ``best_k`` (for the legend).
    param_name : str, default="k"
        Name of the swept parameter (x-axis label).

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        The mean-score line of each metric.
    bands_ : dict of str to matplotlib PolyCollection or None
        The ± 1 std band of each metric.
    fold_points_ : dict of str to matplotlib PathCollection or None
        The fold scores of each metric.
    best_markers_ : dict of str to matplotlib Line2D
        The marker at each metric's best mean score.
    best_k_lines_ : list of matplotlib Line2D
        The vertical line at ``best_k`` on each axes (empty when ``best_k`` is None).
    ax_ : matplotlib Axes or None
        The axes, when all metrics share one; None with one subplot per metric.
    axes_ : ndarray of matplotlib Axes of shape (n_metrics,)
        The axes of each metric (all ``ax_`` when they share one).
    figure_ : matplotlib Figure

    See Also
    --------
    posterml.ksweep : The sweep whose results this plots.
    posterml.MLkNNCV : ML-kNN with k chosen by the sweep.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from posterml import MLkNNCV
    >>> from posterml.plotting import KSweepDisplay
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(150, 4))
    >>> Y = (X[:, :2] > 0).astype(int)
    >>> model = MLkNNCV(k_values=[1, 3, 9, 27], cv=3, scoring=["hamming_loss", "overall_f1"])
    >>> display = KSweepDisplay.from_estimator(model.fit(X, Y))
    >>> display.lines_["hamming_loss"].get_xdata().tolist()
    [1, 3, 9, 27]
    >>> bool((display.lines_["hamming_loss"].get_ydata() > 0).all())  # the loss, positive
    True
    >>> display.best_k == model.best_k_
    True
    """

    def __init__(
        self,
        k_values,
        mean_scores,
        std_scores=None,
        *,
        fold_scores=None,
        lower_is_better=(),
        best_k=None,
        best_k_metric=None,
        param_name="k",
    ):
        self.k_values = k_values
        self.mean_scores = mean_scores
        self.std_scores = std_scores
        self.fold_scores = fold_scores
        self.lower_is_better = lower_is_better
        self.best_k = best_k
        self.best_k_metric = best_k_metric
        self.param_name = param_name

    # ---------------------------------------------------------------- constructors
    @classmethod
    def _from_results_args(cls, results, metrics, best_k_metric, param_name):
        """Constructor arguments (plotted sign, sorted by k) from a ``cv_results_`` dict."""
        if not hasattr(results, "keys") or not hasattr(results, "__getitem__"):
            raise TypeError(
                f"results must be a dict like cv_results_; got {type(results).__name__}"
            )
        k_key = f"param_{param_name}"
        if k_key not in results:
            raise ValueError(
                f"results has no {k_key!r} column; found {sorted(results)} (a GridSearchCV "
                "over a pipeline names it e.g. param_mlknn__k: pass param_name='mlknn__k')"
            )
        k_values = _as_float(results[k_key], k_key)
        if k_values.size == 0:
            raise ValueError(f"results[{k_key!r}] is empty")
        if np.isnan(k_values).any():
            raise ValueError(f"results[{k_key!r}] has missing values: sweep k alone")
        if np.unique(k_values).size != k_values.size:
            raise ValueError(
                f"results[{k_key!r}] repeats k values {k_values.tolist()}: plot a sweep over "
                "k alone (one row per k)"
            )
        if np.all(k_values == np.round(k_values)):
            k_values = k_values.astype(np.int64)
        order = np.argsort(k_values, kind="stable")
        n_k = k_values.size

        available = [key[len("mean_test_") :] for key in results if key.startswith("mean_test_")]
        if not available:
            raise ValueError(f"results has no mean_test_* score; found {sorted(results)}")
        if metrics is None:
            metrics = available
        elif isinstance(metrics, str):
            metrics = [metrics]
        else:
            metrics = list(metrics)
        if not metrics:
            raise ValueError(f"metrics is empty; choose from {available}")
        unknown = [m for m in metrics if m not in available]
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; the results have {available}")
        if best_k_metric is not None and best_k_metric not in available:
            raise ValueError(
                f"unknown best_k_metric {best_k_metric!r}; the results have {available}"
            )

        negated = _negated_scorer_names()
        mean, std, folds, losses = {}, {}, {}, []
        for name in metrics:
            sign = -1.0 if (name in negated or name.startswith("neg_")) else 1.0
            m = _as_float(results[f"mean_test_{name}"], f"mean_test_{name}")
            if m.size != n_k:
                raise ValueError(
                    f"results['mean_test_{name}'] has {m.size} values but {k_key} has {n_k}"
                )
            split_keys = []
            while f"split{len(split_keys)}_test_{name}" in results:
                split_keys.append(f"split{len(split_keys)}_test_{name}")
            f = None
            if split_keys:
                f = np.array([_as_float(results[key], key) for key in split_keys])
                if f.shape[1] != n_k:
                    raise ValueError(
                        f"results[{split_keys[0]!r}] has {f.shape[1]} values, not {n_k}"
                    )
            if f"std_test_{name}" in results:
                s = _as_float(results[f"std_test_{name}"], f"std_test_{name}")
                if s.size != n_k:
                    raise ValueError(f"results['std_test_{name}'] has {s.size} values, not {n_k}")
            else:
                s = None if f is None else f.std(axis=0)
            mean[name] = sign * m[order]
            std[name] = None if s is None else s[order]
            folds[name] = None if f is None else sign * f[:, order]
            if sign < 0:
                losses.append(name)

        best_k = None
        if best_k_metric is not None:
            # stored in sklearn's sign: the best is the largest mean, the first on ties
            key = f"mean_test_{best_k_metric}"
            best_k = k_values[order][int(np.argmax(_as_float(results[key], key)[order]))].item()
        return {
            "k_values": k_values[order],
            "mean_scores": mean,
            "std_scores": std,
            "fold_scores": folds,
            "lower_is_better": losses,
            "best_k": best_k,
            "best_k_metric": best_k_metric,
            "param_name": param_name,
        }

    @classmethod
    def from_results(
        cls,
        results,
        metrics=None,
        *,
        best_k_metric=None,
        param_name="k",
        ax=None,
        spread="band",
        xscale=None,
        line_kw=None,
        band_kw=None,
        fold_kw=None,
    ):
        """Plot the scores of a k-sweep from its results dict.

        Parameters
        ----------
        results : dict
            :func:`posterml.ksweep`'s return value, ``MLkNNCV.cv_results_``, or a
            ``GridSearchCV.cv_results_`` over k alone: ``param_{param_name}``,
            ``mean_test_{name}``, and ``std_test_{name}`` / ``split{i}_test_{name}``.
            ``hamming_loss`` and ``neg_*`` scores (stored negated) are plotted as the
            positive loss.
        metrics : str or list of str, default=None
            Metrics to plot (names as in ``mean_test_{name}``); default: all of them.
        best_k_metric : str, default=None
            Also mark, with a dashed vertical line, the k that is best for this metric.
        param_name : str, default="k"
            Results column ``param_{param_name}`` holding the swept k.
        ax : matplotlib Axes or sequence of Axes, default=None
            One Axes: every metric on it. One Axes per metric: one each. None: a new figure,
            one subplot per metric.
        spread, xscale, line_kw, band_kw, fold_kw
            As in :meth:`plot`.

        Returns
        -------
        display : KSweepDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from posterml import ksweep
        >>> from posterml.plotting import KSweepDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(120, 5))
        >>> Y = (X[:, :3] > 0).astype(int)
        >>> results = ksweep(X, Y, [1, 5, 15], cv=3, scoring=["overall_f1", "hamming_loss"])
        >>> display = KSweepDisplay.from_results(results, "hamming_loss", spread="folds")
        >>> display.lines_["hamming_loss"].get_ydata().round(3).tolist()  # the positive loss
        [0.183, 0.172, 0.175]
        >>> display.best_markers_["hamming_loss"].get_xdata().tolist()  # the smallest loss
        [5]
        """
        _import_pyplot(f"{cls.__name__}.from_results")
        display = cls(**cls._from_results_args(results, metrics, best_k_metric, param_name))
        return display.plot(
            ax=ax, spread=spread, xscale=xscale, line_kw=line_kw, band_kw=band_kw, fold_kw=fold_kw
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        metrics=None,
        *,
        ax=None,
        spread="band",
        xscale=None,
        line_kw=None,
        band_kw=None,
        fold_kw=None,
    ):
        """Plot the k-sweep of a fitted :class:`posterml.MLkNNCV`, its chosen k marked.

        Parameters
        ----------
        estimator : MLkNNCV
            Fitted; its ``cv_results_`` are plotted and its ``best_k_`` (chosen by
            ``refit_metric_``) is marked with a dashed vertical line.
        metrics : str or list of str, default=None
            Metrics to plot; default: all the sweep scored.
        ax, spread, xscale, line_kw, band_kw, fold_kw
            As in :meth:`from_results` and :meth:`plot`.

        Returns
        -------
        display : KSweepDisplay
        """
        _import_pyplot(f"{cls.__name__}.from_estimator")
        if not hasattr(estimator, "fit"):
            raise TypeError(f"estimator must be a fitted MLkNNCV; got {type(estimator).__name__}")
        check_is_fitted(estimator, ["cv_results_", "best_k_"])
        args = cls._from_results_args(estimator.cv_results_, metrics, None, "k")
        args["best_k"] = int(estimator.best_k_)
        args["best_k_metric"] = getattr(estimator, "refit_metric_", None)
        return cls(**args).plot(
            ax=ax, spread=spread, xscale=xscale, line_kw=line_kw, band_kw=band_kw, fold_kw=fold_kw
        )

    # ---------------------------------------------------------------- drawing
    def _validated(self):
        k = np.asarray(self.k_values).ravel()
        if k.size == 0:
            raise ValueError("k_values is empty")
        if not isinstance(self.mean_scores, dict) or not self.mean_scores:
            raise ValueError("mean_scores must be a non-empty dict {metric: scores}")
        names = list(self.mean_scores)
        for what, table in (("std_scores", self.std_scores), ("fold_scores", self.fold_scores)):
            if table is not None and not isinstance(table, dict):
                raise TypeError(f"{what} must be a dict {{metric: scores}} or None")
        out = {}
        for name in names:
            m = np.asarray(self.mean_scores[name], dtype=float).ravel()
            if m.size != k.size:
                raise ValueError(f"mean_scores[{name!r}] has {m.size} values, k_values {k.size}")
            s = None if self.std_scores is None else self.std_scores.get(name)
            s = None if s is None else np.asarray(s, dtype=float).ravel()
            if s is not None and s.size != k.size:
                raise ValueError(f"std_scores[{name!r}] has {s.size} values, k_values {k.size}")
            f = None if self.fold_scores is None else self.fold_scores.get(name)
            f = None if f is None else np.atleast_2d(np.asarray(f, dtype=float))
            if f is not None and f.shape[1] != k.size:
                raise ValueError(
                    f"fold_scores[{name!r}] has shape {f.shape}; need (n_folds, {k.size})"
                )
            out[name] = (m, s, f)
        return k, out

    def plot(
        self,
        ax=None,
        *,
        spread="band",
        xscale=None,
        line_kw=None,
        band_kw=None,
        fold_kw=None,
    ):
        """Draw the sweep.

        Parameters
        ----------
        ax : matplotlib Axes or sequence of Axes, default=None
            One Axes: every metric on it. One Axes per metric: one each. None: a new figure,
            one subplot per metric.
        spread : {"band", "folds", "both"} or None, default="band"
            How the spread across folds is drawn: a shaded band of mean ± 1 std, each
            fold's score as a point, both, or not at all.
        xscale : {"linear", "log"}, default=None
            Scale of the k axis; default: ``"log"`` when the largest k is at least 20 times
            the smallest (the seed's k values run from 1 to 100).
        line_kw, band_kw, fold_kw : dict, default=None
            Keywords for ``Axes.plot`` (mean lines), ``Axes.fill_between`` (bands) and
            ``Axes.scatter`` (fold points).

        Returns
        -------
        display : KSweepDisplay
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        from matplotlib.collections import PathCollection, PolyCollection
        from matplotlib.lines import Line2D

        if spread not in ("band", "folds", "both", None):
            raise ValueError(f"spread must be 'band', 'folds', 'both' or None; got {spread!r}")
        if xscale not in ("linear", "log", None):
            raise ValueError(f"xscale must be 'linear', 'log' or None; got {xscale!r}")
        k, data = self._validated()
        names = list(data)
        losses = set(self.lower_is_better)
        unknown = sorted(losses - set(names))
        if unknown:
            raise ValueError(f"lower_is_better names unknown metric(s) {unknown}; have {names}")
        want_band = spread in ("band", "both")
        want_folds = spread in ("folds", "both")
        if want_band and any(s is None for _, s, _ in data.values()):
            missing = [n for n, (_, s, f) in data.items() if s is None]
            raise ValueError(f"spread={spread!r} needs std_scores for {missing}")
        if want_folds and any(f is None for _, _, f in data.values()):
            missing = [n for n, (_, _, f) in data.items() if f is None]
            raise ValueError(f"spread={spread!r} needs fold_scores for {missing}")

        axes = _check_axes(ax, len(names), f"{type(self).__name__}.plot", allow_one=True)
        if ax is None:
            ncols = min(3, len(names))
            nrows = math.ceil(len(names) / ncols)
            fig, grid = plt.subplots(
                nrows,
                ncols,
                figsize=(6.5, 4.5) if len(names) == 1 else (4.3 * ncols, 3.3 * nrows),
                squeeze=False,
                layout="constrained",
            )
            grid = grid.ravel()
            for extra in grid[len(names) :]:
                extra.set_axis_off()
            axes = list(grid[: len(names)])
        elif len(axes) == 1 and len(names) > 1:
            axes = axes * len(names)
        one_axes = len(set(map(id, axes))) == 1
        shared = one_axes and len(names) > 1  # several metrics on one axes
        fig = axes[0].figure
        if xscale is None:
            xscale = "log" if k.min() > 0 and k.max() / k.min() >= 20 else "linear"

        n_folds = max((0 if f is None else f.shape[0]) for _, _, f in data.values())
        mean_label = f"mean over {n_folds} folds" if n_folds else "mean"
        self.lines_, self.bands_, self.fold_points_, self.best_markers_ = {}, {}, {}, {}
        self.best_k_lines_ = []
        for i, name in enumerate(names):
            a = axes[i]
            m, s, f = data[name]
            label = _pretty(name)
            if name in losses:
                label += " (lower is better)"
            # one metric per axes: the same colour in each, one legend for all
            defaults = {"marker": "o", "markersize": 4, "label": label if shared else mean_label}
            if shared:
                defaults["color"] = f"C{i}"
            (line,) = a.plot(k, m, **_style(defaults, line_kw, Line2D))
            color = line.get_color()
            self.lines_[name] = line
            self.bands_[name] = None
            self.fold_points_[name] = None
            if want_band:
                defaults = {"alpha": 0.2, "color": color, "linewidth": 0}
                defaults["label"] = None if shared else "± 1 std"
                kw = _style(defaults, band_kw, PolyCollection)
                self.bands_[name] = a.fill_between(k, m - s, m + s, **kw)
            if want_folds:
                defaults = {"s": 12, "color": color, "alpha": 0.5, "zorder": 3}
                defaults["label"] = None if shared else "fold scores"
                kw = _style(defaults, fold_kw, PathCollection)
                xs = np.broadcast_to(k, f.shape).ravel()
                self.fold_points_[name] = a.scatter(xs, f.ravel(), **kw)
            best = int(np.argmin(m) if name in losses else np.argmax(m))
            (marker,) = a.plot(
                [k[best]],
                [m[best]],
                linestyle="none",
                marker="*",
                markersize=13,
                color=color,
                markeredgecolor="black",
                markeredgewidth=0.6,
                zorder=4,
                label=None if shared else f"best {self.param_name}",
            )
            self.best_markers_[name] = marker
            if not shared:
                a.set_ylabel(label)
                a.set_title(f"{_pretty(name)}: best {self.param_name} = {k[best]}")

        for a in dict.fromkeys(axes):  # each distinct axes once, in order
            if self.best_k is not None:
                text = f"chosen {self.param_name} = {self.best_k}"
                if self.best_k_metric is not None:
                    text += f" (by {_pretty(self.best_k_metric).lower()})"
                self.best_k_lines_.append(
                    a.axvline(self.best_k, color="0.35", linestyle="--", linewidth=1, label=text)
                )
            a.set_xscale(xscale)
            if k.size <= 15:
                a.set_xticks(k, [str(v) for v in k], fontsize="small")
                a.minorticks_off()
            xlabel = "k (number of neighbours)" if self.param_name == "k" else self.param_name
            a.set_xlabel(xlabel)
            a.grid(True, alpha=0.3)
        spread_text = {
            "band": "mean ± 1 std",
            "folds": "mean and fold scores",
            "both": "mean ± 1 std and fold scores",
            None: "mean",
        }[spread]
        folds_text = f" over {n_folds} folds" if n_folds else ""
        title = f"Cross-validated scores against {self.param_name} ({spread_text}{folds_text})"
        handles, labels = axes[0].get_legend_handles_labels()
        if shared:
            star = Line2D(
                [],
                [],
                linestyle="none",
                marker="*",
                markersize=11,
                color="0.6",
                markeredgecolor="black",
                markeredgewidth=0.6,
            )
            axes[0].legend(
                [*handles, star],
                [*labels, f"best {self.param_name} of each metric"],
                fontsize="small",
            )
            axes[0].set_ylabel("score")
            axes[0].set_title(title)
        elif ax is None and len(axes) > 1:  # our figure: one legend, one title for all panels
            fig.legend(
                handles, labels, loc="outside lower center", ncols=len(handles), fontsize="small"
            )
            fig.suptitle(title, fontsize="medium")
        else:
            axes[0].legend(fontsize="small")
            if ax is None:
                fig.suptitle(title, fontsize="medium")

        self.ax_ = axes[0] if one_axes else None
        self.axes_ = np.array(axes, dtype=object)
        self.figure_ = fig
        return self
