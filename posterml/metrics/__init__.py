"""Multi-label metrics and scikit-learn scorers for genre prediction.

The metrics take binary indicator matrices ``(n_samples, n_labels)``; they agree with
scikit-learn where it has the same metric, and name honestly the quantities the seed projects
reported (see :func:`predicted_subset_match`).
"""

from posterml.metrics._multilabel import (
    all_match,
    at_least_one_match,
    binary_accuracy,
    hamming_loss,
    overall_f1,
    overall_precision,
    overall_recall,
    per_genre_report,
    predicted_subset_match,
    seed_metrics,
    top_k_accuracy,
    top_k_precision,
    weighted_f1,
)
from posterml.metrics._scorers import SCORERS, get_scorer, get_scorer_names, make_top_k_scorer

__all__ = [
    "SCORERS",
    "all_match",
    "at_least_one_match",
    "binary_accuracy",
    "get_scorer",
    "get_scorer_names",
    "hamming_loss",
    "make_top_k_scorer",
    "overall_f1",
    "overall_precision",
    "overall_recall",
    "per_genre_report",
    "predicted_subset_match",
    "seed_metrics",
    "top_k_accuracy",
    "top_k_precision",
    "weighted_f1",
]
