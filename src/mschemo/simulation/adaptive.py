"""Simulation under dosing rules: each course is given, delayed, changed or withheld as
:func:`mschemo.dosing.decide` says.

The rules read the simulated patient the way a clinic reads a real one: the pre-dose count on the
day of the course, the nadir of the previous course, the measured LVEF, the lifetime dose so far.
Patients are decided course by course. Before each decision every pending patient is simulated,
with the doses given so far, up to the day of the decision; a delay moves that course and every
later one by the re-check interval. A patient's decisions depend only on that patient, so results
do not depend on chunking or threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..dosing import (
    BodySize,
    CountRule,
    Course,
    CovariateRule,
    DosingRules,
    NadirTitration,
    PreDose,
    Reading,
    courses_of,
    decide,
)
from ..errors import OptionError, PopulationError, RegimenError
from ..models.chain import ChainedModel
from ..population import Population
from ..regimen import EventTable, Regimen
from ..results import SimulationResult
from .plain import simulate_plain

__all__ = ["simulate_adaptive", "DECISION_COLUMNS"]

DECISION_COLUMNS = ["id", "course", "planned_day", "day", "action", "dose", "dose_unit", "dose_mg",
                    "cumulative", "cumulative_unit", "value", "limit", "rule", "reason"]


@dataclass
class _Patient:
    plan: list[Course]
    body: BodySize
    k: int = 0                     # next course (0-based)
    shift: float = 0.0             # delay carried by this and later courses, days
    delay_here: float = 0.0        # delay of the current course so far, days
    stopped: bool = False
    last_start: float = math.nan   # start of the last course given
    covariates: dict = field(default_factory=dict)   # readings the covariate rules read
    courses_given: list = field(default_factory=list)   # (amount, unit) of each course given
    given: list = field(default_factory=list)         # doses given, absolute times

    @property
    def pending(self) -> bool:
        return not self.stopped and self.k < len(self.plan)

    @property
    def t(self) -> float:
        return self.plan[self.k].start_d + self.shift


def simulate_adaptive(
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
    The other arguments are those of :func:`mschemo.simulate`.
    """
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
    pts = [_Patient(plans[i], BodySize(float(bsa[i]), float(weight[i])),
                    covariates={k: Reading(float(v[i])) for k, v in cov_values.items()}) for i in range(n)]
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
                counts, nadirs = _observe(model, population, pts, active, ids, backend, throw)
            for i in active:
                _apply(pts[i], ids[i], rules, counts.get(i, {}), nadirs.get(i, {}), per_patient[i])
            if callable(progress):
                progress(sum(not p.pending for p in pts), n)
    rows = [row for patient_rows in per_patient for row in patient_rows]   # patient by patient, in order

    regimens = {ids[i]: (Regimen.from_doses(p.given, text=f"doses given to patient {ids[i]}") if p.given
                         else Regimen.empty()) for i, p in enumerate(pts)}
    table = EventTable(regimens, {}, source="doses decided by the dosing rules")
    result = simulate_plain(model, table, population, output=output if output is not None else "daily", until=until,
                            backend=backend, seed=seed, progress=progress if isinstance(progress, bool) else False,
                            throw=throw, chunk_size=chunk_size,
                            immune=immune or (disease is not False and disease is not None), disease_until=disease_until)
    result.decisions = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    result.provenance["dosing_rules"] = rules.describe()
    result.provenance["cap_region"] = rules.region
    if disease is not False and disease is not None:
        from ..disease import attach_disease
        attach_disease(result, disease, until=disease_until)
    return result


def _observe(model, population, pts, active, ids, backend, throw):
    """Counts on each active patient's decision day, and the nadirs since their last course."""
    t_dec = np.array([pts[i].t for i in active])
    t_end = float(t_dec.max())
    grid = np.unique(np.concatenate([np.arange(0.0, math.floor(t_end) + 1.0), t_dec, [0.0]]))
    sub = Population(population.table.iloc[active].reset_index(drop=True), population.bsa_formula,
                     population.description, population.meta)
    regimens = {ids[i]: (Regimen.from_doses(pts[i].given) if pts[i].given else Regimen.empty()) for i in active}
    res = simulate_plain(model, EventTable(regimens, {}, source="doses given so far"), sub, output=grid,
                         backend=backend, throw=throw)
    counts: dict[int, dict[str, float]] = {}
    nadirs: dict[int, dict[str, float]] = {}
    values = {o.split("_")[0]: res.column(o) for o in model.count_outputs}
    for j, i in enumerate(active):
        at = int(np.searchsorted(grid, t_dec[j]))
        counts[i] = {k: float(v[j, at]) for k, v in values.items()}
        if math.isfinite(pts[i].last_start):
            a = int(np.searchsorted(grid, pts[i].last_start))
            nadirs[i] = {k: float(v[j, a:at + 1].min()) for k, v in values.items()}
    return counts, nadirs


def _apply(p: _Patient, pid, rules: DosingRules, counts: dict, nadirs: dict, rows: list) -> None:
    """Decide the current course of one patient and carry the decision out."""
    planned = p.plan[p.k]
    facts = PreDose(course=p.k + 1, planned=planned, body=p.body,
                    counts={k: Reading(v) for k, v in counts.items()}, covariates=p.covariates,
                    given=p.courses_given, previous=p.courses_given[-1] if p.courses_given else None,
                    previous_nadirs=nadirs, delayed_d=p.delay_here)
    d = decide(rules, facts)
    course = d.course or planned
    rows.append({"id": pid, "course": p.k + 1, "planned_day": planned.start_d, "day": p.t, "action": d.recorded,
                 "dose": course.amount if d.given else 0.0, "dose_unit": course.unit,
                 "dose_mg": p.body.convert(course.amount, course.unit, "mg") if d.given else 0.0,
                 "cumulative": d.lifetime, "cumulative_unit": d.lifetime_unit, "value": d.value, "limit": d.limit,
                 "rule": d.rule, "reason": d.reason})
    if d.action == "delay":
        p.shift += d.recheck_d
        p.delay_here += d.recheck_d
        return
    if d.action == "stop":
        p.stopped = True
        return
    if d.given:
        p.given.extend(d.course.at(p.t))
        p.courses_given.append((d.course.amount, d.course.unit))
        p.last_start = p.t
    p.k += 1
    p.delay_here = 0.0
