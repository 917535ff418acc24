"""Multi-label splits by movie id, and the one-search ML-kNN k-sweep."""

from ._ksweep import SEED_K_VALUES, MLkNNCV, ksweep
from ._split import (
    MultilabelStratifiedGroupKFold,
    multilabel_train_test_split,
    train_dev_test_split,
)

__all__ = [
    "SEED_K_VALUES",
    "MLkNNCV",
    "MultilabelStratifiedGroupKFold",
    "ksweep",
    "multilabel_train_test_split",
    "train_dev_test_split",
]
