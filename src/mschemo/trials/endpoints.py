"""A trial's endpoints, as data, evaluated per patient.

Every endpoint of a spec (``spec.Endpoint``) becomes columns of the per-patient table, named after it:

=======================  ==============================================================================
kind                     columns
=======================  ==============================================================================
relapse_rate             ``NAME`` (relapses counted from ``start``, else day 0), ``NAME_followup_d``
relapse_free             ``NAME`` (True: none counted)
time_to_relapse,         ``NAME_event`` (True: it happened), ``NAME_d`` (its day, else the day
confirmed_progression,   observation ended: censored)
confirmed_improvement,
discontinuation,
composite
edss_change              ``NAME`` (EDSS at the visit nearest ``at``, else the last, minus baseline)
toxicity                 ``NAME`` (grade at or above ``grade`` at the schedule's visits), ``NAME_grade``
                         (worst grade there), ``NAME_min_1e9_per_L`` (lowest reported count),
                         ``NAME_true`` and ``NAME_true_grade`` (the same from the true daily curve)
=======================  ==============================================================================

Confirmed progression (improvement): the first visit with EDSS at least ``step`` above (below) the
baseline that stays so at every visit up to one at least ``confirm`` later (steps: ``from_0`` at
baseline 0, ``high`` above ``high_from``, else ``default``; improvement needs a baseline of at least
``min_baseline``), as :mod:`mschemo.disease.endpoints` computes it. The baseline is the score at the
baseline visit. Only visits up to the endpoint's ``window`` (else the end of the trial) count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..disease.endpoints import confirmed_improvement, confirmed_progression, relapse_associated
from ..units import parse_duration
from .spec import Endpoint, Steps

__all__ = ["ArmData", "evaluate", "confirmed_change", "endpoint_columns"]


@dataclass
class ArmData:
    """What the endpoints of one arm's patients read."""

    ids: np.ndarray
    end_d: float
    edss_baseline: np.ndarray                       # (n,)
    relapses: pd.DataFrame                          # id, day, confirmed, steroids, severity
    edss: Mapping[str, tuple[dict, dict]]           # schedule -> ({id: days}, {id: EDSS there})
    counts: Mapping[str, tuple[dict, dict]]         # schedule -> ({id: days}, {id: {count: values}})
    true_min: Mapping[str, np.ndarray]              # count -> (n,) lowest value of the true daily curve
    stopped_d: np.ndarray                           # (n,) day treatment was stopped by a rule (NaN: never)
    grade: Any                                      # callable(values, count, scale) -> int grades


def _steps(steps: Steps, worsening: bool):
    """The step rule of an endpoint as the function of the baseline that disease.endpoints takes."""
    if worsening:
        return lambda b: np.where(b <= 0.0, steps.from_0, np.where(b > steps.high_from, steps.high, steps.default))
    return lambda b: np.where(b > steps.high_from, steps.high, steps.default)


def confirmed_change(days: np.ndarray, edss: np.ndarray, base: float, step: float, confirm_d: float,
                     worsening: bool = True) -> tuple[bool, float]:
    """(event, day) for one patient: the first visit at least ``step`` away from ``base`` (up for
    worsening, down for improvement) that stays so at every visit up to one at least ``confirm_d``
    later; censored at the last visit (:mod:`mschemo.disease.endpoints`, one patient)."""
    if days.size == 0:
        return False, np.nan
    fn = confirmed_progression if worsening else confirmed_improvement
    kw = {} if worsening else {"min_baseline": -np.inf}
    r = fn(days, edss[None, :], baseline=base, confirm_d=confirm_d, step=lambda b: np.full_like(b, step), **kw)
    return bool(r.event[0]), float(r.day[0])


def _limit(e: Endpoint, end_d: float) -> float:
    return min(end_d, parse_duration(e.window, "window")) if e.window is not None else end_d


def _which(rel: pd.DataFrame, kind: str) -> pd.DataFrame:
    if kind == "confirmed":
        return rel[rel["confirmed"].astype(bool)]
    if kind == "treated":
        return rel[rel["steroids"].astype(bool)]
    if kind == "severe":
        return rel[rel["severity"] == "severe"]
    return rel


def endpoint_columns(e: Endpoint) -> list[str]:
    """The per-patient columns an endpoint adds."""
    if e.kind == "relapse_rate":
        return [e.name, f"{e.name}_followup_d"]
    if e.kind in ("relapse_free", "edss_change"):
        return [e.name]
    if e.kind == "toxicity":
        return [e.name, f"{e.name}_grade", f"{e.name}_min_1e9_per_L", f"{e.name}_true", f"{e.name}_true_grade"]
    return [f"{e.name}_event", f"{e.name}_d"]


def _edss_endpoint(e: Endpoint, d: ArmData, schedule: str) -> dict[str, np.ndarray]:
    days_by, edss_by = d.edss[schedule]
    limit = _limit(e, d.end_d)
    n = d.ids.size
    if e.kind == "edss_change":
        target = parse_duration(e.at, "at") if e.at is not None else limit
        out = np.full(n, np.nan)
        for i, pid in enumerate(d.ids):
            days, vals = days_by[pid], edss_by[pid]
            ok = days <= limit + 1e-9
            if ok.any():
                k = int(np.argmin(np.abs(days[ok] - target)))
                out[i] = vals[ok][k] - d.edss_baseline[i]
        return {e.name: out}
    confirm = parse_duration(e.confirm, "confirm")
    worsening = e.kind == "confirmed_progression"
    fn = confirmed_progression if worsening else confirmed_improvement
    kw = {} if worsening else {"min_baseline": -np.inf if e.min_baseline is None else e.min_baseline}
    step = _steps(e.steps, worsening)
    event, day = np.zeros(n, dtype=bool), np.full(n, limit)
    groups: dict[bytes, list[int]] = {}
    for i, pid in enumerate(d.ids):                         # patients with the same visit days together
        groups.setdefault(days_by[pid].tobytes(), []).append(i)
    for rows in groups.values():
        days = days_by[d.ids[rows[0]]]
        ok = days <= limit + 1e-9
        if ok.sum() < 2:
            day[rows] = days[ok][-1] if ok.any() else limit
            continue
        vals = np.vstack([edss_by[d.ids[i]][ok] for i in rows])
        r = fn(days[ok], vals, baseline=d.edss_baseline[rows], confirm_d=confirm, step=step, **kw)
        event[rows], day[rows] = r.event, r.day
    if worsening and e.association != "any":
        raw = relapse_associated(d.ids, np.where(event, day, np.nan), d.relapses,
                                 before_d=parse_duration(e.association_window, "association_window"))
        keep = raw if e.association == "relapse_associated" else ~raw
        last = np.array([days_by[pid][days_by[pid] <= limit + 1e-9][-1] if np.any(days_by[pid] <= limit + 1e-9)
                         else limit for pid in d.ids])
        day = np.where(event & ~keep, last, day)        # the other kind of event: censored at the last visit
        event = event & keep
    return {f"{e.name}_event": event, f"{e.name}_d": day}


def evaluate(endpoints: list[Endpoint], d: ArmData, default_schedule: Mapping[str, str]) -> pd.DataFrame:
    """The endpoint columns of one arm's patients, in endpoint order."""
    n = d.ids.size
    position = {pid: k for k, pid in enumerate(d.ids)}
    cols: dict[str, np.ndarray] = {}
    events: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    stop_event = np.isfinite(d.stopped_d)
    for e in endpoints:
        limit = _limit(e, d.end_d)
        if e.kind in ("relapse_rate", "time_to_relapse", "relapse_free"):
            first_day = parse_duration(e.start, "start") if e.start is not None else 0.0
            rel = _which(d.relapses, e.relapses)
            rel = rel[(rel["day"] <= limit + 1e-9) & (rel["day"] >= first_day - 1e-9)]
            counts = np.bincount([position[p] for p in rel["id"]], minlength=n) if len(rel) else np.zeros(n, int)
            if e.kind == "relapse_rate":
                cols[e.name], cols[f"{e.name}_followup_d"] = counts.astype(np.int64), np.full(n, limit - first_day)
            elif e.kind == "relapse_free":
                cols[e.name] = counts == 0
            else:
                first = rel.groupby("id")["day"].min().reindex(d.ids).to_numpy(dtype=float)
                ev = np.isfinite(first)
                cols[f"{e.name}_event"], cols[f"{e.name}_d"] = ev, np.where(ev, first, limit)
        elif e.kind in ("confirmed_progression", "confirmed_improvement", "edss_change"):
            cols.update(_edss_endpoint(e, d, e.schedule or default_schedule["edss"]))
        elif e.kind == "discontinuation":
            ev = stop_event & (d.stopped_d <= limit + 1e-9)
            cols[f"{e.name}_event"], cols[f"{e.name}_d"] = ev, np.where(ev, d.stopped_d, limit)
        elif e.kind == "composite":
            ev, day = np.zeros(n, dtype=bool), np.full(n, limit)
            for part in e.parts:
                if part == "discontinuation":
                    pe, pd_ = stop_event & (d.stopped_d <= limit + 1e-9), np.where(stop_event, d.stopped_d, limit)
                else:
                    pe, pd_ = events[part]
                    pe = pe & (pd_ <= limit + 1e-9)
                day = np.where(pe & (~ev | (pd_ < day)), pd_, day)
                ev = ev | pe
            cols[f"{e.name}_event"], cols[f"{e.name}_d"] = ev, np.where(ev, day, limit)
        elif e.kind == "toxicity":
            assert e.count is not None   # a toxicity endpoint has a count (Endpoint's validator)
            schedule = e.schedule or default_schedule["counts"]
            days_by, values_by = d.counts[schedule]
            worst, low = np.zeros(n, dtype=np.int64), np.full(n, np.nan)
            for i, pid in enumerate(d.ids):
                ok = days_by[pid] <= limit + 1e-9
                v = values_by[pid][e.count][ok]
                v = v[np.isfinite(v)]
                if v.size:
                    low[i] = v.min()
                    worst[i] = int(np.max(d.grade(v, e.count, e.scale)))
            true_grade = np.asarray(d.grade(d.true_min[e.count], e.count, e.scale), dtype=np.int64)
            cols[e.name] = worst >= e.grade
            cols[f"{e.name}_grade"], cols[f"{e.name}_min_1e9_per_L"] = worst, low
            cols[f"{e.name}_true"], cols[f"{e.name}_true_grade"] = true_grade >= e.grade, true_grade
        if f"{e.name}_event" in cols:
            events[e.name] = (cols[f"{e.name}_event"], cols[f"{e.name}_d"])
    return pd.DataFrame(cols)
