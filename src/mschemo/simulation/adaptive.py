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

from ..backends import Compiled, get_backend
from ..backends.problem import STATUS_MESSAGES
from ..backends.resumable import Resumable
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
from ..errors import OptionError, PopulationError, RegimenError, SolverError
from ..models.chain import ChainedModel
from ..output import OutputTimes
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
    watch = any(isinstance(r, NadirTitration) for r in in_force)
    ids = population.ids
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise OptionError(f"chunk_size = {chunk_size!r}; give a whole number of patients >= 1.")
    per_patient: list[list[dict]] = [[] for _ in range(n)]
    be = get_backend(backend)
    with_immune = immune or (disease is not False and disease is not None)
    common: dict[str, Any] = dict(
        output=output if output is not None else "daily", until=until, backend=be, seed=seed,
        progress=progress if isinstance(progress, bool) else False, throw=throw, chunk_size=chunk_size,
        immune=with_immune, disease_until=disease_until)
    decided = "doses decided by the dosing rules"

    def table() -> EventTable:
        regimens = {ids[i]: (Regimen.from_doses(p.given, text=f"doses given to patient {ids[i]}") if p.given
                             else Regimen.empty()) for i, p in enumerate(pts)}
        return EventTable(regimens, {}, source=decided)

    if isinstance(be, Compiled) and _known_end(common["output"], until):
        # each chunk decided while it is solved, once, on the output grid (see backends/resumable.py)
        index = {pid: i for i, pid in enumerate(ids)}

        def solver(problem, pop):
            rows = [index[pid] for pid in pop.ids]
            run = Resumable(be, model, pop, problem.t_out, watch=watch)
            _decide(rows, pts, ids, rules, per_patient, _Resuming(run, rows, pts, needs_counts, throw))
            run.run(np.arange(len(rows)))
            return run.solution()

        placeholder = EventTable({pid: Regimen.empty() for pid in ids}, {}, source=decided)
        result = simulate_plain(model, placeholder, population, solver=solver, **common)
        result.regimen = table()
    else:
        for start in range(0, n, chunk_size):       # patients are decided chunk by chunk: bounded memory
            rows = list(range(start, min(n, start + chunk_size)))
            if isinstance(be, Compiled):
                # the end of the outputs depends on the last dose given: decide first, on no output grid
                sub = Population(population.table.iloc[rows].reset_index(drop=True), population.bsa_formula,
                                 population.description, population.meta)
                observer = _Resuming(Resumable(be, model, sub, np.zeros(1), watch=watch), rows, pts, needs_counts, throw)
            else:
                observer = _Reexamining(model, population, pts, ids, be, needs_counts, throw)
            _decide(rows, pts, ids, rules, per_patient, observer)
            if callable(progress):
                progress(rows[-1] + 1, n)
        result = simulate_plain(model, table(), population, **common)
    result.decisions = pd.DataFrame([row for rows_ in per_patient for row in rows_], columns=DECISION_COLUMNS)
    result.provenance["dosing_rules"] = rules.describe()
    result.provenance["cap_region"] = rules.region
    if disease is not False and disease is not None:
        from ..disease import attach_disease
        attach_disease(result, disease, until=disease_until)
    return result


def _known_end(output: Any, until: Any) -> bool:
    """Whether the output times end without knowing the doses (else they end 13 weeks after the last)."""
    try:
        OutputTimes.parse(output, until).times_d(default_until=None)
    except OptionError:
        return False
    return True


def _decide(rows: list[int], pts: list[_Patient], ids: Any, rules: DosingRules, per_patient: list[list[dict]],
            observer: Any) -> None:
    """Decide the courses of patients ``rows`` round by round: the pending patients' counts on their
    decision days (``observer.observe``), the decision of each, then what was given (``observer.decided``)."""
    rounds = 0
    while True:
        active = [i for i in rows if pts[i].pending]
        if not active:
            return
        rounds += 1
        if rounds > 10_000:  # pragma: no cover - a guard against a rule set that never decides
            raise RegimenError("the dosing rules did not reach a decision after 10000 rounds; check recheck and max_delay.")
        counts, nadirs = observer.observe(active)
        active = [i for i in active if pts[i].pending]     # a failed solve stops a patient
        before = [len(pts[i].given) for i in active]
        for i in active:
            _apply(pts[i], ids[i], rules, counts.get(i, {}), nadirs.get(i, {}), per_patient[i])
        observer.decided(active, [pts[i].given[b:] for i, b in zip(active, before)])


class _Resuming:
    """The counts on each decision day from one integration per patient that pauses there
    (:class:`~mschemo.backends.resumable.Resumable`); ``rows`` are the patients (global indices) of
    the run's chunk, in its order."""

    def __init__(self, run: Resumable, rows: list[int], pts: list[_Patient], needs_counts: bool, throw: bool) -> None:
        self.run = run
        self.local = {i: j for j, i in enumerate(rows)}
        self.pts = pts
        self.needs_counts = needs_counts
        self.throw = throw

    def _rows(self, patients: list[int]) -> np.ndarray:
        return np.array([self.local[i] for i in patients], dtype=np.int64)

    def observe(self, active: list[int]) -> tuple[dict, dict]:
        if not self.needs_counts:
            return {}, {}
        run, rows = self.run, self._rows(active)
        run.run(rows, np.array([self.pts[i].t for i in active]))
        bad = run.status[rows] != 0
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            pid = run.population.ids[rows[k]]
            if self.throw:
                raise SolverError(f"patient {pid}: {STATUS_MESSAGES.get(int(run.status[rows[k]]), 'solver failed')}.",
                                  patient_id=pid)
            for j in np.flatnonzero(bad):
                self.pts[active[j]].stopped = True
        values = run.held_counts(rows)
        lows = run.nadirs(rows) if run.n_watched else {}
        counts = {i: {k: float(v[j]) for k, v in values.items()} for j, i in enumerate(active)}
        nadirs = {i: {k: float(v[j]) for k, v in lows.items()} for j, i in enumerate(active)
                  if lows and math.isfinite(self.pts[i].last_start)}
        return counts, nadirs

    def decided(self, active: list[int], new_doses: list[list]) -> None:
        rows = self._rows(active)
        if self.needs_counts:
            self.run.go_on(rows, np.array([len(d) > 0 for d in new_doses], dtype=bool))
        self.run.give(rows, new_doses)


class _Reexamining:
    """The counts on each decision day from a simulation of the doses given so far from day 0 (for
    backends that cannot pause a patient and go on: each round solves the pending patients again)."""

    def __init__(self, model: ChainedModel, population: Population, pts: list[_Patient], ids: Any, backend: Any,
                 needs_counts: bool, throw: bool) -> None:
        self.args = (model, population, pts, ids, backend, throw)
        self.needs_counts = needs_counts

    def observe(self, active: list[int]) -> tuple[dict, dict]:
        if not self.needs_counts:
            return {}, {}
        return _observe(*self.args[:3], active, *self.args[3:])

    def decided(self, active: list[int], new_doses: list[list]) -> None:
        pass


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
        assert d.course is not None  # d.given is d.course is not None
        p.given.extend(d.course.at(p.t))
        p.courses_given.append((d.course.amount, d.course.unit))
        p.last_start = p.t
    p.k += 1
    p.delay_here = 0.0
