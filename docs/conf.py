"""Sphinx configuration of the posterml documentation.

Build (warnings are errors)::

    make docs
    # or: sphinx-build -W --keep-going -b html docs docs/_build/html
"""

import importlib
import pkgutil
import re
import sys
from pathlib import Path

import matplotlib
from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer

matplotlib.use("Agg")  # the plot directive draws without a display

DOCS = Path(__file__).resolve().parent
# Build from the checkout even where posterml is not installed.
sys.path.insert(0, str(DOCS.parent))

import posterml  # noqa: E402

project = "posterml"
author = "the posterml developers"
copyright = "the posterml developers"
release = posterml.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints"]
root_doc = "index"
nitpicky = False
# No intersphinx: the build never fetches remote inventories.

# ---------------------------------------------------------------- autodoc / autosummary
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # the numpydoc Parameters sections say it all
add_module_names = False

# ---------------------------------------------------------------- numpydoc
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
numpydoc_xref_param_type = False

# ---------------------------------------------------------------- plot directive
plot_include_source = True
plot_html_show_formats = False
plot_html_show_source_link = False
plot_formats = [("png", 90)]
plot_rcparams = {"figure.dpi": 90, "savefig.bbox": "tight"}
plot_apply_rcparams = True
plot_pre_code = ""

# ---------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"posterml {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
html_copy_source = False


# ---------------------------------------------------------------- docstring fix-ups
# numpydoc renders a parameter's type as reST, where a word ending in "_" is a hyperlink
# reference: ``default="kw_"`` or ``shape (n, len(genres_))`` would point at "kw" and
# "genres". Escape those underscores in the type part of the rendered lines (after
# numpydoc, hence priority 600); lines with roles or literals are left alone.
_TYPE_LINE = re.compile(r"^(\s*\*\*[^*]+\*\* : )(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?![\w])")


def _escape_type_underscores(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match and "`" not in match.group(2):
            lines[i] = match.group(1) + _TRAILING_UNDERSCORE.sub(r"\\_", match.group(2))


# scikit-learn generates set_{method}_request methods on every estimator (metadata
# routing); their docstrings point into scikit-learn's own glossary, and they are not
# posterml's API.
_SKLEARN_REQUEST = re.compile(r"^set_\w+_request$")


def _skip_sklearn_members(app, what, name, obj, skip, options):
    if _SKLEARN_REQUEST.match(name):
        return True
    return None


# A public constant is re-exported by its package but documented (``#:`` comment or string
# after the assignment) in the private module that defines it, where autodoc does not look:
# it would show the docstring of ``tuple`` or ``dict`` instead. Take it from there.
def _data_docstring(app, what, name, obj, options, lines):
    if what != "data":
        return
    package, attr = name.rsplit(".", 1)
    path = getattr(importlib.import_module(package), "__path__", None)
    for info in pkgutil.iter_modules(path or []):
        try:
            docs = ModuleAnalyzer.for_module(f"{package}.{info.name}").find_attr_docs()
        except PycodeError:
            continue
        if ("", attr) in docs:
            lines[:] = list(docs[("", attr)])
            return
    if lines and type(obj).__doc__ and lines[0] in type(obj).__doc__:
        lines[:] = []


def setup(app):
    app.connect("autodoc-process-docstring", _data_docstring, priority=400)
    app.connect("autodoc-process-docstring", _escape_type_underscores, priority=600)
    app.connect("autodoc-skip-member", _skip_sklearn_members)
