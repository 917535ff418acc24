"""Confusion matrix of seed paper 004's custom-genre classes."""

import numpy as np
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted

from posterml.plotting._base import _check_axes, _import_pyplot

__all__ = ["CustomGenreConfusionDisplay"]

_NORMALIZE_TEXT = {
    None: "",
    "true": " (normalised over the true classes)",
    "pred": " (normalised over the predicted classes)",
    "all": " (normalised over all movies)",
}


def _labels_1d(y, name):
    arr = np.asarray(y, dtype=object) if not hasattr(y, "dtype") else np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, one custom genre per movie; got shape {arr.shape} (encode "
            "genre sets with CustomGenreEncoder.transform, or use from_estimator)"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    return arr


class CustomGenreConfusionDisplay:
    """Confusion matrix of custom-genre classes (seed paper 004: ``AcAdDr``, ``Ho`` ...).

    Create it with :meth:`from_predictions` (class labels) or :meth:`from_estimator` (a
    fitted :class:`posterml.labels.CustomGenreClassifier` and the movies' genre sets). It
    draws with scikit-learn's :class:`~sklearn.metrics.ConfusionMatrixDisplay`.

    Parameters
    ----------
    confusion_matrix : ndarray of shape (n_classes, n_classes)
        Rows: true class; columns: predicted class.
    display_labels : sequence of str, default=None
        Class names; default ``0 .. n_classes - 1``.
    normalize : {None, "true", "pred", "all"}, default=None
        How the matrix was normalised (for the title).

    Attributes
    ----------
    im_ : matplotlib AxesImage
    text_ : ndarray of matplotlib Text of shape (n_classes, n_classes) or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    confusion_matrix_display_ : sklearn.metrics.ConfusionMatrixDisplay
        The scikit-learn display that drew the matrix.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from posterml.plotting import CustomGenreConfusionDisplay
    >>> y_true = ["Ho", "Ho", "ScFa", "AcCrTh"]
    >>> y_pred = ["Ho", "ScFa", "ScFa", "Ho"]
    >>> display = CustomGenreConfusionDisplay.from_predictions(y_true, y_pred)
    >>> display.confusion_matrix.tolist()
    [[0, 1, 0], [0, 1, 1], [0, 0, 1]]
    >>> [label.get_text() for label in display.ax_.get_xticklabels()]
    ['AcCrTh', 'Ho', 'ScFa']
    """

    def __init__(self, confusion_matrix, *, display_labels=None, normalize=None):
        self.confusion_matrix = confusion_matrix
        self.display_labels = display_labels
        self.normalize = normalize

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_pred,
        labels=None,
        *,
        normalize=None,
        sample_weight=None,
        ax=None,
        **kwargs,
    ):
        """Plot the confusion matrix of true and predicted custom genres.

        Parameters
        ----------
        y_true, y_pred : array-like of shape (n_samples,)
            One custom genre per movie.
        labels : sequence, default=None
            Classes (rows and columns) in order; default: those in ``y_true`` or ``y_pred``,
            sorted.
        normalize : {None, "true", "pred", "all"}, default=None
            As in :func:`sklearn.metrics.confusion_matrix`.
        sample_weight : array-like of shape (n_samples,), default=None
        ax : matplotlib Axes, default=None
        **kwargs
            ``include_values``, ``values_format``, ``cmap``, ``xticks_rotation``,
            ``colorbar``, ``im_kw``, ``text_kw``, as in :meth:`plot`.

        Returns
        -------
        display : CustomGenreConfusionDisplay
        """
        _import_pyplot(f"{cls.__name__}.from_predictions")
        from sklearn.metrics import confusion_matrix

        y_true = _labels_1d(y_true, "y_true")
        y_pred = _labels_1d(y_pred, "y_pred")
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"y_true and y_pred must have one label per movie each; got {y_true.size} and "
                f"{y_pred.size}"
            )
        if normalize not in (None, "true", "pred", "all"):
            raise ValueError(f"normalize must be None, 'true', 'pred' or 'all'; got {normalize!r}")
        if labels is None:
            labels = unique_labels(y_true, y_pred)
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.size == 0:
            raise ValueError(f"labels must be a non-empty 1-D sequence; got {labels!r}")
        cm = confusion_matrix(
            y_true, y_pred, labels=labels, sample_weight=sample_weight, normalize=normalize
        )
        display = cls(cm, display_labels=[str(v) for v in labels], normalize=normalize)
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, X, Y, labels=None, **kwargs):
        """Plot the confusion matrix of a fitted custom-genre classifier on ``X``.

        The true classes are the genre sets ``Y`` encoded by the classifier's own fitted
        ``encoder_``, exactly as :meth:`CustomGenreClassifier.score` does.

        Parameters
        ----------
        estimator : CustomGenreClassifier
            Fitted.
        X : array-like of shape (n_samples, n_features)
        Y : {array-like, sparse matrix} of shape (n_samples, n_genres), or list of lists
            The movies' genre sets, as ``CustomGenreClassifier.fit`` takes them.
        labels : sequence, default=None
            Classes in order; default: every class of ``estimator.encoder_``.
        **kwargs
            ``normalize``, ``sample_weight``, ``ax`` and the :meth:`plot` keywords.

        Returns
        -------
        display : CustomGenreConfusionDisplay
        """
        _import_pyplot(f"{cls.__name__}.from_estimator")
        if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
            raise TypeError(
                f"estimator must be a fitted CustomGenreClassifier; got {type(estimator).__name__}"
            )
        check_is_fitted(estimator)
        encoder = getattr(estimator, "encoder_", None)
        if encoder is None or not hasattr(encoder, "transform"):
            raise TypeError(
                f"{type(estimator).__name__} has no fitted encoder_: from_estimator takes a "
                "CustomGenreClassifier; for other classifiers use from_predictions"
            )
        y_true = encoder.transform(Y)
        y_pred = estimator.predict(X)
        if labels is None:
            labels = encoder.classes_
        return cls.from_predictions(y_true, y_pred, labels, **kwargs)

    def plot(
        self,
        ax=None,
        *,
        include_values=True,
        values_format=None,
        cmap="Blues",
        xticks_rotation=45,
        colorbar=True,
        im_kw=None,
        text_kw=None,
    ):
        """Draw the matrix.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; default: a new figure.
        include_values : bool, default=True
            Write each cell's value.
        values_format : str, default=None
            Default: ``"d"`` for counts, ``".2f"`` normalised.
        cmap : str or matplotlib Colormap, default="Blues"
        xticks_rotation : {"vertical", "horizontal"} or float, default=45
        colorbar : bool, default=True
        im_kw, text_kw : dict, default=None
            Keywords for ``Axes.imshow`` and ``Axes.text``.

        Returns
        -------
        display : CustomGenreConfusionDisplay
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        from sklearn.metrics import ConfusionMatrixDisplay

        cm = np.asarray(self.confusion_matrix)
        if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
            raise ValueError(f"confusion_matrix must be a square matrix; got shape {cm.shape}")
        labels = self.display_labels
        if labels is not None and len(labels) != cm.shape[0]:
            raise ValueError(
                f"display_labels has {len(labels)} names but the matrix is "
                f"{cm.shape[0]} x {cm.shape[0]}"
            )
        if self.normalize not in _NORMALIZE_TEXT:
            raise ValueError(
                f"normalize must be None, 'true', 'pred' or 'all'; got {self.normalize!r}"
            )
        axes = _check_axes(ax, 1, f"{type(self).__name__}.plot")
        if axes is None:
            side = max(5.0, 0.6 * cm.shape[0] + 2.5)
            _, ax = plt.subplots(figsize=(side + 1, side), layout="constrained")
        else:
            ax = axes[0]
        if values_format is None and cm.dtype.kind == "f":
            values_format = ".2f"  # sklearn's ".2g" writes 0.0039 beside 0.5
        inner = ConfusionMatrixDisplay(cm, display_labels=labels).plot(
            include_values=include_values,
            values_format=values_format,
            cmap=cmap,
            xticks_rotation=xticks_rotation,
            colorbar=colorbar,
            im_kw=im_kw,
            text_kw=text_kw,
            ax=ax,
        )
        if not isinstance(xticks_rotation, str):
            plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
        ax.set_xlabel("Predicted custom genre")
        ax.set_ylabel("True custom genre")
        ax.set_title("Custom-genre confusion matrix" + _NORMALIZE_TEXT[self.normalize])
        self.confusion_matrix_display_ = inner
        self.im_ = inner.im_
        self.text_ = inner.text_
        self.ax_ = inner.ax_
        self.figure_ = inner.figure_
        return self
