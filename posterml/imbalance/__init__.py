"""Imbalance handling for multi-label genre prediction.

- Class weights: :func:`compute_log_class_weight` (seed paper 004's
  ``w_j = max(1, ln(mu * total / n_j))``), :func:`binary_class_weights` (per-genre
  ``class_weight`` dicts), :func:`multilabel_sample_weight` (one weight per movie) and
  :class:`PerGenreWeightedClassifier` (one weighted binary estimator per genre, for XGBoost,
  SVC, logistic regression...).
- Oversampling: :class:`MultilabelRandomOverSampler` (ML-ROS of Charte et al., 2015, or the
  N rarest genres), usable as a step of an ``imblearn.pipeline.Pipeline``, with the measures
  :func:`imbalance_ratio_per_label` (IRLbl) and :func:`mean_imbalance_ratio` (MeanIR).
"""

from ._class_weight import (
    PerGenreWeightedClassifier,
    binary_class_weights,
    compute_log_class_weight,
    multilabel_sample_weight,
)
from ._oversample import (
    MultilabelRandomOverSampler,
    imbalance_ratio_per_label,
    mean_imbalance_ratio,
)

__all__ = [
    "MultilabelRandomOverSampler",
    "PerGenreWeightedClassifier",
    "binary_class_weights",
    "compute_log_class_weight",
    "imbalance_ratio_per_label",
    "mean_imbalance_ratio",
    "multilabel_sample_weight",
]
