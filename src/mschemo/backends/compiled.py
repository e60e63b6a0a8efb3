"""The compiled backend (default): numba, exact PK, Dormand-Prince 5(4) transit states, all cores."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._internal.processes import usable_cores
from ..errors import OptionError
from ._events import expand_actions
from ._modal import action_increments
from .problem import Problem, Solution, modal_decomposition

__all__ = ["Compiled", "block_arrays", "run_in_threads", "share_cores"]


def block_arrays(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """PD block layout for the kernel: ints (n_blocks, 5) and per-patient parameters (n, n_blocks, 11)."""
    from ._kernel import (
        BI_EFFECT,
        BI_FEEDBACK,
        BI_KILL,
        BI_NTRANSIT,
        BI_SITE,
        BP_CAP,
        BP_CIRC0,
        BP_EC50,
        BP_EMAX,
        BP_GAMMA,
        BP_HILL,
        BP_KCIRC,
        BP_KE0,
        BP_KILL,
        BP_KTR,
        BP_SLOPE,
        N_BLOCK_INT,
        N_BLOCK_PAR,
    )

    model = problem.model
    nb = len(model.pd)
    bint = np.zeros((nb, N_BLOCK_INT), dtype=np.int64)
    bpar = np.zeros((problem.n, nb, N_BLOCK_PAR))
    for b, blk in enumerate(model.pd):
        def g(name: str, blk=blk) -> np.ndarray:
            return problem.param(blk.prefix + name)

        bint[b, BI_NTRANSIT] = blk.transits
        bint[b, BI_EFFECT] = (2 if blk.in_cells else 0) if blk.effect == "linear" else 1
        bint[b, BI_KILL] = 1 if blk.has_kill else 0
        bint[b, BI_SITE] = 1 if blk.in_cells else 0
        bint[b, BI_FEEDBACK] = 1 if blk.precursor_feedback else 0
        if blk.in_cells:
            bpar[:, b, BP_KE0] = g("KE0")
        ktr = (blk.transits + 1) / g("MTT")
        bpar[:, b, BP_CIRC0] = g("CIRC0")
        bpar[:, b, BP_KTR] = ktr
        bpar[:, b, BP_KCIRC] = math.log(2.0) / g("HALF_LIFE") if blk.own_circ_rate else ktr
        bpar[:, b, BP_GAMMA] = g("GAMMA")
        if blk.effect == "linear":
            bpar[:, b, BP_SLOPE] = g("SLOPE")
            bpar[:, b, BP_CAP] = g("CAP")
        else:
            bpar[:, b, BP_EMAX] = g("EMAX")
            bpar[:, b, BP_EC50] = g("EC50")
            bpar[:, b, BP_HILL] = g("HILL")
        if blk.has_kill:
            bpar[:, b, BP_KILL] = g("KILL")
    return bint, bpar


@dataclass(frozen=True)
class Compiled:
    """Compiled solver: exact linear PK between actions, adaptive Dormand-Prince 5(4) with dense
    output for the transit states, cap crossings as events; patients in parallel.

    rtol, atol: local error tolerances of the transit states (relative; absolute, 10^9/L).
    threads: worker threads (None: all cores). max_steps: per patient.
    """

    rtol: float = 1e-6
    atol: float = 1e-9
    threads: int | None = None
    max_steps: int = 1_000_000
    name = "compiled"

    def __post_init__(self) -> None:
        for k in ("rtol", "atol"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 < v < 1):
                raise OptionError(f"the compiled backend's {k} is {v!r}; give a number between 0 and 1, e.g. 1e-6.")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise OptionError(f"threads = {self.threads!r}; give a whole number >= 1 or leave it out for all cores.")

    @property
    def n_threads(self) -> int:
        """Worker threads: as asked, else this process's share of the cores (:func:`share_cores`), else
        the cores this process may use."""
        if self.threads:
            return self.threads
        if _CORE_SHARE is not None:
            return _CORE_SHARE
        return usable_cores()

    def settings(self) -> dict:
        return {"backend": self.name, "rtol": self.rtol, "atol": self.atol, "threads": self.n_threads,
                "max_steps": self.max_steps, "method": "exact PK + Dormand-Prince 5(4)"}

    def solve(self, problem: Problem) -> Solution:
        from ._kernel import needs_general_path, solve_population, workspace

        lam, vm, vinv = modal_decomposition(problem)
        bint, bpar = block_arrays(problem)
        acts = expand_actions(problem.rec, problem.rec_off)
        ii, lag = problem.rec["ii"], problem.rec["lag"]
        cols = problem.columns
        out = np.full((problem.n, problem.t_out.size, len(cols)), np.nan)
        status = np.zeros(problem.n, dtype=np.int64)
        steps = np.zeros((problem.n, 2), dtype=np.int64)
        # every array C-contiguous: a strided one (a column of the parameter table) would make numba
        # compile the kernel a second time for that layout
        c = np.ascontiguousarray
        icv = c(vm[:, problem.model.pk.central_index, :] / problem.param("V1")[:, None])
        # general=None: every block steps in registers, and numba compiles nothing else
        general = np.empty(0) if needs_general_path(bint) else None
        args = (c(lam), icv, initial_transit_states(bint, bpar),
                acts.off, acts.time, acts.kind, acts.rec, c(action_increments(acts, lam, vinv, ii, lag)),
                bint, bpar, general, c(problem.t_out), float(self.rtol), float(self.atol), int(self.max_steps),
                np.empty(0) if problem.record_states else None, out, status, steps, None, None, None, None, None)
        n_pk = lam.shape[1]
        run_in_threads(problem.n, self.n_threads,
                       lambda a, b: solve_population(a, b, *args, *workspace(n_pk, bint, problem.record_states)))
        if problem.record_states:
            # the kernel records modal amounts w; the compartments hold A = V w
            first = len(cols) - len(problem.model.states)
            pk = slice(first, first + lam.shape[1])
            out[:, :, pk] = np.einsum("pij,ptj->pti", vm, out[:, :, pk])
        return Solution(out, status, steps, cols, self.settings())


_CORE_SHARE: int | None = None


def share_cores(threads: int | None) -> None:
    """Threads for a Compiled backend without ``threads`` in this process: a worker process that
    shares the machine's cores with others sets its share (None: all the cores it may use). Results
    do not depend on it; only how many of the kernel's threads compete for the cores."""
    global _CORE_SHARE
    _CORE_SHARE = None if threads is None else max(1, int(threads))


def run_in_threads(n: int, threads: int, call: Callable[[int, int], None]) -> None:
    """``call(first, last)`` over 0..n-1 in blocks of at most 64 patients on ``threads`` threads (the
    kernel releases the GIL; each patient's result is independent of the blocks)."""
    threads = min(threads, n)
    if threads <= 1:
        call(0, n)
        return
    from concurrent.futures import ThreadPoolExecutor

    block = max(1, min(64, n // (4 * threads)))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda s: call(s, min(s + block, n)), range(0, n, block)))


def initial_transit_states(bint: np.ndarray, bpar: np.ndarray) -> np.ndarray:
    """(n, n_pd) transit states at time 0: no drug in the cells, every count at its baseline Circ0."""
    from ._kernel import BI_NTRANSIT, BI_SITE, BP_CIRC0

    parts = []
    for b in range(bint.shape[0]):
        circ0 = bpar[:, b, BP_CIRC0][:, None]
        if bint[b, BI_SITE]:
            parts.append(np.zeros_like(circ0))
        parts.append(np.repeat(circ0, bint[b, BI_NTRANSIT] + 2, axis=1))
    return np.ascontiguousarray(np.concatenate(parts, axis=1) if parts else np.zeros((bpar.shape[0], 0)))
