import os
from pathlib import Path

import pytest
from hypothesis import settings

from posterml._config import get_data_root

# CI replays the same hypothesis examples on every run (a derandomized database-free search),
# so that a landing is reproducible; locally every run draws new examples to hunt for bugs.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _real_data_root():
    try:
        root = get_data_root()
    except FileNotFoundError:
        return None
    if root is None or not (root / "av-posters" / "train.csv").is_file():
        return None
    return root


@pytest.fixture(scope="session")
def data_root():
    """The real shared data (../shared/data or $POSTERML_DATA); skip where it is absent."""
    root = _real_data_root()
    if root is None:
        pytest.skip(
            "real data absent: set POSTERML_DATA or place shared/data beside the checkout "
            f"(looked from {Path.cwd()}, POSTERML_DATA={os.environ.get('POSTERML_DATA')!r})"
        )
    return root


@pytest.fixture(scope="module")
def posterml_cache(tmp_path_factory):
    """A private ``$POSTERML_CACHE`` for one test module (ONNX exports and CNN caches)."""
    root = tmp_path_factory.mktemp("posterml-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POSTERML_CACHE", str(root))
        yield root
