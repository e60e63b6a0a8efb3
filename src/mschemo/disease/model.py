"""The MS disease model as one call: relapses, their course, sites and symptoms, EDSS and symptom
burden, with the lymphocyte link and the other treatments on their own links.

    simulate_disease(population, "10 years", seed=1)                       # untreated
    simulate_disease(cohort, until, seed=1, lymphocytes=result)            # after chemotherapy
    simulate_disease(cohort, until, seed=1, treatments=Treatments(steroids=True))

Every part draws from its own per-patient stream (relapses 2, course 3, sites 4, symptoms 5,
disability 6, visit variability of the EDSS 7, regression of relapse residuals 8), so a seeded run
is the same however the cohort is chunked, and switching a treatment on changes only what that
treatment acts on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._internal.files import atomic_path
from ..errors import OptionError
from ..units import parse_duration
from .disability import (
    MILESTONES,
    YEAR,
    DisabilityModel,
    DisabilityPaths,
    baseline_edss,
    edss_as_scored,
    simulate_disability,
)
from .history import prior_relapse_table, transient_at
from .immune import STEP_D, ImmuneModel, ImmuneRecord
from .relapse_course import relapse_courses
from .relapses import RelapseModel, combine_multipliers, dmt_multiplier, immune_multiplier, simulate_relapses
from .symptoms import SymptomTimeline, SymptomTreatments, relapse_sites, symptom_timeline

__all__ = ["Treatments", "DiseaseResult", "simulate_disease", "attach_disease", "disease_summary"]


@dataclass(frozen=True)
class Treatments:
    """The treatments besides chemotherapy, each on its own link.

    steroids: which relapses are treated with corticosteroids (faster recovery, same residual):
        True ("all"), "moderate_or_severe", "severe", False ("none").
    plasma_exchange: severe steroid-refractory relapses get plasma exchange.
    symptomatic: symptomatic medication, rehabilitation, exercise and diet (symptoms.SymptomTreatments).
    dmt_periods: {patient id: [(start_d, stop_d, dmt name), ...]}: disease-modifying therapies taken
        over periods (relapse-rate ratios); a constant therapy can also be a patient column ``dmt``.
    pulses: {patient id: days of scheduled methylprednisolone pulses} (recovery of relapses that
        start soon after one; no effect on the relapse rate).
    """

    steroids: bool | str = False
    plasma_exchange: bool = False
    symptomatic: SymptomTreatments = field(default_factory=SymptomTreatments)
    dmt_periods: Mapping | None = None
    pulses: Mapping | None = None

    @classmethod
    def of(cls, steroids: bool | str = False, plasma_exchange: bool = False, medications: tuple[str, ...] = (),
           rehabilitation: bool = False, exercise: bool = False, diet: bool = False) -> Treatments:
        return cls(steroids, plasma_exchange, SymptomTreatments(tuple(medications), rehabilitation, exercise, diet))


def _until_days(until: float | str) -> float:
    d = parse_duration(until, "until") if isinstance(until, str) else float(until)
    if not np.isfinite(d) or d <= 0:
        raise OptionError(f"until {until!r} is not a positive duration; give one such as '10 years'.")
    return float(d)


@dataclass
class DiseaseResult:
    """Relapses, EDSS and symptoms of a cohort on a time grid (days)."""

    ids: np.ndarray
    times_d: np.ndarray
    relapses: pd.DataFrame          # id, relapse, day, site, symptoms, edss_rise, recovery_d, edss_residual, ...
    edss: np.ndarray                # (n, T) EDSS as scored (sustained + relapse + visit variability), on the 0.5 grid
    edss_sustained: np.ndarray      # (n, T)
    course: np.ndarray              # (n, T) RRMS / SPMS / PPMS
    paths: DisabilityPaths
    symptoms: SymptomTimeline
    until_d: float
    provenance: dict[str, Any] = field(default_factory=dict)
    disability_model: DisabilityModel | None = None
    prior_relapses: pd.DataFrame | None = None   # relapses before entry (day < 0), from a screening history

    def _in_progress(self) -> pd.DataFrame:
        """The relapses whose EDSS rise counts on study: those on study and those before entry still
        recovering at day 0."""
        p = self.prior_relapses
        if p is None or not len(p):
            return self.relapses
        ongoing = p[p["day"] + p["recovery_d"] > 0]
        if not len(ongoing):
            return self.relapses
        return pd.concat([ongoing, self.relapses], ignore_index=True) if len(self.relapses) else ongoing

    @property
    def n_patients(self) -> int:
        return len(self.ids)

    def edss_at(self, days: np.ndarray) -> np.ndarray:
        """EDSS as scored (n, len(days)) at any days in the window: sustained plus relapses in
        progress plus the visit variability, on the 0.5 grid and within 0-9.5 (e.g. at a trial's
        visits). A day's score is the same whichever other days are asked for."""
        dm = self.disability_model or DisabilityModel.load()
        return edss_as_scored(self.paths, self._in_progress(), np.asarray(days, dtype=float), dm)

    def relapse_counts(self) -> np.ndarray:
        """Relapses per patient over the window."""
        return self.relapses.groupby("id").size().reindex(self.ids, fill_value=0).to_numpy()

    def edss_frame(self) -> pd.DataFrame:
        """Long table: id, day, edss, edss_sustained, course."""
        n, t = self.edss.shape
        return pd.DataFrame({"id": np.repeat(self.ids, t), "day": np.tile(self.times_d, n),
                             "edss": self.edss.ravel(), "edss_sustained": self.edss_sustained.ravel(),
                             "course": self.course.ravel()})

    def events(self) -> pd.DataFrame:
        """Dated events: relapses, conversion to secondary progression, EDSS milestones (sustained)."""
        parts = [pd.DataFrame({"id": self.relapses["id"], "day": self.relapses["day"], "event": "relapse",
                               "detail": self.relapses["site"] + ": " + self.relapses["symptoms"]})]
        sp = np.isfinite(self.paths.progressive_day) & (self.paths.progressive_day > 0) & (self.paths.course0 == "RRMS")
        parts.append(pd.DataFrame({"id": self.ids[sp], "day": self.paths.progressive_day[sp], "event": "spms",
                                   "detail": "conversion to secondary progressive MS"}))
        for lv, days in self.paths.milestone_day.items():
            hit = np.isfinite(days) & (days > 0)
            parts.append(pd.DataFrame({"id": self.ids[hit], "day": days[hit], "event": f"edss_{lv:g}",
                                       "detail": f"sustained EDSS {lv:g} reached"}))
        out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
        return out.sort_values(["id", "day"], kind="stable").reset_index(drop=True)

    def patients(self) -> pd.DataFrame:
        """One row per patient: relapses, annualised rate, EDSS at start and end, course at the end,
        days to conversion and to the sustained milestones."""
        out = pd.DataFrame({"id": self.ids, "relapses": self.relapse_counts()})
        out["arr"] = out["relapses"] / (self.until_d / YEAR)
        out["edss_start"] = self.edss_sustained[:, 0]
        out["edss_end"] = self.edss_sustained[:, -1]
        out["course_end"] = self.course[:, -1]
        out["spms_day"] = np.where(np.isfinite(self.paths.progressive_day) & (self.paths.course0 == "RRMS"),
                                   self.paths.progressive_day, np.nan)
        for lv in MILESTONES:
            out[f"edss_{lv:g}_day"] = self.paths.milestone_day[lv]
        pts = self.paths.points()
        out["edss_points_pira"] = pts["pira"].to_numpy() + pts["progression"].to_numpy()
        out["edss_points_relapses"] = pts["residual"].to_numpy()
        out["edss_points_improved"] = pts["improvement"].to_numpy()
        return out

    def summary(self) -> pd.DataFrame:
        """Cohort figures: relapse rate, relapse-free share, EDSS change, milestones, symptom prevalence."""
        return disease_summary(self.patients(), self.until_d, self.symptoms_at_end())

    def symptoms_at_end(self) -> dict[str, np.ndarray]:
        """Each symptom's presence (bool per patient) at the end of the window."""
        return {s: a[:, -1] for s, a in self.symptoms.present.items()}

    def patient(self, pid: Any) -> dict[str, Any]:
        """One patient's tables: relapses, edss (long), symptoms (wide), events."""
        k = int(np.flatnonzero(self.ids == pid)[0]) if np.any(self.ids == pid) else None
        if k is None:
            raise OptionError(f"patient {pid!r} is not in this result; use one of its ids such as {self.ids[0]!r}.")
        sym = self.symptoms.to_frame()
        return {"relapses": self.relapses[self.relapses["id"] == pid].reset_index(drop=True),
                "edss": pd.DataFrame({"day": self.times_d, "edss": self.edss[k], "edss_sustained": self.edss_sustained[k],
                                      "course": self.course[k]}),
                "symptoms": sym[sym["id"] == pid].reset_index(drop=True),
                "events": self.events().query("id == @pid").reset_index(drop=True)}

    def write(self, directory: str | Path) -> Path:
        """Write relapses, edss, symptoms, events and patients as Parquet files into ``directory``
        (each written to a temporary file, then renamed)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tables = {"relapses": self.relapses, "edss": self.edss_frame(), "symptoms": self.symptoms.to_frame(),
                  "events": self.events(), "patients": self.patients()}
        for name, frame in tables.items():
            with atomic_path(d / f"disease_{name}.parquet") as tmp:
                frame.to_parquet(tmp, index=False)
        return d


def disease_summary(p: pd.DataFrame, until_d: float, at_end: dict[str, np.ndarray]) -> pd.DataFrame:
    """The table of :meth:`DiseaseResult.summary` from its pieces: the per-patient table (``patients()``),
    the window (days) and each symptom's presence at the end (a streamed run keeps only these)."""
    years = until_d / YEAR
    rows = [("annualised relapse rate", p["relapses"].sum() / (len(p) * years), "1/year"),
            ("relapse-free", float(np.mean(p["relapses"] == 0)), "share"),
            ("mean EDSS change (sustained)", float(np.mean(p["edss_end"] - p["edss_start"])), "EDSS"),
            ("sustained EDSS lower at the end than at the start", float(np.mean(p["edss_end"] < p["edss_start"])), "share"),
            ("converted to SPMS", float(np.mean(np.isfinite(p["spms_day"]) & (p["spms_day"] > 0))), "share")]
    for lv in MILESTONES:
        d = p[f"edss_{lv:g}_day"]
        rows.append((f"newly reached sustained EDSS {lv:g}", float(np.mean(np.isfinite(d) & (d > 0))), "share"))
    gained = p["edss_points_pira"].sum() + p["edss_points_relapses"].sum()
    rows.append(("EDSS worsening independent of relapses", float(p["edss_points_pira"].sum() / gained) if gained else float("nan"), "share of points gained"))
    for s, present in at_end.items():
        share = float(np.mean(present)) if len(present) else float("nan")
        rows.append((f"{s.replace('_', ' ')} at the end", share, "share"))
    return pd.DataFrame(rows, columns=["quantity", "value", "unit"])


def _duration_days(population, relapse_model: RelapseModel) -> np.ndarray:
    t = population.table
    if "ms_duration_y" in t.columns:
        return t["ms_duration_y"].to_numpy(dtype=float) * YEAR
    return np.full(len(t), relapse_model.ref_duration)


def immune_record_of(result, until_d: float | None = None, model: ImmuneModel | None = None) -> ImmuneRecord | None:
    """The memory compartment of a count result's patients: the record simulate() made on the
    immune grid when asked for the disease (``result.immune``), or else one worked out from the
    result's own AUC column (which then depends on its output grid: a warning says so when it is
    coarser than the immune grid). None when the result's model has no lymphocyte kill."""
    record = getattr(result, "immune", None)
    if record is None:
        record = ImmuneRecord.from_result(result, model)
        if record is None:
            return None
        t = np.asarray(result.times_d, dtype=float)
        if t.size > 1 and np.max(np.diff(t)) > STEP_D + 1e-9:
            import warnings
            warnings.warn(f"the relapse rate follows a drug exposure recorded every {np.max(np.diff(t)):g} days, so "
                          "it depends on the output grid; simulate with disease=... (or immune=True) for the exact link.",
                          stacklevel=3)
    return record if until_d is None else record.extended(until_d, model)


def simulate_disease(population, until: float | str = "2 years", seed: int = 0, *,
                     lymphocytes=None, immune: ImmuneRecord | None = None, alc_link: bool = True,
                     treatments: Treatments | None = None,
                     every_d: float = 7.0, season_start: float | None = None, start: int | np.ndarray = 0,
                     relapse_model: RelapseModel | None = None,
                     disability_model: DisabilityModel | None = None) -> DiseaseResult:
    """Simulate the disease of ``population`` over ``until`` (days or text such as "10 years").

    lymphocytes: a SimulationResult of a drug with a lymphocyte model, for the same patients
        (chemotherapy): the relapse rate follows the memory compartment the drug's lymphocyte kill
        depletes (:mod:`mschemo.disease.immune`; the result's exact record when it was simulated
        with the disease, else worked out from its output grid). ``immune``: that record itself.
        ``alc_link=False`` switches the link off (relapses as without treatment).
    treatments: steroids, plasma exchange and symptomatic treatments (Treatments).
    every_d: spacing of the EDSS and symptom grid (days).
    season_start: day of the year of day 0 (1 January = 0) to switch on the seasonal cycle.
    start: index of the first patient in the whole run (for chunked runs), or each patient's index.
    """
    until_d = _until_days(until)
    treatments = treatments or Treatments()
    rm = relapse_model or RelapseModel.load()
    dm = disability_model or DisabilityModel.load()
    multiplier = None
    if lymphocytes is not None and not np.array_equal(np.asarray(lymphocytes.ids), np.asarray(population.ids)):
        raise OptionError("the lymphocyte result is for other patients; simulate the disease of the same cohort.")
    if alc_link:
        if immune is None and lymphocytes is not None:
            immune = immune_record_of(lymphocytes)
        if immune is not None:
            if immune.memory.shape[0] != len(population):
                raise OptionError("the immune record is for another number of patients; give the same cohort's record.")
            multiplier = immune_multiplier(immune.extended(until_d), rm)
    if treatments.dmt_periods:
        multiplier = combine_multipliers(multiplier, dmt_multiplier(population.ids, treatments.dmt_periods, until_d, rm))
    rel = simulate_relapses(population, until_d, seed, model=rm, multiplier=multiplier, start=start,
                            season_start=season_start)
    rel = relapse_courses(rel, population, seed, start=start, steroids=treatments.steroids,
                          plasma_exchange=treatments.plasma_exchange, pulses=treatments.pulses)
    rel = relapse_sites(rel, population, seed, start=start)
    prior = prior_relapse_table(population, seed, start=start)
    ongoing = prior[prior["day"] + prior["recovery_d"] > 0] if len(prior) else prior
    on_disease = population
    carried = rel
    if len(ongoing):
        # the EDSS at entry includes the rise of relapses still recovering: the sustained EDSS is below it
        entry = baseline_edss(population, dm.edss_default)
        table = population.table.copy()
        table["edss"] = np.clip(entry - transient_at(ongoing, population.ids, 0.0, dm.recovery_shape), 0.0, dm.edss_max)
        from ..population import Population
        on_disease = Population(table, population.bsa_formula, population.description, population.meta)
        carried = (pd.concat([ongoing, rel], ignore_index=True) if len(rel) else ongoing.reset_index(drop=True))
        carried = carried.sort_values(["id", "day"], kind="stable")
        carried["relapse"] = carried.groupby("id").cumcount().to_numpy() + 1
    duration = _duration_days(population, rm)
    paths = simulate_disability(on_disease, until_d, seed, carried, model=dm, duration_d=duration, start=start)
    times = np.arange(0.0, until_d + 1e-9, every_d)
    if times[-1] < until_d:
        times = np.append(times, until_d)
    sustained = paths.sustained(times)
    actual = edss_as_scored(paths, carried, times, dm, variability=False)     # symptoms follow the patient's EDSS,
    edss = np.clip(actual + paths.visit_offsets(times), 0.0, dm.edss_max)  # not the scoring error
    sym = symptom_timeline(population, times, actual, seed, relapses=carried, treatments=treatments.symptomatic, start=start)
    prov = {"seed": int(seed), "until_d": until_d, "every_d": every_d, "alc_link": bool(alc_link and immune is not None),
            "treatments": repr(treatments), "season_start": season_start,
            "parameters": {"ms-relapses": getattr(rm.parameter_set, "sha256", ""),
                           "ms-disability": getattr(dm.parameter_set, "sha256", "")}}
    return DiseaseResult(population.ids, times, rel.reset_index(drop=True), edss, sustained, paths.course(times),
                         paths, sym, until_d, prov, dm, prior.reset_index(drop=True) if len(prior) else None)


def attach_disease(result, treatments: Treatments | bool | None = None, *, alc_link: bool = True,
                   until: float | str | None = None, start: int | np.ndarray = 0,
                   every_d: float = 7.0) -> DiseaseResult:
    """Simulate the disease of a count result's patients (same seed, same window unless ``until``
    extends it; the memory compartment then reconstitutes without drug) and set ``result.disease``. The relapse
    rate follows the memory compartment the drug's lymphocyte kill depletes (``result.immune``, made
    by simulate() with ``disease=``, or worked out from the result's AUC column)."""
    from ..population import Population
    if treatments is None or isinstance(treatments, bool):
        treatments = Treatments()
    if not isinstance(treatments, Treatments):
        raise OptionError(f"disease {treatments!r} is not a choice; give True, False or a Treatments.")
    window = float(result.times_d[-1]) if until is None else _until_days(until)
    lymph = result if any(c.split("_")[0] == "alc" for c in result.columns) else None
    record = immune_record_of(result) if alc_link else None
    pop = Population(result.patients.reset_index(drop=True))
    result.disease = simulate_disease(pop, window, int(result.provenance.get("seed", 0)), lymphocytes=lymph,
                                      immune=record, alc_link=alc_link, treatments=treatments, start=start,
                                      every_d=every_d)
    return result.disease
