"""Actions in modal coordinates, for the compiled solver (NumPy, vectorised over all patients).

With K = V diag(lam) V^-1 and modal amounts w = V^-1 A, a bolus of ``a`` mg into compartment c adds
a * V^-1[:, c] to w, and an infusion of r mg/d adds r * V^-1[:, c] to the modal input rate. The
steady state of a record (SS = 1 or 2) is a sum of such responses over its implied doses, summed in
closed form as a geometric series. Done here once per solve, the compiled kernel only adds vectors.
"""

from __future__ import annotations

import numpy as np

from ._events import RESET, SS, Actions

__all__ = ["action_increments", "phi1", "steady_state"]


def phi1(lam: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """(exp(lam*tau) - 1)/lam (days), accurate for small lam*tau."""
    x = lam * tau
    small = np.abs(x) < 1e-5
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(small, tau * (1.0 + x * (0.5 + x / 6.0)), np.expm1(x) / lam)


def steady_state(lam: np.ndarray, u: np.ndarray, amt_f: np.ndarray, rate: np.ndarray, dur: np.ndarray,
                 ii: np.ndarray, lag: np.ndarray, n0: np.ndarray, n1: np.ndarray) -> np.ndarray:
    """Modal amounts (mg) at TIME of the implied doses of SS records at TIME + lag - n*II, n >= 1.

    Row per record: ``lam`` and ``u`` = V^-1[:, cmt] are (m, n_modes); the other arguments (m,).
    Implied doses n0..n1-1 are infusions still running at TIME (given as actions of their own), so
    only their part before TIME counts here; see ``_events`` for n0 (first given) and n1 (first
    completed). II = 0 is a constant-rate infusion at steady state.
    """
    amt_f, rate, dur, ii, lag = (np.asarray(a, dtype=float)[:, None] for a in (amt_f, rate, dur, ii, lag))
    n0, n1 = np.asarray(n0)[:, None], np.asarray(n1)[:, None]
    dw = np.zeros_like(u)
    cyclic = ii > 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        geo = 1.0 / (-np.expm1(lam * np.where(cyclic, ii, 1.0)))
        # implied infusions started but not finished at TIME
        for n in range(int(np.min(n0, initial=1)), int(np.max(n1, initial=1))):
            running = cyclic & (rate > 0.0) & (n >= n0) & (n < n1)
            dw += np.where(running, rate * u * phi1(lam, n * ii - lag), 0.0)
        bolus = amt_f * u * np.exp(lam * (n0 * ii - lag)) * geo
        infusion = rate * u * phi1(lam, dur) * np.exp(lam * (n1 * ii - lag - dur)) * geo
        constant = rate * u * (-1.0 / lam)
    return dw + np.where(~cyclic, constant, np.where(rate > 0.0, infusion, bolus))


def action_increments(acts: Actions, lam: np.ndarray, vinv: np.ndarray, ii: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """(n_actions, n_modes): what each action adds to the modal amounts (bolus, steady state; mg)
    or to the modal input rate (infusion on or off, mg/d; the kernel gives it its sign); 0 for a reset.

    ``lam`` (n, m), ``vinv`` (n, m, m) per patient; ``ii``, ``lag`` per dose record.
    """
    n_act = acts.time.size
    dw = np.zeros((n_act, lam.shape[1]))
    if n_act == 0:
        return dw
    patient = np.repeat(np.arange(acts.off.size - 1), np.diff(acts.off))
    plain = (acts.kind != RESET) & (acts.kind != SS)
    q = np.flatnonzero(plain)
    dw[q] = acts.val[q, None] * vinv[patient[q], :, acts.cmt[q]]
    q = np.flatnonzero(acts.kind == SS)
    if q.size:
        r = acts.rec[q]
        dw[q] = steady_state(lam[patient[q]], vinv[patient[q], :, acts.cmt[q]], acts.amt_f[r], acts.rate[r],
                             acts.dur[r], ii[r], lag[r], acts.n0[r], acts.n1[r])
    return dw

