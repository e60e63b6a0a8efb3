"""One cache key for the whole kernel.

numba keys a cached function on the source of its own file only, but a kernel function compiles in
the helpers of the other kernel modules it calls: after an edit of ``dopri.py``, the cached
``solve_population`` of ``driver.py`` would still run the old step. :func:`share_one_source_stamp`
makes every cached function of this package carry the sha256 of all the package's source files, so an
edit of any of them recompiles them all. It adds a locator in front of numba's own
(``CacheImpl._locator_classes``, stable across numba 0.5x-0.6x); without that hook it does nothing
and the rule is the old one: clear the cache after editing a kernel module.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

__all__ = ["KERNEL_DIR", "kernel_stamp", "share_one_source_stamp"]

KERNEL_DIR = os.path.dirname(os.path.abspath(__file__))


def _sources() -> tuple[tuple[str, float, int], ...]:
    out = []
    for name in sorted(os.listdir(KERNEL_DIR)):
        if name.endswith(".py"):
            st = os.stat(os.path.join(KERNEL_DIR, name))
            out.append((name, st.st_mtime, st.st_size))
    return tuple(out)


@lru_cache(maxsize=8)
def _stamp(sources: tuple[tuple[str, float, int], ...]) -> bytes:
    h = hashlib.sha256()
    for name, _, _ in sources:
        with open(os.path.join(KERNEL_DIR, name), "rb") as f:
            h.update(name.encode())
            h.update(f.read())
    return h.digest()


def kernel_stamp() -> bytes:
    """The sha256 of every source file of the kernel package (read again when one changes)."""
    return _stamp(_sources())


def share_one_source_stamp() -> bool:
    """Key every cached function defined in this package on :func:`kernel_stamp`; whether it could."""
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover - numba is a dependency
        return False
    impl = getattr(caching, "CacheImpl", None)
    classes = getattr(impl, "_locator_classes", None)
    if impl is None or not isinstance(classes, list):
        return False
    if any(getattr(c, "_mschemo_kernel", False) for c in classes):
        return True

    def kernel_locator(base: type) -> type:
        class KernelLocator(base):
            _mschemo_kernel = True

            @classmethod
            def from_function(cls, py_func, py_file):
                if os.path.dirname(os.path.abspath(py_file)) != KERNEL_DIR:
                    return None
                return super().from_function(py_func, py_file)

            def get_source_stamp(self):
                return kernel_stamp()

        KernelLocator.__name__ = f"Kernel{base.__name__}"
        return KernelLocator

    source_backed = [c for c in classes if hasattr(c, "get_source_stamp") and "Source" in "".join(
        b.__name__ for b in c.__mro__)]
    impl._locator_classes = [kernel_locator(c) for c in source_backed] + classes
    return True
