"""A timeline request: one patient's course (doses, counts, relapses, symptoms, EDSS) under a drug
or without chemotherapy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import OptionError
from .base import (
    DEFAULT_SEED,
    MAX_SEED,
    PLOT_SUFFIXES,
    Request,
    Spelling,
    duration_days,
    output_path,
    quote,
    whole_number,
)
from .disease import UNTREATED_UNTIL, DiseaseJob, DiseaseRequest, attach, simulate_untreated, untreated_population
from .simulate import SimulateRequest, SimulationJob

__all__ = ["TimelineRequest", "TimelineJob", "DEFAULT_PLOT"]

DEFAULT_PLOT = "timeline.png"
#: the most virtual patients a timeline draws its one patient from
MAX_N = 100_000


class TimelineRequest(Request):
    """One patient's timeline, as asked."""

    drug: str | None = None
    regimen: str | None = None
    untreated: bool = False
    patient: str | None = None
    n: str | int | None = None
    seed: str | int | None = None
    population: str | None = None
    until: str | None = None
    disease_options: DiseaseRequest = DiseaseRequest()
    plot: str = DEFAULT_PLOT

    def resolve(self, sp: Spelling) -> TimelineJob:
        sp = sp.with_flags(patient="--patient")
        n_val = whole_number(self.n, sp("n"), 1, "10", MAX_N)
        seed_val = whole_number(self.seed, sp("seed"), 0, "1", MAX_SEED)
        plot_path = output_path(self.plot, sp("plot"), PLOT_SUFFIXES)
        patient = self.patient
        if patient is not None and not patient.strip():
            raise OptionError(f"{sp('patient')} is empty; give a patient id, e.g. {sp.eg('patient', '1')}.")
        if self.untreated and self.drug is not None:
            raise OptionError(f"{sp('untreated')} draws a patient without chemotherapy, so {sp('drug')} does not "
                              "apply; give one of them.")
        if self.untreated and self.regimen is not None:
            raise OptionError(f"{sp('untreated')} draws a patient without chemotherapy, so {sp('regimen')} does not "
                              f"apply; leave {sp('regimen')} out or drop {sp('untreated')}.")
        if not self.untreated and self.drug is None:
            raise OptionError(f"no treatment given; add {sp.eg('drug', 'NAME')} (e.g. {sp.eg('drug', 'mitoxantrone')}; "
                              f"see 'mschemo drugs'), or {sp('untreated')} for the disease without chemotherapy.")
        csv_population = self.population is not None and Path(self.population).suffix.lower() == ".csv"
        n_used = n_val if n_val is not None or csv_population else 1
        n_arg = n_val if csv_population else n_used   # a patient table gives its own patients
        if patient is not None and not csv_population:
            assert n_used is not None       # n, or 1, without a patient table
            _check_virtual_id(patient, n_used, sp)
        djob = self.disease_options.resolve(sp)
        if self.untreated:
            if self.until is not None and self.disease_options.disease_until is not None:
                raise OptionError(f"{sp('until')} and {sp('disease_until')} both set the window of an untreated run; "
                                  "give one of them.")
            until_d = duration_days(self.until, sp("until"), "'10 years'") if self.until is not None else djob.until_d
            if until_d is None:
                until_d = duration_days(UNTREATED_UNTIL, sp("until"))
            pop, seed_used, label = untreated_population(self.population, n_arg,
                                                         DEFAULT_SEED if seed_val is None else seed_val, 1, sp)
            djob.check_population(pop, quote(self.population, 40))
            index = pick(pop.ids, patient, sp)
            return TimelineJob(djob, plot_path, patient, None, pop, seed_used, label, until_d, index)
        sim = SimulateRequest(drug=self.drug, regimen=self.regimen, population=self.population, n=n_arg, seed=seed_val,
                              until=self.until, disease=True)
        job = sim.resolve(sp)
        assert isinstance(job, SimulationJob)
        job.disease = djob
        djob.check_population(job.population, quote(self.population, 40))
        if csv_population:
            pick(job.population.ids, patient, sp)   # a wrong id fails before the simulation
        return TimelineJob(djob, plot_path, patient, job, None, None, job.population_label, None, None)


@dataclass
class TimelineJob:
    """A checked timeline: with counts (``counts`` is the simulation) or untreated."""

    disease: DiseaseJob
    plot_path: Path
    patient: str | None
    counts: SimulationJob | None
    population: Any
    seed: int | None
    population_label: str
    until_d: float | None
    index: int | None

    def run(self, sp: Spelling) -> tuple[Any, Any, int]:
        """(DiseaseResult, the count result or None, the patient's index)."""
        if self.counts is None:
            # an untreated timeline holds its seed, window and patient's index
            assert self.seed is not None and self.until_d is not None and self.index is not None
            return simulate_untreated(self.population, self.seed, self.until_d, self.disease), None, self.index
        counts = self.counts.run()
        index = pick(counts.ids, self.patient, sp)
        if int(counts.status[index]) != 0:
            return None, counts, index
        return attach(counts, self.disease), counts, index


def _check_virtual_id(text: str, n: int, sp: Spelling) -> None:
    """Virtual patients have ids 1..n: a larger or non-numeric id fails before anything runs."""
    try:
        k = int(text.strip())
    except ValueError:
        raise OptionError(f"{sp('patient')} {quote(text, 40)} is not an id of the virtual patients (1 to {n}); give a whole "
                          f"number, e.g. {sp.eg('patient', '1')}.") from None
    if not 1 <= k <= n:
        fix = f"give {sp.eg('n', str(k))} or more" if k > n else "give an id from 1"
        raise OptionError(f"{sp.eg('patient', str(k))} is not among the {n} virtual patient(s) (ids 1 to {n}); {fix}, "
                          f"or leave {sp('patient')} out.")


def pick(ids: Any, patient: str | None, sp: Spelling) -> int:
    """Index of the patient asked for among ``ids`` (compared as text); the first without one."""
    if patient is None:
        return 0
    text = [str(i) for i in ids]
    if patient.strip() in text:
        return text.index(patient.strip())
    shown = ", ".join(text[:5]) + (", ..." if len(text) > 5 else "")
    raise OptionError(f"{sp('patient')} {quote(patient, 40)} is not among the patients (ids {shown}); give one of their ids.")
