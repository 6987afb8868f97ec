"""Sphinx configuration of the linalgkit documentation."""

import linalgkit

project = "linalgkit"
author = "the linalgkit developers"
copyright = "2026, the linalgkit developers"
version = release = linalgkit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "**.codeobj.json"]
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_validation_checks = {"PR01", "PR02", "PR10"}
# Result, sample, problem, recycle-space and sequence dataclasses document their fields under "Attributes", not as parameters.
numpydoc_validation_exclude = {r"Result$", r"Problem$", r"\.SensitivitySample$", r"\.RecycleSpace$",
                               r"\.SystemSequence$"}
templates_path = ["_templates"]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",
    "download_all_examples": False,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = "linalgkit"
html_theme_options = {"navigation_with_keys": False}
