"""Disability endpoints as trials measure them, from EDSS scores at visits.

    confirmed_progression(days, edss)               # first confirmed worsening per patient
    confirmed_improvement(days, edss, confirm_d=182.625, min_baseline=2.0)
    relapse_associated(ids, event_day, relapses)    # RAW (True) or PIRA (False) per event

Confirmed progression (worsening): a visit after baseline whose EDSS is at least baseline + step
(step 1.5 from a baseline of 0, 1.0 up to 5.5, 0.5 above 5.5: ``progression_step``), with the EDSS at
or above that level at every visit from it up to and including the first visit at least
``confirm_d`` days later (3 months: 91.3 days; visits every 3 months confirm at the next one).
Without such a later visit the worsening is not confirmed. Confirmed improvement is the mirror image:
a fall of at least ``improvement_step`` (1.0, or 0.5 from a baseline above 5.5) held for
``confirm_d`` days (6 months in CARE-MS and OPERA), counted in patients whose baseline is at least
``min_baseline`` (2.0 in CARE-MS and OPERA). The baseline is the score at the first visit unless
given.

A confirmed worsening is relapse-associated (RAW) when a relapse began within ``before_d`` days before
the visit of its onset (90 days: NO.MS, Lublin 2022, where PIRA is worsening separated by at least 90
days from a relapse) or, with ``after_d``, up to that many days after it; else it is independent of
relapses (PIRA). Kappos 2020 (OPERA) and the MSBase standard (2025) add windows around the
confirmation visit; ``until_confirmation`` counts any relapse between onset and confirmation too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

__all__ = ["progression_step", "improvement_step", "Confirmed", "confirmed_progression", "confirmed_improvement",
           "relapse_associated", "THREE_MONTHS", "SIX_MONTHS"]

THREE_MONTHS = 365.25 / 4.0
SIX_MONTHS = 365.25 / 2.0
_TOL = 1e-6


def progression_step(baseline: np.ndarray) -> np.ndarray:
    """EDSS increase that counts as worsening: 1.5 from 0, 1.0 from 0.5 to 5.5, 0.5 above 5.5."""
    b = np.asarray(baseline, dtype=float)
    return np.where(b <= 0.0, 1.5, np.where(b > 5.5, 0.5, 1.0))


def improvement_step(baseline: np.ndarray) -> np.ndarray:
    """EDSS decrease that counts as improvement: 1.0, or 0.5 from a baseline above 5.5 (OPERA)."""
    b = np.asarray(baseline, dtype=float)
    return np.where(b > 5.5, 0.5, 1.0)


@dataclass(frozen=True)
class Confirmed:
    """First confirmed event per patient: ``event`` (bool), ``day`` (day of the visit of onset, or the
    last visit's day when there is none), ``visit`` (index of that visit, -1 when none), ``confirm_day``
    (day of the confirming visit, nan when none), ``eligible`` (patients counted)."""

    event: np.ndarray
    day: np.ndarray
    visit: np.ndarray
    confirm_day: np.ndarray
    eligible: np.ndarray

    @property
    def share(self) -> float:
        """Share of eligible patients with an event."""
        n = int(np.sum(self.eligible))
        return float(np.sum(self.event & self.eligible) / n) if n else float("nan")


def _confirmed(days: np.ndarray, hit: np.ndarray, confirm_d: float, first: int) -> tuple[np.ndarray, ...]:
    """First visit k >= first with hit[:, k:c+1] all True, c the first visit at >= days[k] + confirm_d."""
    n, v = hit.shape
    conf = np.searchsorted(days, days + confirm_d - _TOL, side="left")      # (V,) first visit far enough
    miss = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(~hit, axis=1)], axis=1)
    ok = np.zeros((n, v), dtype=bool)
    for k in range(first, v):
        c = conf[k]
        if c < v:
            ok[:, k] = (miss[:, c + 1] - miss[:, k]) == 0
    event = cast(np.ndarray, ok.any(axis=1))   # (n,) with an axis: an array, not a scalar
    visit = np.where(event, np.argmax(ok, axis=1), -1)
    day = np.where(event, days[np.maximum(visit, 0)], days[-1])
    cday = np.where(event, days[np.minimum(conf[np.maximum(visit, 0)], v - 1)], np.nan)
    return event, day, visit, cday


def _inputs(days, edss, baseline):
    days = np.asarray(days, dtype=float)
    e = np.atleast_2d(np.asarray(edss, dtype=float))
    if e.shape[1] != days.size:
        raise ValueError(f"edss has {e.shape[1]} visits but days has {days.size}")
    if np.any(np.diff(days) <= 0):
        raise ValueError("visit days must increase")
    base = e[:, 0] if baseline is None else np.broadcast_to(np.asarray(baseline, dtype=float), (e.shape[0],))
    return days, e, base


def confirmed_progression(days: np.ndarray, edss: np.ndarray, *, baseline: np.ndarray | float | None = None,
                          confirm_d: float = THREE_MONTHS,
                          step: Callable[[np.ndarray], np.ndarray] = progression_step) -> Confirmed:
    """First confirmed worsening per patient from scores ``edss`` (n, V) (or (V,)) at ``days`` (V,),
    day 0 the baseline visit. ``baseline``: the reference EDSS per patient (default: the first
    visit's score); ``step``: baseline -> the increase that counts; ``confirm_d``: how long it must
    hold (every visit from the onset to the first visit at least this much later)."""
    days, e, base = _inputs(days, edss, baseline)
    hit = e >= (base + step(base))[:, None] - _TOL
    event, day, visit, cday = _confirmed(days, hit, confirm_d, 1)
    return Confirmed(event, day, visit, cday, np.ones(e.shape[0], dtype=bool))


def confirmed_improvement(days: np.ndarray, edss: np.ndarray, *, baseline: np.ndarray | float | None = None,
                          confirm_d: float = SIX_MONTHS, min_baseline: float = 2.0,
                          step: Callable[[np.ndarray], np.ndarray] = improvement_step) -> Confirmed:
    """First confirmed improvement per patient: a fall of at least ``step(baseline)`` held for
    ``confirm_d`` days, in patients whose baseline is at least ``min_baseline`` (others are not
    eligible and have no event)."""
    days, e, base = _inputs(days, edss, baseline)
    eligible = base >= min_baseline - _TOL
    hit = (e <= (base - step(base))[:, None] + _TOL) & eligible[:, None]
    event, day, visit, cday = _confirmed(days, hit, confirm_d, 1)
    return Confirmed(event, day, visit, cday, eligible)


def relapse_associated(ids: np.ndarray, event_day: np.ndarray, relapses: pd.DataFrame, *, before_d: float = 90.0,
                       after_d: float = 0.0, confirm_day: np.ndarray | None = None,
                       until_confirmation: bool = False) -> np.ndarray:
    """Per patient (``ids``, with their event day; nan for none): True when a relapse (table with
    ``id`` and ``day``) began in [event_day - before_d, event_day + after_d], or, with
    ``until_confirmation``, up to ``confirm_day``; False otherwise (relapse-independent, PIRA, when
    there is an event)."""
    ids = np.asarray(ids)
    ev = np.asarray(event_day, dtype=float)
    hi = ev + after_d
    if until_confirmation:
        if confirm_day is None:
            raise ValueError("until_confirmation needs the confirmation days")
        hi = np.fmax(hi, np.asarray(confirm_day, dtype=float))
    out = np.zeros(ids.size, dtype=bool)
    if not len(relapses) or not np.any(np.isfinite(ev)):
        return out
    pos = pd.Series(np.arange(ids.size), index=ids)
    r = relapses[relapses["id"].isin(ids)]
    k = pos.loc[r["id"].to_numpy()].to_numpy()
    d = r["day"].to_numpy(dtype=float)
    near = (d >= ev[k] - before_d) & (d <= hi[k])
    out[np.unique(k[near])] = True
    return out
