"""Doctest collection of linalgkit.dask: skipped when the dask extra is not installed."""

import importlib.util

if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
    collect_ignore_glob = ["*.py"]
