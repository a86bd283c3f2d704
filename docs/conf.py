"""Sphinx configuration of the skmrl documentation site.

Build it with ``make docs`` (``sphinx-build -W --keep-going -b html docs docs/_build/html``):
warnings are errors. The build makes no network call (no intersphinx inventories), and the
gallery runs every example of ``examples/`` whose needs are met here (see ``_skmrl_docs.py``:
the shared data folder, BBC News, the packaged MiniLM); the others are shown without being run.
``-D plot_gallery=0`` skips running the examples, for a quick look at the pages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: the gallery draws off-screen

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # _skmrl_docs: the gallery's helpers and the skmrl-help directive

import _skmrl_docs  # noqa: E402

import skmrl  # noqa: E402

# The examples' encoders and t-SNE run on the build machine's cores as any user's would; on a
# busy shared machine, OMP_NUM_THREADS etc. set in the environment are respected.

project = "skmrl"
author = "the skmrl developers"
copyright = "the skmrl developers"
version = release = skmrl.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "_skmrl_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    # sphinx-gallery's by-products that are not pages of the site
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.md5",
    "auto_examples/*.json",
    "sg_execution_times.rst",
]
templates_path = ["_templates"]
default_role = "code"  # `dim` in the prose is inline code

# -- API reference ---------------------------------------------------------------------------------
autosummary_generate = True  # stubs under api/generated/ (git-ignored), from the docstrings
autosummary_imported_members = False
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # the numpydoc "Parameters" sections already give the types
autoclass_content = "class"
numpydoc_show_class_members = False  # the autosummary template lists the methods
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()  # numpydoc's own style checks are left to review

# No network: no intersphinx (its inventories would be downloaded). Cross-references to
# scikit-learn, numpy and Python in docstrings are rendered as plain code.
nitpicky = False

# -- HTML -----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skmrl {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_static_path: list[str] = []
html_show_sourcelink = False

# -- MyST (design.md and the overview stay Markdown) ----------------------------------------------
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3  # design.md#making-an-encoder-matryoshka-fine_tune links resolve

# -- The gallery ----------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Every example whose needs are met here runs (the default runs only plot_*.py).
    "filename_pattern": _skmrl_docs.runnable_pattern(),
    "ignore_pattern": r"__init__\.py|[\\/]_[^\\/]*\.py$",
    # --data DIR for the examples that read the shared data (a name, so the config pickles).
    "reset_argv": "_skmrl_docs.reset_argv",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 10,
    "backreferences_dir": None,
    "capture_repr": (),  # what an example prints is its output; no stray reprs
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "plot_gallery": "True",
}

# An example run on this machine: say which ones were skipped and why, in the build log.
_skipped = {
    name: why
    for name in sorted(_skmrl_docs.EXAMPLE_NEEDS)
    if (why := _skmrl_docs.missing_needs(name)) is not None
}
if _skipped and os.environ.get("SKMRL_DOCS_QUIET") != "1":
    for name, why in _skipped.items():
        print(f"skmrl docs: not running examples/{name}: {why}", file=sys.stderr)
