"""Feature extractors: scikit-learn transformers from posters to float feature matrices."""

from posterml.features._pixels import PixelFlattener

__all__ = ["PixelFlattener"]
