"""Patients solved in pieces: each piece goes on from the state where the last one stopped.

Dosing rules decide a course on its day from the counts of that day, and what they decide changes
what follows. :class:`Resumable` integrates each patient of a chunk once: a run stops every patient
at its decision day (the *hold*), before anything is given there, and keeps two states per patient,
the one at the hold and the one at the start of the segment that ends there. A dose given at the
hold goes on from the first; a course not given (delayed, withheld, stopped) goes on from the second,
so the solver takes exactly the steps it takes when it solves the final doses from day 0. The counts
are therefore the same, bit for bit, as those of one run of the compiled backend with the doses the
rules gave, and no patient is integrated from day 0 again.

It also keeps, per patient, the running minimum of each count over whole days since its last course
(the nadir the titration rules read), from the solver's dense output.

>>> import mschemo as ms, numpy as np
>>> from mschemo.regimen import Regimen
>>> model = ms.load_model("mitox-2y")
>>> pop = ms.PopulationSpec().sample(2, 1, model)
>>> run = Resumable(ms.backends.Compiled(), model, pop, np.arange(0.0, 61.0))
>>> run.give(np.array([0, 1]), [Regimen.parse("12 mg/m2 over 30 min").doses] * 2)
>>> run.run(np.array([0, 1]), np.array([28.0, 28.0]))
>>> bool(np.all(run.held_counts(np.array([0, 1]))["wbc"] < 5.5))
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._events import expand_actions
from ._modal import action_increments
from .compiled import Compiled, block_arrays, initial_transit_states, run_in_threads
from .problem import Problem, Solution, build_problem, modal_decomposition, records_of

__all__ = ["Resumable"]

_HEAD = 9   # state row: t, AUC, infusions, last reset, actions done, outputs done, steps ok/rejected, next day


class Resumable:
    """One chunk of patients (``population``) under ``model``, solved by the compiled ``backend`` in
    runs that each go on from the last; outputs at ``t_out`` (days). ``watch``: also keep the running
    minimum of every count (``model.count_outputs``) over whole days since each patient's last course."""

    def __init__(self, backend: Compiled, model: Any, population: Any, t_out: np.ndarray, watch: bool = False) -> None:
        from ..regimen import Regimen

        self.backend = backend
        self.model = model
        self.population = population
        self.problem: Problem = build_problem(model, Regimen.empty(), population, t_out)
        p = self.problem
        self.lam, self.vm, vinv = modal_decomposition(p)
        self.vinv = vinv
        self.bint, self.bpar = block_arrays(p)
        self.icv = np.ascontiguousarray(self.vm[:, model.pk.central_index, :] / p.param("V1")[:, None])
        self.y0 = initial_transit_states(self.bint, self.bpar)
        n, n_pk, n_pd = p.n, self.lam.shape[1], self.y0.shape[1]
        self.columns = p.columns
        self.names = [o.split("_")[0] for o in model.count_outputs]
        self.weights = self._count_weights() if watch else np.zeros((n, 0))
        n_q = self.weights.shape[1] // max(1, self.bint.shape[0])
        self.n_watched = n_q
        self.width = _HEAD + n_q + 2 * n_pk + n_pd
        self._y_at = _HEAD + n_q + 2 * n_pk
        self.out = np.full((n, p.t_out.size, len(self.columns)), np.nan)
        self.status = np.zeros(n, dtype=np.int64)
        self.steps = np.zeros((n, 2), dtype=np.int64)
        self.state = np.full((n, self.width), np.nan)
        self.state[:, 8] = math.inf
        self.state[:, _HEAD:_HEAD + n_q] = math.inf
        self.ck = np.zeros((n, 2, self.width))
        self.hold = np.full(n, math.inf)
        # each patient's actions: blocks (time, kind, record, modal increments) that follow one another in time
        self._acts: list[list[tuple[np.ndarray, ...]]] = [[] for _ in range(n)]
        self._n_rec = np.zeros(n, dtype=np.int64)

    def _count_weights(self) -> np.ndarray:
        """(n, n_counts * n_blocks): each count (derived ones too, all linear in the blocks' counts) as
        a weighted sum of the blocks' counts."""
        p, nb = self.problem, self.bint.shape[0]
        probe = np.zeros((p.n, nb + 1, len(self.columns)))
        for b in range(nb):
            probe[:, b, 1 + b] = 1.0
        values, cols = self.model.add_derived(probe, list(self.columns), p.params)
        idx = [cols.index(o) for o in self.model.count_outputs]
        w = values[:, :nb, idx] - values[:, nb:, idx]          # (n, block, count)
        return np.ascontiguousarray(np.transpose(w, (0, 2, 1)).reshape(p.n, -1))

    # -- doses --------------------------------------------------------------------------------
    def give(self, rows: np.ndarray, doses: Sequence[Sequence[Any]]) -> None:
        """Add doses (``doses[j]`` to patient ``rows[j]``, none before its current time)."""
        rows = np.asarray(rows, dtype=np.int64)
        keep = np.array([len(d) > 0 for d in doses], dtype=bool)
        if not keep.any():
            return
        rows = rows[keep]
        doses = [d for d, k in zip(doses, keep) if k]
        rec, rec_off = records_of(self.model, doses, self.population, self.problem.params, rows)
        acts = expand_actions(rec, rec_off)
        dw = action_increments(acts, self.lam[rows], self.vinv[rows], rec["ii"], rec["lag"])
        local = acts.rec - np.repeat(rec_off[:-1] - self._n_rec[rows], np.diff(acts.off))
        self._n_rec[rows] += np.diff(rec_off)
        for j, r in enumerate(rows):
            a, b = acts.off[j], acts.off[j + 1]
            block = (acts.time[a:b], acts.kind[a:b], local[a:b], dw[a:b])
            blocks = self._acts[r]
            if blocks and block[0].size and blocks[-1][0].size and block[0][0] < blocks[-1][0][-1]:
                # a dose before the end of earlier actions (a course within the last one): merge in time order
                merged = [np.concatenate([q[i] for q in blocks] + [block[i]]) for i in range(4)]
                order = np.argsort(merged[0], kind="stable")
                blocks[:] = [tuple(m[order] for m in merged)]
            else:
                blocks.append(block)

    # -- runs ---------------------------------------------------------------------------------
    def run(self, rows: np.ndarray, hold: np.ndarray | float = math.inf) -> None:
        """Go on with patients ``rows`` from their states up to ``hold`` (days; inf: the last output)."""
        from ._kernel import needs_general_path, solve_population, workspace

        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        self.hold[rows] = hold
        n_pk = self.lam.shape[1]
        blocks = [q for r in rows for q in self._acts[r]]
        sizes = [sum(q[0].size for q in self._acts[r]) for r in rows]
        off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        if blocks:
            a_time, a_kind, a_rec, a_dw = (np.concatenate([q[i] for q in blocks]) for i in range(4))
        else:
            a_time, a_kind, a_rec, a_dw = np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, n_pk))
        a_dw = np.ascontiguousarray(a_dw.reshape(-1, n_pk))
        c = np.ascontiguousarray
        general = np.empty(0) if needs_general_path(self.bint) else None
        be = self.backend
        args = (c(self.lam[rows]), c(self.icv[rows]), c(self.y0[rows]), off, a_time, a_kind, a_rec, a_dw,
                self.bint, c(self.bpar[rows]), general, c(self.problem.t_out), float(be.rtol), float(be.atol),
                int(be.max_steps), None, self.out, self.status, self.steps,
                rows, self.hold, self.state, self.ck, c(self.weights[rows]))
        n_watched = max(1, self.n_watched)
        run_in_threads(rows.size, be.n_threads,
                       lambda a, b: solve_population(a, b, *args, *workspace(n_pk, self.bint, False, n_watched)))

    def held_counts(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Each count of patients ``rows`` at their hold (10^9/L), derived counts included."""
        y = self.ck[rows, 1, self._y_at:]
        values = np.zeros((len(rows), 1, len(self.columns)))
        off = 0
        for b in range(self.bint.shape[0]):
            off += int(self.bint[b, 3])
            values[:, 0, 1 + b] = y[:, off + int(self.bint[b, 0]) + 1]
            off += int(self.bint[b, 0]) + 2
        values, cols = self.model.add_derived(values, list(self.columns), self.problem.params[rows])
        return {name: values[:, 0, cols.index(o)] for name, o in zip(self.names, self.model.count_outputs)}

    def nadirs(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Each count's lowest value over whole days since the last course, and at the hold (10^9/L);
        inf where no course was given yet."""
        mins = self.ck[rows, 1, _HEAD:_HEAD + self.n_watched]
        held = self.held_counts(rows)
        return {name: np.where(np.isfinite(mins[:, q]), np.minimum(mins[:, q], held[name]), np.inf)
                for q, name in enumerate(self.names)}

    def go_on(self, rows: np.ndarray, given: np.ndarray) -> None:
        """After the decisions at the hold: patients whose course was given go on from the hold (their
        nadirs now start there), the others from the segment before it."""
        rows = np.asarray(rows, dtype=np.int64)
        given = np.asarray(given, dtype=bool)
        self.state[rows] = np.where(given[:, None], self.ck[rows, 1], self.ck[rows, 0])
        g = rows[given]
        if g.size and self.n_watched:
            t = self.state[g, 0]
            self.state[g, 8] = np.ceil(t - 1e-9 * np.maximum(1.0, np.abs(t)))
            self.state[g, _HEAD:_HEAD + self.n_watched] = math.inf

    def solution(self) -> Solution:
        """The outputs of every patient (after a last run to the end)."""
        return Solution(self.out, self.status, self.steps, self.columns, self.backend.settings())
