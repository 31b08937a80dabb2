"""Sphinx configuration: ``pip install -e '.[docs]'`` then ``python -m sphinx -W -b html docs docs/_build/html``.

The build runs the quick tour (the course pages embed its computed verdicts and figures), executes the
tutorials (MyST notebooks) and writes the API pages from each module's ``__all__``: see ``_ext/jaxml_docs.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # `experiments` from the checkout

import jaxml  # noqa: E402

project = "jaxml"
author = "the jaxml maintainers"
copyright = "2026, the jaxml maintainers"
release = version = jaxml.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "jaxml_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_tour", "_ext", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
html_theme = "furo"
html_title = f"jaxml {release}"

# autodoc: Google-style docstrings, signatures with their type hints, one page per public name
autosummary_generate = True
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True
strip_signature_backslash = True  # napoleon escapes a parameter's trailing underscore (provenance_)
add_module_names = False

# MyST and its notebooks: the tutorials execute at every build; an error in a cell fails the build
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_merge_streams = True
os.environ.setdefault("JAX_PLATFORMS", "cpu")
