"""NONMEM dosing semantics: dose records -> a time-ordered list of actions (compiled with numba).

Both backends use this one expansion; they differ only in how they solve between actions.

Records (per patient, in data-set order; amounts in mg after F is *not* yet applied):
time, evid (1 dose, 3 reset, 4 reset+dose), cmt (0-based state), amt (mg), rate (mg/d, > 0 gives
the duration F*amt/rate), dur (d, > 0 gives the rate F*amt/dur), ii (d), addl, ss (0/1/2),
F (bioavailability), lag (d).

Actions: BOLUS (add F*amt), RATE_ON / RATE_OFF (zero-order input on/off), RESET (all states to
their initial values, running infusions stop, pending actions of earlier records are cancelled),
SS (add the steady-state contribution of record ``rec`` at this time; SS=1 is preceded by a RESET).

Semantics (checked against NONMEM 7.5.1 on the 29 scenarios of ../shared/nonmem-parity):
- F changes an infusion's duration when RATE is given, and its rate when the duration is given.
- Lag shifts every administration of the record, ADDL ones included.
- Steady state is that of the implied doses at TIME + lag - n*II, n >= 1: doses still in the
  future are given as real doses; infusions still running at TIME go on after it.
- SS with AMT = 0, RATE > 0 and II = 0 sets the steady state of a constant infusion that ends at TIME.
- Records at equal times act in record order; outputs at an action's time see its effect.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

BOLUS, RATE_ON, RATE_OFF, RESET, SS = 0, 1, 2, 3, 4
_EPS = 1e-9


@nb.njit(cache=True, error_model="numpy")
def rate_and_duration(amt: float, rate: float, dur: float, f: float) -> tuple[float, float]:
    """(rate mg/d, duration d) of a record; (0, 0) for a bolus."""
    if rate > 0.0:
        return rate, f * amt / rate
    if dur > 0.0:
        return f * amt / dur, dur
    return 0.0, 0.0


@nb.njit(cache=True, error_model="numpy")
def ss_first_given(lag: float, ii: float) -> int:
    """Smallest n >= 1 whose implied dose at TIME + lag - n*II is not after TIME."""
    return max(1, int(math.ceil(lag / ii - _EPS)))


@nb.njit(cache=True, error_model="numpy")
def ss_first_completed(lag: float, ii: float, dur: float) -> int:
    """Smallest n whose implied infusion (start TIME + lag - n*II) has ended by TIME."""
    return max(ss_first_given(lag, ii), int(math.ceil((dur + lag) / ii - _EPS)))


@nb.njit(cache=True, error_model="numpy")
def max_actions(addl: np.ndarray, ss: np.ndarray, ii: np.ndarray, lag: np.ndarray, dur_eff: np.ndarray) -> int:
    """Upper bound on the number of actions the records can produce."""
    n = 0
    for r in range(addl.size):
        n += 2 + 2 * (1 + addl[r])
        if ss[r] > 0 and ii[r] > 0:
            n += 2 * (int(math.ceil(lag[r] / ii[r])) + 2) + 2 * (int(math.ceil((dur_eff[r] + lag[r]) / ii[r])) + 2)
    return n


# explicit signatures: one compilation each, whatever literal values the call sites pass
_F1, _I1 = nb.float64[:], nb.int64[:]


@nb.njit(nb.int64(nb.int64, nb.float64, nb.int64, nb.int64, nb.float64, nb.int64, _F1, _I1, _I1, _F1, _I1),
         cache=True, error_model="numpy")
def _push(k, t, kind, cmt, val, rec, a_time, a_kind, a_cmt, a_val, a_rec):
    a_time[k] = t
    a_kind[k] = kind
    a_cmt[k] = cmt
    a_val[k] = val
    a_rec[k] = rec
    return k + 1


@nb.njit(_I1(_F1, nb.int64), cache=True, error_model="numpy")
def stable_order(key, k):
    """Indices that sort key[:k] stably (bottom-up merge sort; ties keep their order)."""
    idx = np.arange(k)
    tmp = np.empty(k, np.int64)
    width = 1
    while width < k:
        for lo in range(0, k, 2 * width):
            mid = min(lo + width, k)
            hi = min(lo + 2 * width, k)
            i, j, o = lo, mid, lo
            while i < mid and j < hi:
                if key[idx[j]] < key[idx[i]]:
                    tmp[o] = idx[j]
                    j += 1
                else:
                    tmp[o] = idx[i]
                    i += 1
                o += 1
            while i < mid:
                tmp[o] = idx[i]
                i += 1
                o += 1
            while j < hi:
                tmp[o] = idx[j]
                j += 1
                o += 1
        idx, tmp = tmp, idx
        width *= 2
    return idx


@nb.njit(nb.void(_F1, _I1, nb.int64), cache=True, error_model="numpy")
def _permute_f(a, order, k):
    b = np.empty(k, a.dtype)
    for i in range(k):
        b[i] = a[i]
    for i in range(k):
        a[i] = b[order[i]]


@nb.njit(nb.void(_I1, _I1, nb.int64), cache=True, error_model="numpy")
def _permute_i(a, order, k):
    b = np.empty(k, a.dtype)
    for i in range(k):
        b[i] = a[i]
    for i in range(k):
        a[i] = b[order[i]]


@nb.njit(cache=True, error_model="numpy")
def expand_actions(time, evid, cmt, amt, rate, dur, ii, addl, ss, fbio, lag,
                   a_time, a_kind, a_cmt, a_val, a_rec) -> int:
    """Fill the action arrays (capacity from :func:`max_actions`) in time order; return the count."""
    k = 0
    for r in range(time.size):
        t0 = time[r]
        if evid[r] == 3 or evid[r] == 4 or ss[r] == 1:
            k = _push(k, t0, RESET, -1, 0.0, r, a_time, a_kind, a_cmt, a_val, a_rec)
        if evid[r] == 3:
            continue
        f = fbio[r]
        c = cmt[r]
        R, D = rate_and_duration(amt[r], rate[r], dur[r], f)
        infusion = R > 0.0
        if ss[r] > 0:
            k = _push(k, t0, SS, c, 0.0, r, a_time, a_kind, a_cmt, a_val, a_rec)
            if ii[r] <= 0.0:
                continue  # steady-state constant infusion: ends at the record time
            n0 = ss_first_given(lag[r], ii[r])
            for n in range(1, n0):  # implied doses still in the future
                s = t0 + lag[r] - n * ii[r]
                if infusion:
                    k = _push(k, s, RATE_ON, c, R, r, a_time, a_kind, a_cmt, a_val, a_rec)
                    k = _push(k, s + D, RATE_OFF, c, R, r, a_time, a_kind, a_cmt, a_val, a_rec)
                else:
                    k = _push(k, s, BOLUS, c, f * amt[r], r, a_time, a_kind, a_cmt, a_val, a_rec)
            if infusion:
                n1 = ss_first_completed(lag[r], ii[r], D)
                for n in range(n0, n1):  # implied infusions still running at the record time
                    s = t0 + lag[r] - n * ii[r]
                    k = _push(k, t0, RATE_ON, c, R, r, a_time, a_kind, a_cmt, a_val, a_rec)
                    k = _push(k, s + D, RATE_OFF, c, R, r, a_time, a_kind, a_cmt, a_val, a_rec)
        for j in range(addl[r] + 1):
            s = t0 + lag[r] + j * ii[r]
            if infusion:
                k = _push(k, s, RATE_ON, c, R, r, a_time, a_kind, a_cmt, a_val, a_rec)
                k = _push(k, s + D, RATE_OFF, c, R, r, a_time, a_kind, a_cmt, a_val, a_rec)
            elif amt[r] > 0.0:
                k = _push(k, s, BOLUS, c, f * amt[r], r, a_time, a_kind, a_cmt, a_val, a_rec)
    # stable sort by time: records at equal times keep record order, a record's actions their order
    order = stable_order(a_time, k)
    _permute_f(a_time, order, k)
    _permute_i(a_kind, order, k)
    _permute_i(a_cmt, order, k)
    _permute_f(a_val, order, k)
    _permute_i(a_rec, order, k)
    return k


@nb.njit(cache=True, error_model="numpy")
def action_capacities(rec_off, amt, rate, dur, fbio, addl, ss, ii, lag) -> np.ndarray:
    """Per-patient upper bound on the number of actions (records of patient i: rec_off[i]:rec_off[i+1])."""
    n = rec_off.size - 1
    cap = np.empty(n, np.int64)
    for i in range(n):
        a, b = rec_off[i], rec_off[i + 1]
        dur_eff = np.empty(b - a)
        for k in range(a, b):
            dur_eff[k - a] = rate_and_duration(amt[k], rate[k], dur[k], fbio[k])[1]
        cap[i] = max(1, max_actions(addl[a:b], ss[a:b], ii[a:b], lag[a:b], dur_eff))
    return cap
