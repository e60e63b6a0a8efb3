"""A run in chunks of patients, each drawn and simulated on its own, here or on a Dask worker.

Patient i draws from its own streams wherever it falls (its covariates, a drug's covariates, its
disease), so the patients ``start .. stop-1`` of a chunk are those of the whole run and a chunk's
result is the rows of the whole run's. :class:`ChunkedRun` is what a chunk needs, small enough to
send to a worker; the streamed run (:mod:`.stream`) and the in-memory run on a cluster
(:func:`simulate_on_cluster`) both call its :meth:`ChunkedRun.result`, so a worker computes exactly
what a local run computes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._internal.progress import ProgressCallback, progress_callback
from ..drugs import Drug
from ..errors import OptionError, PopulationError
from ..models.chain import ChainedModel
from ..population import Population, PopulationSpec
from ..regimen import EventTable, Regimen
from ..results import SimulationResult
from .cluster import connected, describe, in_order

__all__ = ["ChunkedRun", "population_source", "simulate_on_cluster"]


def population_source(population: Any, n: int | None,
                      spec_of: Callable[[PopulationSpec | None], PopulationSpec] | None = None
                      ) -> Population | tuple[PopulationSpec, int]:
    """What simulate()'s ``population`` names: a table of patients, or a spec and the number of
    patients to draw from it (``spec_of`` adapts the spec, e.g. to a drug's cohort)."""
    spec_of = spec_of or (lambda s: s if s is not None else PopulationSpec())
    if isinstance(population, Population):
        return population
    if isinstance(population, (int, np.integer)) and not isinstance(population, bool):
        n, population = int(population), spec_of(None)
    elif isinstance(population, PopulationSpec):
        population = spec_of(population)
    elif population is None and n is not None:
        population = spec_of(None)
    elif population is None:
        return Population.typical(1)
    elif isinstance(population, (str, Path)):
        return Population.from_csv(population)
    else:
        raise PopulationError(f"population {population!r} is not a population; give a Population, a PopulationSpec "
                              "with n, a number of patients or a CSV path.")
    if n is None or isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise PopulationError(f"a PopulationSpec needs the number of patients n (got {n!r}); give n >= 1.")
    return population, int(n)


@dataclass(frozen=True)
class ChunkedRun:
    """One run of simulate() split into chunks of patients: the door to call on each chunk
    (``mschemo.simulate``, passed in by it), what to call it with, and where the patients come from
    (``spec``: drawn chunk by chunk with ``seed``; None: a table, given chunk by chunk)."""

    door: Callable[..., SimulationResult]
    model: ChainedModel | Drug
    regimen: Any
    spec: PopulationSpec | None
    seed: int
    options: dict[str, Any] = field(default_factory=dict)   # simulate()'s other keywords (rules, output, ...)

    @property
    def drug(self) -> Drug | None:
        return self.model if isinstance(self.model, Drug) else None

    @property
    def decided(self) -> bool:
        """Whether dosing rules decide the courses (a drug's, unless switched off, or a DosingRules)."""
        rules = self.options.get("rules")
        planned = callable(self.regimen) and not isinstance(self.regimen, (Regimen, EventTable))
        return (self.drug is not None and rules is not False) or rules not in (None, False, True) or planned

    def check_window(self, what: str) -> None:
        """Under dosing rules the chunks need a common window: in one run the default window ends 13 weeks
        after the last dose any patient got, which no chunk knows."""
        output = self.options.get("output")
        fixed = (self.options.get("until") is not None or isinstance(output, np.ndarray)
                 or getattr(output, "until", None) is not None)
        if self.decided and not fixed:
            raise OptionError(f"{what} under dosing rules needs a fixed window (in memory it ends 13 weeks after the "
                              "last dose any patient was given, which a chunk cannot know); give until, e.g. "
                              "until='2 years'.")

    def patients(self, start: int, stop: int, table: Population | None = None) -> Population:
        """Patients ``start .. stop-1``: drawn from the spec, or ``table`` (those rows of the run's table);
        a drug's covariates are drawn where they are missing."""
        if table is None:
            assert self.spec is not None
            model = self.model.model if isinstance(self.model, Drug) else self.model
            table = self.spec.sample(stop - start, self.seed, model, start=start)
        if self.drug is not None:
            table = self.drug.complete(table, self.seed, start=start)
        return table

    def result(self, start: int, stop: int, table: Population | None = None) -> SimulationResult:
        """The simulation of patients ``start .. stop-1`` (the rows of the whole run's result)."""
        return self.door(self.model, self.regimen, self.patients(start, stop, table), seed=self.seed, **self.options)

    def tasks(self, total: int, chunk_size: int, table: Population | None = None
              ) -> Iterator[tuple[ChunkedRun, int, int, Population | None]]:
        """(run, start, stop, rows of ``table`` or None) for each chunk, in order."""
        for start in range(0, total, chunk_size):
            stop = min(total, start + chunk_size)
            yield self, start, stop, (table.subset(start, stop) if table is not None else None)


def _chunk_result(run: ChunkedRun, start: int, stop: int, table: Population | None) -> SimulationResult:
    return run.result(start, stop, table)


def simulate_on_cluster(run: ChunkedRun, source: Population | tuple[PopulationSpec, int], *, chunk_size: int,
                        dask: Any, progress: bool | ProgressCallback = False, disease: Any = False,
                        disease_until: float | str | None = None) -> SimulationResult:
    """The chunks of ``run`` on a Dask cluster (``dask``: a Client, an address or "local"), joined in
    order into the result a local run gives; the disease, when asked for, is simulated here from the
    joined result, as a local run does."""
    run.check_window("a run on Dask")
    table = source if isinstance(source, Population) else None
    total = len(source) if isinstance(source, Population) else source[1]
    callback = progress_callback(progress, total)
    parts: list[SimulationResult] = []
    done = 0
    try:
        with connected(dask) as client:
            for part in in_order(_chunk_result, run.tasks(total, chunk_size, table), client):
                parts.append(part)
                done += part.n_patients
                callback(done, total)
    finally:
        callback(-1, total)
    result = SimulationResult.concat(parts)
    result.provenance |= {"n_patients": total, "chunk_size": chunk_size, "dask": describe(dask)}
    if disease is not False and disease is not None:
        from ..disease import attach_disease

        attach_disease(result, disease, until=disease_until)
    return result
