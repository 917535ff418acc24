"""Save and load fitted models: skops (safe, the default) or joblib (trusted files only).

A pickle or joblib file runs arbitrary code when it is loaded. A ``.skops`` file does not: it
lists the types it contains, and :func:`load_model` refuses any type that is neither trusted
by skops itself (scikit-learn, numpy, scipy ...) nor one of posterml's own
(:func:`trusted_types`) nor named by the caller. Every posterml estimator, MLkNN's FAISS index
included (it is stored as FAISS' own serialised bytes), round-trips with identical
predictions.

Examples
--------
>>> import numpy as np
>>> from posterml import MLkNN
>>> from posterml.persistence import load_model, save_model
>>> rng = np.random.default_rng(0)
>>> X, Y = rng.normal(size=(40, 3)), (rng.random((40, 2)) < 0.5).astype(int)
>>> model = MLkNN(k=3).fit(X, Y)
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "model.skops"
>>> save_model(model, path)
>>> bool((load_model(path).predict(X) == model.predict(X)).all())
True
"""

import importlib
import inspect
import pkgutil
import zipfile
from pathlib import Path

__all__ = ["UntrustedModelError", "load_model", "save_model", "trusted_types"]

_SKOPS = (".skops",)
_PICKLE = (".joblib", ".pkl", ".pickle")
# posterml internals held by fitted estimators (besides the estimators themselves)
_INTERNALS = (
    "posterml.neighbors._search.NeighborSearch",
    "posterml.neighbors._search._BatchedIVF",
    "posterml.imbalance._class_weight._ConstantGenre",
)
# harmless types skops does not trust by itself (e.g. a transformer's ``dtype=np.float32``)
_SAFE_EXTRA = ("numpy.dtype",)
# modules that define no estimator (or import optional extras) and need not be walked
_SKIP = ("posterml.cli", "posterml.distributed", "posterml.plotting")


class UntrustedModelError(ValueError):
    """A model file holds types that nobody said to trust."""


def _skops():
    try:
        import skops.io as sio
    except ImportError:
        raise ImportError(
            "saving and loading .skops files needs skops: pip install skops "
            "(or save to .joblib for files you will only load yourself)"
        ) from None
    return sio


def trusted_types():
    """Fully qualified names of posterml's own types that :func:`load_model` trusts.

    Every scikit-learn estimator class defined in posterml, the internal objects fitted
    estimators hold (the neighbour-search backend, its IVF lists, constant per-genre
    predictors), and ``numpy.dtype``. Pass ``trusted=`` to :func:`load_model` for other
    libraries' types (e.g. ``xgboost.sklearn.XGBClassifier``) after checking where the file
    comes from.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from posterml.persistence import trusted_types
    >>> "posterml.neighbors._mlknn.MLkNN" in trusted_types()
    True
    """
    from sklearn.base import BaseEstimator

    import posterml

    names = set(_INTERNALS) | set(_SAFE_EXTRA)
    for info in pkgutil.walk_packages(posterml.__path__, "posterml."):
        if info.name.startswith(_SKIP) or info.name == __name__:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # a module of an extra that is not installed
            continue
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and obj.__module__ == module.__name__
            ):
                names.add(f"{obj.__module__}.{obj.__qualname__}")
    return sorted(names)


def _kind(path, format):
    if format is not None:
        if format not in ("skops", "joblib"):
            raise ValueError(f"format must be 'skops' or 'joblib', got {format!r}")
        return format
    suffix = Path(path).suffix.lower()
    if suffix in _SKOPS:
        return "skops"
    if suffix in _PICKLE:
        return "joblib"
    raise ValueError(
        f"cannot tell the format of {str(path)!r} from its suffix {suffix!r}: use .skops "
        f"(safe) or one of {', '.join(_PICKLE)} (pickle: trusted files only), or pass format="
    )


def save_model(model, path, *, format=None):
    """Save a fitted model (any estimator or Pipeline) to ``path``.

    Parameters
    ----------
    model : estimator
    path : str or path-like
        ``.skops`` (safe to share) or ``.joblib`` / ``.pkl`` (fast; a pickle).
    format : {"skops", "joblib"}, optional
        Overrides the suffix.
    """
    kind = _kind(path, format)
    path = Path(path)
    if kind == "skops":
        sio = _skops()
        try:
            sio.dump(model, path)
        except (TypeError, NotImplementedError) as exc:  # an object skops cannot represent
            raise ValueError(
                f"{type(model).__name__} could not be saved as .skops ({exc}); save it to "
                ".joblib instead (a pickle: load it only yourself)"
            ) from exc
    else:
        import joblib

        joblib.dump(model, path)


def load_model(path, *, trusted=None, allow_pickle=False, format=None):
    """Load a model saved by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
    trusted : sequence of str, optional
        Extra type names to trust in a ``.skops`` file, beyond skops' defaults and
        :func:`trusted_types`.
    allow_pickle : bool, default=False
        A ``.joblib`` / ``.pkl`` file runs arbitrary code when loaded: it is refused unless
        this is True. Use it only for files you made yourself.
    format : {"skops", "joblib"}, optional
        Overrides the suffix.

    Returns
    -------
    estimator

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    UntrustedModelError
        If a ``.skops`` file holds types not trusted (the message lists them), or a pickle
        is loaded without ``allow_pickle=True``.
    ValueError
        If the file is not a valid model file of its format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    kind = _kind(path, format)
    if kind == "joblib":
        if not allow_pickle:
            raise UntrustedModelError(
                f"{str(path)!r} is a pickle (joblib) file, which can run arbitrary code when "
                "loaded; pass allow_pickle=True only for a file you made yourself, or save "
                "models to .skops to share them"
            )
        import joblib

        try:
            return joblib.load(path)
        except Exception as exc:  # pickle raises anything for a damaged file
            raise ValueError(f"{str(path)!r} is not a readable joblib model file: {exc}") from exc
    sio = _skops()
    try:
        found = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValueError(f"{str(path)!r} is not a valid .skops model file: {exc}") from exc
    allowed = set(trusted_types()) | set(trusted or ())
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise UntrustedModelError(
            f"{str(path)!r} holds types that are not trusted: {unknown}. If you trust the "
            "file's origin, pass them as load_model(path, trusted=[...])"
        )
    try:
        return sio.load(path, trusted=sorted(found))
    except Exception as exc:  # skops wraps many failures of damaged files
        raise ValueError(f"{str(path)!r} could not be loaded as a skops model: {exc}") from exc
