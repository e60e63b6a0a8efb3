"""How to solve: ``Compiled`` (default; numba, exact PK, parallel) or ``Scipy`` (reference)."""

from __future__ import annotations

from ..errors import OptionError
from .compiled import Compiled as Compiled
from .problem import Problem as Problem
from .problem import Solution as Solution
from .problem import concat_problems as concat_problems
from .problem import problem_for_params as problem_for_params
from .scipy_backend import Scipy as Scipy

__all__ = ["Compiled", "Scipy", "Problem", "Solution", "problem_for_params", "concat_problems", "get_backend", "BACKENDS"]

BACKENDS = {"compiled": Compiled, "scipy": Scipy}


def get_backend(backend: object = None) -> Compiled | Scipy:
    """A backend object from an object, a name ('compiled', 'scipy') or None (the default, compiled)."""
    if backend is None:
        return Compiled()
    if isinstance(backend, (Compiled, Scipy)):
        return backend
    if isinstance(backend, str) and backend.lower() in BACKENDS:
        return BACKENDS[backend.lower()]()
    if isinstance(backend, str) and backend.lower() == "jax":
        raise OptionError("the JAX backend is not available in this version; use 'compiled' (default) or 'scipy'.")
    raise OptionError(f"backend {backend!r} is unknown; use 'compiled' (default) or 'scipy'.")
