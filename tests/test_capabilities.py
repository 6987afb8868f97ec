"""Every public function of every family has an entry in the capability table (``python -m linalgkit info``).

Covered: every function in the ``__all__`` of linalgkit's public subpackages.  Classes are not:
result dataclasses hold data, estimators call the family functions (whose entries say how they
run), and sketch operators are built by ``make_sketch`` (which has one).  ``ARRAY_FREE`` lists
the functions that take no array, so there is no backend to report: sizing rules (integers from
sizes) and the dataset generators (NumPy data from sizes and a seed).  Array-free functions may
still have an entry (the SPD metric constructors do); the last test keeps this list to public names.
"""

import importlib
import inspect
import pkgutil

import linalgkit
from linalgkit._backend import CAPABILITIES

ARRAY_FREE = {
    "linalgkit.datasets.make_lstsq_problem", "linalgkit.datasets.make_spd_classification",
    "linalgkit.datasets.make_spd_matrices", "linalgkit.datasets.make_heavy_tailed_design",
    "linalgkit.datasets.make_l1_regression_problem", "linalgkit.datasets.gaussian_random_field",
    "linalgkit.datasets.make_convection_diffusion", "linalgkit.datasets.make_darcy",
    "linalgkit.datasets.make_darcy_family", "linalgkit.datasets.make_darcy_sequence",
    "linalgkit.datasets.make_poisson", "linalgkit.datasets.make_shifted_laplacian",
    "linalgkit.regression.default_preconditioner_size", "linalgkit.regression.sketch_size",
    "linalgkit.sampling.default_sample_size",
}
BACKENDS = {"numpy", "cupy", "generic"}


def public_functions():
    """``"linalgkit.<package>.<name>"`` of every function exported by a public subpackage."""
    names = set()
    for info in pkgutil.iter_modules(linalgkit.__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        package = importlib.import_module(f"linalgkit.{info.name}")
        for name in getattr(package, "__all__", ()):
            if inspect.isfunction(getattr(package, name)):
                names.add(f"linalgkit.{info.name}.{name}")
    return names


def test_every_public_function_has_a_capability_entry():
    missing = sorted(public_functions() - ARRAY_FREE - set(CAPABILITIES))
    assert not missing, (f"no capability entry for {missing}: decorate each with "
                         f"linalgkit._backend.capabilities(name, numpy=..., cupy=..., generic=...), or, if it "
                         f"takes no array, add it to ARRAY_FREE in {__file__}")


def test_every_entry_names_a_public_function_and_says_how_each_backend_runs():
    stale = sorted(set(CAPABILITIES) - public_functions())
    assert not stale, f"capability entries for names that are not public functions: {stale}"
    for name, kinds in CAPABILITIES.items():
        assert set(kinds) == BACKENDS, name
        assert kinds["numpy"], f"{name} has no NumPy path"
        assert all(how is None or (isinstance(how, str) and how.strip()) for how in kinds.values()), name


def test_array_free_names_are_public_functions():
    functions = public_functions()
    assert ARRAY_FREE <= functions, f"not public functions (remove them from ARRAY_FREE): {sorted(ARRAY_FREE - functions)}"
