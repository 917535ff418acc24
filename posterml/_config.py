"""Where posterml finds the real data and keeps its caches."""

import os
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


def get_cache_dir(subdir=None):
    """Return (and create) posterml's cache folder: ``$POSTERML_CACHE`` or ``~/.cache/posterml``."""
    base = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "posterml").expanduser()
    path = base / subdir if subdir else base
    path.mkdir(parents=True, exist_ok=True)
    return path
