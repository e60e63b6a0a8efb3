"""Every cached kernel function is keyed on the source of the whole kernel package, so an edit of one
helper module recompiles the functions that compiled it in (numba alone keys each function on its
own file)."""

from __future__ import annotations

import hashlib
import os

from mschemo.backends._kernel import solve_population
from mschemo.backends._kernel.stamp import KERNEL_DIR, kernel_stamp


def _by_hand() -> bytes:
    h = hashlib.sha256()
    for name in sorted(os.listdir(KERNEL_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(KERNEL_DIR, name), "rb") as f:
                h.update(name.encode())
                h.update(f.read())
    return h.digest()


def test_the_entry_point_is_cached_on_every_kernel_file():
    locator = solve_population._cache._impl.locator
    assert getattr(type(locator), "_mschemo_kernel", False), type(locator)
    assert locator.get_source_stamp() == kernel_stamp() == _by_hand()
    with open(os.path.join(KERNEL_DIR, "driver.py"), "rb") as f:
        own = hashlib.sha256(f.read()).digest()
    assert kernel_stamp() != own          # not the driver's file alone


def test_functions_outside_the_kernel_keep_numba_own_key():
    import numba

    @numba.njit(cache=True)
    def twice(x):   # pragma: no cover - compiled only if called
        return 2 * x

    assert not getattr(type(twice._cache._impl.locator), "_mschemo_kernel", False)
