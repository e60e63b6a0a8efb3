"""An explainer request: one drug, dose and schedule, and the treatments beside it, followed along the
whole chain for a small cohort and for the same kind of cohort without chemotherapy; the answer is a
JSON-ready dict of pictures' data (the typical patient: the median; the spread: the 5th-95th
percentiles) and plain numbers. The web app's explainer draws it.

>>> from mschemo.interfaces.requests import API, ExplainRequest
>>> job = ExplainRequest(drug="mitoxantrone", dose="12", every="3 months", courses="4").resolve(API)
>>> job.regimen
'12 mg/m2 over 30 min every 3 months x 4'
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import OptionError
from .base import DEFAULT_SEED, Request, Spelling, choice, number, whole_number

__all__ = ["ExplainRequest", "ExplainJob", "OTHER_TREATMENTS", "other_treatments", "EXPLAIN_DRUGS"]

#: the drugs the explainer offers: dose unit, the slider's range and step, the infusion, the label dose,
#: interval and number of courses (from each drug's label regimen: mitoxantrone 12 mg/m2 every 3 months
#: x 8; cyclophosphamide 800 mg/m2 every 4 weeks x 6, titrated 400-1600 mg/m2; cladribine tablets 3.5
#: mg/kg over 2 years, built from body weight, so not a slider)
EXPLAIN_DRUGS: dict[str, dict[str, Any]] = {
    "mitoxantrone": {"unit": "mg/m2", "min": 5, "max": 14, "step": 1, "over": "30 min", "dose": 12,
                     "every": "3 months", "courses": 4},
    "cyclophosphamide": {"unit": "mg/m2", "min": 400, "max": 1600, "step": 100, "over": "1 h", "dose": 800,
                         "every": "4 weeks", "courses": 6},
    "cladribine": {"unit": "mg/kg", "label": "label tablets", "dose": 3.5, "every": "", "courses": 2},
}
EVERY = ("2 weeks", "4 weeks", "1 month", "2 months", "3 months", "6 months")
#: the treatments beside chemotherapy, with the parameter (file, name) that carries each one's evidence
OTHER_TREATMENTS: dict[str, dict[str, Any]] = {
    "steroids": {"title": "Steroids for relapses", "link": "relapse recovery",
                 "evidence": [("ms_relapses", "STEROID_OR_NOT_IMPROVED")]},
    "plasma_exchange": {"title": "Plasma exchange for severe relapses that steroids do not help",
                        "link": "relapse recovery", "evidence": [("ms_relapses", "PLEX_RESPONSE")]},
    "fampridine": {"title": "Fampridine (walking)", "link": "symptoms", "medication": True,
                   "evidence": [("ms_symptoms", "MED_FAMPRIDINE_WALKING")]},
    "nabiximols": {"title": "Nabiximols (spasticity)", "link": "symptoms", "medication": True,
                   "evidence": [("ms_symptoms", "MED_NABIXIMOLS_SPASTICITY")]},
    "baclofen": {"title": "Baclofen (spasticity)", "link": "symptoms", "medication": True,
                 "evidence": [("ms_symptoms", "MED_BACLOFEN_SPASTICITY")]},
    "amantadine": {"title": "Amantadine (fatigue)", "link": "symptoms", "medication": True,
                   "evidence": [("ms_symptoms", "MED_AMANTADINE_FATIGUE")]},
    "modafinil": {"title": "Modafinil (fatigue)", "link": "symptoms", "medication": True,
                  "evidence": [("ms_symptoms", "MED_MODAFINIL_FATIGUE")]},
    "rehabilitation": {"title": "Rehabilitation: physical, occupational and speech therapy", "link": "symptoms",
                       "evidence": [("ms_symptoms", "REHABILITATION_BENEFIT_OR"),
                                    ("ms_symptoms", "SPEECH_THERAPY_BENEFIT_OR")]},
    "exercise": {"title": "Exercise", "link": "symptoms (fatigue)", "evidence": [("ms_symptoms", "EXERCISE_FATIGUE_SMD")]},
    "diet": {"title": "Diet", "link": "symptoms", "evidence": [("ms_symptoms", "DIET_BENEFIT_OR")]},
}
COUNTS = (("wbc", "white cells (leukocytes)"), ("anc", "neutrophils"), ("alc", "lymphocytes"))
QUANTILES = (5, 50, 95)


class ExplainRequest(Request):
    """The explainer's choices, as asked."""

    drug: str = "mitoxantrone"
    dose: str | float | None = None
    every: str | None = None
    courses: str | int | None = None
    years: str | int = "3"
    n: str | int = "40"
    seed: str | int | None = None
    treatments: tuple[str, ...] = ()

    def resolve(self, sp: Spelling) -> ExplainJob:
        name = choice(self.drug, sp("drug"), tuple(EXPLAIN_DRUGS))
        d = EXPLAIN_DRUGS[name]
        years = whole_number(self.years, sp("years"), 1, "3")
        if years > 10:
            raise OptionError(f"{sp('years')} {years} is beyond the explainer's 10 years; give 1 to 10, e.g. "
                              f"{sp.eg('years', '3')}.")
        n = whole_number(self.n, sp("n"), 5, "40")
        if n > 200:
            raise OptionError(f"{sp('n')} {n} is more patients than the explainer draws (at most 200); use "
                              "'mschemo simulate' or the trial runner for more, or give e.g. "
                              f"{sp.eg('n', '40')}.")
        seed = whole_number(self.seed, sp("seed"), 0, "1")
        treatments = tuple(dict.fromkeys(choice(t, sp("treatments"), tuple(OTHER_TREATMENTS)) for t in self.treatments))
        if "label" in d:
            for field in ("dose", "every", "courses"):
                if getattr(self, field) is not None:
                    raise OptionError(f"{name} tablets follow the label ({d['dose']:g} {d['unit']} over 2 years, "
                                      f"built from body weight), so {sp(field)} does not apply; leave it out.")
            regimen = d["label"]
        else:
            dose = number(d["dose"] if self.dose is None else self.dose, sp("dose"), str(d["dose"]))
            if not d["min"] <= dose <= d["max"]:
                raise OptionError(f"{sp('dose')} {dose:g} {d['unit']} is outside the explainer's range for {name}, "
                                  f"{d['min']:g}-{d['max']:g} {d['unit']}; give e.g. {sp.eg('dose', str(d['dose']))}.")
            every = choice(d["every"] if self.every is None else self.every, sp("every"), EVERY)
            courses = whole_number(d["courses"] if self.courses is None else self.courses, sp("courses"), 1, "4")
            if courses > 12:
                raise OptionError(f"{sp('courses')} {courses} is more than 12; give 1 to 12, e.g. "
                                  f"{sp.eg('courses', str(d['courses']))}.")
            regimen = f"{dose:g} {d['unit']} over {d['over']} every {every} x {courses}"
        return ExplainJob(name, regimen, years, n, DEFAULT_SEED if seed is None else seed, treatments)


@dataclass(frozen=True)
class ExplainJob:
    """A checked explainer request (hashable: the web app keeps recent answers)."""

    drug: str
    regimen: str
    years: int
    n: int
    seed: int
    treatments: tuple[str, ...]

    def _disease(self) -> Any:
        from .disease import DiseaseRequest

        t = set(self.treatments)
        meds = tuple(k for k in self.treatments if OTHER_TREATMENTS[k].get("medication"))
        return DiseaseRequest(steroids="steroids" in t, plasma_exchange="plasma_exchange" in t, symptomatic=meds,
                              rehabilitation="rehabilitation" in t, exercise="exercise" in t, diet="diet" in t)

    def run(self) -> dict[str, Any]:
        """Simulate and summarise (about 0.3-0.5 s for 40 patients over 3 years)."""
        from .base import API
        from .simulate import SimulateRequest, SimulationJob

        dis = self._disease()
        treated = SimulateRequest(drug=self.drug, regimen=self.regimen, n=self.n, seed=self.seed,
                                  until=f"{self.years} years", disease=True, disease_options=dis).resolve(API)
        assert isinstance(treated, SimulationJob)       # a drug's run, not an untreated one
        # one solve gives both pictures: counts every 2 days, the drug level every 30 minutes in the first
        # week (where its peaks are); the disease does not depend on the output times
        end = float(treated.output.until)
        every_2d = np.arange(0.0, end + 1e-9, 2.0)
        first_week = np.arange(0.0, 8.0 + 1e-9, 1.0 / 48.0)
        treated.output = np.union1d(every_2d, first_week)
        counts = treated.run()
        disease = treated.attach_disease(counts)
        untreated = _untreated(self.n, self.seed, self.years, dis)   # (relapses, edss, summary), kept
        ok = np.asarray(counts.status) == 0
        summary = _summary(disease)
        t = np.asarray(counts.times_d)
        grid2, week = np.isin(t, every_2d), np.isin(t, first_week)
        return {
            "drug": self.drug, "regimen": self.regimen, "n": self.n, "seed": self.seed, "years": self.years,
            "treatments": list(self.treatments),
            "concentration": _bands(counts, "conc_mg_per_L", ok, scale=1000.0, unit="ug/L", times=week),
            "counts": {k: {"label": label, **_bands(counts, f"{k}_1e9_per_L", ok, times=grid2)} for k, label in COUNTS},
            "toxicity": _toxicity(counts, ok),
            "relapses": {"treated": _relapses(disease, self.seed), "untreated": untreated[0]},
            "edss": {"treated": _edss(disease), "untreated": untreated[1]},
            "symptoms": _symptoms(summary, untreated[2]),
            "summary": {"treated": summary, "untreated": untreated[2]},
            "patients_failed": int((~ok).sum()),
        }


@functools.lru_cache(maxsize=64)
def _untreated(n: int, seed: int, years: int, disease: Any) -> tuple[dict, dict, dict]:
    """The cohort without chemotherapy, the same for every dose and schedule, so kept: its relapses,
    EDSS and summary."""
    from .base import API
    from .simulate import SimulateRequest

    result = SimulateRequest(untreated=True, n=n, seed=seed, until=f"{years} years",
                             disease_options=disease).resolve(API).run()
    return _relapses(result, seed), _edss(result), _summary(result)


def _round(a: np.ndarray, digits: int = 4) -> list[float | None]:
    """Values to ``digits`` significant figures (JSON stays small; a log axis keeps its shape)."""
    return [None if not math.isfinite(x) else float(f"{x:.{digits}g}") for x in np.asarray(a, dtype=float)]


def _matrix(result: Any, column: str, ok: np.ndarray) -> np.ndarray:
    """(patients that solved, times) of one output column."""
    return np.asarray(result.column(column), dtype=float)[ok]


def _bands(result: Any, column: str, ok: np.ndarray, scale: float = 1.0, unit: str = "1e9/L",
           times: np.ndarray | None = None) -> dict[str, Any]:
    """Median and 5-95 % of patients at each output time (``times``: a mask of the times to keep)."""
    keep = np.ones(len(result.times_d), dtype=bool) if times is None else times
    values = _matrix(result, column, ok)[:, keep] * scale
    q = np.percentile(values, QUANTILES, axis=0) if len(values) else np.full((3, values.shape[1]), np.nan)
    return {"day": _round(np.asarray(result.times_d, dtype=float)[keep], 5), "unit": unit, "p5": _round(q[0]),
            "median": _round(q[1]), "p95": _round(q[2])}


def _toxicity(counts: Any, ok: np.ndarray) -> dict[str, Any]:
    """Each count's median baseline and lowest value, and the share of patients whose lowest value is
    CTCAE v5 grade >= 3."""
    from ... import ctcae_grade

    out = {}
    for k, _ in COUNTS:
        v = _matrix(counts, f"{k}_1e9_per_L", ok)
        low = v.min(axis=1) if len(v) else np.zeros(0)
        share = float(np.mean(ctcae_grade(low, k) >= 3)) if len(v) else math.nan
        out[k] = {"baseline_median": round(float(np.median(v[:, 0])), 3) if len(v) else None,
                  "lowest_median": round(float(np.median(low)), 3) if len(v) else None,
                  "grade_3_or_worse": round(share, 4)}
    return out


def _months(until_d: float) -> np.ndarray:
    return np.arange(0.0, until_d + 1e-9, 365.25 / 12)


def _relapses(result: Any, seed: int) -> dict[str, Any]:
    """Relapses per patient so far, by month: the cohort's mean and the 90 % interval of that mean
    over resamples of its patients (the chance in a cohort this small)."""
    grid = _months(result.until_d)
    ids = np.asarray(result.ids)
    rel = result.relapses
    per = np.zeros((len(ids), len(grid)))
    if len(rel):
        index = {str(v): k for k, v in enumerate(ids)}
        rows = np.array([index[str(v)] for v in rel["id"].to_numpy()])
        days = rel["day"].to_numpy(dtype=float)
        np.add.at(per, rows, days[:, None] <= grid[None, :])
    mean = per.mean(axis=0) if len(ids) else np.zeros(len(grid))
    rng = np.random.default_rng(seed)
    draws = per[rng.integers(0, len(ids), size=(200, len(ids)))].mean(axis=1) if len(ids) else np.zeros((1, len(grid)))
    lo, hi = np.percentile(draws, [5, 95], axis=0)
    return {"day": _round(grid, 5), "mean_cumulative": _round(mean), "p5": _round(lo), "p95": _round(hi),
            "median": _round(mean)}


def _edss(result: Any) -> dict[str, Any]:
    t = np.asarray(result.times_d, dtype=float)
    grid = _months(result.until_d)
    idx = np.clip(np.searchsorted(t, grid), 0, len(t) - 1)
    e = np.asarray(result.edss_sustained, dtype=float)[:, idx]
    q = np.nanpercentile(e, QUANTILES, axis=0)
    return {"day": _round(t[idx], 1), "p5": _round(q[0], 2), "median": _round(q[1], 2), "p95": _round(q[2], 2),
            "mean": _round(np.nanmean(e, axis=0), 3)}


def _summary(result: Any) -> dict[str, float]:
    s = result.summary()
    return {str(r.quantity): round(float(r.value), 4) for r in s.itertuples(index=False) if math.isfinite(r.value)}


def _symptoms(a: dict[str, float], b: dict[str, float]) -> list[dict[str, Any]]:
    """Each symptom's share at the end, treated and untreated (from the two summaries)."""
    return [{"symptom": k.removesuffix(" at the end"), "treated": a[k], "untreated": b.get(k)}
            for k in a if k.endswith(" at the end")]


def other_treatments() -> list[dict[str, Any]]:
    """Each treatment beside chemotherapy: its link in the chain and the evidence behind it (the
    parameter files' values and sources), "no effect found" where the evidence is none."""
    from ...params import load_parameters

    out = []
    for key, t in OTHER_TREATMENTS.items():
        evidence = []
        for file, name in t["evidence"]:
            p = load_parameters(file).parameters[name]
            src = p.source
            cite = ", ".join(x for x in (src.author, str(src.year or ""), src.journal) if x) if src else ""
            none = p.unit == "1" and name.endswith("_OR") or name.startswith("MED_")
            effect = "no effect found" if none and abs(p.value - 1.0) < 1e-12 else f"{p.value:g}"
            evidence.append({"parameter": name, "value": p.value, "effect": effect, "description": p.description,
                             "source": cite, "table": src.table if src else "",
                             "assumption": src.assumption if src else ""})
        out.append({"key": key, "title": t["title"], "link": t["link"], "evidence": evidence,
                    "no_effect_found": all(e["effect"] == "no effect found" for e in evidence)})
    return out
