"""The step-size factor of the kernel's 5(4) pair (:func:`_step_factor`), with the power of the error
it takes (:func:`_err_pow`, err^(-1/10), from the bits of err).

The next step waits on this number (its length, and every stage with it), so its latency counts
once per step: exp(-0.1 * log(err)) took two library calls in a row, about a seventh of a step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numba as nb
import numpy as np
from llvmlite import ir
from numba.extending import intrinsic

from .layout import FAST, HELPER, f8


def _bits_typer(typingctx, x):
    """The IEEE 754 bits of a float64, as an int64 (one bit cast)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return nb.int64(nb.float64), codegen


def _from_bits_typer(typingctx, i):
    """The float64 whose IEEE 754 bits are the int64 ``i`` (one bit cast)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return nb.float64(nb.int64), codegen


# numba intrinsics, called with the value alone (the typing context is numba's)
_bits = cast("Callable[[float], int]", intrinsic(_bits_typer))
_from_bits = cast("Callable[[int], float]", intrinsic(_from_bits_typer))

# 2^(-j/10), j = 0..9 (numba keeps a global array as a constant)
_TENTHS = np.array([2.0 ** (-j / 10.0) for j in range(10)])
# m^(-1/10) on 1 <= m < 2 as a polynomial of t = m - 1.5: the interpolant at the 6 Chebyshev nodes,
# within 1.4e-6 (relative) of the function
_M0, _M1, _M2 = 0.9602654797026443, -0.06401820458860721, 0.023402989842659466
_M3, _M4, _M5 = -0.010913205880365647, 0.006387141380082187, -0.003517998697257114
_MANTISSA = (1 << 52) - 1
_ONE = 1023 << 52


@nb.njit(f8(f8), fastmath=FAST, forceinline=True, **HELPER)
def _err_pow(err):
    """err^(-1/10) for a normal float err > 0, within 1.5e-6 (relative): the step factor of a 5(4)
    pair is 0.9 err^(-1/10) when err is the mean square of the scaled error (the RMS to the -1/5).
    With err = m 2^e (1 <= m < 2) and e = 10 k + j (0 <= j < 10), it is 2^-k 2^(-j/10) m^(-1/10):
    the exponent's tenths from a table, the mantissa's power from a polynomial, no exp or log. A
    subnormal err gives a large finite value, which the caller's bounds cap."""
    b = _bits(err)
    e = (b >> 52) - 1023
    t = _from_bits((b & _MANTISSA) | _ONE) - 1.5
    k = e // 10
    t2 = t * t
    p = ((_M0 + _M1 * t) + (_M2 + _M3 * t) * t2) + (_M4 + _M5 * t) * (t2 * t2)
    return (_TENTHS[e - 10 * k] * _from_bits((1023 - k) << 52)) * p


@nb.njit(f8(f8), fastmath=FAST, forceinline=True, **HELPER)
def _step_factor(err):
    """How much longer (or shorter) the next step is: 0.9 err^(-1/10) within 0.2-10 (Hairer, Norsett &
    Wanner 1993, II.4), ``err`` the mean square of the step's scaled error estimate; 10 when it is 0."""
    if err == 0.0:
        return 10.0
    return min(10.0, max(0.2, 0.9 * _err_pow(err)))
