"""NONMEM dosing semantics: dose records -> a time-ordered list of actions per patient (NumPy).

Both backends use this one expansion; they differ only in how they solve between actions. It is
vectorised over all records of all patients, so it costs no compilation.

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

from dataclasses import dataclass

import numpy as np

BOLUS, RATE_ON, RATE_OFF, RESET, SS = 0, 1, 2, 3, 4
_EPS = 1e-9
# times closer than TIME_EPS * max(1, |t|) days count as equal (doses and outputs in other units)
TIME_EPS = 1e-9

# the order in which one record's actions are given when they fall at the same time
_RESET, _SS, _IMPLIED_FUTURE, _IMPLIED_RUNNING, _REGULAR = range(5)


def rate_and_duration(amt: np.ndarray, rate: np.ndarray, dur: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rate mg/d, duration d) of each record; (0, 0) for a bolus."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(rate > 0.0, rate, np.where(dur > 0.0, f * amt / dur, 0.0))
        d = np.where(rate > 0.0, f * amt / rate, np.where(dur > 0.0, dur, 0.0))
    return r, d


def ss_first_given(lag, ii):
    """Smallest n >= 1 whose implied dose at TIME + lag - n*II is not after TIME (ii > 0)."""
    return np.maximum(1, np.ceil(np.asarray(lag) / ii - _EPS)).astype(np.int64)


def ss_first_completed(lag, ii, dur):
    """Smallest n whose implied infusion (start TIME + lag - n*II) has ended by TIME (ii > 0)."""
    return np.maximum(ss_first_given(lag, ii), np.ceil((np.asarray(dur) + lag) / ii - _EPS).astype(np.int64))


@dataclass(frozen=True)
class Actions:
    """Actions of all patients, patient by patient in time order (patient i: ``off[i]:off[i+1]``),
    and what each record needs at a steady-state action.

    ``rec`` is the global record index. Per record: ``amt_f`` (F*AMT, mg), ``rate`` (mg/d) and
    ``dur`` (d) of its input, and for SS records with II > 0 the implied doses ``n0``..``n1``-1
    that are given or running at TIME (see :func:`ss_first_given`, :func:`ss_first_completed`).
    """

    off: np.ndarray
    time: np.ndarray
    kind: np.ndarray
    cmt: np.ndarray
    val: np.ndarray
    rec: np.ndarray
    amt_f: np.ndarray
    rate: np.ndarray
    dur: np.ndarray
    n0: np.ndarray
    n1: np.ndarray

    def patient(self, i: int) -> tuple[np.ndarray, ...]:
        """(time, kind, cmt, val, rec) of patient i's actions."""
        a, b = self.off[i], self.off[i + 1]
        return self.time[a:b], self.kind[a:b], self.cmt[a:b], self.val[a:b], self.rec[a:b]


def _ragged(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts c_r: (r repeated c_r times, 0..c_r-1 for each r)."""
    counts = np.maximum(counts, 0)
    owner = np.repeat(np.arange(counts.size), counts)
    start = np.cumsum(counts) - counts
    return owner, np.arange(owner.size) - start[owner]


def expand_actions(rec: dict[str, np.ndarray], rec_off: np.ndarray) -> Actions:
    """Expand the dose records of every patient (patient i: ``rec_off[i]:rec_off[i+1]``) into actions."""
    t0, evid, cmt, amt, ii, addl, ss, lag = (rec[k] for k in ("time", "evid", "cmt", "amt", "ii", "addl", "ss", "lag"))
    patient = np.repeat(np.arange(rec_off.size - 1), np.diff(rec_off))
    R, D = rate_and_duration(amt, rec["rate"], rec["dur"], rec["f"])
    amt_f = rec["f"] * amt
    infusion = R > 0.0
    doses = evid != 3
    ss_on = doses & (ss > 0)
    cyclic = ss_on & (ii > 0.0)
    safe_ii = np.where(cyclic, ii, 1.0)
    n0 = np.where(cyclic, ss_first_given(lag, safe_ii), 1)
    n1 = np.where(cyclic & infusion, ss_first_completed(lag, safe_ii, D), n0)

    parts: list[tuple] = []   # (record, group, sub, time, kind, cmt, val)

    def add(r, group, sub, time, kind, c, val) -> None:
        m = r.size
        if m:
            parts.append(tuple(np.full(m, x) if np.ndim(x) == 0 else x for x in (r, group, sub, time, kind, c, val)))

    def give(r, group, sub, start, end=None, zero_bolus=False) -> None:
        """Infusions of records ``r`` on at ``start`` and off at ``end`` (default start + D), else
        boluses (of a zero amount too, where ``zero_bolus``); ``sub`` orders them within the group."""
        end = start + D[r] if end is None else end
        inf = infusion[r]
        add(r[inf], group, 2 * sub[inf], start[inf], RATE_ON, cmt[r[inf]], R[r[inf]])
        add(r[inf], group, 2 * sub[inf] + 1, end[inf], RATE_OFF, cmt[r[inf]], R[r[inf]])
        bol = ~inf if zero_bolus else ~inf & (amt[r] > 0.0)
        add(r[bol], group, 2 * sub[bol], start[bol], BOLUS, cmt[r[bol]], amt_f[r[bol]])

    resets = (evid == 3) | (evid == 4) | (ss == 1)
    if resets.any() or ss_on.any():
        r = np.flatnonzero(resets)
        add(r, _RESET, 0, t0[r], RESET, -1, 0.0)
        r = np.flatnonzero(ss_on)
        add(r, _SS, 0, t0[r], SS, cmt[r], 0.0)
        # implied doses still in the future at TIME: n = 1 .. n0-1
        r, k = _ragged(np.where(cyclic, n0 - 1, 0))
        n = k + 1
        give(r, _IMPLIED_FUTURE, n, t0[r] + lag[r] - n * ii[r], zero_bolus=True)
        # implied infusions still running at TIME: on at TIME, off when they would have ended
        r, k = _ragged(np.where(cyclic & infusion, n1 - n0, 0))
        n = n0[r] + k
        give(r, _IMPLIED_RUNNING, n, t0[r], end=t0[r] + lag[r] - n * ii[r] + D[r])
    # the record's own doses (none for a steady-state constant infusion)
    r, j = _ragged(np.where(doses & ~(ss_on & (ii <= 0.0)), addl + 1, 0))
    give(r, _REGULAR, j, t0[r] + lag[r] + j * ii[r])

    if not parts:
        parts.append(tuple(np.empty(0, dtype=d) for d in (np.int64, np.int64, np.int64, float, np.int64, np.int64, float)))
    r_all, group, sub, time, kind, c, val = (np.concatenate([p[i] for p in parts]) for i in range(7))
    r_all = r_all.astype(np.int64)
    # by patient, then time; equal times keep the order of giving (record, group, sub)
    order = np.lexsort((sub, group, r_all, time, patient[r_all]))
    counts = np.bincount(patient[r_all], minlength=rec_off.size - 1)
    off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Actions(off, np.ascontiguousarray(time[order], dtype=float), kind[order].astype(np.int64),
                   c[order].astype(np.int64), np.ascontiguousarray(val[order], dtype=float), r_all[order],
                   np.ascontiguousarray(amt_f, dtype=float), R, D, n0.astype(np.int64), n1.astype(np.int64))
