"""Cladribine tablets (Mavenclad): the label's weight-band tablet schedule for one yearly course.

The label (EU SmPC section 4.2; US PI section 2.2) gives 1.75 mg/kg per yearly course as 10 mg
tablets in two treatment weeks, one at the beginning of month 1 and one at the beginning of month 2;
each week has 4 (40-<50 kg) or 5 days of 1 or 2 tablets once daily. The weight-band table is data in
``params/cladribine.toml`` ([drug.tablets], with its source); this module only reads it.

>>> tablet_schedule(72.0)
[(1, 2), (1, 2), (1, 1), (1, 1), (1, 1), (2, 2), (2, 2), (2, 1), (2, 1), (2, 1)]
>>> sum(d.amount for d in course_doses(72.0))
140.0
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from ..errors import RegimenError
from ..regimen import Dose

__all__ = ["tablet_schedule", "course_doses", "weight_band", "tablet_table"]


@lru_cache(maxsize=1)
def tablet_table() -> dict[str, Any]:
    """The [drug.tablets] table of the cladribine parameter file (the label's weight bands)."""
    from ..params import load_parameters

    return load_parameters("cladribine").raw["drug"]["tablets"]


def _check_weight(weight_kg: float) -> float:
    if isinstance(weight_kg, bool) or not isinstance(weight_kg, (int, float)) or not math.isfinite(weight_kg):
        raise RegimenError(f"weight_kg {weight_kg!r} is not a finite number; give the body weight in kg, e.g. 72.")
    minimum = float(tablet_table()["min_weight_kg"])
    if weight_kg < minimum:
        raise RegimenError(f"weight_kg {weight_kg:g} is below {minimum:g} kg, where the cladribine tablet label "
                           f"gives no dose (not investigated); use a weight of at least {minimum:g} kg or give "
                           "another regimen.")
    return float(weight_kg)


def weight_band(weight_kg: float) -> dict[str, Any]:
    """The label's band (lower_kg <= weight < upper_kg) with its tablets in week 1 and week 2."""
    w = _check_weight(weight_kg)
    for band in tablet_table()["bands"]:
        if band["lower_kg"] <= w < band["upper_kg"]:
            return dict(band)
    raise RegimenError(f"weight_kg {w:g} falls in no band of [drug.tablets] in cladribine.toml; fix the band table.")


def _daily(total: int, n_days: int, per_day_max: int) -> list[int]:
    """Spread ``total`` tablets over ``n_days`` days of 1..per_day_max tablets, the fuller days first."""
    if not n_days <= total <= n_days * per_day_max:
        raise RegimenError(f"{total} tablets cannot be spread over {n_days} days of 1 to {per_day_max} tablets; "
                           "fix the band table in cladribine.toml.")
    base, extra = divmod(total, n_days)
    return [base + 1 if k < extra else base for k in range(n_days)]


def tablet_schedule(weight_kg: float) -> list[tuple[int, int]]:
    """One yearly course as (treatment week, tablets that day) for each treatment day, in order.

    Weeks with 4 tablets (40-<50 kg) have 4 days of 1 tablet; all other weeks have 5 days of 1 or 2
    tablets, the two-tablet days first (the order within the week is an assumption, see the file).
    Raises RegimenError below 40 kg, which the label does not cover.
    """
    band = weight_band(weight_kg)
    table = tablet_table()
    per_day_max = int(table["max_tablets_per_day"])
    out: list[tuple[int, int]] = []
    for week, key in ((1, "week1"), (2, "week2")):
        total = int(band[key])
        n_days = 4 if total == 4 else 5
        out += [(week, n) for n in _daily(total, n_days, per_day_max)]
    return out


def course_doses(weight_kg: float, start_day: float = 0.0, fed: bool = False) -> list[Dose]:
    """The Dose records (mg, oral, into the depot) of one yearly course starting at ``start_day``.

    Week 1 is given on consecutive days from ``start_day``; week 2 from ``start_day`` +
    ``week2_start_day`` (30 days: "the beginning of the second month", see the file). With
    ``fed=True`` each dose carries the typical fed-state bioavailability (F x 0.40/0.456, Savic 2017)
    as a per-dose override, which replaces the patient's own F (its IIV); for fed patients with IIV
    prefer a population column ``fed`` = 1, which the model's covariate effects use.
    """
    if isinstance(start_day, bool) or not isinstance(start_day, (int, float)) or not math.isfinite(start_day) or start_day < 0:
        raise RegimenError(f"start_day {start_day!r} is not a day >= 0; give the day the course starts, e.g. 0 or 365.")
    table = tablet_table()
    tablet_mg = float(table["tablet_mg"])
    week_start = {1: float(start_day), 2: float(start_day) + float(table["week2_start_day"])}
    f_override = _fed_bioavailability() if fed else None
    doses: list[Dose] = []
    day_in_week = {1: 0, 2: 0}
    for week, n in tablet_schedule(weight_kg):
        t = week_start[week] + day_in_week[week]
        day_in_week[week] += 1
        doses.append(Dose(time_d=t, amount=n * tablet_mg, unit="mg", cmt="depot", bioavailability=f_override))
    return doses


def _fed_bioavailability() -> float:
    from ..params import load_parameters

    f = load_parameters("cladribine")["F"]
    factor = 1.0
    for cov in f.covariates:
        if cov.name == "fed":
            factor *= float(cov.factor([1.0])[0])
    return f.value * factor


def label_courses(weight_kg: float, year2_start_day: float | None = None) -> list:
    """The label's two yearly courses as dosing-rule courses: year 1 from day 0, year 2 from
    ``year2_start_day`` (default 12 months, 365.25 days; the label: "one course per year")."""
    from ..dosing import Course
    from ..units import parse_duration

    start2 = parse_duration("12 months") if year2_start_day is None else float(year2_start_day)
    return [Course(start, tuple(d.replace(time_d=d.time_d - start) for d in course_doses(float(weight_kg), start)))
            for start in (0.0, start2)]
