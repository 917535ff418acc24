"""Where posterml finds the real data and keeps its caches; how it writes its outputs."""

import os
import uuid
from pathlib import Path

DATA_ENV = "POSTERML_DATA"
CACHE_ENV = "POSTERML_CACHE"


def _default_data_candidates():
    # `../shared/data` relative to the working directory (a checkout beside shared/),
    # then relative to the source tree (an editable install run from elsewhere).
    yield Path.cwd() / ".." / "shared" / "data"
    yield Path(__file__).resolve().parents[2] / "shared" / "data"


def get_data_root(root=None):
    """Return the real-data folder, or ``None`` where none is configured or present.

    Parameters
    ----------
    root : str or Path, optional
        Explicit folder. When given it must exist.

    Returns
    -------
    Path or None
        ``root``; else ``$POSTERML_DATA``; else ``../shared/data`` when it exists.

    Raises
    ------
    FileNotFoundError
        If ``root`` or ``$POSTERML_DATA`` is given but is not a folder.
    """
    if root is not None:
        path = Path(root).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"data folder {str(path)!r} does not exist")
        return path.resolve()
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"${DATA_ENV} points to {env!r}, which is not a folder")
        return path.resolve()
    for candidate in _default_data_candidates():
        if candidate.is_dir():
            return candidate.resolve()
    return None


def get_cache_base():
    """posterml's cache folder, not created: where :func:`get_cache_dir` puts its subfolders.

    Returns
    -------
    Path
        ``$POSTERML_CACHE``; else ``$XDG_CACHE_HOME/posterml``; else ``~/.cache/posterml``;
        absolute (a relative variable is taken from the working directory once, here, so
        that a later ``chdir`` cannot move the cache).
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        base = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        # The XDG spec ignores a relative value.
        if xdg and Path(xdg).expanduser().is_absolute():
            base = Path(xdg).expanduser() / "posterml"
        else:
            base = Path.home() / ".cache" / "posterml"
    return Path(os.path.abspath(base))


def get_cache_dir(subdir=None):
    """Return (and create) posterml's cache folder or one of its subfolders.

    The folder is :func:`get_cache_base`: ``$POSTERML_CACHE``, else
    ``$XDG_CACHE_HOME/posterml``, else ``~/.cache/posterml``. posterml writes nothing else
    on its own: synthetic posters, the ONNX export and the CNN embedding cache live here
    unless a call names another folder.

    Parameters
    ----------
    subdir : str, optional
        A subfolder name such as ``"cnn"`` (one path component).

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        If ``subdir`` is not a plain folder name.
    OSError
        If the folder cannot be created; the message names it and ``$POSTERML_CACHE``.
    """
    base = get_cache_base()
    if subdir:
        if Path(subdir).name != subdir or subdir in (".", ".."):
            raise ValueError(f"subdir must be a plain folder name, got {subdir!r}")
        path = base / subdir
    else:
        path = base
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot create the posterml cache folder {str(path)!r} ({exc.strerror}); set "
            f"${CACHE_ENV} to a writable folder",
        ) from exc
    return path


def atomic_write(path, write):
    """``write(file)`` into a unique temporary file beside ``path``, then os.replace it.

    A failure (or Ctrl-C) leaves no half-written ``path`` and no temporary file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fp:
            write(fp)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
