"""Neighbour search (faiss GPU/CPU, torch CUDA, numpy) and the estimators built on it."""

from ._mlknn import MLkNN
from ._ovr import BinaryRelevanceKNN
from ._search import (
    NeighborSearch,
    PartitionedArray,
    available_backends,
    measure_recall,
    neighbor_recall,
)

__all__ = [
    "BinaryRelevanceKNN",
    "MLkNN",
    "NeighborSearch",
    "PartitionedArray",
    "available_backends",
    "measure_recall",
    "neighbor_recall",
]
