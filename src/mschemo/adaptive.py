"""Simulation with dosing rules: each course is given, delayed, changed or withheld as the rules say.

The rules read the simulated patient the way a clinic reads a real one: the pre-dose count on the
day of the course, the nadir of the previous course, the measured LVEF, the lifetime dose so far.
Patients are decided course by course. Before each decision every pending patient is simulated,
with the doses given so far, up to the day of the decision; a delay moves that course and every
later one by the re-check interval. A patient's decisions depend only on that patient, so results
do not depend on chunking or threads.

Order of the checks before a course: the covariate and count rules (e.g. LVEF, ANC) in the
file's order, the first that fails deciding; then titration (the dose from the previous nadir);
then the cumulative cap, with the dose decided.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import OptionError, PopulationError, RegimenError
from .models.chain import ChainedModel
from .population import Population
from .regimen import Dose, EventTable, Regimen
from .results import SimulationResult
from .rules import CountRule, CovariateRule, CumulativeCap, DosingRules, NadirTitration

__all__ = ["Course", "courses_of", "simulate_with_rules", "DECISION_COLUMNS"]

DECISION_COLUMNS = ["id", "course", "planned_day", "day", "action", "dose", "dose_unit", "dose_mg",
                    "cumulative", "cumulative_unit", "value", "limit", "rule", "reason"]
_TIME_EPS = 1e-9


@dataclass(frozen=True)
class Course:
    """Doses given together (one infusion, or a cladribine treatment year): ``doses`` have times
    relative to ``start_d`` (days)."""

    start_d: float
    doses: tuple[Dose, ...]

    @property
    def amount(self) -> float:
        return float(sum(d.amount for d in self.doses))

    @property
    def unit(self) -> str:
        return self.doses[0].unit if self.doses else "mg"

    def scaled(self, factor: float) -> Course:
        return Course(self.start_d, tuple(d.replace(amount=d.amount * factor, rate_per_d=d.rate_per_d * factor)
                                          for d in self.doses))

    def at(self, start_d: float) -> list[Dose]:
        """The doses with absolute times for a course that starts on ``start_d``."""
        return [d.replace(time_d=start_d + d.time_d) for d in self.doses]


def courses_of(regimen: Regimen, window_d: float = 0.0) -> list[Course]:
    """Split a regimen into courses: ADDL doses become single doses; a dose that starts within
    ``window_d`` days of a course's first dose joins that course."""
    singles: list[Dose] = []
    for d in regimen.doses:
        if d.ss or d.evid != 1:
            raise RegimenError("dosing rules apply to plain doses; a steady-state or reset record (SS, EVID 3/4) "
                               "cannot be checked dose by dose, so simulate it without rules.")
        for k in range(d.addl + 1):
            singles.append(d.replace(time_d=d.time_d + k * d.ii_d, addl=0, ii_d=0.0))
    singles.sort(key=lambda d: d.time_d)
    courses: list[Course] = []
    for d in singles:
        if courses and d.time_d - courses[-1].start_d <= window_d + _TIME_EPS and window_d > 0:
            c = courses[-1]
            courses[-1] = Course(c.start_d, c.doses + (d.replace(time_d=d.time_d - c.start_d),))
        else:
            courses.append(Course(d.time_d, (d.replace(time_d=0.0),)))
    return courses


def _in_unit(amount: float, unit: str, target: str, bsa: float, weight: float) -> float:
    """A dose amount in another dose unit, for one patient."""
    mg = amount * {"mg": 1.0, "mg/m2": bsa, "mg/kg": weight}[unit]
    return mg / {"mg": 1.0, "mg/m2": bsa, "mg/kg": weight}[target]


@dataclass
class _Patient:
    plan: list[Course]
    bsa: float
    weight: float
    k: int = 0                     # next course (0-based)
    shift: float = 0.0             # delay carried by this and later courses, days
    delay_here: float = 0.0        # delay of the current course so far, days
    stopped: bool = False
    cumulative: float = 0.0        # in the cap's unit
    last_start: float = math.nan   # start of the last course given
    last_amount: float = math.nan  # its amount (titration unit)
    covariates: dict = field(default_factory=dict)   # values the covariate rules read
    given: list = field(default_factory=list)         # doses given, absolute times

    @property
    def pending(self) -> bool:
        return not self.stopped and self.k < len(self.plan)

    @property
    def t(self) -> float:
        return self.plan[self.k].start_d + self.shift


def simulate_with_rules(
    model: ChainedModel,
    plan: Regimen | Callable[[Population], Sequence[Sequence[Course]]],
    population: Population,
    rules: DosingRules,
    *,
    output=None,
    until=None,
    backend=None,
    seed: int | None = None,
    progress=False,
    throw: bool = True,
    chunk_size: int = 10_000,
    disease: Any = False,
    disease_until: float | str | None = None,
    immune: bool = False,
) -> SimulationResult:
    """Simulate ``population`` under ``rules``; the result carries a ``decisions`` table.

    plan: a Regimen (the same planned courses for everyone, grouped by ``rules.course_window_d``)
        or a function giving each patient's planned courses (e.g. cladribine tablets by weight).
    throw: raise SolverError when a patient's solve fails; with False its status says so (the
        rules then read that patient's counts as they are).
    chunk_size: patients decided (and simulated) together; results do not depend on it.
    disease, disease_until, immune: as in :func:`mschemo.simulate`, for the doses decided.
    """
    from .simulation import simulate

    if not isinstance(population, Population):
        raise PopulationError("rules are applied to a table of patients; draw them first, e.g. "
                              "PopulationSpec().sample(n, seed, model).")
    n = len(population)
    plans = [courses_of(plan, rules.course_window_d)] * n if isinstance(plan, Regimen) else [list(p) for p in plan(population)]
    if len(plans) != n:
        raise RegimenError(f"the dosing plan gives courses for {len(plans)} patients, but there are {n}; give one plan per patient.")
    bsa = population.covariate("bsa_m2")
    weight = population.covariate("weight_kg")
    in_force = rules.in_force()
    cov_names = sorted({r.covariate for r in in_force if isinstance(r, CovariateRule)})
    for name in cov_names:
        if name not in population.table.columns:
            rule = next(r for r in in_force if isinstance(r, CovariateRule) and r.covariate == name)
            raise PopulationError(f"the rule '{rule.label}' needs the patients' '{name}' column; add it to the "
                                  "patient table (or simulate without rules).")
    cov_values = {name: population.covariate(name) for name in cov_names}
    pts = [_Patient(plans[i], float(bsa[i]), float(weight[i]), covariates={k: float(v[i]) for k, v in cov_values.items()})
           for i in range(n)]
    for r in in_force:
        if isinstance(r, (CountRule, NadirTitration)) and f"{r.output}_1e9_per_L" not in model.count_outputs:
            raise RegimenError(f"the rule '{r.label}' reads the {r.output.upper()} count, which model {model.name} "
                               "does not simulate; use a model with that output or drop the rule.")
    needs_counts = any(isinstance(r, (CountRule, NadirTitration)) for r in in_force)
    ids = population.ids
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise OptionError(f"chunk_size = {chunk_size!r}; give a whole number of patients >= 1.")
    per_patient: list[list[dict]] = [[] for _ in range(n)]
    for start in range(0, n, chunk_size):       # patients are decided chunk by chunk: bounded memory
        chunk = range(start, min(n, start + chunk_size))
        rounds = 0
        while True:
            active = [i for i in chunk if pts[i].pending]
            if not active:
                break
            rounds += 1
            if rounds > 10_000:  # pragma: no cover - a guard against a rule set that never decides
                raise RegimenError("the dosing rules did not reach a decision after 10000 rounds; check recheck and max_delay.")
            counts, nadirs = ({}, {})
            if needs_counts:
                counts, nadirs = _observe(model, population, pts, active, ids, backend, simulate, throw)
            for i in active:
                _decide(pts[i], ids[i], in_force, counts.get(i, {}), nadirs.get(i, {}), per_patient[i])
            if callable(progress):
                progress(sum(not p.pending for p in pts), n)
    rows = [row for patient_rows in per_patient for row in patient_rows]   # patient by patient, in order

    regimens = {ids[i]: (Regimen.from_doses(p.given, text=f"doses given to patient {ids[i]}") if p.given
                         else Regimen.empty()) for i, p in enumerate(pts)}
    table = EventTable(regimens, {}, source="doses decided by the dosing rules")
    result = simulate(model, table, population, output=output if output is not None else "daily", until=until,
                      backend=backend, seed=seed, progress=progress if isinstance(progress, bool) else False, throw=throw,
                      chunk_size=chunk_size, immune=immune or (disease is not False and disease is not None),
                      disease_until=disease_until)
    result.decisions = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    result.provenance["dosing_rules"] = rules.describe()
    result.provenance["cap_region"] = rules.region
    if disease is not False and disease is not None:
        from .disease import attach_disease
        attach_disease(result, disease, until=disease_until)
    return result


def _observe(model, population, pts, active, ids, backend, simulate, throw):
    """Counts on each active patient's decision day, and the nadirs since their last course."""
    t_dec = np.array([pts[i].t for i in active])
    t_end = float(t_dec.max())
    grid = np.unique(np.concatenate([np.arange(0.0, math.floor(t_end) + 1.0), t_dec, [0.0]]))
    sub = Population(population.table.iloc[active].reset_index(drop=True), population.bsa_formula,
                     population.description, population.meta)
    regimens = {ids[i]: (Regimen.from_doses(pts[i].given) if pts[i].given else Regimen.empty()) for i in active}
    res = simulate(model, EventTable(regimens, {}, source="doses given so far"), sub, output=grid, backend=backend,
                   throw=throw)
    counts: dict[int, dict[str, float]] = {}
    nadirs: dict[int, dict[str, float]] = {}
    outs = [o for o in model.count_outputs]
    values = {o.split("_")[0]: res.column(o) for o in outs}
    for j, i in enumerate(active):
        at = int(np.searchsorted(grid, t_dec[j]))
        counts[i] = {k: float(v[j, at]) for k, v in values.items()}
        if math.isfinite(pts[i].last_start):
            a = int(np.searchsorted(grid, pts[i].last_start))
            nadirs[i] = {k: float(v[j, a:at + 1].min()) for k, v in values.items()}
    return counts, nadirs


def _row(p: _Patient, pid, action: str, reason: str, rule: str = "", value: float = math.nan,
         limit: float = math.nan, course=None, cap_unit: str = "") -> dict:
    c = course or p.plan[p.k]
    given = action in ("given", "reduced", "increased")
    return {"id": pid, "course": p.k + 1, "planned_day": p.plan[p.k].start_d, "day": p.t, "action": action,
            "dose": c.amount if given else 0.0, "dose_unit": c.unit,
            "dose_mg": _in_unit(c.amount, c.unit, "mg", p.bsa, p.weight) if given else 0.0,
            "cumulative": p.cumulative, "cumulative_unit": cap_unit, "value": value, "limit": limit, "rule": rule,
            "reason": reason}


def _decide(p: _Patient, pid, rules, counts: dict, nadirs: dict, rows: list) -> None:
    """Decide the current course of one patient: give (possibly changed), delay, withhold or stop."""
    course_no = p.k + 1
    course = p.plan[p.k]
    caps = [r for r in rules if isinstance(r, CumulativeCap)]
    cap_unit = caps[0].unit if caps else ""

    def refuse(action: str, rule, reason: str, value: float, limit: float) -> None:
        if action == "delay":
            rows.append(_row(p, pid, "delayed", reason, rule.label, value, limit, cap_unit=cap_unit))
            p.shift += rule.recheck_d
            p.delay_here += rule.recheck_d
            return
        rows.append(_row(p, pid, "withheld" if action == "withhold" else "stopped", reason, rule.label, value, limit,
                         cap_unit=cap_unit))
        if action == "stop":
            p.stopped = True
        else:
            p.k += 1
            p.delay_here = 0.0

    passed: list = []
    for r in rules:
        if not r.applies_to(course_no):
            continue
        if isinstance(r, CovariateRule):
            value = p.covariates[r.covariate]
            if not value >= r.minimum:
                refuse(r.action, r, f"{r.covariate} {value:.3g} is below {r.minimum:g}", value, r.minimum)
                return
            passed.append((r, f"{r.covariate} {value:.3g} >= {r.minimum:g}", value, r.minimum))
        elif isinstance(r, CountRule):
            value = counts[r.output]
            if value >= r.minimum:
                passed.append((r, f"{r.output.upper()} {value:.2f} >= {r.minimum:g}", value, r.minimum))
            else:
                name = r.output.upper()
                if r.action == "delay":
                    if p.delay_here + r.recheck_d <= r.max_delay_d + _TIME_EPS:
                        refuse("delay", r, f"{name} {value:.2f} x10^9/L is below {r.minimum:g}; re-check in "
                                           f"{r.recheck_d:g} days", value, r.minimum)
                        return
                    refuse(r.after_max_delay, r, f"{name} {value:.2f} x10^9/L is still below {r.minimum:g} after "
                                                 f"{p.delay_here:g} days of delay", value, r.minimum)
                    return
                refuse(r.action, r, f"{name} {value:.2f} x10^9/L is below {r.minimum:g}", value, r.minimum)
                return

    action = "given"
    reason = ("all checks passed" + (": " + "; ".join(x[1] for x in passed) if passed else "")) if rules else "no dosing rules"
    rule_label, value, limit = (passed[-1][0].label, passed[-1][2], passed[-1][3]) if passed else ("", math.nan, math.nan)
    for r in rules:
        if isinstance(r, NadirTitration) and r.applies_to(course_no) and math.isfinite(p.last_amount) and nadirs:
            nadir = nadirs[r.output]
            planned = _in_unit(course.amount, course.unit, r.unit, p.bsa, p.weight)
            new, band = r.next_dose(p.last_amount, nadir)
            course = course.scaled(_in_unit(new, r.unit, course.unit, p.bsa, p.weight) / course.amount) if course.amount else course
            action = "reduced" if new < p.last_amount - 1e-9 else "increased" if new > p.last_amount + 1e-9 else "given"
            reason = (f"previous {r.output.upper()} nadir {nadir:.2f} x10^9/L: dose {new:g} {r.unit} "
                      f"(previous {p.last_amount:g}, planned {planned:g})")
            rule_label, value, limit = r.label, nadir, band.below
    for r in rules:
        if isinstance(r, CumulativeCap) and r.applies_to(course_no):
            after = p.cumulative + _in_unit(course.amount, course.unit, r.unit, p.bsa, p.weight)
            if after > r.limit * (1.0 + 1e-9):
                refuse("stop", r, f"this course would bring the lifetime dose to {after:g} {r.unit}, above the "
                                  f"{r.region.upper() + ' ' if r.region else ''}limit of {r.limit:g} {r.unit}", after, r.limit)
                return
            p.cumulative = after
    rows.append(_row(p, pid, action, reason, rule_label, value, limit, course=course, cap_unit=cap_unit))
    p.given.extend(course.at(p.t))
    p.last_start = p.t
    for r in rules:
        if isinstance(r, NadirTitration):
            p.last_amount = _in_unit(course.amount, course.unit, r.unit, p.bsa, p.weight)
    p.k += 1
    p.delay_here = 0.0
