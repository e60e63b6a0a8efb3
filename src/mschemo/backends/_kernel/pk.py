"""Exact linear PK in modal coordinates: the closed-form concentration within a segment, its integral
(AUC), its slope, the concentration at each Dormand-Prince stage, and the time where a linear drug
effect reaches its cap.

Within a segment from t, C(tau) = c_inf + sum_j g_j exp(lam_j tau) (``seg_g`` holds the g_j).
"""

from __future__ import annotations

import math

import numba as nb

from .layout import F1, FAST, HELPER, PAIR, f8


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


@nb.njit(PAIR(f8, F1, F1, f8), fastmath=FAST, forceinline=True, **HELPER)
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


@nb.njit(fastmath=FAST, inline="always", **HELPER)
def _conc(c_inf, seg_g, lam, tau):
    """Closed-form concentration (mg/L) at segment time ``tau``."""
    c = c_inf
    for j in range(seg_g.size):
        x = lam[j] * tau
        if x > -60.0:  # exp(-60) ~ 1e-26: a mode that has died out adds nothing
            c += seg_g[j] * math.exp(x)
    return c


# exp(x) near 0 by its Taylor series: |x| at most EXP_NEAR (see :func:`_exp_near0`)
EXP_NEAR = 0.125


@nb.njit(fastmath=FAST, inline="always", **HELPER)
def _exp_near0(x):
    """exp(x): by its Taylor series to x^11 where |x| <= EXP_NEAR (the terms left out are below 4e-20 of
    the value, so it is as exact as the library's exp, within 2 ulp), else the library's exp. A step's
    stage concentrations need exp(lam*h/90), which is almost always that small, and the step's
    stages wait on it: the series is 5 multiply-adds deep (Estrin's scheme), a call to exp longer."""
    if abs(x) > EXP_NEAR:
        return math.exp(x)
    x2 = x * x
    x4 = x2 * x2
    q0 = (1.0 + x) + (0.5 + x * (1.0 / 6.0)) * x2
    q1 = ((1.0 / 24.0) + x * (1.0 / 120.0)) + ((1.0 / 720.0) + x * (1.0 / 5040.0)) * x2
    q2 = ((1.0 / 40320.0) + x * (1.0 / 362880.0)) + ((1.0 / 3628800.0) + x * (1.0 / 39916800.0)) * x2
    return (q0 + q1 * x4) + q2 * (x4 * x4)


@nb.njit(nb.void(f8, f8, f8, F1, F1, F1, F1), fastmath=FAST, forceinline=True, **HELPER)
def _stage_concs(tau, tau_new, c_inf, eg, lam, cst, u90):
    """The closed-form concentration (mg/L) of each stage of a Dormand-Prince step from segment time
    ``tau`` to ``tau_new``, into cst[1..6] (stage 6, f at the new solution, is at ``tau_new`` too).
    ``eg`` holds each mode's term at ``tau``, g_j exp(lam_j tau), which the caller carries from step
    to step: once the step is accepted, eg[j] * u90[j] is the term at ``tau_new`` (u90 is 0 for a
    mode that has died out).

    exp(lam*(tau + c_s*h)) = exp(lam*tau) * u^(90 c_s) with u = exp(lam*h/90), as 90 c_s = 18, 27, 72,
    80, 90: one exp per mode, not five (relative error below 1e-13).
    """
    for s in range(1, 6):
        cst[s] = c_inf
    for j in range(eg.size):
        if lam[j] * tau > -60.0:  # exp(-60) ~ 1e-26: a mode that has died out adds nothing
            g = eg[j]
            u = _exp_near0((lam[j] * (1.0 / 90.0)) * (tau_new - tau))
            u2 = u * u
            u4 = u2 * u2
            u9 = u4 * u4 * u
            u18 = u9 * u9
            u72 = u18 * u18 * u18 * u18
            u90[j] = u72 * u18
            cst[1] += g * u18
            cst[2] += g * (u18 * u9)
            cst[3] += g * u72
            cst[4] += g * (u72 * u4 * u4)
            cst[5] += g * u90[j]
        else:
            u90[j] = 0.0
    cst[6] = cst[5]


@nb.njit(f8(f8, F1, F1, f8, f8, f8, f8, nb.boolean), **HELPER)
def _crossing(c_inf, seg_g, lam, lo, hi, slope, cap, above_at_lo):
    """Time in (lo, hi] (segment-relative) where slope*C = cap; returns the last time on lo's side, the
    bracket closed to 1e-15 (relative, at least 1e-15 d).

    Newton's method inside the bracket, each point kept at least half the tolerance inside the
    bracket's ends: Newton alone approaches the root from one side and left the other end where it
    was, so the bracket closed only by halving (about 50 evaluations a crossing); the first point past
    the root now closes it (about 12). Bisection where Newton's point falls outside the bracket, or
    where its step, longer than the tolerance, is more than half the step before (Newton converging
    only linearly, as where the concentration's curve is flat at the crossing)."""
    t = 0.5 * (lo + hi)
    n_iter = 0
    step_before = math.inf
    while n_iter < 200:
        tol = 1e-15 * max(1.0, abs(hi))
        if hi - lo <= tol:
            break
        n_iter += 1
        c, dc = conc_and_slope(c_inf, seg_g, lam, t)
        g = slope * c - cap
        if (g > 0.0) == above_at_lo:
            lo = t
        else:
            hi = t
        tol = 1e-15 * max(1.0, abs(hi))
        if hi - lo <= tol:
            break
        tn = t - g / (slope * dc) if dc != 0.0 else lo
        step = abs(tn - t)
        if not lo < tn < hi or (step > 0.5 * step_before and step > tol):
            tn = 0.5 * (lo + hi)
            step_before = math.inf
        else:
            step_before = step
        t = tn
        if t < lo + 0.5 * tol:
            t = lo + 0.5 * tol
        if t > hi - 0.5 * tol:
            t = hi - 0.5 * tol
    return lo
