"""Figures for genre models, after scikit-learn's Display classes.

Each display is made by a ``from_*`` class method (``from_estimator``, ``from_predictions``,
``from_results``) that computes what to draw and calls ``plot(ax=None, ...)``; ``plot`` can be
called again (on other axes, with other styling) and returns the display. The drawn artists
are kept as attributes ending in ``_`` (``figure_``, ``ax_``/``axes_``, ``lines_`` ...).

- :class:`KSweepDisplay`: ML-kNN's cross-validated scores against k (mean, spread across
  folds, best k), from :func:`posterml.ksweep` or a fitted :class:`posterml.MLkNNCV`.
- :class:`PerGenreDisplay`: precision, recall and F1 of each genre, with its support.
- :class:`GenreCooccurrenceDisplay`: how often genres go together, true next to predicted.
- :class:`CustomGenreConfusionDisplay`: confusion matrix of the custom-genre classes of
  :class:`posterml.labels.CustomGenreClassifier`.

matplotlib is an optional dependency (``pip install posterml[plot]``), imported only when a
display draws: importing this module does not import it.
"""

from posterml.plotting._confusion import CustomGenreConfusionDisplay
from posterml.plotting._genres import GenreCooccurrenceDisplay, PerGenreDisplay
from posterml.plotting._ksweep import KSweepDisplay

__all__ = [
    "CustomGenreConfusionDisplay",
    "GenreCooccurrenceDisplay",
    "KSweepDisplay",
    "PerGenreDisplay",
]
