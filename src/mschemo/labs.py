"""Counts as a laboratory reports them: the true count times log-normal measurement error.

A reported count is ``true x exp(e)``, ``e = sigma_I z_I + sigma_A z_A`` with ``z_I, z_A`` independent
standard normals, ``sigma_I^2 = ln(1 + CV_I^2)`` (within-subject biological, day-to-day variation) and
``sigma_A^2 = ln(1 + CV_A^2)`` (analytical, assay imprecision), so that ``e ~ Normal(0, sigma)``,
``sigma^2 = sigma_I^2 + sigma_A^2``, and counts stay positive. CV_I and CV_A of each count are in
``params/lab_variation.toml`` with their sources. Either part can be switched off (``biological=False``,
``analytical=False``); the other part's draw stays the same, so runs with and without it are paired.

The error of one count of one patient at one time is a pure function of (seed, stream, patient index,
count, time): a counter-based draw, not a position in a random stream. Those integers (the time as
``round(day x 10^6)`` micro-days) are hashed with SplitMix64's finaliser in uint64 arithmetic into two
53-bit integers, which become two uniforms, and Box-Muller turns them into ``z_I = r cos(2 pi t)`` and
``z_A = r sin(2 pi t)``. So a patient's reported count on a day is the same whatever other days or
patients are sampled, in any order, chunking or thread count.

Bit-for-bit across machines: up to the two 53-bit integers everything is integer arithmetic (and one
correctly rounded multiplication with round-half-even for the micro-days). The float part (log, cos,
sin, exp) uses only +, -, x, / and sqrt, which IEEE-754 rounds exactly, plus exact scalings by powers
of two (frexp, ldexp): logarithm, cosine and exponential are fixed Taylor series after exact argument
reduction, evaluated in a fixed order, rather than the platform's math library, whose last bit can
differ between CPUs and numpy builds. The series are accurate to one or two units in the last place.

Assumptions: the biological part of two samples taken on different days is independent (real day-to-day
fluctuations are somewhat autocorrelated); CV_I of healthy adults is used for patients on treatment.

>>> measured([[5.0, 5.0]], "wbc", seed=1, patient_index=[0], days=[0.0, 28.0]).shape
(1, 2)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from .errors import OptionError

__all__ = ["COUNTS", "LAB_STREAM", "LabVariation", "variation", "sigma", "uniforms", "standard_normals", "measured"]

#: counts with a measurement-error model
COUNTS = ("wbc", "anc", "alc")
#: default stream number, so that other counter-based draws of the same patient and day differ
LAB_STREAM = 0x6C616273  # "labs"

_COUNT_CODE = {"wbc": 1, "anc": 2, "alc": 3}       # fixed: adding a count must not move the others' draws
_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15                          # SplitMix64 increment (2^64 / golden ratio)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_MAX_ABS_DAY = 1e9                                   # micro-days stay far inside int64


def _k(i: int) -> np.uint64:
    """i-th multiple of the SplitMix64 increment, modulo 2^64 (computed in Python integers)."""
    return np.uint64((i * _GAMMA) & _MASK)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (uint64 arrays; multiplication wraps modulo 2^64)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


# -- IEEE-754-deterministic elementary functions --------------------------------------------------
_LN2_HI = 6.93147180369123816490e-01               # ln 2 split (fdlibm): k * _LN2_HI is exact for |k| < 2^20
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.4426950408889634                       # 1/ln 2 as a literal, not from the math library
_SQRT_HALF = math.sqrt(0.5)
_QUARTER_PI = math.pi / 4.0
_LOG_C = tuple(2.0 / (2 * j + 1) for j in range(12))                       # ln m = s * sum c_j s^2j
_COS_C = tuple((-1) ** j / math.factorial(2 * j) for j in range(11))
_SIN_C = tuple((-1) ** j / math.factorial(2 * j + 1) for j in range(11))
_EXP_C = tuple(1.0 / math.factorial(j) for j in range(18))


def _horner(coeffs: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    p = np.full_like(x, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        p = p * x + c
    return p


def _log(u: np.ndarray) -> np.ndarray:
    """Natural log of u > 0: u = m 2^e exactly, m in [sqrt(1/2), sqrt(2)), ln m from atanh's series."""
    m, e = np.frexp(u)
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = (e - low).astype(np.float64)
    s = (m - 1.0) / (m + 1.0)                                       # |s| <= 0.172; series error < 1e-18
    return e * _LN2_HI + (e * _LN2_LO + s * _horner(_LOG_C, s * s))


def _cos_turn(t: np.ndarray) -> np.ndarray:
    """cos(2 pi t) for t in [0, 1) on a 2^-53 grid: exact octant reduction, then Taylor series on [0, pi/4]."""
    q = np.floor(t * 8.0)
    f = t * 8.0 - q                                                 # exact (t on a 2^-53 grid)
    q = q.astype(np.int64)
    odd = (q & 1) == 1
    theta = np.where(odd, 1.0 - f, f) * _QUARTER_PI
    th2 = theta * theta
    use_cos = (q == 0) | (q == 3) | (q == 4) | (q == 7)
    val = np.where(use_cos, _horner(_COS_C, th2), theta * _horner(_SIN_C, th2))
    return np.where((q >= 2) & (q <= 5), -val, val)


def _sin_turn(t: np.ndarray) -> np.ndarray:
    """sin(2 pi t) = cos(2 pi (t - 1/4)); t - 1/4 (+1 when negative) is exact on the 2^-53 grid."""
    s = t - 0.25
    return _cos_turn(np.where(s < 0.0, s + 1.0, s))


def _exp(x: np.ndarray) -> np.ndarray:
    """exp(x) for moderate x: x = k ln2 + r with |r| <= ln2/2, Taylor series of e^r, exact scaling by 2^k."""
    k = np.rint(x * _INV_LN2)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    return np.ldexp(_horner(_EXP_C, r), k.astype(np.int32))


# -- parameters -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabVariation:
    """Coefficients of variation (fractions) of one count: ``cv_i`` biological, ``cv_a`` analytical."""

    count: str
    cv_i: float
    cv_a: float


def _check_count(count: str) -> str:
    key = count.strip().lower() if isinstance(count, str) else count
    if key not in COUNTS:
        raise OptionError(f"there is no measurement-error model for count {count!r}; use one of {', '.join(COUNTS)}.")
    return key


@cache
def variation(count: str) -> LabVariation:
    """CV_I and CV_A of a count, from ``params/lab_variation.toml``."""
    from .params import load_parameters

    key = _check_count(count)
    ps = load_parameters("lab-variation")
    return LabVariation(key, ps[f"{key.upper()}_CVI"].value, ps[f"{key.upper()}_CVA"].value)


def sigma(count: str, *, biological: bool = True, analytical: bool = True) -> float:
    """SD of the log-ratio reported/true: sqrt(ln(1 + CV_I^2) + ln(1 + CV_A^2)), with the parts switched on."""
    v = variation(count)
    return math.sqrt((math.log1p(v.cv_i ** 2) if biological else 0.0) + (math.log1p(v.cv_a ** 2) if analytical else 0.0))


# -- the counter-based draws ----------------------------------------------------------------------
def _seed_word(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= _MASK:
        raise OptionError(f"seed {seed!r} is not an integer from 0 to 2^64 - 1; give a non-negative integer seed.")
    return int(seed)


def _indices(patient_index: object) -> np.ndarray:
    p = np.asarray(patient_index)
    if p.dtype.kind not in "iuf":
        raise OptionError(f"patient_index has values of type {p.dtype}, not numbers; give 0-based integer indices.")
    if p.dtype.kind == "f":
        bad = ~np.isfinite(p) | (p != np.floor(p))
        if bad.any():
            raise OptionError(f"patient_index has the value {float(p[bad].flat[0])!r}, not a whole number; give 0-based "
                              "integer indices.")
    p = p.astype(np.int64)
    if p.size and p.min() < 0:
        raise OptionError(f"patient_index has the negative value {int(p.min())}; give 0-based indices >= 0.")
    return p


def _micro_days(days: object) -> np.ndarray:
    d = np.asarray(days, dtype=float)
    if d.size and not (np.all(np.isfinite(d)) and np.max(np.abs(d)) <= _MAX_ABS_DAY):
        raise OptionError(f"days must be finite and within +-{_MAX_ABS_DAY:g} days; got a value of "
                          f"{float(d[~np.isfinite(d) | (np.abs(d) > _MAX_ABS_DAY)].flat[0])!r}.")
    return np.rint(d * 1e6).astype(np.int64)


def _hash(seed: int, stream: int, patient: np.ndarray, code: int, micro: np.ndarray) -> np.ndarray:
    """uint64 state of each (patient, time) pair, broadcast; every input word goes through a full mix."""
    if isinstance(stream, bool) or not isinstance(stream, (int, np.integer)) or not 0 <= int(stream) <= _MASK:
        raise OptionError(f"stream {stream!r} is not an integer from 0 to 2^64 - 1; give a non-negative integer.")
    head = _mix(np.atleast_1d(np.uint64(seed)) ^ _k(1))
    head = _mix(head ^ _mix(np.atleast_1d(np.uint64(int(stream))) + _k(2)))
    head = _mix(head ^ _mix(np.atleast_1d(np.uint64(code)) + _k(3)))
    per_patient = _mix(head ^ _mix(np.atleast_1d(patient).astype(np.uint64) + _k(4)))
    per_time = _mix(np.atleast_1d(micro).astype(np.uint64) + _k(5))     # int64 -> uint64 wraps (two's complement)
    return _mix(per_patient.reshape(np.shape(patient) or (1,)) ^ per_time.reshape(np.shape(micro) or (1,)))


def uniforms(seed: int, patient_index: object, days: object, count: str, *,
             stream: int = LAB_STREAM) -> tuple[np.ndarray, np.ndarray]:
    """The two uniforms behind each draw: ``u`` in (0, 1) (never 0) and ``t`` in [0, 1), both on a
    2^-53 grid; ``patient_index`` and ``days`` broadcast against each other."""
    p, m = _indices(patient_index), _micro_days(days)
    try:
        shape = np.broadcast_shapes(p.shape, m.shape)
    except ValueError:
        raise OptionError(f"patient_index of shape {p.shape} and days of shape {m.shape} do not broadcast together; "
                          "give arrays of one shape, or one index per row and one day per column.") from None
    h = _hash(_seed_word(seed), stream, p, _COUNT_CODE[_check_count(count)], m)
    h = np.broadcast_to(h, shape or (1,))
    a = (_mix(h + _k(6)) >> _S11).astype(np.float64)                  # < 2^53: exact in float64
    b = (_mix(h + _k(7)) >> _S11).astype(np.float64)
    u = np.ascontiguousarray((a + 0.5) * 2.0 ** -53).reshape(shape)
    t = np.ascontiguousarray(b * 2.0 ** -53).reshape(shape)
    return u, t


def standard_normals(seed: int, patient_index: object, days: object, count: str, *,
                     stream: int = LAB_STREAM) -> tuple[np.ndarray, np.ndarray]:
    """``(z_I, z_A)``: the biological and the analytical standard normal of each draw (Box-Muller)."""
    u, t = uniforms(seed, patient_index, days, count, stream=stream)
    r = np.sqrt(-2.0 * _log(u.ravel()))
    tt = t.ravel()
    return (r * _cos_turn(tt)).reshape(u.shape), (r * _sin_turn(tt)).reshape(u.shape)


def measured(true_values: object, count: str, seed: int, patient_index: object, days: object, *,
             stream: int = LAB_STREAM, biological: bool = True, analytical: bool = True) -> np.ndarray:
    """Reported counts: ``true x exp(sigma_I z_I + sigma_A z_A)``, same shape as ``true_values``.

    ``patient_index`` (0-based run-wide indices) and ``days`` (sampling times in days, any real
    number; distinct times within a day give distinct draws) broadcast against ``true_values``; a 1-D
    ``patient_index`` of length n with 1-D ``days`` of length m against an (n, m) table means patients
    x days. NaN stays NaN and 0 stays 0. ``stream`` separates independent uses (e.g. a repeat sample).
    ``biological``/``analytical`` switch the within-subject and the assay part on or off.

    >>> x = measured([4.0, 4.0], "anc", seed=7, patient_index=[3, 3], days=[14.0, 15.0])
    >>> bool(x[0] == measured(4.0, "anc", seed=7, patient_index=3, days=14.0))
    True
    """
    x = np.asarray(true_values, dtype=float)
    key = _check_count(count)
    p, d = np.asarray(patient_index), np.asarray(days, dtype=float)
    if x.ndim == 2 and p.ndim == 1 and d.ndim == 1 and x.shape == (p.size, d.size):
        p = p[:, None]                                              # patients x days (rows are patients)
    try:
        shape = np.broadcast_shapes(x.shape, p.shape, d.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise OptionError(f"patient_index of shape {p.shape} and days of shape {d.shape} do not match the counts of shape "
                          f"{x.shape}; give one index per row and one day per column (or arrays of the counts' shape).")
    assert shape is not None  # it is x.shape
    v = variation(key)
    s_i = math.sqrt(math.log1p(v.cv_i ** 2)) if biological else 0.0
    s_a = math.sqrt(math.log1p(v.cv_a ** 2)) if analytical else 0.0
    z_i, z_a = standard_normals(seed, p, d, key, stream=stream)
    e = np.broadcast_to(s_i * z_i + s_a * z_a, shape)
    return x * _exp(np.ascontiguousarray(e).ravel()).reshape(shape)
