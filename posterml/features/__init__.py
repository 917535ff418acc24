"""Feature extractors: scikit-learn transformers from posters and movie data to float matrices.

``CNNEmbedder`` needs the ``cnn`` extra (torch, the EfficientNet-Lite0 weights package,
onnxruntime); importing this module does not import torch.
"""

from posterml.features._cnn import CNNEmbedder
from posterml.features._color import DominantColorBrightness
from posterml.features._fusion import BlockWeighter, make_fusion_features, make_fusion_pipeline
from posterml.features._keywords import KeywordBagOfWords
from posterml.features._metadata import MovieMetadata
from posterml.features._pixels import PixelFlattener

__all__ = [
    "BlockWeighter",
    "CNNEmbedder",
    "DominantColorBrightness",
    "KeywordBagOfWords",
    "MovieMetadata",
    "PixelFlattener",
    "make_fusion_features",
    "make_fusion_pipeline",
]
