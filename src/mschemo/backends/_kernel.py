"""The compiled solver: exact linear PK between actions, Dormand-Prince 5(4) for the transit states.

PK is carried in modal coordinates w = V^-1 A (K = V diag(lam) V^-1), so between actions each mode
is exact: w_j(tau) = exp(lam_j tau) w_j + beta_j phi1(lam_j, tau), beta = V^-1 R. The transit (PD)
states are integrated by an adaptive embedded Runge-Kutta method (Dormand & Prince 1980, with the
4th-order continuous extension for output between steps). The drug concentration inside the PD
right-hand side is the closed form, never an ODE state. The cap of a linear drug effect,
min(SLOPE*C, CAP), is a discontinuity in the derivative: its crossings are located on the closed-form
concentration and become step boundaries, so each step integrates a smooth field.

Patients run in parallel threads (the kernel releases the GIL); a patient's result does not depend
on the thread count.

The kernel is laid out for speed and for a short first compilation. Doses reach it as modal
increments worked out in NumPy beforehand (``_modal``: boluses, infusion rates, steady states), so it
only adds vectors. One function walks the patients and their actions and takes the Dormand-Prince
steps: first the six stage concentrations (:func:`_stage_concs`, two exps per mode, not five), then
each PD block on its own, as blocks share nothing but the concentration. The common block (three
transit compartments, the drug acting from plasma: every built-in model) steps in
:func:`_step_chain3` with its states and stage derivatives as scalars, in registers; any other layout
steps in the array form :func:`_step_any`. With the stage concentrations above and dense output for
the recorded states only, the register form cut the mitox-2y solve time by about 30 %.
So the transit equations are written twice, as scalars (:func:`_rhs_chain3`) and on arrays
(:func:`_rhs_block`); tests/unit/test_kernel_paths.py holds the two forms to each other. Both read a
block's feedback from its count (Friberg) or, where the block's BI_FEEDBACK flag is set, from its
proliferating pool (lymphocytes recovering without overshoot, see models/transit.py). The array
form has no explicit signature and sits behind ``general is None`` tests, which numba prunes while
compiling: it is compiled only for a model that needs it. numba's ``inline="always"`` copies the
callee's IR into each call site, and each function is optimised again inside every caller it is
linked into, so the first compilation grows with both: inlining a whole right-hand side at every
stage made it three times as long, and the two helpers of the per-output path stay plain calls
(inlined, they saved 2 % of the solve time and cost a tenth of the first compilation). The kernel
allocates nothing: its scratch arrays come from the caller (:func:`workspace`), so it compiles without
numba's reference counting, and no helper carries a wrapper it does not need (see ``KERNEL``).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._events import RATE_OFF, RATE_ON, RESET, TIME_EPS

# fused multiply-add in the hot arithmetic; no reassociation (it let LLVM vectorise the short
# stage loops into more code that ran 4 % slower) and no approximate functions
FAST = {"contract"}

# feedback (Circ0/Circ)^gamma sees at least CIRC_FLOOR * Circ0 (a count of ~1 cell per litre)
CIRC_FLOOR = 1e-9

# status codes
OK, MAX_STEPS, STEP_TOO_SMALL, NOT_FINITE = 0, 1, 2, 3

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

# PD block layout
# int columns. BI_EFFECT: 0 linear capped on the plasma concentration (cap crossings are step ends),
# 1 Emax, 2 linear capped on the cell-site drug (a state, so min() is evaluated as it is).
# BI_SITE: 1 when the block carries a drug-in-cells state (first state of the block), dCe/dt = KE0*(C - Ce).
# BI_FEEDBACK: 0 the feedback reads the circulating count, (Circ0/Circ)^gamma (Friberg 2002); 1 it reads the
# proliferating pool, (Prol0/Prol)^gamma with Prol0 = Circ0, so no count can exceed its baseline (models/transit.py).
BI_NTRANSIT, BI_EFFECT, BI_KILL, BI_SITE, BI_FEEDBACK = 0, 1, 2, 3, 4
N_BLOCK_INT = 5
BP_CIRC0, BP_KTR, BP_KCIRC, BP_GAMMA, BP_SLOPE, BP_CAP, BP_EMAX, BP_EC50, BP_HILL, BP_KILL, BP_KE0 = range(11)
N_BLOCK_PAR = 11

# explicit signatures: one compilation per helper (numba would otherwise compile a helper again for
# each literal integer a call site passes)
f8, i8 = nb.float64, nb.int64
F1, F2, I2, B1 = nb.float64[::1], nb.float64[:, ::1], nb.int64[:, ::1], nb.boolean[::1]
PAIR = nb.types.UniTuple(f8, 2)
# options of every kernel function: float errors give inf/nan, not exceptions (error_model); no
# reference counting (_nrt=False: the kernel allocates nothing, its arrays all come from the caller,
# see :func:`workspace`, so numba emits no incref/decref around each array value); no C-callable
# wrapper. Helpers are never called from Python, so they have no Python wrapper either.
KERNEL = {"cache": True, "error_model": "numpy", "_nrt": False, "no_cfunc_wrapper": True}
HELPER = {**KERNEL, "no_cpython_wrapper": True}



@nb.njit(f8(f8, f8), **HELPER)
def phi1(lam: float, tau: float) -> float:
    """(exp(lam*tau) - 1)/lam, accurate for small lam*tau."""
    x = lam * tau
    if abs(x) < 1e-5:
        return tau * (1.0 + x * (0.5 + x / 6.0))
    return math.expm1(x) / lam


@nb.njit(f8(F1, F1, F1, f8, F1), **HELPER)
def advance_modes(w, beta, lam, tau, icv):
    """Move modal amounts ``w`` (mg) by ``tau`` days under modal input ``beta`` (mg/d); return the
    AUC of the central concentration gained (mg*d/L); ``icv``: concentration per unit of each mode."""
    auc = 0.0
    for j in range(w.size):
        x = lam[j] * tau
        e = math.exp(x)
        p1 = phi1(lam[j], tau)
        # phi2 = (exp(x) - 1 - x)/lam^2, the integral of phi1 over [0, tau]
        p2 = tau * tau * (0.5 + x * (1.0 / 6.0 + x / 24.0)) if abs(x) < 1e-4 else (math.expm1(x) - x) / (lam[j] * lam[j])
        auc += icv[j] * (w[j] * p1 + beta[j] * p2)
        w[j] = e * w[j] + beta[j] * p1
    return auc


@nb.njit(PAIR(f8, F1, F1, f8), fastmath=FAST, **HELPER)
def conc_auc_seg(c_inf, seg_g, lam, tau):
    """Concentration at tau and its integral over [0, tau] within a segment."""
    c = c_inf
    a = c_inf * tau
    for j in range(seg_g.size):
        x = lam[j] * tau
        if x < -60.0:  # the mode has died out: all of its area is in
            a -= seg_g[j] / lam[j]
            continue
        e = math.exp(x)
        c += seg_g[j] * e
        if abs(x) < 1e-5:
            a += seg_g[j] * tau * (1.0 + x * (0.5 + x / 6.0))
        else:
            a += seg_g[j] * (e - 1.0) / lam[j]
    return c, a


@nb.njit(PAIR(f8, F1, F1, f8), **HELPER)
def conc_and_slope(c_inf, seg_g, lam, tau):
    """Concentration (mg/L) and its time derivative at tau within a segment."""
    c = c_inf
    dc = 0.0
    for j in range(seg_g.size):
        x = lam[j] * tau
        if x > -60.0:  # exp(-60) ~ 1e-26: a mode that has died out adds nothing
            e = seg_g[j] * math.exp(x)
            c += e
            dc += lam[j] * e
    return c, dc


@nb.njit(i8(f8, B1, I2, F2), **HELPER)
def _switch_index(c, capped, bint, bpar):
    """First linear-capped block whose branch disagrees with concentration c, else -1."""
    for b in range(bint.shape[0]):
        if bint[b, BI_EFFECT] == 0:
            g = bpar[b, BP_SLOPE] * c - bpar[b, BP_CAP]
            if (g > 0.0) != capped[b]:
                return b
    return -1


@nb.njit(fastmath=FAST, inline="always", **HELPER)
def _conc(c_inf, seg_g, lam, tau):
    """Closed-form concentration (mg/L) at segment time ``tau``."""
    c = c_inf
    for j in range(seg_g.size):
        x = lam[j] * tau
        if x > -60.0:  # exp(-60) ~ 1e-26: a mode that has died out adds nothing
            c += seg_g[j] * math.exp(x)
    return c


@nb.njit(fastmath=FAST, inline="always", **HELPER)
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
    """(Circ0/Circ)^gamma; a count driven to (numerically) zero keeps a finite feedback (floor 1e-9 x baseline)."""
    floor = CIRC_FLOOR * circ0
    return (circ0 / (circ if circ > floor else floor)) ** gamma


@nb.njit(fastmath=FAST, **HELPER)
def _rhs_block(ys, c, capped, bint, bpar, b, off, k, s):
    """The transit equations of block ``b`` (its states from ``off`` in ``ys``) at plasma concentration ``c``,
    into k[s]. Any number of transit compartments, with or without a drug-in-cells state."""
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
    # factored, so that a baseline state (e = 0, fb = 1) has derivatives exactly 0 under fused multiply-add
    k[s, off] = ktr * prol * ((1.0 - e) * fb - 1.0)
    for i in range(1, nt + 1):
        k[s, off + i] = ktr * (ys[off + i - 1] - ys[off + i])
    kill = bpar[b, BP_KILL] * cd if bint[b, BI_KILL] != 0 else 0.0
    k[s, off + nt + 1] = bpar[b, BP_KCIRC] * (ys[off + nt] - circ) - kill * circ


@nb.njit(nb.types.UniTuple(f8, 5)(f8, f8, f8, f8, f8, f8, f8, f8, f8, f8, f8, nb.boolean), fastmath=FAST, **HELPER)
def _rhs_chain3(p, t1, t2, t3, circ, e, kcd, ktr, kcirc, circ0, gamma, on_prol):
    """The transit equations of a block with three transit compartments and no drug-in-cells state, as
    scalars (the same equations as :func:`_rhs_block`): drug effect ``e``, kill rate ``kcd`` (1/d);
    ``on_prol``: the feedback reads the proliferating pool, not the count (BI_FEEDBACK)."""
    fb = _feedback(p if on_prol else circ, circ0, gamma)
    return (ktr * p * ((1.0 - e) * fb - 1.0), ktr * (p - t1), ktr * (t1 - t2), ktr * (t2 - t3),
            kcirc * (t3 - circ) - kcd * circ)


@nb.njit(f8(F1, F1, F2, i8, f8, F1, F1, B1, I2, F2, i8, f8, f8), fastmath=FAST, **HELPER)
def _step_chain3(y, ynew, k, off, h, cst, est, capped, bint, bpar, b, rtol, atol):
    """One Dormand-Prince step of ``h`` days for block ``b`` with three transit compartments and the
    drug acting from plasma (its 5 states from ``off``), the states and stage derivatives held in
    registers. Stage concentrations ``cst``; ``est`` is workspace (the drug effect of each stage).
    k[0] holds f at the start; fills k[1..6] and ``ynew``; returns the sum of the squared scaled error
    estimates of the block's states."""
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
    kr = k[0]
    a0, a1, a2, a3, a4 = kr[o], kr[o1], kr[o2], kr[o3], kr[o4]
    hs = h * A21
    b0, b1, b2, b3, b4 = _rhs_chain3(y0 + hs * a0, y1 + hs * a1, y2 + hs * a2, y3 + hs * a3, y4 + hs * a4,
                                     e1, kill * cst[1], ktr, kcirc, circ0, gamma, fp)
    d0, d1, d2, d3, d4 = _rhs_chain3(
        y0 + h * (A31 * a0 + A32 * b0), y1 + h * (A31 * a1 + A32 * b1), y2 + h * (A31 * a2 + A32 * b2),
        y3 + h * (A31 * a3 + A32 * b3), y4 + h * (A31 * a4 + A32 * b4),
        e2, kill * cst[2], ktr, kcirc, circ0, gamma, fp)
    f0, f1, f2, f3, f4 = _rhs_chain3(
        y0 + h * (A41 * a0 + A42 * b0 + A43 * d0), y1 + h * (A41 * a1 + A42 * b1 + A43 * d1),
        y2 + h * (A41 * a2 + A42 * b2 + A43 * d2), y3 + h * (A41 * a3 + A42 * b3 + A43 * d3),
        y4 + h * (A41 * a4 + A42 * b4 + A43 * d4),
        e3, kill * cst[3], ktr, kcirc, circ0, gamma, fp)
    g0, g1, g2, g3, g4 = _rhs_chain3(
        y0 + h * (A51 * a0 + A52 * b0 + A53 * d0 + A54 * f0), y1 + h * (A51 * a1 + A52 * b1 + A53 * d1 + A54 * f1),
        y2 + h * (A51 * a2 + A52 * b2 + A53 * d2 + A54 * f2), y3 + h * (A51 * a3 + A52 * b3 + A53 * d3 + A54 * f3),
        y4 + h * (A51 * a4 + A52 * b4 + A53 * d4 + A54 * f4),
        e4, kill * cst[4], ktr, kcirc, circ0, gamma, fp)
    m0, m1, m2, m3, m4 = _rhs_chain3(
        y0 + h * (A61 * a0 + A62 * b0 + A63 * d0 + A64 * f0 + A65 * g0),
        y1 + h * (A61 * a1 + A62 * b1 + A63 * d1 + A64 * f1 + A65 * g1),
        y2 + h * (A61 * a2 + A62 * b2 + A63 * d2 + A64 * f2 + A65 * g2),
        y3 + h * (A61 * a3 + A62 * b3 + A63 * d3 + A64 * f3 + A65 * g3),
        y4 + h * (A61 * a4 + A62 * b4 + A63 * d4 + A64 * f4 + A65 * g4),
        e5, kill * cst[5], ktr, kcirc, circ0, gamma, fp)
    n0 = y0 + h * (DP_B1 * a0 + B3 * d0 + B4 * f0 + B5 * g0 + B6 * m0)
    n1 = y1 + h * (DP_B1 * a1 + B3 * d1 + B4 * f1 + B5 * g1 + B6 * m1)
    n2 = y2 + h * (DP_B1 * a2 + B3 * d2 + B4 * f2 + B5 * g2 + B6 * m2)
    n3 = y3 + h * (DP_B1 * a3 + B3 * d3 + B4 * f3 + B5 * g3 + B6 * m3)
    n4 = y4 + h * (DP_B1 * a4 + B3 * d4 + B4 * f4 + B5 * g4 + B6 * m4)
    p0, p1, p2, p3, p4 = _rhs_chain3(n0, n1, n2, n3, n4, e5, kill * cst[6], ktr, kcirc, circ0, gamma, fp)
    e0 = h * (E1 * a0 + E3 * d0 + E4 * f0 + E5 * g0 + E6 * m0 + E7 * p0) / (atol + rtol * max(abs(y0), abs(n0)))
    e1 = h * (E1 * a1 + E3 * d1 + E4 * f1 + E5 * g1 + E6 * m1 + E7 * p1) / (atol + rtol * max(abs(y1), abs(n1)))
    e2 = h * (E1 * a2 + E3 * d2 + E4 * f2 + E5 * g2 + E6 * m2 + E7 * p2) / (atol + rtol * max(abs(y2), abs(n2)))
    e3 = h * (E1 * a3 + E3 * d3 + E4 * f3 + E5 * g3 + E6 * m3 + E7 * p3) / (atol + rtol * max(abs(y3), abs(n3)))
    e4 = h * (E1 * a4 + E3 * d4 + E4 * f4 + E5 * g4 + E6 * m4 + E7 * p4) / (atol + rtol * max(abs(y4), abs(n4)))
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
    return e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3 + e4 * e4


@nb.njit(fastmath=FAST, **HELPER)
def _step_any(y, ynew, ys, k, off, m, h, cst, capped, bint, bpar, b, rtol, atol):
    """One Dormand-Prince step of ``h`` days for block ``b`` (its ``m`` states from ``off``), any layout.
    k[0] holds f at the start; fills k[1..6] and ``ynew``; returns the sum of the squared scaled error
    estimates of the block's states."""
    for s in range(1, 7):
        if s < 6:
            for i in range(off, off + m):
                acc = 0.0
                for j in range(s):
                    acc += DP_A[s, j] * k[j, i]
                ys[i] = y[i] + h * acc
            _rhs_block(ys, cst[s], capped, bint, bpar, b, off, k, s)
        else:
            for i in range(off, off + m):
                acc = 0.0
                for j in range(6):
                    acc += DP_B[j] * k[j, i]
                ynew[i] = y[i] + h * acc
            _rhs_block(ynew, cst[6], capped, bint, bpar, b, off, k, 6)
    err = 0.0
    for i in range(off, off + m):
        sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
        acc = 0.0
        for j in range(7):
            acc += DP_E[j] * k[j, i]
        e = h * acc / sc
        err += e * e
    return err


@nb.njit(nb.void(F1, f8, f8, F1, F1, B1, I2, F2, F2), fastmath=FAST, **HELPER)
def _f_at_chain3(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k):
    """f at transit states ``y`` and segment time ``tau``, into k[0], when every block has three transit
    compartments and no drug-in-cells state."""
    c = _conc(c_inf, seg_g, lam, tau)
    k0 = k[0]
    for b in range(bint.shape[0]):
        o, o1, o2, o3, o4 = 5 * b, 5 * b + 1, 5 * b + 2, 5 * b + 3, 5 * b + 4
        kill = bpar[b, BP_KILL] if bint[b, BI_KILL] != 0 else 0.0
        e = _effect(c, c, bint[b, BI_EFFECT], capped[b], bpar, b)
        k0[o], k0[o1], k0[o2], k0[o3], k0[o4] = _rhs_chain3(
            y[o], y[o1], y[o2], y[o3], y[o4], e, kill * c, bpar[b, BP_KTR], bpar[b, BP_KCIRC],
            bpar[b, BP_CIRC0], bpar[b, BP_GAMMA], bint[b, BI_FEEDBACK] != 0)


@nb.njit(fastmath=FAST, **HELPER)
def _f_at_any(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k):
    """f at transit states ``y`` and segment time ``tau``, into k[0]: any block layout."""
    c = _conc(c_inf, seg_g, lam, tau)
    off = 0
    for b in range(bint.shape[0]):
        _rhs_block(y, c, capped, bint, bpar, b, off, k, 0)
        off += bint[b, BI_SITE] + bint[b, BI_NTRANSIT] + 2


@nb.njit(**HELPER)
def _f_at(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k, general):
    """f at transit states ``y`` and segment time ``tau``, into k[0]; ``general`` as in :func:`solve_population`."""
    if general is None:
        _f_at_chain3(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k)
    else:
        _f_at_any(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k)


@nb.njit(nb.void(f8, f8, f8, F1, F1, F1), fastmath=FAST, **HELPER)
def _stage_concs(tau, tau_new, c_inf, seg_g, lam, cst):
    """The closed-form concentration (mg/L) of each stage of a Dormand-Prince step from segment time
    ``tau`` to ``tau_new``, into cst[1..6] (stage 6, f at the new solution, is at ``tau_new`` too).

    exp(lam*(tau + c_s*h)) = exp(lam*tau) * u^(90 c_s) with u = exp(lam*h/90), as 90 c_s = 18, 27, 72,
    80, 90: two exps per mode, not five (relative error below 1e-13).
    """
    for s in range(1, 6):
        cst[s] = c_inf
    for j in range(seg_g.size):
        x = lam[j] * tau
        if x > -60.0:  # exp(-60) ~ 1e-26: a mode that has died out adds nothing
            g = seg_g[j] * math.exp(x)
            u = math.exp(lam[j] * (tau_new - tau) / 90.0)
            u2 = u * u
            u4 = u2 * u2
            u9 = u4 * u4 * u
            u18 = u9 * u9
            u72 = u18 * u18 * u18 * u18
            cst[1] += g * u18
            cst[2] += g * (u18 * u9)
            cst[3] += g * u72
            cst[4] += g * (u72 * u4 * u4)
            cst[5] += g * (u72 * u18)
    cst[6] = cst[5]


@nb.njit(nb.void(F1, f8, f8, F2, nb.int64[::1], F1), fastmath=FAST, **HELPER)
def _dp_dense(y, h, th, k, idx, out):
    """The 4th-order continuous extension at y(t + th*h), for the states ``idx``."""
    for i in idx:
        acc = 0.0
        for m in range(3, -1, -1):
            q = 0.0
            for j in range(7):
                q += k[j, i] * P[j, m]
            acc = q + th * acc
        out[i] = y[i] + h * th * acc


@nb.njit(f8(f8, F1, F1, f8, f8, f8, f8, nb.boolean), **HELPER)
def _crossing(c_inf, seg_g, lam, lo, hi, slope, cap, above_at_lo):
    """Time in (lo, hi] (segment-relative) where slope*C = cap; returns the last time on lo's side."""
    n_iter = 0
    while n_iter < 200 and hi - lo > 1e-15 * max(1.0, abs(hi)):
        n_iter += 1
        mid = 0.5 * (lo + hi)
        c, dc = conc_and_slope(c_inf, seg_g, lam, mid)
        # Newton from mid, kept inside the bracket, else bisection
        g = slope * c - cap
        if (g > 0.0) == above_at_lo:
            lo = mid
        else:
            hi = mid
        if dc != 0.0:
            tn = mid - g / (slope * dc)
            if lo < tn < hi:
                cn, _ = conc_and_slope(c_inf, seg_g, lam, tn)
                if ((slope * cn - cap) > 0.0) == above_at_lo:
                    lo = tn
                else:
                    hi = tn
    return lo


@nb.njit(nb.void(F2, i8, f8, f8, F1, F1, I2, nb.boolean), **HELPER)
def _record(out, i_out, c, auc, y, w, bint, record_states):
    """Write one output row: conc, circ of each block, AUC; with ``record_states`` the modal amounts
    ``w`` and the transit states ``y`` in the last columns."""
    out[i_out, 0] = c
    off = 0
    for b in range(bint.shape[0]):
        nt = bint[b, BI_NTRANSIT]
        off += bint[b, BI_SITE]
        out[i_out, 1 + b] = y[off + nt + 1]
        off += nt + 2
    out[i_out, 1 + bint.shape[0]] = auc
    if record_states:
        n_pk = w.size
        first = out.shape[1] - n_pk - y.size
        for i in range(n_pk + y.size):
            out[i_out, first + i] = w[i] if i < n_pk else y[i - n_pk]


def needs_general_path(bint: np.ndarray) -> bool:
    """Whether any PD block needs the array form of the step (not three transit compartments, or a
    drug-in-cells state)."""
    return bool(np.any((bint[:, BI_NTRANSIT] != 3) | (bint[:, BI_SITE] != 0)))


def workspace(n_pk: int, bint: np.ndarray, record_states: bool) -> tuple:
    """The scratch arrays of one :func:`solve_population` call, allocated here, not in the kernel (each
    allocation site there costs compile time): ``work`` (floats), ``k`` (7, n_pd) stage derivatives,
    ``capped`` (per block: on the capped branch of min(SLOPE*C, CAP)) and ``dense_idx``, the states the
    outputs read between steps (each block's count, or every state with ``record_states``)."""
    sizes = bint[:, BI_SITE] + bint[:, BI_NTRANSIT] + 2   # states per block; its count is the last
    n_pd = int(sizes.sum())
    dense_idx = np.arange(n_pd) if record_states else np.cumsum(sizes) - 1
    return (np.empty(4 * n_pk + 4 * n_pd + 14), np.empty((7, n_pd)), np.zeros(bint.shape[0] + 1, np.bool_),
            np.ascontiguousarray(dense_idx, dtype=np.int64))


@nb.njit(nogil=True, **KERNEL)
def solve_population(first, last, lam, icv, y0, a_off, a_time, a_kind, a_rec, a_dw,
                     bint, bpar, general, t_out, rtol, atol, max_steps, record_states, out, status, steps,
                     work, k, capped, dense_idx):
    """Solve patients first..last-1; fill out[i] (n_out, n_cols), status[i] and steps[i] (accepted,
    rejected). Releases the GIL, so threads can run disjoint ranges at once; each patient's result is
    independent of the others.

    Per patient i: modes ``lam[i]``, ``icv[i]`` (central concentration per unit of each mode, 1/L),
    initial transit states ``y0[i]``; actions ``a_*[a_off[i]:a_off[i+1]]`` in time order (see
    ``_events.expand_actions``), each with its modal increment ``a_dw`` (mg, or mg/d for a rate).
    With ``record_states`` the last columns get the modal amounts, then the transit states.
    ``general`` is None when every block has three transit compartments and no drug-in-cells state
    (see :func:`needs_general_path`): numba then compiles only the register path of the step, a
    second of the first compilation; for any other layout pass an empty array. ``work``, ``k``,
    ``capped`` and ``dense_idx`` are this call's scratch arrays, from :func:`workspace` (one set per
    thread).
    """
    n_pk = lam.shape[1]
    n_pd = y0.shape[1]
    n_out = t_out.size
    n_blocks = bint.shape[0]
    n_linear = 0
    for b in range(n_blocks):
        if bint[b, BI_EFFECT] == 0:
            n_linear += 1

    # workspace (see :func:`workspace`), shared by this range's patients
    w = work[0:n_pk]                      # modal amounts (mg)
    beta = work[n_pk:2 * n_pk]            # modal input rates (mg/d)
    wt = work[2 * n_pk:3 * n_pk]
    seg_g = work[3 * n_pk:4 * n_pk]
    o = 4 * n_pk
    y = work[o:o + n_pd]
    dtmp = work[o + n_pd:o + 2 * n_pd]
    ys = work[o + 2 * n_pd:o + 3 * n_pd]
    ynew = work[o + 3 * n_pd:o + 4 * n_pd]
    o += 4 * n_pd
    cst = work[o:o + 7]                   # the concentration at each stage
    est = work[o + 7:o + 14]              # the drug effect at each stage (of one block)

    for p in range(first, last):
        lam_p = lam[p]
        icv_p = icv[p]
        bpar_p = bpar[p]
        out_p = out[p]
        a0 = a_off[p]
        n_act = a_off[p + 1] - a0
        for j in range(n_pk):
            w[j] = 0.0
            beta[j] = 0.0
        for i in range(n_pd):
            y[i] = y0[p, i]
        n_inf = 0   # running infusions
        auc = 0.0

        t = 0.0
        if n_act > 0 and a_time[a0] < t:
            t = a_time[a0]
        if n_out > 0 and t_out[0] < t:
            t = t_out[0]
        t_end = t_out[n_out - 1] if n_out > 0 else t
        i_act = 0
        i_out = 0
        min_rec = -1
        n_acc = 0
        n_rej = 0
        st = OK

        while True:
            # 1. actions at time t
            t_eps = t + TIME_EPS * max(1.0, abs(t))
            while i_act < n_act and a_time[a0 + i_act] <= t_eps:
                q = a0 + i_act
                i_act += 1
                if a_rec[q] < min_rec:
                    continue   # cancelled by a later reset
                kind = a_kind[q]
                if kind == RESET:
                    for j in range(n_pk):
                        w[j] = 0.0
                        beta[j] = 0.0
                    for i in range(n_pd):
                        y[i] = y0[p, i]
                    n_inf = 0
                    min_rec = a_rec[q]
                elif kind == RATE_ON or kind == RATE_OFF:
                    sign = 1.0 if kind == RATE_ON else -1.0
                    n_inf += 1 if kind == RATE_ON else -1
                    for j in range(n_pk):
                        # the last infusion off: exactly no input, not a rounding residue
                        beta[j] = beta[j] + sign * a_dw[q, j] if n_inf > 0 else 0.0
                else:   # a bolus, or the steady state of a record
                    for j in range(n_pk):
                        w[j] += a_dw[q, j]
            # the concentration within the segment from t: C(tau) = c_inf + sum_j g_j exp(lam_j tau)
            c_inf = 0.0
            c0 = 0.0
            for j in range(n_pk):
                q_ = beta[j] / lam_p[j]
                seg_g[j] = icv_p[j] * (w[j] + q_)
                c_inf -= icv_p[j] * q_
                c0 += icv_p[j] * w[j]
            # 2. outputs at time t (after the actions)
            while i_out < n_out and t_out[i_out] <= t_eps:
                _record(out_p, i_out, c0, auc, y, w, bint, record_states)
                i_out += 1
            if i_out >= n_out:
                break
            t_stop = t_end
            if i_act < n_act and a_time[a0 + i_act] < t_stop:
                t_stop = a_time[a0 + i_act]
            seg_len = t_stop - t
            # outputs within rounding of the segment's end belong to its end (after its actions)
            t_stop_out = t_stop - TIME_EPS * max(1.0, abs(t_stop)) if t_stop < t_end else t_stop

            # 3. transit states over [t, t_stop] with the closed-form concentration (PK only: one
            # exact step over the whole segment)
            seg_t0 = t
            h = seg_len
            if n_pd > 0:
                for b in range(n_blocks):
                    if bint[b, BI_EFFECT] == 0:
                        capped[b] = bpar_p[b, BP_SLOPE] * c0 > bpar_p[b, BP_CAP]
                _f_at(y, 0.0, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, general)
                # initial step after each action (Hairer, Norsett & Wanner 1993, II.4): the input just changed
                d0 = 0.0
                d1 = 0.0
                for i in range(n_pd):
                    sc = atol + rtol * abs(y[i])
                    d0 += (y[i] / sc) * (y[i] / sc)
                    d1 += (k[0, i] / sc) * (k[0, i] / sc)
                d0 = math.sqrt(d0 / n_pd)
                d1 = math.sqrt(d1 / n_pd)
                h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
                h0 = min(h0, seg_len)
                # f(y + h0*f(y)) at h0, into k[1]
                for i in range(n_pd):
                    dtmp[i] = y[i] + h0 * k[0, i]
                _f_at(dtmp, h0, c_inf, seg_g, lam_p, capped, bint, bpar_p, k[1:], general)
                d2 = 0.0
                for i in range(n_pd):
                    dd = (k[1, i] - k[0, i]) / (atol + rtol * abs(y[i]))
                    d2 += dd * dd
                d2 = math.sqrt(d2 / n_pd) / h0
                dm = max(d1, d2)
                h1 = max(1e-6, h0 * 1e-3) if dm <= 1e-15 else (0.01 / dm) ** 0.2
                h = min(100.0 * h0, h1)
            tau_cross = -1.0   # >= 0: this step ends exactly on a cap crossing (segment time)
            while t < t_stop:
                if n_acc + n_rej >= max_steps:
                    st = MAX_STEPS
                    break
                last = False
                h_free = h
                if h >= t_stop - t:
                    h = t_stop - t
                    last = True
                tau = t - seg_t0
                if tau_cross >= 0.0:
                    last = False
                    tau_new = tau_cross
                    t_new = seg_t0 + tau_cross
                    h = tau_cross - tau
                else:
                    t_new = t_stop if last else t + h
                    tau_new = t_new - seg_t0
                h_eff = t_new - t
                # the step, with its error estimate, unless a stage's concentration lies across an effect
                # cap: then shorten the step to end at the crossing (a step that already ends on the
                # crossing is on the old branch's side there by construction, so stage 5 is not checked)
                err = 0.0
                if n_pd > 0:
                    _stage_concs(tau, tau_new, c_inf, seg_g, lam_p, cst)
                    for q in range(1, 5 if tau_cross >= 0.0 else 6):
                        if _switch_index(cst[q], capped, bint, bpar_p) >= 0:
                            err = -float(q)
                            break
                if n_pd > 0 and err == 0.0:
                    # a Dormand-Prince step of each block (blocks share only the concentration): k[0] is f
                    # at y; fills k[1..6] (k[6]: f at the new solution) and ynew (5th order); err is the
                    # RMS of the embedded error estimate scaled by atol + rtol*|y|
                    off = 0
                    for b in range(n_blocks):
                        m = bint[b, BI_SITE] + bint[b, BI_NTRANSIT] + 2
                        if general is None or (m == 5 and bint[b, BI_SITE] == 0):
                            err += _step_chain3(y, ynew, k, off, h, cst, est, capped, bint, bpar_p, b, rtol, atol)
                        else:
                            err += _step_any(y, ynew, ys, k, off, m, h, cst, capped, bint, bpar_p, b, rtol, atol)
                        off += m
                    err = math.sqrt(err / n_pd)
                if err < 0.0:
                    hit = np.int64(-err)
                    lo = tau + STAGE_C[hit - 1] * h
                    hi = tau + STAGE_C[hit] * h
                    best = hi
                    bbest = -1
                    for b in range(n_blocks):
                        if bint[b, BI_EFFECT] != 0:
                            continue
                        g_hi = bpar_p[b, BP_SLOPE] * cst[hit] - bpar_p[b, BP_CAP]
                        if (g_hi > 0.0) == capped[b]:
                            continue
                        tc = _crossing(c_inf, seg_g, lam_p, lo, hi, bpar_p[b, BP_SLOPE], bpar_p[b, BP_CAP], capped[b])
                        if tc < best:
                            best = tc
                            bbest = b
                    hnew = best - tau
                    if hnew <= 1e-14 * max(1.0, abs(t)):
                        # the crossing is at t itself: switch the branch now
                        if bbest < 0:
                            bbest = _switch_index(cst[hit], capped, bint, bpar_p)
                        capped[bbest] = not capped[bbest]
                        _f_at(y, tau, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, general)
                        continue
                    h = hnew
                    tau_cross = best
                    n_rej += 1
                    continue

                if not math.isfinite(err):
                    st = NOT_FINITE
                    break
                if err > 1.0:
                    h *= max(0.2, 0.9 * err ** -0.2)
                    tau_cross = -1.0
                    n_rej += 1
                    if h < 1e-14 * max(1.0, abs(t)):
                        st = STEP_TOO_SMALL
                        break
                    continue

                # accepted: dense output for outputs inside (t, t_new)
                tau_cross = -1.0
                while i_out < n_out and t_out[i_out] < t_new and t_out[i_out] < t_stop_out:
                    th = (t_out[i_out] - t) / h_eff
                    _dp_dense(y, h_eff, th, k, dense_idx, dtmp)
                    tau_o = t_out[i_out] - seg_t0
                    c_o, a_ = conc_auc_seg(c_inf, seg_g, lam_p, tau_o)
                    if record_states:
                        for j in range(n_pk):
                            wt[j] = w[j]
                        advance_modes(wt, beta, lam_p, tau_o, icv_p)
                    _record(out_p, i_out, c_o, auc + a_, dtmp, wt, bint, record_states)
                    i_out += 1
                if n_pd > 0:
                    n_acc += 1
                for i in range(n_pd):
                    y[i] = ynew[i]
                    k[0, i] = k[6, i]
                t = t_new
                # past a crossing of the effect cap? switch the branch of min() for the next step
                if t < t_stop and n_linear > 0:
                    cn, _ = conc_and_slope(c_inf, seg_g, lam_p, t - seg_t0 + 1e-12 * max(1.0, abs(t)))
                    flipped = False
                    for bb in range(n_blocks):
                        if bint[bb, BI_EFFECT] == 0:
                            above = bpar_p[bb, BP_SLOPE] * cn > bpar_p[bb, BP_CAP]
                            if above != capped[bb]:
                                capped[bb] = above
                                flipped = True
                    if flipped:
                        _f_at(y, tau_new, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, general)
                fac = 10.0 if err == 0.0 else min(10.0, max(0.2, 0.9 * err ** -0.2))
                h = max(h_free, h * fac) if last else h * fac
            if st != OK:
                break
            # advance PK exactly to the end of the segment
            auc += advance_modes(w, beta, lam_p, seg_len, icv_p)
            t = t_stop
        status[p] = st
        steps[p, 0] = n_acc
        steps[p, 1] = n_rej
