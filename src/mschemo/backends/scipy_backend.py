"""The reference backend: the whole model as ODEs, solved by scipy.integrate.solve_ivp (imported on use).

Readable and slow on purpose. Per patient it walks the action list (the same NONMEM expansion as
the compiled backend), integrates every state (PK amounts, the transit states and the AUC) as ODEs
between actions, restarting the solver at each action (as the SciPy and deSolve peers do; the cap
of a linear effect is the plain min() inside the right-hand side), and computes steady states
from matrix exponentials (scipy.linalg.expm), not from the compiled backend's modal formulas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from ._events import BOLUS, RATE_OFF, RATE_ON, RESET, TIME_EPS, expand_actions, ss_first_completed, ss_first_given
from .problem import Problem, Solution

__all__ = ["Scipy", "steady_state_amounts"]

_METHODS = ("LSODA", "Radau", "BDF", "RK45", "DOP853")


def _infusion_response(K: np.ndarray, cmt: int, rate: float, tau: float) -> np.ndarray:
    """Amounts tau days after the start of an infusion of ``rate`` into ``cmt``, from zero."""
    from scipy.linalg import expm

    m = K.shape[0]
    aug = np.zeros((m + 1, m + 1))
    aug[:m, :m] = K
    aug[cmt, m] = rate
    return expm(aug * tau)[:m, m]


def steady_state_amounts(K: np.ndarray, cmt: int, amt_f: float, rate: float, dur: float, ii: float,
                         lag: float) -> np.ndarray:
    """Amounts at TIME from implied doses at TIME + lag - n*ii, n >= 1 (bolus if rate == 0);
    ii == 0 gives the steady state of a constant infusion."""
    from scipy.linalg import expm, solve

    m = K.shape[0]
    e_c = np.zeros(m)
    e_c[cmt] = 1.0
    if ii <= 0.0:
        return solve(-K, rate * e_c)
    cycle = np.eye(m) - expm(K * ii)
    n0 = ss_first_given(lag, ii)
    if rate <= 0.0:
        return solve(cycle, expm(K * (n0 * ii - lag)) @ (amt_f * e_c))
    n1 = ss_first_completed(lag, ii, dur)
    running = sum((_infusion_response(K, cmt, rate, n * ii - lag) for n in range(n0, n1)), np.zeros(m))
    done = solve(cycle, expm(K * (n1 * ii - lag - dur)) @ _infusion_response(K, cmt, rate, dur))
    return running + done


@dataclass(frozen=True)
class Scipy:
    """Reference backend: ``scipy.integrate.solve_ivp`` (``method``, ``rtol``, ``atol``) on every state."""

    method: str = "LSODA"
    rtol: float = 1e-8
    atol: float = 1e-10
    name = "scipy"

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise OptionError(f"the scipy backend's method is {self.method!r}; use one of {', '.join(_METHODS)}.")
        for k in ("rtol", "atol"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 < v < 1):
                raise OptionError(f"the scipy backend's {k} is {v!r}; give a number between 0 and 1, e.g. 1e-8.")

    def settings(self) -> dict:
        return {"backend": self.name, "method": self.method, "rtol": self.rtol, "atol": self.atol}

    def solve(self, problem: Problem) -> Solution:
        cols = problem.columns
        out = np.full((problem.n, problem.t_out.size, len(cols)), np.nan)
        status = np.zeros(problem.n, dtype=np.int64)
        steps = np.zeros((problem.n, 2), dtype=np.int64)
        for i in range(problem.n):
            status[i], steps[i, 0] = self._patient(problem, i, out[i])
        return Solution(out, status, steps, cols, self.settings())

    # -- one patient --------------------------------------------------------------------------
    def _patient(self, problem: Problem, i: int, out: np.ndarray) -> tuple[int, int]:
        model = problem.model
        p = dict(zip(model.parameters, problem.params[i]))
        K = model.pk.matrix(p)
        n_pk = len(model.pk.states)
        ic = model.pk.central_index
        rec = problem.patient_records(i)
        acts = expand_actions(rec, np.array([0, rec["time"].size]))
        a_time, a_kind, a_cmt, a_val, a_rec = acts.patient(0)
        n_act = a_time.size

        y0 = np.concatenate([model.initial_state(p), [0.0]])    # last state: AUC (mg*d/L)
        y = y0.copy()
        rates = np.zeros(n_pk)
        active = np.zeros(n_pk, dtype=np.int64)
        t_out = problem.t_out
        t = min(0.0, t_out[0], a_time[0] if n_act else 0.0)
        t_end = t_out[-1]
        k_act = k_out = min_rec = 0
        r: np.integer      # record index of an action (a_rec holds integers)
        n_rhs = 0

        def record(j: int, state: np.ndarray) -> None:
            out[j, : len(model.outputs)] = model.output_values(state[:-1], p)
            out[j, len(model.outputs)] = state[-1]
            if problem.record_states:
                out[j, len(model.outputs) + 1:] = state[:-1]

        while True:
            t_eps = t + TIME_EPS * max(1.0, abs(t))
            while k_act < n_act and a_time[k_act] <= t_eps:
                kind, c, r = a_kind[k_act], a_cmt[k_act], a_rec[k_act]
                k_act += 1
                if r < min_rec:
                    continue                      # cancelled by a later reset
                if kind == BOLUS:
                    y[c] += a_val[k_act - 1]
                elif kind == RATE_ON:
                    rates[c] += a_val[k_act - 1]
                    active[c] += 1
                elif kind == RATE_OFF:
                    active[c] -= 1
                    rates[c] = rates[c] - a_val[k_act - 1] if active[c] > 0 else 0.0
                elif kind == RESET:
                    y[:] = y0
                    rates[:] = 0.0
                    active[:] = 0
                    min_rec = r
                else:                             # SS
                    y[:n_pk] += steady_state_amounts(K, c, acts.amt_f[r], acts.rate[r], acts.dur[r], rec["ii"][r],
                                                     rec["lag"][r])
            while k_out < t_out.size and t_out[k_out] <= t_eps:
                record(k_out, y)
                k_out += 1
            if k_out >= t_out.size:
                return 0, n_rhs
            t_stop = min(t_end, a_time[k_act]) if k_act < n_act else t_end
            ok, y, n = self._integrate(model, p, K, ic, rates.copy(), t, t_stop, y, t_out, k_out, record)
            n_rhs += n
            if not ok:
                return 3, n_rhs
            while k_out < t_out.size and t_out[k_out] < _before(t_stop, t_end):
                k_out += 1
            t = t_stop

    def _integrate(self, model, p, K, ic, rates, t0, t1, y, t_out, k_out, record):
        """Integrate [t0, t1] (no action inside); record the outputs strictly inside."""
        from scipy.integrate import solve_ivp

        v1 = p["V1"]

        def rhs(t, s):
            d = np.empty_like(s)
            d[:-1] = model.rhs(t, s[:-1], p, rates)
            d[-1] = s[ic] / v1
            return d

        inside = t_out[(t_out > t0) & (t_out < _before(t1, t_out[-1]))]
        sol = solve_ivp(rhs, (t0, t1), y, method=self.method, rtol=self.rtol, atol=self.atol,
                        t_eval=np.concatenate([inside, [t1]]))
        if sol.status == -1:
            return False, y, sol.nfev
        ys = np.asarray(sol.y, dtype=float)
        for j, col in zip(np.searchsorted(t_out, inside), ys.T[:-1]):
            record(int(j), col)
        return True, ys[:, -1].copy(), sol.nfev


def _before(t_stop: float, t_end: float) -> float:
    """Outputs within rounding of a segment's end belong to its end (after its actions)."""
    return t_stop - TIME_EPS * max(1.0, abs(t_stop)) if t_stop < t_end else t_stop
