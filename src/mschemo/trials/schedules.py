"""Visit days of a trial's named schedules, per patient.

A schedule is a regular grid (``every`` from ``start`` to ``until``), a list of ``days``, days after
each dose (``after_each_dose``) or the days of the doses themselves (``before_each_dose``: the count
of that day, taken before the infusion). Days outside the trial are dropped; ``baseline`` adds day 0.
Schedules relative to doses follow each patient's own dosing days (delays included), so they differ
between patients; the others are the same for everyone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..units import parse_duration
from .spec import Schedule

__all__ = ["schedule_days", "common_days"]

ROUND = 6    # decimals: days are rounded so that the same visit reached two ways is one day


def _clean(days: np.ndarray, end_d: float, baseline: bool) -> np.ndarray:
    days = np.round(np.asarray(days, dtype=float), ROUND)
    if baseline:
        days = np.append(days, 0.0)
    return np.unique(days[(days >= 0.0) & (days <= end_d + 1e-9)])


def common_days(schedule: Schedule, end_d: float) -> np.ndarray | None:
    """The days of a schedule that is the same for every patient (None for one relative to doses)."""
    if schedule.relative_to_doses:
        return None
    if schedule.days is not None:
        return _clean(np.asarray(schedule.days, dtype=float), end_d, schedule.baseline)
    assert schedule.every is not None   # a schedule has exactly one kind: neither days nor relative to doses
    step = parse_duration(schedule.every, "every")
    t0 = parse_duration(schedule.start, "start")
    t1 = min(end_d, parse_duration(schedule.until, "until")) if schedule.until is not None else end_d
    k = int(math.floor((t1 - t0) / step + 1e-9))
    return _clean(t0 + np.arange(k + 1) * step, end_d, schedule.baseline)


def schedule_days(schedule: Schedule, end_d: float, ids: Iterable[Any],
                  dose_days: Mapping[Any, np.ndarray] | None = None) -> dict[Any, np.ndarray]:
    """Each patient's visit days of ``schedule`` (dose days: from the arm's decisions)."""
    fixed = common_days(schedule, end_d)
    if fixed is not None:
        return {pid: fixed for pid in ids}
    offsets = ([parse_duration(x, "after_each_dose") for x in schedule.after_each_dose]
               if schedule.after_each_dose is not None else [0.0])
    t0 = parse_duration(schedule.start, "start")
    t1 = min(end_d, parse_duration(schedule.until, "until")) if schedule.until is not None else end_d
    out = {}
    for pid in ids:
        doses = np.asarray((dose_days or {}).get(pid, np.zeros(0)), dtype=float)
        doses = doses[(doses >= t0 - 1e-9) & (doses <= t1 + 1e-9)]
        days = (doses[:, None] + np.asarray(offsets)[None, :]).ravel()
        out[pid] = _clean(days, end_d, schedule.baseline)
    return out
