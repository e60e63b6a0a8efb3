"""How to solve: ``Compiled`` (default; numba, exact PK, parallel), ``Scipy`` (reference) or ``Jax``
(patients batched on a GPU; the optional ``mschemo[jax]`` extra, imported only when it solves)."""

from __future__ import annotations

from ..errors import OptionError
from .compiled import Compiled as Compiled
from .jax_backend import Jax as Jax
from .problem import Problem as Problem
from .problem import Solution as Solution
from .problem import concat_problems as concat_problems
from .problem import problem_for_params as problem_for_params
from .scipy_backend import Scipy as Scipy

__all__ = ["Compiled", "Scipy", "Jax", "Problem", "Solution", "problem_for_params", "concat_problems", "get_backend",
           "BACKENDS"]

BACKENDS = {"compiled": Compiled, "scipy": Scipy, "jax": Jax}


def get_backend(backend: object = None) -> Compiled | Scipy | Jax:
    """A backend object from an object, a name ('compiled', 'scipy', 'jax') or None (the default, compiled).
    'jax' without the jax package installed raises OptionError saying how to install it."""
    if backend is None:
        return Compiled()
    if isinstance(backend, (Compiled, Scipy, Jax)):
        return backend
    if isinstance(backend, str) and backend.lower() in BACKENDS:
        return BACKENDS[backend.lower()]()
    raise OptionError(f"backend {backend!r} is unknown; use 'compiled' (default), 'scipy' or 'jax'.")
