"""simulate(): the engine's one door, for a model with a regimen or a drug with its label.

A model (or its name) with a regimen simulates every planned dose; with ``rules`` (a
:class:`~mschemo.dosing.DosingRules`) each course is decided first. A :class:`~mschemo.drugs.Drug`
brings its label regimen, its rules and the covariates its rules read:

    ms.simulate(drug)                                   # the label regimen under the label rules
    ms.simulate(drug, rules=False)                      # every planned dose
    ms.simulate(drug, rules=drug.rules.with_region("eu").with_options("titrate"))
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from .._internal.progress import ProgressCallback
from .._internal.rng import root_seed
from ..dosing import Course, DosingRules
from ..drugs import Drug
from ..errors import OptionError, PopulationError, RegimenError, RegimenWarning
from ..models.chain import ChainedModel
from ..models.library import load_model
from ..output import OutputTimes
from ..population import Population, PopulationSpec
from ..regimen import EventTable, Regimen
from ..results import SimulationResult
from .adaptive import simulate_adaptive
from .chunks import ChunkedRun, population_source, simulate_on_cluster
from .plain import simulate_plain

__all__ = ["simulate", "simulate_with_rules", "DRUG_DEFAULT_N"]

#: patients drawn when a drug is simulated without a population
DRUG_DEFAULT_N = 100

Plan = Callable[[Population], Sequence[Sequence[Course]]]


def simulate(
    model: ChainedModel | Drug | str | Path,
    regimen: Regimen | EventTable | Plan | str | None = None,
    population: Population | PopulationSpec | int | str | Path | None = None,
    *,
    rules: DosingRules | bool | None = None,
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
    dask: Any = None,
) -> SimulationResult:
    """Simulate ``regimen`` in ``population`` with ``model``, or a drug's regimen under its rules.

    model: a ChainedModel, a built-in model name ("mitox-2y"), or a Drug (``ms.load_drug(...)``).
    regimen: Regimen, its text ("12 mg/m2 over 30 min every 3 months x 8"), an EventTable (by
        patient id), a function giving each patient's planned courses, or None (no dose; for a Drug,
        its label regimen).
    population: a Population (table of patients), a PopulationSpec with ``n`` (virtual patients
        drawn with ``seed``), an int n (the default cohort), a CSV path, or None: ``n`` patients of
        the default cohort (a Drug's: with its covariates), or without ``n`` one typical patient (for a
        Drug, 100 patients). A Drug's covariates (e.g. LVEF) are drawn for patients that lack them.
    rules: a DosingRules decides each course before it is given (the result's ``decisions`` table
        says what happened and why); False or None gives every planned dose. For a Drug, None or True
        means its label rules, False gives every planned dose (still recorded in ``decisions``).
    output, until: output times (default daily, until the last dose + 13 weeks).
    backend: ``backends.Compiled()`` (default) or ``backends.Scipy()``, or their names.
    seed: seeds the population draws; patient i has its own stream, so results do not depend
        on ``chunk_size`` or the number of threads.
    progress: True for a progress bar, or a callback(done, total).
    throw: raise SolverError on the first failed patient; with False, failures are in ``status``.
    record_states: also record every state (columns ``state_<name>``; without rules only).
    disease: True (or a ``disease.Treatments``) also simulates relapses, symptoms and EDSS of the
        same patients over the same window, or up to ``disease_until`` (``result.disease``). The
        relapse rate follows the memory compartment the drug's lymphocyte kill depletes, read from the
        solution on its own weekly grid (``result.immune``), so the disease does not depend on ``output``.
    immune: record that memory compartment (``result.immune``) without simulating the disease.
    dask: run the chunks of ``chunk_size`` patients on a Dask cluster: a ``distributed.Client``, a
        scheduler address ("tcp://host:8786") or "local" (a cluster on this machine); the chunks are
        joined in order into the same result, bit for bit. Under dosing rules give the window (``until``).

    >>> res = simulate("mitox-2y", "12 mg/m2 over 30 min every 91 days x 2", 2, seed=1, until="120 days")
    >>> res.nadirs().shape[0]
    4
    """
    if dask is not None:
        return _on_cluster(model, regimen, population, rules=rules, n=n, seed=seed, chunk_size=chunk_size,
                           dask=dask, progress=progress, disease=disease, disease_until=disease_until,
                           options=dict(output=output, until=until, backend=backend, throw=throw,
                                        record_states=record_states, immune=immune))
    common: dict[str, Any] = dict(output=output, until=until, backend=backend, progress=progress, throw=throw,
                                  chunk_size=chunk_size, disease=disease, disease_until=disease_until, immune=immune)
    if isinstance(model, Drug):
        if record_states:
            raise OptionError("record_states is not available with dosing rules; simulate drug.model with a "
                              "regimen to record every state.")
        return _simulate_drug(model, regimen, population, rules, n, seed, common)
    if isinstance(rules, DosingRules) or callable(regimen) and not isinstance(regimen, (Regimen, EventTable)):
        dosing = rules if isinstance(rules, DosingRules) else DosingRules()
        if record_states:
            raise OptionError("record_states is not available with dosing rules; leave rules out to record every state.")
        model = _as_model(model)
        plan = _as_plan(regimen)
        seed_used = root_seed(seed)
        table = _as_table(population, n, seed_used, model)
        return simulate_adaptive(model, plan, table, dosing, seed=seed_used, **common)
    if rules is True:
        raise OptionError("rules=True needs a drug's rules; give the drug (ms.load_drug(name)) or a DosingRules "
                          "(drug.rules).")
    if rules not in (None, False):
        raise OptionError(f"rules {rules!r} is not a set of dosing rules; give a DosingRules (e.g. drug.rules), "
                          "True or False.")
    return simulate_plain(model, regimen, population, n=n, seed=seed, record_states=record_states, **common)


def _as_model(model: ChainedModel | str | Path) -> ChainedModel:
    if isinstance(model, ChainedModel):
        return model
    if isinstance(model, (str, Path)):
        return load_model(model)
    raise OptionError(f"model {model!r} is not a model; give a name such as 'mitox-2y', a ChainedModel or a Drug.")


def _as_plan(regimen: Any) -> Regimen | Plan:
    if regimen is None:
        return Regimen.empty()
    if isinstance(regimen, Regimen):
        return regimen
    if callable(regimen):
        return cast(Plan, regimen)  # a function giving each patient's planned courses
    if isinstance(regimen, str):
        return Regimen.parse(regimen)
    if isinstance(regimen, EventTable):
        raise RegimenError("dosing rules decide planned courses; an event table cannot be decided course by course. "
                           "Give a Regimen (or its text), or simulate the event table without rules.")
    raise RegimenError(f"regimen {regimen!r} is not a regimen; give text such as '12 mg/m2 over 30 min every 3 months x 8'.")


def _as_table(population: Any, n: int | None, seed: int, model: ChainedModel,
              spec_of: Callable[[PopulationSpec | None], PopulationSpec] | None = None) -> Population:
    """A table of patients: drawn from a spec (``spec_of`` adapts it, e.g. to a drug's cohort)."""
    source = population_source(population, n, spec_of)
    return source if isinstance(source, Population) else source[0].sample(source[1], seed, model)


def _on_cluster(model: Any, regimen: Any, population: Any, *, rules: Any, n: int | None, seed: int | None,
                chunk_size: int, dask: Any, progress: bool | ProgressCallback, disease: Any,
                disease_until: float | str | None, options: dict[str, Any]) -> SimulationResult:
    """simulate() with its chunks on a Dask cluster: each chunk is this door's local run of those patients."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise OptionError(f"chunk_size = {chunk_size!r}; give a whole number of patients >= 1.")
    with_disease = disease is not False and disease is not None
    options |= dict(rules=rules, disease_until=disease_until, immune=options["immune"] or with_disease)
    if isinstance(model, Drug):
        if population is None and n is None:
            population = DRUG_DEFAULT_N
        source = population_source(population, n, model.population_spec)
    else:
        model = _as_model(model)
        source = population_source(population, n)
    spec = None if isinstance(source, Population) else source[0]
    run = ChunkedRun(simulate, model, regimen, spec, root_seed(seed), options)
    return simulate_on_cluster(run, source, chunk_size=chunk_size, dask=dask, progress=progress, disease=disease,
                               disease_until=disease_until)


def _simulate_drug(drug: Drug, regimen: Any, population: Any, rules: DosingRules | bool | None, n: int | None,
                   seed: int | None, common: dict[str, Any]) -> SimulationResult:
    seed_used = root_seed(seed)
    if isinstance(regimen, EventTable):
        raise RegimenError("a drug is simulated from its planned courses; an event table cannot be decided course by "
                           "course. Give a Regimen (or its text), or simulate drug.model with the event table.")
    if population is None and n is None:
        population = DRUG_DEFAULT_N
    table = _as_table(population, n, seed_used, drug.model, drug.population_spec)
    table = drug.complete(table, seed_used)
    if rules is None or rules is True:
        dosing = drug.rules
    elif rules is False:
        dosing = drug.rules.without()
    elif isinstance(rules, DosingRules):
        dosing = rules
    else:
        raise OptionError(f"rules {rules!r} is not a set of dosing rules; give a DosingRules (e.g. "
                          "drug.rules.with_region('eu')), True or False.")
    disease, disease_until = common.pop("disease"), common["disease_until"]
    with_disease = disease is not False and disease is not None
    common["immune"] = common["immune"] or with_disease
    plan = drug.plan(regimen)
    for text in drug.regimen_warnings(plan, dosing):
        warnings.warn(text, RegimenWarning, stacklevel=3)
    result = simulate_adaptive(drug.model, plan, table, dosing, seed=seed_used, **common)
    result.provenance["drug"] = drug.name
    result.provenance["regimen"] = (regimen.describe() if isinstance(regimen, Regimen) else
                                    "a plan per patient" if callable(regimen) else (regimen or drug.default_regimen))
    result.provenance["seed"] = seed_used
    if with_disease:
        from ..disease import attach_disease
        attach_disease(result, disease, until=disease_until)
    return result


def simulate_with_rules(model: ChainedModel, plan: Regimen | Plan, population: Population, rules: DosingRules,
                        **options: Any) -> SimulationResult:
    """Deprecated: ``simulate(model, plan, population, rules=rules, ...)`` does the same."""
    warnings.warn("simulate_with_rules(model, plan, population, rules) is deprecated; use "
                  "simulate(model, plan, population, rules=rules).", DeprecationWarning, stacklevel=2)
    if not isinstance(population, Population):
        raise PopulationError("rules are applied to a table of patients; draw them first, e.g. "
                              "PopulationSpec().sample(n, seed, model).")
    return simulate(model, plan, population, rules=rules, **options)
