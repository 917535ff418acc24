"""posterml: predict movie genres from posters with scikit-learn-compatible classical ML.

Heavy submodules are imported lazily: ``import posterml`` is cheap and changes no global
state of other libraries. Public names are re-exported here, e.g.::

    from posterml import MLkNN, PixelFlattener, load_av_posters
"""

from importlib import import_module

__version__ = "0.1.0.dev0"

# public name -> submodule that defines it
_LAZY = {
    # io
    "read_poster": "posterml.io",
    "PosterReader": "posterml.io",
    "PosterReadError": "posterml.io",
    # datasets
    "load_av_posters": "posterml.datasets",
    "load_movie_genre_csv": "posterml.datasets",
    "load_tmdb_keywords": "posterml.datasets",
    "make_posters": "posterml.datasets",
    "load_dataset": "posterml.datasets",
    "load_sample": "posterml.datasets",
    "predict_genres": "posterml.datasets",
    # features
    "PixelFlattener": "posterml.features",
    "DominantColorBrightness": "posterml.features",
    "KeywordBagOfWords": "posterml.features",
    "MovieMetadata": "posterml.features",
    "CNNEmbedder": "posterml.features",
    "BlockWeighter": "posterml.features",
    "make_fusion_features": "posterml.features",
    "make_fusion_pipeline": "posterml.features",
    # neighbors
    "MLkNN": "posterml.neighbors",
    "BinaryRelevanceKNN": "posterml.neighbors",
    "NeighborSearch": "posterml.neighbors",
    # imbalance
    "MultilabelRandomOverSampler": "posterml.imbalance",
    "PerGenreWeightedClassifier": "posterml.imbalance",
    "compute_log_class_weight": "posterml.imbalance",
    # model selection
    "MLkNNCV": "posterml.model_selection",
    "ksweep": "posterml.model_selection",
    "PartitionedArray": "posterml.neighbors",
    # plotting (matplotlib imported when a display draws)
    "KSweepDisplay": "posterml.plotting",
    "PerGenreDisplay": "posterml.plotting",
    "GenreCooccurrenceDisplay": "posterml.plotting",
    "CustomGenreConfusionDisplay": "posterml.plotting",
    # persistence
    "save_model": "posterml.persistence",
    "load_model": "posterml.persistence",
    # labels
    "CustomGenreEncoder": "posterml.labels",
    "CustomGenreClassifier": "posterml.labels",
    "PerGenreThresholdClassifier": "posterml.labels",
    "TopKGenreClassifier": "posterml.labels",
    "top_k_genres": "posterml.labels",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'posterml' has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
