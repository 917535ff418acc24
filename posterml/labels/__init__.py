"""Label-side tools for genre models: custom genres, per-genre thresholds, top-k genres.

- :class:`CustomGenreEncoder` / :class:`CustomGenreClassifier`: seed paper 004's custom
  genres, one coarse class per movie by majority vote of its IMDb genres
  (:data:`DEFAULT_CUSTOM_GENRES`).
- :class:`PerGenreThresholdClassifier`: one decision threshold per genre, tuned by
  cross-validation (scikit-learn's ``TunedThresholdClassifierCV`` is binary only).
- :class:`TopKGenreClassifier` / :func:`top_k_genres`: seed paper 002's "three most probable
  genres" of each poster.
"""

from ._custom_genre import (
    DEFAULT_CUSTOM_GENRES,
    IMDB_GENRES,
    CustomGenreClassifier,
    CustomGenreEncoder,
)
from ._thresholds import PerGenreThresholdClassifier
from ._top_k import TopKGenreClassifier, top_k_genres

__all__ = [
    "DEFAULT_CUSTOM_GENRES",
    "IMDB_GENRES",
    "CustomGenreClassifier",
    "CustomGenreEncoder",
    "PerGenreThresholdClassifier",
    "TopKGenreClassifier",
    "top_k_genres",
]
