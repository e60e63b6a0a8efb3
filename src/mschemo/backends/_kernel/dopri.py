"""One Dormand-Prince 5(4) step of the transit states of a block (Dormand & Prince 1980), in registers
(:func:`_step_chain3`) or on arrays (:func:`_step_any`), and the 4th-order continuous extension for
output between steps (:func:`_dense_at`, :func:`_dp_dense`, :func:`_dense_row`)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .layout import (
    B1,
    BI_EFFECT,
    BI_FEEDBACK,
    BI_KILL,
    BP_CIRC0,
    BP_GAMMA,
    BP_KCIRC,
    BP_KILL,
    BP_KTR,
    CIRC_FLOOR,
    F1,
    F2,
    FAST,
    HELPER,
    I2,
    f8,
    i8,
)
from .transit import _effect, _feedback_near, _rhs_block, _rhs_chain3

# Dormand-Prince 5(4) tableau
C2, C3, C4, C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
A21 = 1.0 / 5.0
A31, A32 = 3.0 / 40.0, 9.0 / 40.0
A41, A42, A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
A51, A52, A53, A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
A61, A62, A63, A64, A65 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0
DP_B1, B3, B4, B5, B6 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
E1, E3, E4, E5, E6, E7 = 71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0
# continuous extension (Hairer, Norsett & Wanner; as in scipy's RK45): y(t+th) = y + h * sum_k Q[:,k] th^(k+1)
P = np.array([
    [1.0, -8048581381.0 / 2820520608.0, 8663915743.0 / 2820520608.0, -12715105075.0 / 11282082432.0],
    [0.0, 0.0, 0.0, 0.0],
    [0.0, 131558114200.0 / 32700410799.0, -68118460800.0 / 10900136933.0, 87487479700.0 / 32700410799.0],
    [0.0, -1754552775.0 / 470086768.0, 14199869525.0 / 1410260304.0, -10690763975.0 / 1880347072.0],
    [0.0, 127303824393.0 / 49829197408.0, -318862633887.0 / 49829197408.0, 701980252875.0 / 199316789632.0],
    [0.0, -282668133.0 / 205662961.0, 2019193451.0 / 616988883.0, -1453857185.0 / 822651844.0],
    [0.0, 40617522.0 / 29380423.0, -110615467.0 / 29380423.0, 69997945.0 / 29380423.0],
])
STAGE_C = np.array([0.0, C2, C3, C4, C5, 1.0, 1.0])
DP_A = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [A21, 0.0, 0.0, 0.0, 0.0],
    [A31, A32, 0.0, 0.0, 0.0],
    [A41, A42, A43, 0.0, 0.0],
    [A51, A52, A53, A54, 0.0],
    [A61, A62, A63, A64, A65],
])
DP_B = np.array([DP_B1, 0.0, B3, B4, B5, B6])
DP_E = np.array([E1, 0.0, E3, E4, E5, E6, E7])


@nb.njit(nb.types.UniTuple(f8, 5)(f8, f8, f8, f8, f8, f8, f8, f8, f8, nb.boolean, f8, nb.types.UniTuple(f8, 9),
                                   f8, f8), fastmath=FAST, **HELPER)
def _stage_chain3(p, t1, t2, t3, circ, e, kcd, ktr, kcirc, fp, inv, fc, circ0, gamma):
    """:func:`_rhs_chain3` at a stage of a step, its feedback from the step's start (:func:`_feedback_near`)."""
    fb = _feedback_near(p if fp else circ, inv, fc, circ0, gamma)
    return _rhs_chain3(p, t1, t2, t3, circ, fb, e, kcd, ktr, kcirc)


# forceinline: LLVM inlines the step into the driver (its one call site), which saves passing eleven
# arrays field by field at every step and lets the optimiser work across the call: 9 % less time on
# mitox-2y, the same results bit for bit, and about 0.2 s more first compilation (numba's own
# inline="always" copies the function's IR into the caller instead: the same speed, 1.1 s more, and
# different roundings)
@nb.njit(f8(F1, F1, F2, i8, f8, F1, F1, B1, I2, F2, i8, f8, f8, F1, F1), fastmath=FAST, forceinline=True, **HELPER)
def _step_chain3(y, ynew, k, off, h, cst, est, capped, bint, bpar, b, rtol, atol, fbs, fcg):
    """One Dormand-Prince step of ``h`` days for block ``b`` with three transit compartments and the
    drug acting from plasma (its 5 states from ``off``), the states and stage derivatives held in
    registers. Stage concentrations ``cst``; ``est`` is workspace (the drug effect of each stage).
    k[0] holds f at the start, and fbs[b] its feedback; fills k[1..6], ``ynew`` and fbs[n_blocks + b]
    (the feedback at ``ynew``, which becomes fbs[b] with k[6] -> k[0] when the step is accepted);
    fcg[9b:9b + 9] holds the block's binomial coefficients (:func:`_feedback_coefficients`),
    worked out once a patient; returns the sum of the squared scaled error estimates of the block's states."""
    ktr = bpar[b, BP_KTR]
    kcirc = bpar[b, BP_KCIRC]
    circ0 = bpar[b, BP_CIRC0]
    gamma = bpar[b, BP_GAMMA]
    kill = bpar[b, BP_KILL] if bint[b, BI_KILL] != 0 else 0.0
    fp = bint[b, BI_FEEDBACK] != 0
    # the drug effect of each stage (it depends on the concentration only)
    for s in range(1, 6):
        est[s] = _effect(cst[s], cst[s], bint[b, BI_EFFECT], capped[b], bpar, b)
    e1, e2, e3, e4, e5 = est[1], est[2], est[3], est[4], est[5]
    # the indices once, and the rows of k as 1-D views: 2-D indexing costs numba compile time at every site
    o, o1, o2, o3, o4 = off, off + 1, off + 2, off + 3, off + 4
    y0, y1, y2, y3, y4 = y[o], y[o1], y[o2], y[o3], y[o4]
    # the stages' feedback from its value at the start (_feedback_near), not six exp/logs per step
    xref = y0 if fp else y4
    # the series' coefficients (the driver's, once a patient) times the feedback at the start: nine
    # independent products, where working them out here from gamma was a chain of sixteen
    # multiplications that the first stage waited on
    fbref = fbs[b]
    g = 9 * b
    fc = (fbref * fcg[g], fbref * fcg[g + 1], fbref * fcg[g + 2], fbref * fcg[g + 3], fbref * fcg[g + 4],
          fbref * fcg[g + 5], fbref * fcg[g + 6], fbref * fcg[g + 7], fbref * fcg[g + 8])
    inv = 1.0 / xref if (0.0 <= gamma <= 1.0 and xref > 2.0 * CIRC_FLOOR * circ0) else math.nan
    kr = k[0]
    a0, a1, a2, a3, a4 = kr[o], kr[o1], kr[o2], kr[o3], kr[o4]
    # each stage's states as y + (h a_s1) k1 + ... + (h a_sj) kj, summed in the order the stages come:
    # the stage just computed enters in the last multiply-add, so the next stage waits on one, not three
    h21 = h * A21
    b0, b1, b2, b3, b4 = _stage_chain3(y0 + h21 * a0, y1 + h21 * a1, y2 + h21 * a2, y3 + h21 * a3, y4 + h21 * a4,
                                       e1, kill * cst[1], ktr, kcirc, fp, inv, fc, circ0, gamma)
    h31, h32 = h * A31, h * A32
    d0, d1, d2, d3, d4 = _stage_chain3(
        y0 + h31 * a0 + h32 * b0, y1 + h31 * a1 + h32 * b1, y2 + h31 * a2 + h32 * b2,
        y3 + h31 * a3 + h32 * b3, y4 + h31 * a4 + h32 * b4,
        e2, kill * cst[2], ktr, kcirc, fp, inv, fc, circ0, gamma)
    h41, h42, h43 = h * A41, h * A42, h * A43
    f0, f1, f2, f3, f4 = _stage_chain3(
        y0 + h41 * a0 + h42 * b0 + h43 * d0, y1 + h41 * a1 + h42 * b1 + h43 * d1,
        y2 + h41 * a2 + h42 * b2 + h43 * d2, y3 + h41 * a3 + h42 * b3 + h43 * d3,
        y4 + h41 * a4 + h42 * b4 + h43 * d4,
        e3, kill * cst[3], ktr, kcirc, fp, inv, fc, circ0, gamma)
    h51, h52, h53, h54 = h * A51, h * A52, h * A53, h * A54
    g0, g1, g2, g3, g4 = _stage_chain3(
        y0 + h51 * a0 + h52 * b0 + h53 * d0 + h54 * f0, y1 + h51 * a1 + h52 * b1 + h53 * d1 + h54 * f1,
        y2 + h51 * a2 + h52 * b2 + h53 * d2 + h54 * f2, y3 + h51 * a3 + h52 * b3 + h53 * d3 + h54 * f3,
        y4 + h51 * a4 + h52 * b4 + h53 * d4 + h54 * f4,
        e4, kill * cst[4], ktr, kcirc, fp, inv, fc, circ0, gamma)
    h61, h62, h63, h64, h65 = h * A61, h * A62, h * A63, h * A64, h * A65
    m0, m1, m2, m3, m4 = _stage_chain3(
        y0 + h61 * a0 + h62 * b0 + h63 * d0 + h64 * f0 + h65 * g0,
        y1 + h61 * a1 + h62 * b1 + h63 * d1 + h64 * f1 + h65 * g1,
        y2 + h61 * a2 + h62 * b2 + h63 * d2 + h64 * f2 + h65 * g2,
        y3 + h61 * a3 + h62 * b3 + h63 * d3 + h64 * f3 + h65 * g3,
        y4 + h61 * a4 + h62 * b4 + h63 * d4 + h64 * f4 + h65 * g4,
        e5, kill * cst[5], ktr, kcirc, fp, inv, fc, circ0, gamma)
    hb1, hb3, hb4, hb5, hb6 = h * DP_B1, h * B3, h * B4, h * B5, h * B6
    n0 = y0 + hb1 * a0 + hb3 * d0 + hb4 * f0 + hb5 * g0 + hb6 * m0
    n1 = y1 + hb1 * a1 + hb3 * d1 + hb4 * f1 + hb5 * g1 + hb6 * m1
    n2 = y2 + hb1 * a2 + hb3 * d2 + hb4 * f2 + hb5 * g2 + hb6 * m2
    n3 = y3 + hb1 * a3 + hb3 * d3 + hb4 * f3 + hb5 * g3 + hb6 * m3
    n4 = y4 + hb1 * a4 + hb3 * d4 + hb4 * f4 + hb5 * g4 + hb6 * m4
    fb7 = _feedback_near(n0 if fp else n4, inv, fc, circ0, gamma)
    fbs[bint.shape[0] + b] = fb7
    p0, p1, p2, p3, p4 = _rhs_chain3(n0, n1, n2, n3, n4, fb7, e5, kill * cst[6], ktr, kcirc)
    # the error estimate h * sum_j E_j k_j, scaled: the last stage enters last here too, and the scales'
    # reciprocals are worked out while it is computed
    s0 = 1.0 / (atol + rtol * max(abs(y0), abs(n0)))
    s1 = 1.0 / (atol + rtol * max(abs(y1), abs(n1)))
    s2 = 1.0 / (atol + rtol * max(abs(y2), abs(n2)))
    s3 = 1.0 / (atol + rtol * max(abs(y3), abs(n3)))
    s4 = 1.0 / (atol + rtol * max(abs(y4), abs(n4)))
    he1, he3, he4, he5, he6, he7 = h * E1, h * E3, h * E4, h * E5, h * E6, h * E7
    e0 = (he1 * a0 + he3 * d0 + he4 * f0 + he5 * g0 + he6 * m0 + he7 * p0) * s0
    e1 = (he1 * a1 + he3 * d1 + he4 * f1 + he5 * g1 + he6 * m1 + he7 * p1) * s1
    e2 = (he1 * a2 + he3 * d2 + he4 * f2 + he5 * g2 + he6 * m2 + he7 * p2) * s2
    e3 = (he1 * a3 + he3 * d3 + he4 * f3 + he5 * g3 + he6 * m3 + he7 * p3) * s3
    e4 = (he1 * a4 + he3 * d4 + he4 * f4 + he5 * g4 + he6 * m4 + he7 * p4) * s4
    kr = k[1]
    kr[o], kr[o1], kr[o2], kr[o3], kr[o4] = b0, b1, b2, b3, b4
    kr = k[2]
    kr[o], kr[o1], kr[o2], kr[o3], kr[o4] = d0, d1, d2, d3, d4
    kr = k[3]
    kr[o], kr[o1], kr[o2], kr[o3], kr[o4] = f0, f1, f2, f3, f4
    kr = k[4]
    kr[o], kr[o1], kr[o2], kr[o3], kr[o4] = g0, g1, g2, g3, g4
    kr = k[5]
    kr[o], kr[o1], kr[o2], kr[o3], kr[o4] = m0, m1, m2, m3, m4
    kr = k[6]
    kr[o], kr[o1], kr[o2], kr[o3], kr[o4] = p0, p1, p2, p3, p4
    ynew[o], ynew[o1], ynew[o2], ynew[o3], ynew[o4] = n0, n1, n2, n3, n4
    return (e0 * e0 + e1 * e1) + (e2 * e2 + e3 * e3) + e4 * e4


@nb.njit(fastmath=FAST, **HELPER)
def _step_any(y, ynew, ys, k, off, m, h, cst, capped, bint, bpar, b, rtol, atol):
    """One Dormand-Prince step of ``h`` days for block ``b`` (its ``m`` states from ``off``), any layout.
    k[0] holds f at the start; fills k[1..6] and ``ynew``; returns the sum of the squared scaled error
    estimates of the block's states. The arithmetic of :func:`_step_chain3`, in the same order."""
    for s in range(1, 7):
        if s < 6:
            for i in range(off, off + m):
                acc = y[i]
                for j in range(s):
                    acc += (h * DP_A[s, j]) * k[j, i]
                ys[i] = acc
            _rhs_block(ys, cst[s], capped, bint, bpar, b, off, k, s)
        else:
            for i in range(off, off + m):
                acc = y[i]
                for j in range(6):
                    if j != 1:
                        acc += (h * DP_B[j]) * k[j, i]
                ynew[i] = acc
            _rhs_block(ynew, cst[6], capped, bint, bpar, b, off, k, 6)
    err = 0.0
    for i in range(off, off + m):
        sc = 1.0 / (atol + rtol * max(abs(y[i]), abs(ynew[i])))
        acc = 0.0
        for j in range(7):
            if j != 1:
                acc += (h * DP_E[j]) * k[j, i]
        e = acc * sc
        err += e * e
    return err


@nb.njit(fastmath=FAST, inline="always", **HELPER)
def _dense_at(y, h, th, k, i, q, fresh):
    """State ``i`` at y(t + th*h) by the 4th-order continuous extension, from its coefficients
    q[m, i] = sum_j k[j, i] P[j, m], worked out first when ``fresh`` (once per step, however many
    outputs fall inside it)."""
    if fresh:
        for m in range(4):
            acc = 0.0
            for j in range(7):
                acc += k[j, i] * P[j, m]
            q[m, i] = acc
    return y[i] + h * th * (q[0, i] + th * (q[1, i] + th * (q[2, i] + th * q[3, i])))


@nb.njit(fastmath=FAST, **HELPER)
def _dp_dense(y, h, th, k, idx, out, q, fresh):
    """The continuous extension (:func:`_dense_at`) at y(t + th*h) for the states ``idx``, into ``out``.
    Compiled only where a call needs it (recorded states, the running minima of a resumed call): no
    explicit signature, so the common first call does not compile it."""
    for i in idx:
        out[i] = _dense_at(y, h, th, k, i, q, fresh)


@nb.njit(nb.void(F2, i8, f8, f8, F1, f8, f8, F2, nb.int64[::1], F2, nb.boolean), fastmath=FAST, forceinline=True, **HELPER)
def _dense_row(out, i_out, c, auc, y, h, th, k, count_idx, q, fresh):
    """Output row ``i_out`` from within a step of ``h`` days from ``y``, when the states are not
    recorded: conc ``c``, each block's count (its state ``count_idx[b]``) at the step's fraction ``th``
    (:func:`_dense_at`), AUC ``auc``. One call where :func:`_dp_dense` and the driver's ``_record``
    make two: with daily outputs, a tenth of the solve time."""
    n_blocks = count_idx.size
    out[i_out, 0] = c
    for b in range(n_blocks):
        out[i_out, 1 + b] = _dense_at(y, h, th, k, count_idx[b], q, fresh)
    out[i_out, 1 + n_blocks] = auc
