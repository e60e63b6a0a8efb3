"""The disease options of a simulate or timeline request: the window, the treatments beside
chemotherapy, a disease-modifying therapy, the folder for the tables; and the disease without
chemotherapy (untreated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import OptionError
from .base import Request, Spelling, duration_days, output_folder, patients_from_file, quote

__all__ = ["DiseaseRequest", "DiseaseJob", "UNTREATED_UNTIL", "untreated_population", "simulate_untreated",
           "attach"]

#: the disease window without chemotherapy when no window is given
UNTREATED_UNTIL = "2 years"
#: the most virtual patients drawn for the disease without chemotherapy (they are simulated in memory)
UNTREATED_MAX_N = 1_000_000


class DiseaseRequest(Request):
    """The disease options as asked (text)."""

    disease_until: str | None = None
    steroids: bool = False
    plasma_exchange: bool = False
    symptomatic: tuple[str, ...] = ()
    rehabilitation: bool = False
    exercise: bool = False
    diet: bool = False
    dmt: str | None = None
    disease_outdir: str | None = None

    def given(self, sp: Spelling) -> list[str]:
        """The options given, as the interface names them (for messages)."""
        flags = (("disease_until", self.disease_until is not None), ("steroids", self.steroids),
                 ("plasma_exchange", self.plasma_exchange), ("symptomatic", bool(self.symptomatic)),
                 ("rehabilitation", self.rehabilitation), ("exercise", self.exercise), ("diet", self.diet),
                 ("dmt", self.dmt is not None), ("disease_outdir", self.disease_outdir is not None))
        return [sp(name) for name, on in flags if on]

    def resolve(self, sp: Spelling) -> DiseaseJob:
        """Check every disease option (before anything is simulated)."""
        until_d = duration_days(self.disease_until, sp("disease_until"), "'10 years'")
        out_dir = output_folder(self.disease_outdir, sp("disease_outdir"), "disease")
        dmt = _check_dmt(self.dmt, sp)
        from ...disease import Treatments

        treatments = Treatments.of(steroids=self.steroids, plasma_exchange=self.plasma_exchange,
                                   medications=tuple(self.symptomatic), rehabilitation=self.rehabilitation,
                                   exercise=self.exercise, diet=self.diet)   # checks the medication names
        labels = []
        if self.steroids:
            labels.append("steroids for relapses")
        if self.plasma_exchange:
            labels.append("plasma exchange for severe steroid-refractory relapses")
        for name in dict.fromkeys(treatments.symptomatic.medications):
            labels.append(name.replace("_", " "))
        for flag, text in ((self.rehabilitation, "rehabilitation"), (self.exercise, "exercise"), (self.diet, "diet")):
            if flag:
                labels.append(text)
        return DiseaseJob(until_d, treatments, dmt, out_dir, labels, sp)


@dataclass
class DiseaseJob:
    """Checked disease options: the window (days), the treatments, the DMT and the output folder."""

    until_d: float | None
    treatments: Any
    dmt: str | None = None
    out_dir: Path | None = None
    labels: list[str] = field(default_factory=list)
    sp: Spelling = field(default_factory=Spelling)

    def check_population(self, population: Any, where: str) -> None:
        """A DMT for everyone sets a column; a population that has one already gives each patient's, each
        a therapy with a known relapse-rate ratio (checked before anything runs, whatever is shown)."""
        table = getattr(population, "table", None)
        given = [v for v in table["dmt"] if v == v] if table is not None and "dmt" in table.columns else []
        has_column = table is not None and "dmt" in table.columns
        for cv in getattr(population, "covariates", ()):
            if getattr(cv, "name", "") == "dmt":
                has_column = True
                given += list(cv.params["values"]) if "values" in cv.params else [cv.params.get("value")]
        if self.dmt is not None and has_column:
            raise OptionError(f"{self.sp('dmt')} sets every patient's therapy, but {where} already gives each patient a "
                              f"'dmt'; leave {self.sp('dmt')} out or remove that column.")
        bad, known = _unknown_dmt(given)
        if bad is not None:
            raise OptionError(f"the dmt of the patients of {where} has {quote(bad, 40)}, not a disease-modifying therapy "
                              f"with a known relapse-rate ratio; use one of none, {known}.")


def _unknown_dmt(names: list[Any]) -> tuple[str | None, str]:
    """The first of ``names`` without a relapse-rate ratio in the disease model (None: all known), and the
    known names."""
    import numpy as np

    from ...disease.relapses import RelapseModel
    from ...errors import PopulationError

    model = RelapseModel.load()
    known = ", ".join(sorted(model.dmt_rate_ratios or {}))
    for name in dict.fromkeys(str(n) for n in names):
        try:
            model.dmt_factor(np.array([name], dtype=object))
        except PopulationError:
            return name, known
    return None, known


def _check_dmt(name: str | None, sp: Spelling) -> str | None:
    """The DMT name, checked against the relapse-rate ratios of the disease model."""
    if name is None:
        return None
    key = name.strip()
    if not key:
        raise OptionError(f"{sp('dmt')} is empty; give a therapy, e.g. {sp.eg('dmt', 'natalizumab')}.")
    bad, known = _unknown_dmt([key])
    if bad is not None:
        raise OptionError(f"{sp('dmt')} {quote(name, 40)} is not a disease-modifying therapy with a known relapse-rate "
                          f"ratio; use one of none, {known}.")
    return key


def _with_dmt(table: Any, dmt: str | None) -> Any:
    if dmt is None or "dmt" in table.columns:
        return table
    return table.assign(dmt=dmt)


def attach(result: Any, job: DiseaseJob) -> Any:
    """The disease of a count result's patients (``result.disease``), linked to their lymphocytes."""
    from ...disease import attach_disease

    if job.dmt is not None:
        result.patients = _with_dmt(result.patients, job.dmt)
    return attach_disease(result, job.treatments, until=job.until_d)


def untreated_population(population: str | None, n: int | None, seed: int | None, default_n: int, sp: Spelling
                         ) -> tuple[Any, int, str]:
    """Patients without chemotherapy: a patient table, a spec or the default cohort; (population,
    seed used, label)."""
    from ..._internal.rng import root_seed
    from ...population import PopulationSpec

    seed_used = root_seed(seed)
    if n is not None and n > UNTREATED_MAX_N:
        raise OptionError(f"{sp('n')} {n:,} is more than the {UNTREATED_MAX_N:,} patients the disease without "
                          f"chemotherapy is simulated for in memory; give fewer, e.g. {sp.eg('n', '10000')}.")
    if population is not None:
        pop, n_used, label = patients_from_file(population, n, sp, default_n)
        if n_used is not None:
            assert isinstance(pop, PopulationSpec)      # patients are drawn from a spec (a table gives no n)
            pop = pop.sample(n_used, seed_used)
        return pop, seed_used, label
    spec = PopulationSpec()
    n_used = default_n if n is None else n
    return spec.sample(n_used, seed_used), seed_used, f"{n_used} virtual patients ({spec.name})"


def simulate_untreated(population: Any, seed: int, until_d: float, job: DiseaseJob) -> Any:
    """The disease of ``population`` without chemotherapy (no counts, no immune link)."""
    from ...disease import simulate_disease
    from ...population import Population

    if job.dmt is not None:
        population = Population(_with_dmt(population.table, job.dmt), population.bsa_formula,
                                population.description, population.meta)
    return simulate_disease(population, until_d, seed, treatments=job.treatments)
