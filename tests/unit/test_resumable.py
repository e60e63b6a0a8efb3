"""Patients solved in pieces (backends/resumable.py) give, bit for bit, what one run of the compiled
backend gives for the doses finally given; dosing rules decided that way decide as re-simulating from
day 0 does."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mschemo as ms
from mschemo.backends import Compiled
from mschemo.backends.problem import build_problem
from mschemo.backends.resumable import Resumable
from mschemo.regimen import EventTable, Regimen


def _course(text: str, day: float) -> list:
    return [d.replace(time_d=day + d.time_d) for d in Regimen.parse(text).doses]


@pytest.mark.parametrize("model_name, course", [
    ("mitox-2y", "12 mg/m2 over 30 min"),
    ("cyclophosphamide", "800 mg/m2 over 1 h"),
    ("cladribine", "10 mg every 1 day x 5"),     # depot and drug in the cells: the array form of the step
])
def test_pieces_equal_one_run(model_name, course):
    """Holds at decision days, doses given at some, courses delayed at others, holds after the last
    output: the outputs and status equal one run of the final doses."""
    if model_name == "mitox-2y":
        model = ms.load_model(model_name)
        pop = ms.PopulationSpec().sample(6, 5, model)
    else:
        drug = ms.load_drug(model_name)
        model = drug.model
        pop = drug.complete(drug.population_spec().sample(6, 5, model), 5)
    t = np.arange(0.0, 150.0, 0.75)
    run = Resumable(Compiled(), model, pop, t, watch=True)
    rows = np.arange(6)
    rng = np.random.default_rng(1)
    given = [[] for _ in rows]
    day = np.zeros(6)
    run.run(rows, day)
    for _ in range(6):
        give = rng.random(6) < 0.6
        run.go_on(rows, give)
        new = [_course(course, day[j]) if give[j] else [] for j in rows]
        run.give(rows, new)
        for j in rows:
            given[j] += new[j]
        day = day + np.where(give, 28.0, 7.0) + rng.integers(0, 3, 6)
        run.run(rows, day)
    run.go_on(rows, np.zeros(6, dtype=bool))
    run.run(rows)
    sol = run.solution()
    table = EventTable({pid: Regimen.from_doses(g) if g else Regimen.empty() for pid, g in zip(pop.ids, given)}, {})
    ref = Compiled().solve(build_problem(model, table, pop, t))
    assert np.array_equal(sol.values, ref.values, equal_nan=True)
    assert np.array_equal(sol.status, ref.status)
    past = day > t[-1]     # whose last hold lay after the last output: the steps past it count too
    assert past.any() and not past.all()
    assert np.array_equal(sol.steps[~past], ref.steps[~past]) and np.all(sol.steps[past] >= ref.steps[past])


def test_held_counts_and_nadirs():
    """At the hold: the count that one run records there when a dose is given there; the nadir since
    the last course: the lowest daily value and the value at the hold."""
    model = ms.load_model("mitox-2y")
    pop = ms.PopulationSpec().sample(3, 2, model)
    t = np.arange(0.0, 120.0)
    run = Resumable(Compiled(), model, pop, t, watch=True)
    rows = np.arange(3)
    run.run(rows, np.zeros(3))
    assert math.isinf(run.nadirs(rows)["wbc"][0])        # no course yet
    run.go_on(rows, np.ones(3, dtype=bool))
    run.give(rows, [_course("12 mg/m2 over 30 min", 0.0)] * 3)
    hold = np.array([30.0, 45.5, 60.0])
    run.run(rows, hold)
    held = run.held_counts(rows)["wbc"]
    nadir = run.nadirs(rows)["wbc"]
    run.go_on(rows, np.ones(3, dtype=bool))
    run.give(rows, [_course("12 mg/m2 over 30 min", h) for h in hold])
    run.run(rows)
    wbc = run.solution().values[:, :, 1]
    for j, h in enumerate(hold):
        if h == int(h):
            assert held[j] == wbc[j, int(h)]
        days = wbc[j, : int(math.ceil(h))]
        assert nadir[j] == min(days.min(), held[j])


def test_rules_decided_while_solving_equal_rules_re_simulated(monkeypatch):
    """The two ways to read the counts on the decision days decide the same courses and give the same
    counts, bit for bit (mitoxantrone's label rules, with delays, and cyclophosphamide titrated by the WBC nadir)."""
    from mschemo.simulation import adaptive

    for drug, titrate in [("mitoxantrone", False), ("cyclophosphamide", True)]:
        d = ms.load_drug(drug)
        rules = d.rules.with_options("titrate") if titrate else d.rules
        resumed = ms.simulate(d, None, n=200, seed=9, rules=rules, until="2 years")
        with monkeypatch.context() as m:
            m.setattr(adaptive, "Compiled", type("NotCompiled", (), {}))   # the path of the other backends
            again = ms.simulate(d, None, n=200, seed=9, rules=rules, until="2 years")
        assert set(resumed.decisions["action"]) >= {"given", "delayed"} or titrate
        # the count on a decision day is the end of a step there, or (re-simulated) read between two
        # steps: they agree within the solver's tolerance, and decide the same
        assert resumed.decisions.drop(columns="value").equals(again.decisions.drop(columns="value"))
        np.testing.assert_allclose(resumed.decisions["value"], again.decisions["value"], rtol=1e-5)
        assert np.array_equal(resumed.values, again.values, equal_nan=True)
