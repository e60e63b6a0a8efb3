"""Many patients' MAP fits at once (a clinic's list): every patient's Levenberg-Marquardt runs as in
:func:`~mschemo.estimation.map.estimate_map`, step by step in lockstep, and each round's solves of all
patients (the trial points, then the gradients at the accepted ones) go to the compiled backend as
one problem. Patients do not interact and the solver's steps do not depend on the output times, so
each Posterior is the one ``estimate_map`` gives for that patient alone, bit for bit; the Python and
the solver's set-up are paid once per round instead of once per patient and solve.

>>> from pathlib import Path
>>> import mschemo as ms
>>> record = ms.read_patient(Path(ms.estimation.__file__).parent / "examples" / "cyclophosphamide.csv")
>>> [p.iterations for p in estimate_map_many("cyclophosphamide", [record, record])] == [ms.estimate_map(
...     "cyclophosphamide", record).iterations] * 2
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backends import Compiled, concat_problems
from .map import PatientModel, Posterior, _check_on_failure, _Fit, _Objective

__all__ = ["estimate_map_many"]


def estimate_map_many(drug: Any, records: Sequence[Any], *, backend: Compiled | None = None, tol: float = 1e-4,
                      max_iter: int = 100, on_failure: str = "raise") -> list[Posterior]:
    """The MAP fit of each record (PatientRecord) under ``drug`` (a Drug or its name; one drug for all),
    in the order given; the same Posteriors as ``estimate_map`` one by one. ``backend``: the solver
    (default: Compiled(rtol=1e-7, atol=1e-9), all cores). A fit that fails raises ConvergenceError for
    the first such patient (``on_failure="raise"``) or warns for each and returns its best point
    (``on_failure="warn"``), as ``estimate_map`` does."""
    _check_on_failure(on_failure)
    if not records:
        return []
    from ..drugs import load_drug

    drug = load_drug(drug) if isinstance(drug, str) else drug
    patients = [PatientModel(drug, r) for r in records]
    batch = _Batch([_Objective(p) for p in patients], backend or Compiled(rtol=1e-7, atol=1e-9))
    first = batch.gn({i: np.zeros(p.n_eta) for i, p in enumerate(patients)})
    fits = [_Fit(batch.objs[i], *first[i]) for i in range(len(patients))]
    while True:
        live = [i for i, f in enumerate(fits) if f.active(max_iter)]
        if not live:
            break
        trials = {i: fits[i].propose() for i in live}
        values = batch.values(trials)
        accepted = [i for i in live if fits[i].judge(values[i])]
        if accepted:
            pieces = batch.gn({i: fits[i].eta for i in accepted})
            for i in accepted:
                fits[i].update(*pieces[i], tol)
    return [f.finish(tol, max_iter, on_failure) for f in fits]


class _Batch:
    """The patients' objectives, evaluated together: one problem over the union of their count days."""

    def __init__(self, objs: list[_Objective], backend: Compiled) -> None:
        self.objs = objs
        self.backend = backend
        self.times = np.unique(np.concatenate([o.times for o in objs]))
        self.at = [np.searchsorted(self.times, o.times) for o in objs]
        self.regimens = [o.p.regimen_of() for o in objs]

    def _predict(self, etas: dict[int, np.ndarray]) -> dict[int, dict[str, np.ndarray]]:
        """Counts at each patient's own count days for its rows of etas (patient -> kind -> (k, T_i))."""
        order = list(etas)
        problems, params = [], []
        for i in order:
            problem, par = self.objs[i].p.problem(etas[i], self.times, self.regimens[i])
            problems.append(problem)
            params.append(par)
        model = self.objs[order[0]].p.model
        sol = self.backend.solve(concat_problems(problems))
        values, columns = model.add_derived(sol.values, list(sol.columns), np.vstack(params))
        out, row = {}, 0
        for i, par in zip(order, params):
            k = par.shape[0]
            self.objs[i].p.last_status = sol.status[row:row + k]
            out[i] = self.objs[i].p.counts(values[row:row + k], columns, self.at[i])
            row += k
        return out

    def values(self, trials: dict[int, np.ndarray]) -> dict[int, float]:
        """J at one trial point of each patient."""
        etas = {i: np.atleast_2d(e) for i, e in trials.items()}
        pred = self._predict(etas)
        return {i: float(self.objs[i].value_from(etas[i], self.objs[i].residuals_from(pred[i], 1))[0]) for i in etas}

    def gn(self, points: dict[int, np.ndarray]) -> dict[int, tuple[float, np.ndarray, np.ndarray]]:
        """J, gradient and Gauss-Newton Hessian at one point of each patient."""
        rows = {i: _Objective.gn_batch(e) for i, e in points.items()}
        pred = self._predict(rows)
        return {i: self.objs[i].gn_from(points[i], self.objs[i].residuals_from(pred[i], len(rows[i]))) for i in rows}
