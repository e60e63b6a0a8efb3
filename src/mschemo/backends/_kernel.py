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

The kernel is laid out for a short first compilation as much as for speed. Doses reach it as modal
increments worked out in NumPy beforehand (``_modal``: boluses, infusion rates, steady states), so it
only adds vectors; one function walks the patients and their actions, one (:func:`_dp_step`)
evaluates the right-hand side, the only place the transit equations are written; the other helpers
are small and called off the hot loop. numba's ``inline="always"`` copies the callee's IR once per
block of it, so it is kept for the two small helpers of the per-output path (their calls cost 6 %
of the solve time); inlining the right-hand side that way made the first compilation take three
times as long.
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
B1, B3, B4, B5, B6 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
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
DP_B = np.array([B1, 0.0, B3, B4, B5, B6])
DP_E = np.array([E1, 0.0, E3, E4, E5, E6, E7])

# PD block layout
# int columns. BI_EFFECT: 0 linear capped on the plasma concentration (cap crossings are step ends),
# 1 Emax, 2 linear capped on the cell-site drug (a state, so min() is evaluated as it is).
# BI_SITE: 1 when the block carries a drug-in-cells state (first state of the block), dCe/dt = KE0*(C - Ce).
BI_NTRANSIT, BI_EFFECT, BI_KILL, BI_SITE = 0, 1, 2, 3
N_BLOCK_INT = 4
BP_CIRC0, BP_KTR, BP_KCIRC, BP_GAMMA, BP_SLOPE, BP_CAP, BP_EMAX, BP_EC50, BP_HILL, BP_KILL, BP_KE0 = range(11)
N_BLOCK_PAR = 11

# explicit signatures: one compilation per helper (numba would otherwise compile a helper again for
# each literal integer a call site passes); helpers are never called from Python, so they have no
# Python wrapper (no_cpython_wrapper)
f8, i8 = nb.float64, nb.int64
F1, F2, I2, B1 = nb.float64[::1], nb.float64[:, ::1], nb.int64[:, ::1], nb.boolean[::1]
PAIR = nb.types.UniTuple(f8, 2)



@nb.njit(f8(f8, f8), cache=True, error_model="numpy", no_cpython_wrapper=True)
def phi1(lam: float, tau: float) -> float:
    """(exp(lam*tau) - 1)/lam, accurate for small lam*tau."""
    x = lam * tau
    if abs(x) < 1e-5:
        return tau * (1.0 + x * (0.5 + x / 6.0))
    return math.expm1(x) / lam


@nb.njit(f8(F1, F1, F1, f8, F1), cache=True, error_model="numpy", no_cpython_wrapper=True)
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


@nb.njit(cache=True, error_model="numpy", fastmath=FAST, inline="always")
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


@nb.njit(PAIR(f8, F1, F1, f8), cache=True, error_model="numpy", no_cpython_wrapper=True)
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


@nb.njit(i8(f8, B1, I2, F2), cache=True, error_model="numpy", no_cpython_wrapper=True)
def _switch_index(c, capped, bint, bpar):
    """First linear-capped block whose branch disagrees with concentration c, else -1."""
    for b in range(bint.shape[0]):
        if bint[b, BI_EFFECT] == 0:
            g = bpar[b, BP_SLOPE] * c - bpar[b, BP_CAP]
            if (g > 0.0) != capped[b]:
                return b
    return -1


@nb.njit(f8(F1, f8, f8, f8, f8, F1, F1, B1, I2, F2, F2, F1, F1, F1, i8, i8, f8, f8), cache=True, error_model="numpy", no_cpython_wrapper=True,
         fastmath=FAST)
def _dp_step(y, h, tau, tau_new, c_inf, seg_g, lam, capped, bint, bpar, k, ys, ynew, cst, last, check_upto, rtol,
             atol):
    """Stages 1..``last`` (<= 6) of a Dormand-Prince step of ``h`` days from ``y`` at segment time ``tau``.

    k[0] holds f at y. Stages 1-5 fill k[1..5]; after stage 5, ``ynew`` holds the 5th-order
    solution at ``tau_new``; stage 6 is f at ynew (into k[6]) and then the RMS of the embedded
    error estimate, scaled by atol + rtol*|y|, is returned (else 0). With h = 0, stage 1 is f at y
    into k[1], whatever k holds; ``last`` = 0 (with h = 0) puts f at y into k[0].
    ``cst[s]`` is the closed-form concentration at stage s; ``capped[b]`` picks the branch of min()
    of a linear capped effect on the plasma concentration. Where the concentration of a stage
    1..``check_upto`` lies across a cap (the step crosses it), -s of the first such stage is
    returned and stage 6 is skipped.
    """
    n = y.size
    # all work inside one loop of fixed length with one way out: numba's reference counting of the
    # array arguments is then pruned (an early return or break costs atomic operations per call)
    res = 0.0
    for s in range(7):
        if (s == 0) != (last == 0) or s > last or (s == 6 and res < 0.0):
            continue
        # the stage's point into ys (one array read below: no reference counting in the loop)
        if s == 6:
            for i in range(n):
                ys[i] = ynew[i]
            ts = tau_new
        elif h == 0.0:   # f at y itself; k may hold anything yet
            for i in range(n):
                ys[i] = y[i]
            ts = tau
        else:
            for i in range(n):
                acc = 0.0
                for j in range(s):
                    acc += DP_A[s, j] * k[j, i]
                ys[i] = y[i] + h * acc
            ts = tau_new if s == 5 else tau + STAGE_C[s] * h
        if s == 6:
            c = cst[5]
        else:
            c = c_inf
            for j in range(seg_g.size):
                x = lam[j] * ts
                if x > -60.0:  # exp(-60) ~ 1e-26: a mode that has died out adds nothing
                    c += seg_g[j] * math.exp(x)
        cst[s] = c
        # the transit equations, block by block
        off = 0
        for b in range(bint.shape[0]):
            nt = bint[b, BI_NTRANSIT]
            ktr = bpar[b, BP_KTR]
            kcirc = bpar[b, BP_KCIRC]
            cd = c
            if bint[b, BI_SITE] != 0:   # the drug acts from inside the cells
                cd = ys[off]
                k[s, off] = bpar[b, BP_KE0] * (c - cd)
                off += 1
            kind = bint[b, BI_EFFECT]
            if kind == 0:
                e = bpar[b, BP_CAP] if capped[b] else bpar[b, BP_SLOPE] * c
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
            prol = ys[off]
            circ = ys[off + nt + 1]
            # a count driven to (numerically) zero keeps a finite feedback: floor at 1e-9 x baseline
            floor = CIRC_FLOOR * bpar[b, BP_CIRC0]
            fb = (bpar[b, BP_CIRC0] / (circ if circ > floor else floor)) ** bpar[b, BP_GAMMA]
            # factored, so that a baseline state (e = 0, fb = 1) has derivatives exactly 0 under
            # fused multiply-add
            k[s, off] = ktr * prol * ((1.0 - e) * fb - 1.0)
            for i in range(1, nt + 1):
                k[s, off + i] = ktr * (ys[off + i - 1] - ys[off + i])
            kill = bpar[b, BP_KILL] * cd if bint[b, BI_KILL] != 0 else 0.0
            k[s, off + nt + 1] = kcirc * (ys[off + nt] - circ) - kill * circ
            off += nt + 2
        if s == 5:
            for i in range(n):
                acc = 0.0
                for j in range(6):
                    acc += DP_B[j] * k[j, i]
                ynew[i] = y[i] + h * acc
            for q in range(1, check_upto + 1):
                if _switch_index(cst[q], capped, bint, bpar) >= 0:
                    res = -float(q)
                    break
        elif s == 6:
            err = 0.0
            for i in range(n):
                sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
                acc = 0.0
                for j in range(7):
                    acc += DP_E[j] * k[j, i]
                e = h * acc / sc
                err += e * e
            res = math.sqrt(err / n)
    return res


@nb.njit(cache=True, error_model="numpy", fastmath=FAST, inline="always")
def _dp_dense(y, h, th, k, out):
    """The 4th-order continuous extension at y(t + th*h)."""
    for i in range(y.size):
        acc = 0.0
        for m in range(3, -1, -1):
            q = 0.0
            for j in range(7):
                q += k[j, i] * P[j, m]
            acc = q + th * acc
        out[i] = y[i] + h * th * acc


@nb.njit(f8(f8, F1, F1, f8, f8, f8, f8, nb.boolean), cache=True, error_model="numpy", no_cpython_wrapper=True)
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


@nb.njit(nb.void(F2, i8, f8, f8, F1, F1, I2, nb.boolean), cache=True, error_model="numpy", no_cpython_wrapper=True)
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


@nb.njit(cache=True, nogil=True, error_model="numpy")
def solve_population(first, last, lam, icv, y0, a_off, a_time, a_kind, a_rec, a_dw,
                     bint, bpar, t_out, rtol, atol, max_steps, record_states, out, status, steps):
    """Solve patients first..last-1; fill out[i] (n_out, n_cols), status[i] and steps[i] (accepted,
    rejected). Releases the GIL, so threads can run disjoint ranges at once; each patient's result is
    independent of the others.

    Per patient i: modes ``lam[i]``, ``icv[i]`` (central concentration per unit of each mode, 1/L),
    initial transit states ``y0[i]``; actions ``a_*[a_off[i]:a_off[i+1]]`` in time order (see
    ``_events.expand_actions``), each with its modal increment ``a_dw`` (mg, or mg/d for a rate).
    With ``record_states`` the last columns get the modal amounts, then the transit states.
    """
    n_pk = lam.shape[1]
    n_pd = y0.shape[1]
    n_out = t_out.size
    n_blocks = bint.shape[0]
    n_linear = 0
    for b in range(n_blocks):
        if bint[b, BI_EFFECT] == 0:
            n_linear += 1

    # workspace, shared by this range's patients
    w = np.empty(n_pk)        # modal amounts (mg)
    beta = np.empty(n_pk)     # modal input rates (mg/d)
    wt = np.empty(n_pk)
    seg_g = np.empty(n_pk)
    y = np.empty(n_pd)
    dtmp = np.empty(n_pd)
    ys = np.empty(n_pd)
    ynew = np.empty(n_pd)
    k = np.empty((7, n_pd))   # stage derivatives; k[0] = f(t, y), k[6] = f(t + h, ynew)
    cst = np.empty(7)
    capped = np.empty(n_blocks + 1, np.bool_)
    for b in range(n_blocks + 1):
        capped[b] = False

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
                _dp_step(y, 0.0, 0.0, 0.0, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, ys, ynew, cst, 0, 0, rtol, atol)
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
                _dp_step(dtmp, 0.0, h0, h0, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, ys, ynew, cst, 1, 0, rtol, atol)
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
                    check_upto = 4 if tau_cross >= 0.0 else 5   # (not inside the call: numba would copy its arguments)
                    err = _dp_step(y, h, tau, tau_new, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, ys, ynew, cst, 6,
                                   check_upto, rtol, atol)
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
                        _dp_step(y, 0.0, tau, tau, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, ys, ynew, cst, 0, 0,
                                 rtol, atol)
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
                    _dp_dense(y, h_eff, th, k, dtmp)
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
                        _dp_step(y, 0.0, tau_new, tau_new, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, ys, ynew, cst,
                                 0, 0, rtol, atol)
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
