"""Dataset loaders: the real poster sets (AV, Kaggle MovieGenre, TMDb keywords), cleaning,
and seeded synthetic posters for tests and demos.

Every movie loader returns a :class:`sklearn.utils.Bunch` with ``frame`` (one row per
movie), ``Y`` (uint8 genre indicator matrix), ``genres`` (column names of ``Y``),
``report`` (every dropped or changed row, with the reason), ``root`` and ``DESCR``.

Faulty files never end in a parser traceback: malformed rows, wrong encodings, NUL bytes,
missing or repeated columns, odd genre spellings, duplicate ids and empty label sets give an
error naming the file, line, column or value, or a ``report`` row (see the Notes of
:func:`load_av_posters`); ``on_error="raise"`` turns an unreadable row into an error.
"""

from .._config import get_data_root
from ._av import load_av_posters
from ._common import clean_movies, logger, safe_join
from ._kaggle import load_movie_genre_csv
from ._sample import load_sample, predict_genres
from ._synthetic import make_posters
from ._tmdb import load_tmdb_keywords

__all__ = [
    "clean_movies",
    "load_av_posters",
    "load_dataset",
    "load_movie_genre_csv",
    "load_sample",
    "load_tmdb_keywords",
    "make_posters",
    "predict_genres",
    "safe_join",
]


def load_dataset(root=None, *, synthetic=False, n_synthetic=400, random_state=0, **kwargs):
    """The default dataset: the real AV posters where present, else synthetic posters.

    Parameters
    ----------
    root : str or Path, optional
        A data folder holding ``av-posters/``. When given it is loaded with
        :func:`load_av_posters` (errors included). When None,
        :func:`posterml._config.get_data_root` is asked; without a folder holding
        ``av-posters/train.csv`` the synthetic posters are made instead.
    synthetic : bool, default=False
        Make the synthetic posters even where real data is present.
    n_synthetic : int, default=400
        Number of synthetic posters when falling back to :func:`make_posters`.
    random_state : int, default=0
        Seed of the synthetic posters (the real data is not sampled).
    **kwargs
        Passed to :func:`load_av_posters` when the real data is used (e.g.
        ``min_support``, ``on_error``); ignored, with a log message, for the synthetic
        fallback.

    Returns
    -------
    sklearn.utils.Bunch
        As :func:`load_av_posters`, plus ``source``: ``"av-posters"`` or ``"synthetic"``.

    Examples
    --------
    >>> from posterml.datasets import load_dataset
    >>> data = load_dataset(n_synthetic=50)
    >>> data.source in ("av-posters", "synthetic")
    True
    """
    if synthetic and root is not None:
        raise ValueError("load_dataset: give either root or synthetic=True, not both")
    if root is None and not synthetic:
        try:
            found = get_data_root()
        except FileNotFoundError as exc:
            # A mistyped $POSTERML_DATA is worth a warning, not a crash of the demo.
            logger.warning("load_dataset: %s; using synthetic posters", exc)
            found = None
        if found is not None and (found / "av-posters" / "train.csv").is_file():
            root = found
    if root is not None:
        bunch = load_av_posters(root, **kwargs)
        bunch.source = "av-posters"
        return bunch
    if kwargs:
        logger.info(
            "load_dataset: no real data found; options %s apply to the real data only",
            sorted(kwargs),
        )
    bunch = make_posters(n_synthetic, random_state=random_state)
    bunch.source = "synthetic"
    return bunch
