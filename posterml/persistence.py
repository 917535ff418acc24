"""Save and load fitted models: skops (safe, the default) or joblib (trusted files only).

A pickle or joblib file runs arbitrary code when it is loaded. A ``.skops`` file does not: it
lists the types it contains, and :func:`load_model` refuses any type that is neither trusted
by skops itself (scikit-learn, numpy, scipy ...) nor one of posterml's own
(:func:`trusted_types`) nor named by the caller. Types that can run programs or code
(``os.system``, ``builtins.eval``, ``subprocess.*`` ...) are refused even when named. Every
posterml estimator, MLkNN's FAISS index included (it is stored as FAISS' own serialised
bytes), round-trips with identical predictions.

A ``.skops`` file written by :func:`save_model` also holds a small ``posterml.json`` entry
(posterml version and model-file format), so that a file from a newer, incompatible posterml
is refused with a message naming both versions instead of failing inside skops.

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

import functools
import importlib
import inspect
import json
import os
import pkgutil
import sys
import uuid
import warnings
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

# The entry save_model adds to a .skops archive, and the newest layout this version reads.
_META = "posterml.json"
_MODEL_FORMAT = 1

# Types that run programs, evaluate code, import modules, touch files or sockets, or
# unpickle: no fitted model holds one, so a file naming one is refused even with trusted=.
_DANGEROUS_MODULES = (
    "os",
    "posix",
    "nt",
    "subprocess",
    "sys",
    "shutil",
    "importlib",
    "pickle",
    "_pickle",
    "marshal",
    "runpy",
    "pty",
    "socket",
    "ctypes",
    "code",
    "codeop",
    "webbrowser",
    "multiprocessing",
    "asyncio",
    "tempfile",
    "joblib",
    "cloudpickle",
    "dill",
    "yaml",
    "skops",
    "torch",
    "pydoc",
    "inspect",
    "gc",
    "signal",
    "threading",
    "_thread",
)
_DANGEROUS_NAMES = frozenset(
    f"builtins.{name}"
    for name in (
        "eval",
        "exec",
        "compile",
        "__import__",
        "open",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "input",
        "breakpoint",
        "help",
        "exit",
        "quit",
        "memoryview",
    )
) | frozenset(
    {
        "operator.attrgetter",
        "operator.methodcaller",
        "io.open",
        "_io.open",
        "io.open_code",
        "_io.open_code",
        "io.FileIO",
        "_io.FileIO",
        "numpy.load",
        "numpy.lib.npyio.load",
        "numpy.fromfile",
        "numpy.save",
        "numpy.savez",
        "pandas.read_pickle",
        "pandas.io.pickle.read_pickle",
    }
)

# First bytes of a pickle (protocols 2-5) and of the compressed streams joblib writes.
_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x04\x22\x4d\x18", b"ZF")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class UntrustedModelError(ValueError):
    """A model file holds types that nobody said to trust (or that are never trusted).

    Attributes
    ----------
    reason : {"untrusted", "dangerous", "pickle", "changed"}
        Types not trusted (``types`` lists them: they may be passed as ``trusted=``), types
        that are never trusted, a pickle loaded without ``allow_pickle=True`` (or disguised
        as ``.skops``), or a file replaced while it was loaded.
    types : list of str
        The offending type names (empty for a pickle).
    """

    def __init__(self, message, *, reason="untrusted", types=()):
        super().__init__(message)
        self.reason = reason
        self.types = list(types)


def _skops():
    try:
        import skops.io as sio
    except ImportError:
        raise ImportError(
            "saving and loading .skops files needs skops: pip install skops "
            "(or save to .joblib for files you will only load yourself)"
        ) from None
    return sio


def _is_dangerous(name):
    """Whether a fully qualified type name is one :func:`load_model` never trusts."""
    name = str(name)
    if name in _DANGEROUS_NAMES:
        return True
    return any(name == m or name.startswith(m + ".") for m in _DANGEROUS_MODULES)


@functools.lru_cache(maxsize=1)
def _trusted_types():
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
    return tuple(sorted(names))


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
    return list(_trusted_types())


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


def _sniff(head):
    """``"zip"``, ``"pickle"`` or None from a file's first bytes."""
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_PICKLE_MAGIC) or head.startswith(_COMPRESSED_MAGIC):
        return "pickle"
    # zlib (joblib's default compressor): 0x78 then a check byte making a multiple of 31
    if len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        return "pickle"
    return None


def _check_trusted(trusted):
    if trusted is None:
        return []
    if isinstance(trusted, str):
        return [trusted]
    if isinstance(trusted, bool) or not hasattr(trusted, "__iter__"):
        raise TypeError(
            f"trusted must be a list of type names such as ['xgboost.sklearn.XGBClassifier'], "
            f"got {trusted!r}"
        )
    names = list(trusted)
    bad = [t for t in names if not isinstance(t, str)]
    if bad:
        raise TypeError(f"trusted must hold type names (str), got {bad[0]!r}")
    return names


def _output_path(path, overwrite, hint="pass overwrite=True"):
    """Check that ``path`` can be written, before any work; return it as a Path."""
    path = Path(os.fspath(path))
    text = str(path)
    if path.is_dir():
        raise IsADirectoryError(f"{text!r} is a folder: give a file name inside it")
    parent = path.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"cannot save {text!r}: the folder {str(parent)!r} does not exist")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{text!r} exists: {hint} to replace it")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot save {text!r}: the folder {str(parent)!r} is not writable")
    return path


def _meta(model):
    import sklearn

    from posterml import __version__

    cls = type(model)
    return {
        "posterml_version": __version__,
        "model_format": _MODEL_FORMAT,
        "sklearn_version": sklearn.__version__,
        "class": f"{cls.__module__}.{cls.__qualname__}",
    }


def save_model(model, path, *, format=None, overwrite=True):
    """Save a fitted model (any estimator or Pipeline) to ``path``.

    The file is written under a temporary name beside ``path`` and moved into place when
    complete: a failure (an object skops cannot represent, a full disk) never leaves a
    truncated file, nor destroys an earlier file of that name.

    Parameters
    ----------
    model : estimator
    path : str or path-like
        ``.skops`` (safe to share) or ``.joblib`` / ``.pkl`` (fast; a pickle).
    format : {"skops", "joblib"}, optional
        Overrides the suffix.
    overwrite : bool, default=True
        Replace an existing file. With False, an existing ``path`` raises FileExistsError.

    Raises
    ------
    ValueError
        If the format cannot be told from the suffix, or skops cannot represent an object
        of the model (the message suggests ``.joblib``).
    FileNotFoundError, FileExistsError, IsADirectoryError, PermissionError
        If the folder of ``path`` does not exist, ``path`` exists and ``overwrite=False``,
        ``path`` is a folder, or the folder is not writable; checked before writing.
    """
    kind = _kind(path, format)
    path = _output_path(path, overwrite)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        if kind == "skops":
            sio = _skops()

            def dump(fp):
                try:
                    sio.dump(model, fp)
                except (TypeError, NotImplementedError) as exc:  # an object skops cannot hold
                    raise ValueError(
                        f"{type(model).__name__} could not be saved as .skops ({exc}); save it "
                        "to .joblib instead (a pickle: load it only yourself)"
                    ) from exc

            _write(tmp, path, dump)
            lost = _unloadable(sio.get_untrusted_types(file=tmp))
            if lost:
                raise ValueError(
                    f"{type(model).__name__} could not be saved as .skops: it holds {lost}, "
                    "which cannot be found by name when loading (a lambda or a function "
                    "defined inside another); use a function defined at module level"
                )
            with zipfile.ZipFile(tmp, "a") as archive:
                archive.writestr(_META, json.dumps(_meta(model)))
        else:
            import joblib

            def dump(fp):
                try:
                    joblib.dump(model, fp)
                except OSError:
                    raise
                except Exception as exc:  # PicklingError, or TypeError for a lock, a lambda
                    raise ValueError(
                        f"{type(model).__name__} could not be pickled to {str(path)!r}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc

            _write(tmp, path, dump)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _unloadable(names):
    """Type names skops wrote that no module provides under that name (lambdas, locals)."""
    lost = []
    for name in names:
        module, _, attr = name.rpartition(".")
        loaded = sys.modules.get(module)
        if "<" in name or (loaded is not None and not hasattr(loaded, attr)):
            lost.append(name)
    return sorted(lost)


def _write(tmp, path, write):
    """``write(file)`` into ``tmp``; an OSError names ``path``, not the temporary file."""
    try:
        with open(tmp, "wb") as fp:
            write(fp)
    except OSError as exc:
        if exc.errno is None:
            raise
        raise OSError(exc.errno, f"cannot write {str(path)!r} ({exc.strerror})") from exc


def _read_model_file(path):
    path = Path(os.fspath(path))
    text = str(path)
    if path.is_dir():
        raise IsADirectoryError(f"model path {text!r} is a folder, not a model file")
    if not path.exists():
        raise FileNotFoundError(f"model file {text!r} does not exist")
    if not path.is_file():  # a FIFO or device: reading could block or never end
        raise ValueError(f"model path {text!r} is not a regular file")
    with open(path, "rb") as fp:
        head = fp.read(8)
    if not head:
        raise ValueError(f"model file {text!r} is empty (0 bytes)")
    return path, head


def _check_meta(text, path):
    """Refuse a file from a newer, incompatible posterml; warn on another version."""
    try:
        with zipfile.ZipFile(path) as archive:
            if _META not in archive.namelist():
                return  # written by skops.io.dump or by an older posterml
            meta = json.loads(archive.read(_META))
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as exc:
        raise ValueError(f"{text!r} is not a valid .skops model file: {exc}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{text!r} is not a valid .skops model file: {_META} is not an object")
    from posterml import __version__

    saved = meta.get("posterml_version", "unknown")
    fmt = meta.get("model_format")
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
        raise ValueError(
            f"{text!r} is not a valid .skops model file: model_format {fmt!r} in {_META}"
        )
    if fmt > _MODEL_FORMAT:
        raise ValueError(
            f"{text!r} was saved by posterml {saved} in model-file format {fmt}; this posterml "
            f"({__version__}) reads format {_MODEL_FORMAT} at most: upgrade posterml to load it"
        )
    if saved != __version__:
        warnings.warn(
            f"{text!r} was saved by posterml {saved} and is loaded by posterml {__version__}; "
            "check its predictions, or train it again with this version",
            UserWarning,
            stacklevel=3,
        )


def load_model(path, *, trusted=None, allow_pickle=False, format=None):
    """Load a model saved by :func:`save_model`.

    The format is the file's suffix's (or ``format``), except that a zip
    archive is always read as skops (which runs no code) and a pickle never is: a pickle
    named ``.skops`` is refused, whatever ``allow_pickle``, unless ``format="joblib"``.

    Parameters
    ----------
    path : str or path-like
    trusted : str or sequence of str, optional
        Extra type names to trust in a ``.skops`` file, beyond skops' defaults and
        :func:`trusted_types`. Types that run programs or code (``os.*``, ``subprocess.*``,
        ``builtins.eval`` ...; no fitted model holds one) are never trusted.
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
    IsADirectoryError
        If ``path`` is a folder.
    UntrustedModelError
        If a ``.skops`` file holds types not trusted (the message lists them), or a pickle
        is loaded without ``allow_pickle=True``.
    ValueError
        If the file is empty, not a valid model file of its format, or was saved by a newer
        posterml in a format this one cannot read.
    TypeError
        If ``trusted`` is not a list of type names.
    """
    extra = _check_trusted(trusted)
    if format is not None:
        _kind(path, format)
    path, head = _read_model_file(path)
    text = str(path)
    sniffed = _sniff(head)
    if sniffed == "zip":
        kind = "skops"  # safe whatever the suffix: skops runs no code
    elif format is not None:
        kind = format
    elif path.suffix.lower() in _SKOPS and sniffed == "pickle":
        raise UntrustedModelError(
            f"{text!r} is named .skops but holds a pickle (joblib) file, which can run "
            "arbitrary code when loaded; if you made it yourself, load it with "
            "load_model(path, format='joblib', allow_pickle=True)",
            reason="pickle",
        )
    elif path.suffix.lower() not in _SKOPS + _PICKLE and sniffed == "pickle":
        raise ValueError(
            f"{text!r} looks like a pickle (joblib) file but has the suffix "
            f"{path.suffix.lower()!r}; if you made it yourself, load it with "
            "load_model(path, format='joblib', allow_pickle=True)"
        )
    else:
        kind = _kind(path, None)
    if kind == "joblib":
        if not allow_pickle:
            raise UntrustedModelError(
                f"{text!r} is a pickle (joblib) file, which can run arbitrary code when "
                "loaded; pass allow_pickle=True only for a file you made yourself, or save "
                "models to .skops to share them",
                reason="pickle",
            )
        import joblib

        try:
            return joblib.load(path)
        except Exception as exc:  # pickle raises anything for a damaged file
            raise ValueError(
                f"{text!r} is not a readable joblib model file: {type(exc).__name__}: {exc}"
            ) from exc
    sio = _skops()
    try:
        found = sio.get_untrusted_types(file=path)
    except Exception as exc:  # zip, JSON and schema errors of a damaged or foreign file
        raise ValueError(
            f"{text!r} is not a valid .skops model file: {type(exc).__name__}: {exc}"
        ) from exc
    _check_meta(text, path)
    dangerous = sorted(t for t in set(found) if _is_dangerous(t))
    if dangerous:
        raise UntrustedModelError(
            f"{text!r} holds types that can run programs or code: {dangerous}. No model "
            "needs them: the file is refused even with trusted=; do not use it",
            reason="dangerous",
            types=dangerous,
        )
    allowed = set(trusted_types()) | set(extra)
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise UntrustedModelError(
            f"{text!r} holds types that are not trusted: {unknown}. If you trust the "
            "file's origin, pass them as load_model(path, trusted=[...])",
            types=unknown,
        )
    # skops audits the file again while loading, against exactly the types checked here: a
    # file replaced in between cannot bring in another type.
    try:
        return sio.load(path, trusted=sorted(found))
    except sio.exceptions.UntrustedTypesFoundException as exc:
        raise UntrustedModelError(
            f"{text!r} changed while it was loaded and now holds other types ({exc})",
            reason="changed",
        ) from exc
    except Exception as exc:  # skops wraps many failures of damaged files
        raise ValueError(
            f"{text!r} could not be loaded as a skops model: {type(exc).__name__}: {exc}"
        ) from exc
