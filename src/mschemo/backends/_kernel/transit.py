"""The transit (PD) equations of a block: drug effect, feedback, and the right-hand side in its two forms,
on arrays (:func:`_rhs_block`, any layout) and as scalars (:func:`_rhs_chain3`, three transit
compartments and the drug acting from plasma); f at the transit states (:func:`_f_at`)."""

from __future__ import annotations

import math

import numba as nb

from .layout import (
    B1,
    BI_EFFECT,
    BI_FEEDBACK,
    BI_KILL,
    BI_NTRANSIT,
    BI_SITE,
    BP_CAP,
    BP_CIRC0,
    BP_EC50,
    BP_EMAX,
    BP_GAMMA,
    BP_HILL,
    BP_KCIRC,
    BP_KE0,
    BP_KILL,
    BP_KTR,
    BP_SLOPE,
    CIRC_FLOOR,
    F1,
    F2,
    FAST,
    HELPER,
    I2,
    f8,
    i8,
)
from .pk import _conc


@nb.njit(i8(f8, B1, I2, F2), forceinline=True, **HELPER)
def _switch_index(c, capped, bint, bpar):
    """First linear-capped block whose branch disagrees with concentration c, else -1."""
    for b in range(bint.shape[0]):
        if bint[b, BI_EFFECT] == 0:
            g = bpar[b, BP_SLOPE] * c - bpar[b, BP_CAP]
            if (g > 0.0) != capped[b]:
                return b
    return -1


# _effect and _feedback_near: compiled once with their own signatures and inlined by LLVM (forceinline),
# not copied into each caller's IR by numba (inline="always"), which made the step's compilation 0.1 s
# longer and its callers' too; the same code in the end
@nb.njit(f8(f8, f8, i8, nb.boolean, F2, i8), fastmath=FAST, forceinline=True, **HELPER)
def _effect(c, cd, kind, capped_b, bpar, b):
    """Drug effect of block ``b`` (0..1): ``c`` the plasma concentration, ``cd`` the one the cells see."""
    if kind == 0:
        e = bpar[b, BP_CAP] if capped_b else bpar[b, BP_SLOPE] * c
    elif kind == 2:
        e = min(bpar[b, BP_SLOPE] * cd, bpar[b, BP_CAP])
    else:
        cc = cd if cd > 0.0 else 0.0
        hill = bpar[b, BP_HILL]
        if hill == 1.0:
            e = bpar[b, BP_EMAX] * cc / (bpar[b, BP_EC50] + cc)
        else:
            ch = cc ** hill
            e = bpar[b, BP_EMAX] * ch / (bpar[b, BP_EC50] ** hill + ch)
    return e


@nb.njit(fastmath=FAST, inline="always", **HELPER)
def _feedback(circ, circ0, gamma):
    """(Circ0/Circ)^gamma; a count driven to (numerically) zero keeps a finite feedback (floor 1e-9 x baseline).

    As exp(gamma * log(Circ0/Circ)): within (2 + |gamma * log(Circ0/Circ)|) ulp of pow(), at less than
    its cost; exactly 1 at the baseline, as pow() is."""
    floor = CIRC_FLOOR * circ0
    return math.exp(gamma * math.log(circ0 / (circ if circ > floor else floor)))


# a stage's feedback from the step's start: |r| at most NEAR (see :func:`_feedback_near`)
NEAR = 1.0 / 64.0


@nb.njit(f8(f8, f8, nb.types.UniTuple(f8, 9), f8, f8), fastmath=FAST, forceinline=True, **HELPER)
def _feedback_near(x, inv_xref, fc, circ0, gamma):
    """(Circ0/x)^gamma from its value fbref at a nearby xref (1/xref = ``inv_xref``):
    fbref * (1 + r)^-gamma with r = x/xref - 1, by the binomial series to r^8 (coefficients ``fc``,
    fbref already in them, see :func:`_feedback_coefficients`) when |r| <= NEAR, else exactly by
    :func:`_feedback`. The caller passes ``inv_xref`` NaN where the series must not be used (gamma
    outside [0, 1], or xref near the floor). With 0 <= gamma <= 1 every coefficient is at most fbref in
    size, so the terms left out are below NEAR^9 = 5.5e-17 of the value: as exact as the exp/log form,
    and cheaper where it counts (pow() at the six stages of a step was 40 % of a solve). The series is
    summed by Estrin's scheme, four multiply-adds deep rather than Horner's eight: every later stage of
    a step waits on this value."""
    r = x * inv_xref - 1.0
    if abs(r) <= NEAR:
        c0, c1, c2, c3, c4, c5, c6, c7, c8 = fc
        r2 = r * r
        r4 = r2 * r2
        q0 = (c0 + c1 * r) + (c2 + c3 * r) * r2
        q1 = (c4 + c5 * r) + (c6 + c7 * r) * r2
        return (q0 + q1 * r4) + c8 * (r4 * r4)
    return _feedback(x, circ0, gamma)


@nb.njit(nb.void(f8, F1, i8), **HELPER)
def _feedback_coefficients(gamma, out, o):
    """binom(-gamma, k) for k = 0..8 into out[o:o + 9]: the coefficients of the series of (1 + r)^-gamma,
    which a step multiplies by the feedback at its start (:func:`_feedback_near`). The driver works them
    out once a patient, by calling this function: numba's inlining of a callee (inline="always") into
    the driver made its compilation 0.3-0.4 s longer."""
    c = 1.0
    out[o] = c
    for i in range(1, 9):
        c = c * (-gamma - (i - 1)) * (1.0 / i)
        out[o + i] = c


@nb.njit(fastmath=FAST, **HELPER)
def _rhs_block(ys, c, capped, bint, bpar, b, off, k, s):
    """The transit equations of block ``b`` (its states from ``off`` in ``ys``) at plasma concentration ``c``,
    into k[s]; returns the feedback. Any number of transit compartments, with or without a drug-in-cells
    state."""
    nt = bint[b, BI_NTRANSIT]
    ktr = bpar[b, BP_KTR]
    cd = c
    if bint[b, BI_SITE] != 0:   # the drug acts from inside the cells: dCe/dt = KE0*(C - Ce)
        cd = ys[off]
        k[s, off] = bpar[b, BP_KE0] * (c - cd)
        off += 1
    e = _effect(c, cd, bint[b, BI_EFFECT], capped[b], bpar, b)
    prol = ys[off]
    circ = ys[off + nt + 1]
    fb = _feedback(prol if bint[b, BI_FEEDBACK] != 0 else circ, bpar[b, BP_CIRC0], bpar[b, BP_GAMMA])
    # ktr*prol*((1 - e)*fb - 1), as one multiply-add after fb: a baseline state (e = 0, fb = 1) still
    # has a derivative of exactly 0
    kp = ktr * prol
    k[s, off] = kp * (1.0 - e) * fb - kp
    for i in range(1, nt + 1):
        k[s, off + i] = ktr * (ys[off + i - 1] - ys[off + i])
    kill = bpar[b, BP_KILL] * cd if bint[b, BI_KILL] != 0 else 0.0
    k[s, off + nt + 1] = bpar[b, BP_KCIRC] * (ys[off + nt] - circ) - kill * circ
    return fb


@nb.njit(nb.types.UniTuple(f8, 5)(f8, f8, f8, f8, f8, f8, f8, f8, f8, f8), fastmath=FAST, **HELPER)
def _rhs_chain3(p, t1, t2, t3, circ, fb, e, kcd, ktr, kcirc):
    """The transit equations of a block with three transit compartments and no drug-in-cells state, as
    scalars (the same equations as :func:`_rhs_block`): feedback ``fb`` (:func:`_feedback` of the count,
    or of the proliferating pool with BI_FEEDBACK), drug effect ``e``, kill rate ``kcd`` (1/d)."""
    kp = ktr * p
    return (kp * (1.0 - e) * fb - kp, ktr * (p - t1), ktr * (t1 - t2), ktr * (t2 - t3),
            kcirc * (t3 - circ) - kcd * circ)


@nb.njit(nb.void(F1, f8, f8, F1, F1, B1, I2, F2, F2, F1), fastmath=FAST, **HELPER)
def _f_at_chain3(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k, fbs):
    """f at transit states ``y`` and segment time ``tau``, into k[0], and each block's feedback into
    ``fbs``, when every block has three transit compartments and no drug-in-cells state."""
    c = _conc(c_inf, seg_g, lam, tau)
    k0 = k[0]
    for b in range(bint.shape[0]):
        o, o1, o2, o3, o4 = 5 * b, 5 * b + 1, 5 * b + 2, 5 * b + 3, 5 * b + 4
        kill = bpar[b, BP_KILL] if bint[b, BI_KILL] != 0 else 0.0
        e = _effect(c, c, bint[b, BI_EFFECT], capped[b], bpar, b)
        fb = _feedback(y[o] if bint[b, BI_FEEDBACK] != 0 else y[o4], bpar[b, BP_CIRC0], bpar[b, BP_GAMMA])
        fbs[b] = fb
        k0[o], k0[o1], k0[o2], k0[o3], k0[o4] = _rhs_chain3(
            y[o], y[o1], y[o2], y[o3], y[o4], fb, e, kill * c, bpar[b, BP_KTR], bpar[b, BP_KCIRC])


@nb.njit(fastmath=FAST, **HELPER)
def _f_at_any(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k, fbs):
    """f at transit states ``y`` and segment time ``tau``, into k[0], and each block's feedback into
    ``fbs``: any block layout."""
    c = _conc(c_inf, seg_g, lam, tau)
    off = 0
    for b in range(bint.shape[0]):
        fbs[b] = _rhs_block(y, c, capped, bint, bpar, b, off, k, 0)
        off += bint[b, BI_SITE] + bint[b, BI_NTRANSIT] + 2


@nb.njit(**HELPER)
def _f_at(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k, fbs, general):
    """f at transit states ``y`` and segment time ``tau``, into k[0], and each block's feedback into
    ``fbs``; ``general`` as in :func:`solve_population`."""
    if general is None:
        _f_at_chain3(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k, fbs)
    else:
        _f_at_any(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k, fbs)
