"""One model, one regimen, many patients: population chunks -> problem -> backend -> result."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._internal.meta import __version__
from .._internal.progress import ProgressCallback, progress_callback
from .._internal.rng import root_seed
from ..backends import get_backend
from ..backends.problem import STATUS_MESSAGES, Problem, Solution, build_problem
from ..errors import OptionError, PopulationError, RegimenError, SolverError
from ..models.chain import ChainedModel
from ..models.library import load_model
from ..output import OutputTimes
from ..population import Population, PopulationSpec
from ..regimen import EventTable, Regimen
from ..results import SimulationResult
from ..units import parse_duration

__all__ = ["simulate_plain"]


def _as_model(model: ChainedModel | str | Path) -> ChainedModel:
    if isinstance(model, ChainedModel):
        return model
    if isinstance(model, (str, Path)):
        return load_model(model)
    raise OptionError(f"model {model!r} is not a model; give a name such as 'mitox-2y' or a ChainedModel.")


def _as_regimen(regimen: Regimen | EventTable | str | None) -> Regimen | EventTable:
    if regimen is None:
        return Regimen.empty()
    if isinstance(regimen, (Regimen, EventTable)):
        return regimen
    if isinstance(regimen, str):
        return Regimen.parse(regimen)
    raise RegimenError(f"regimen {regimen!r} is not a regimen; give text such as '12 mg/m2 over 30 min every 3 months x 8'.")


def _default_until(regimen: Regimen | EventTable) -> float:
    """Last administration plus 13 weeks (a full recovery of the white cells), at least 28 days."""
    if isinstance(regimen, EventTable):
        last_dose = max(r.dose_times_d().max(initial=0.0) for r in regimen.regimens.values())
        last_obs = max([float(np.max(t, initial=0.0)) for t in regimen.observation_times_d.values()], default=0.0)
        return max(28.0, math.ceil(last_dose + 91.0), math.ceil(last_obs))
    return max(28.0, math.ceil(regimen.dose_times_d().max(initial=0.0) + 91.0))


def simulate_plain(
    model: ChainedModel | str | Path,
    regimen: Regimen | EventTable | str | None,
    population: Population | PopulationSpec | int | str | Path | None = None,
    *,
    n: int | None = None,
    output: OutputTimes | str | float | np.ndarray | None = "daily",
    until: float | str | None = None,
    backend: Any = None,
    seed: int | None = None,
    progress: bool | ProgressCallback = False,
    chunk_size: int = 10_000,
    throw: bool = True,
    record_states: bool = False,
    disease: Any = False,
    disease_until: float | str | None = None,
    immune: bool = False,
    solver: Callable[[Problem, Population], Solution] | None = None,
) -> SimulationResult:
    """Simulate ``regimen`` in ``population`` with ``model``.

    model: a ChainedModel or a built-in name ("mitox-2y").
    regimen: Regimen, its text ("12 mg/m2 over 30 min every 3 months x 8"), an EventTable (by
        patient id) or None (no dose).
    population: a Population (table of patients), a PopulationSpec with ``n`` (virtual patients
        drawn with ``seed``), an int n (the default cohort), a CSV path, or None (one typical patient).
    output, until: output times (default daily, until the last dose + 13 weeks).
    backend: ``backends.Compiled()`` (default) or ``backends.Scipy()``, or their names.
    seed: seeds the population draws; patient i has its own stream, so results do not depend
        on ``chunk_size`` or the number of threads.
    progress: True for a progress bar, or a callback(done, total).
    throw: raise SolverError on the first failed patient; with False, failures are in ``status``.
    record_states: also record every state (columns ``state_<name>``).
    disease: True (or a ``disease.Treatments``) also simulates relapses, symptoms and EDSS of the
        same patients over the same window, or up to ``disease_until`` (``result.disease``). The
        relapse rate follows the memory compartment the drug's lymphocyte kill depletes, read from the
        solution on its own weekly grid (``result.immune``), so the disease does not depend on ``output``.
    immune: record that memory compartment (``result.immune``) without simulating the disease (for
        a disease attached later, e.g. with other patient indices).
    solver: how each chunk's problem (its patients, at the solve times) becomes a solution; default
        the backend's ``solve``. Dosing rules pass one that decides the doses while it solves.

    >>> res = simulate_plain("mitox-2y", "12 mg/m2 over 30 min every 91 days x 2", 2, seed=1, until="120 days")
    >>> res.nadirs().shape[0]
    4
    """
    model = _as_model(model)
    regimen = _as_regimen(regimen)
    be = get_backend(backend)
    seed_used = root_seed(seed)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise OptionError(f"chunk_size = {chunk_size!r}; give a whole number of patients >= 1.")

    # patients: a fixed table, or a spec drawn chunk by chunk
    spec: PopulationSpec | None = None
    table: Population | None = None
    if population is None and n is None:
        table = Population.typical(1)
    elif population is None:
        spec = PopulationSpec()
    elif isinstance(population, Population):
        table = population
    elif isinstance(population, PopulationSpec):
        spec = population
    elif isinstance(population, (int, np.integer)) and not isinstance(population, bool):
        spec, n = PopulationSpec(), int(population)
    elif isinstance(population, (str, Path)):
        table = Population.from_csv(population)
    else:
        raise PopulationError(f"population {population!r} is not a population; give a Population, a PopulationSpec with n, a number of patients or a CSV path.")
    if spec is not None:
        if n is None or isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise PopulationError(f"a PopulationSpec needs the number of patients n (got {n!r}); give n >= 1.")
        total = int(n)
    else:
        assert table is not None
        total = len(table)
    if isinstance(regimen, EventTable) and table is not None:
        missing = [i for i in table.ids if i not in regimen.regimens]
        if missing:
            shown = ", ".join(str(i) for i in missing[:5])
            raise RegimenError(f"the event table has no records for patient id(s) {shown}; give every patient records or drop those patients.")

    t_out = OutputTimes.parse(output, until).times_d(default_until=_default_until(regimen))
    with_disease = disease is not False and disease is not None
    t_solve, t_immune, at_out, at_immune = _solve_grid(model, t_out, disease_until, with_disease or bool(immune))
    if t_immune is not None:
        chunk_size = min(chunk_size, IMMUNE_CHUNK)

    chunks = []
    records: list = []
    if t_immune is not None:
        from ..disease.immune import KILL_PARAMETER, ImmuneModel, ImmuneRecord
        immune_model = ImmuneModel.load()
    statuses = []
    steps = []
    tables = []
    callback = progress_callback(progress, total)
    try:
        for start in range(0, total, chunk_size):
            stop = min(total, start + chunk_size)
            if spec is not None:
                pop = spec.sample(stop - start, seed_used, model, start=start)
            else:
                assert table is not None  # a table whenever there is no spec (above)
                pop = table.subset(start, stop)
            problem = build_problem(model, regimen, pop, t_solve, record_states)
            sol = be.solve(problem) if solver is None else solver(problem, pop)
            if throw and np.any(sol.status != 0):
                k = int(np.flatnonzero(sol.status != 0)[0])
                raise SolverError(f"patient {pop.ids[k]}: {STATUS_MESSAGES.get(int(sol.status[k]), 'solver failed')}.",
                                  patient_id=pop.ids[k])
            values, columns = model.add_derived(sol.values, list(sol.columns), problem.params)
            if t_immune is not None:
                kill = problem.params[:, model.parameters.index(KILL_PARAMETER)]
                exposure = kill[:, None] * values[:, at_immune, columns.index("auc_mg_d_per_L")]
                records.append(ImmuneRecord.from_exposure(t_immune, exposure, immune_model))
                values = values[:, at_out]
            chunks.append(values)
            statuses.append(sol.status)
            steps.append(sol.steps)
            tables.append(pop.table)
            callback(stop, total)
            settings = sol.backend
    finally:
        callback(-1, total)

    import pandas as pd

    patients = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    if spec is not None:
        population_text = spec.name
    else:
        assert table is not None  # a table whenever there is no spec (above)
        population_text = table.description
    provenance = {
        "mschemo_version": __version__,
        "model": model.name,
        "model_structure": model.describe(),
        "parameter_file": model.parameter_set.path if model.parameter_set else None,
        "parameter_file_sha256": model.parameter_set.sha256 if model.parameter_set else None,
        "regimen": regimen.describe() if isinstance(regimen, Regimen) else f"event table {regimen.source}",
        "population": population_text,
        "n_patients": total,
        "seed": seed_used,
        "backend": settings,
        "chunk_size": chunk_size,
        "output_times": f"{t_out.size} times, {t_out[0]:g}-{t_out[-1]:g} d",
    }
    result = SimulationResult(
        model=model, regimen=regimen, patients=patients, times_d=t_out, columns=list(columns),
        values=np.concatenate(chunks, axis=0) if len(chunks) > 1 else chunks[0],
        status=np.concatenate(statuses), steps=np.concatenate(steps), provenance=provenance,
    )
    if records:
        from ..disease.immune import ImmuneRecord
        result.immune = ImmuneRecord.concat(records)
    if with_disease:
        from ..disease import attach_disease
        attach_disease(result, disease, until=disease_until)
    return result


IMMUNE_CHUNK = 2_000   # patients solved together while the immune grid is recorded (bounds memory)


def _solve_grid(model: ChainedModel, t_out: np.ndarray, disease_until: float | str | None, with_immune: bool
                ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]:
    """The times to solve at: the output times, and with the disease the immune grid (weekly from 0
    to the later of the output end and ``disease_until``), whose drug exposure (the closed-form AUC)
    the disease reads. The solver steps do not depend on the output times (dense output), so the
    values on the immune grid are the same whatever is recorded. Returns (solve times, immune times
    or None, index of the output times and of the immune times in the solve times)."""
    from ..disease.immune import KILL_PARAMETER, immune_grid
    if not with_immune or KILL_PARAMETER not in model.parameters:
        return t_out, None, np.arange(t_out.size), None
    end = float(t_out[-1])
    if disease_until is not None:
        d = parse_duration(disease_until, "disease_until") if isinstance(disease_until, str) else float(disease_until)
        if not np.isfinite(d) or d <= 0:
            raise OptionError(f"disease_until {disease_until!r} is not a positive duration; give one such as '5 years'.")
        end = max(end, d)
    t_immune = immune_grid(end)
    t_solve = np.union1d(t_out, t_immune)
    return t_solve, t_immune, np.searchsorted(t_solve, t_out), np.searchsorted(t_solve, t_immune)
