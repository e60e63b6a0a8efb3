"""Screening and randomisation: who enters a trial, and into which arm.

Patient j of the trial (0-based, over all arms) is screened from its own stream (patient_rng(seed,
j)): a candidate's baseline characteristics, relapses in the two years before entry (its history)
and random effects are drawn, then the eligibility criteria and the screening labs are checked; a
candidate who fails is replaced by the next draw from the same stream. Randomisation is in permuted
blocks (one block of sum(ratios) patients, shuffled by its own stream), so patient j's arm depends on
j only. Each enrolled patient records how many candidates were screened out before it, and why, so
the share screened out can be reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._internal.rng import patient_rng, patient_streams
from ..disease.relapses import RelapseModel
from ..errors import PopulationError
from ..population import Population, body_surface_area
from .spec import WORSENING_FIELDS, TrialSpec

__all__ = ["arm_of", "screen", "Context", "RANDOMISATION_STREAM", "MAX_SCREENED", "PLACEBO_COUNT_MODEL",
           "SCREENING_LAB_DAY"]

RANDOMISATION_STREAM = 9
MAX_SCREENED = 1000          # candidates screened per enrolled patient before giving up
PLACEBO_COUNT_MODEL = "mitoxantrone"   # counts of arms without a drug: this model without a dose
SCREENING_LAB_DAY = -14.0    # screening labs are drawn two weeks before day 0 (their own lab-error draw)


def _block(spec: TrialSpec) -> list[int]:
    return [k for k, arm in enumerate(spec.arms) for _ in range(arm.ratio)]


def arm_of(spec: TrialSpec, seed: int, j: np.ndarray) -> np.ndarray:
    """Arm index of trial patients j (permuted blocks of sum(ratios), each shuffled by its own stream)."""
    block = np.array(_block(spec))
    b = len(block)
    j = np.asarray(j, dtype=np.int64)
    out = np.empty(j.size, dtype=np.int64)
    blocks = np.unique(j // b)
    perms = {int(k): rng.permutation(block) for k, rng in zip(blocks, patient_streams(seed, blocks, RANDOMISATION_STREAM))}
    for n, jj in enumerate(j):
        out[n] = perms[int(jj) // b][int(jj) % b]
    return out


def _eligible(row: dict[str, Any], spec: TrialSpec) -> bool:
    for c in spec.eligibility:
        v = row[c.field]
        if c.values is not None and str(v) not in c.values:
            return False
        if c.min is not None and not v >= c.min:
            return False
        if c.max is not None and not v <= c.max:
            return False
    return True


@dataclass(frozen=True)
class Context:
    """What screening and running need, loaded once per process."""

    spec: TrialSpec
    covariates: tuple
    relapse_model: RelapseModel
    drugs: dict[str, Any]          # drug name -> Drug (arms' drugs and the placebo count model)

    @classmethod
    def of(cls, spec: TrialSpec) -> Context:
        from ..drugs import load_drug
        names = {a.drug_name for a in spec.arms if a.drug_name} | {PLACEBO_COUNT_MODEL}
        return cls(spec, spec.covariates(), RelapseModel.load(), {n: load_drug(n) for n in sorted(names)})

    def drug_of(self, arm_index: int):
        return self.drugs[self.spec.arms[arm_index].drug_name or PLACEBO_COUNT_MODEL]


def _prior_relapses(rng: np.random.Generator, row: dict[str, Any], rm: RelapseModel, year: float | None) -> tuple[int, int, float]:
    """The patient's relapses in the year and in the 2 years before randomisation (each window cut
    at onset), and the longer window's length (years). The patient's frailty is drawn here, the
    relapses in the window are Poisson with mean PRE_ENTRY_ACTIVITY x the unselected population's
    rate for its sex, disease duration, era and course; on study the disease model draws the frailty
    again from its posterior given these counts (columns prior_relapses, prior_years), which has the
    same joint distribution as keeping it, so entry criteria on recent relapses select a cohort's
    activity honestly (regression to the mean included)."""
    years = min(2.0, row["ms_duration_y"])
    last = min(1.0, years)
    if years <= 0:
        return 0, 0, 0.0
    mid = max(0.0, row["ms_duration_y"] - years / 2.0) * 365.25
    era = float(rm.era(np.array([np.nan if year is None else year]))[0])
    rate = rm.base_rate(np.array([row["sex"]]), np.array([mid]), rm.arr_unselected * era)[0] * 365.25
    if row["ms_course"] == "PPMS":
        rate *= rm.ppms_factor
    z = rng.gamma(1.0 / rm.frailty_k, rm.frailty_k) if rm.frailty_k > 0 else 1.0
    n2 = int(rng.poisson(z * rate * rm.pre_entry_activity * years))
    n1 = int(rng.binomial(n2, last / years)) if n2 else 0
    return n1, n2, years


def _worsening(row: dict[str, Any], seed: int, j: int, fields: list[str]) -> dict[str, float]:
    """The candidate's EDSS worsening over the windows the criteria name, from the same relapse history
    the disease model will give it (disease.history, keyed by the patient's index j)."""
    from ..disease.disability import DisabilityModel
    from ..disease.history import prior_relapse_table, worsening_over

    pop = Population(pd.DataFrame([{k: row[k] for k in ("id", "height_cm", "weight_kg", "sex", "age_y", "edss",
                                                          "ms_duration_y", "ms_course", "prior_relapses", "prior_years")}]))
    prior = prior_relapse_table(pop, seed, start=np.array([j]))
    shape = DisabilityModel.load().recovery_shape
    return {f: float(worsening_over(prior, pop.ids, WORSENING_FIELDS[f], shape)[0]) for f in fields}


def _etas(rng: np.random.Generator, drug) -> dict[str, float]:
    names, chol = _iiv_of(drug.model)
    if not names:
        return {}
    eta = chol @ rng.standard_normal(len(names))
    return {f"ETA_{nm}": float(e) for nm, e in zip(names, eta)}


_IIV: dict[int, tuple[Any, list[str], np.ndarray]] = {}


def _iiv_of(model) -> tuple[list[str], np.ndarray]:
    """The random effects of ``model`` (names) and the Cholesky factor of their covariance, worked
    out once per model (a screened patient draws from them)."""
    hit = _IIV.get(id(model))
    if hit is None or hit[0] is not model:
        ps = model.parameter_set
        names = [nm for nm in ps.iiv_names if nm in model.parameters]
        keep = [ps.iiv_names.index(nm) for nm in names]
        chol = np.linalg.cholesky(ps.omega_matrix()[np.ix_(keep, keep)]) if names else np.zeros((0, 0))
        hit = _IIV[id(model)] = (model, names, chol)
    return hit[1], hit[2]


def baseline_counts(row: dict[str, Any], drug) -> dict[str, float]:
    """A patient's true baseline WBC, ANC and ALC (10^9/L) under ``drug``'s model: each baseline
    parameter's typical value times its covariate effects and exp(eta), as Population does it."""
    ps = drug.model.parameter_set

    def value(name: str) -> float:
        if name not in drug.model.parameters:
            return 0.0
        p = ps[name]
        v = float(p.value)
        for cov in p.covariates:
            v *= float(cov.factor(np.array([float(row[cov.name])]))[0])
        return v * float(np.exp(row.get(f"ETA_{name}", 0.0)))

    anc, alc = value("ANC_CIRC0"), value("ALC_CIRC0")
    return {"anc": anc, "alc": alc, "wbc": anc + value("WBC_OTHER") + alc}


def _labs_ok(row: dict[str, Any], drug, spec: TrialSpec, seed: int, j: int, attempt: int) -> bool:
    counts = baseline_counts(row, drug)
    if spec.screening.measured:
        from ..labs import measured
        for c in {crit.count for crit in spec.screening.labs}:      # only the counts a criterion reads
            # the screening draw of candidate ``attempt`` of patient j: its own day key
            day = np.array([SCREENING_LAB_DAY - attempt * 1e-3])
            counts[c] = float(measured(np.array([[counts[c]]]), c, seed, np.array([j]), day)[0, 0])
    for crit in spec.screening.labs:
        v = counts[crit.count]
        if (crit.min is not None and not v >= crit.min) or (crit.max is not None and not v <= crit.max):
            return False
    return True


def screen(ctx: Context, seed: int, j: int, arm: int, rng: np.random.Generator | None = None) -> dict[str, Any]:
    """Baseline of trial patient j: candidates drawn from its stream (``rng``: patient_rng(seed, j),
    given when worked out together with other patients') until one meets the eligibility criteria
    and the screening labs, then the covariates and random effects of its arm's model."""
    spec = ctx.spec
    rng = patient_rng(seed, j) if rng is None else rng
    drug = ctx.drug_of(arm)
    worsening = sorted({c.field for c in spec.eligibility if c.field in WORSENING_FIELDS})
    out_criteria = out_labs = 0
    for attempt in range(MAX_SCREENED):
        row: dict[str, Any] = {"id": j + 1}
        for c in ctx.covariates:
            row[c.name] = c.draw(rng)
        row["edss"] = float(np.clip(np.round(row["edss"] * 2.0) / 2.0, 0.0, 9.5))
        row["ms_course"] = str(row["ms_course"]).upper()
        n1, n2, window = _prior_relapses(rng, row, ctx.relapse_model, spec.year)
        row["prior_relapses_1y"], row["prior_relapses_2y"] = n1, n2
        row["prior_relapses"], row["prior_years"] = float(n2), window
        row["bsa_m2"] = float(body_surface_area(np.array([row["height_cm"]]), np.array([row["weight_kg"]]))[0])
        if worsening:
            row.update(_worsening(row, seed, j, worsening))
        if not _eligible(row, spec):
            out_criteria += 1
            continue
        if spec.screening.labs:
            for c in drug.covariates:
                if c.name not in row:
                    row[c.name] = c.draw(rng)
            row.update(_etas(rng, drug))
            if not _labs_ok(row, drug, spec, seed, j, attempt):
                out_labs += 1
                continue
        break
    else:
        raise PopulationError(f"fewer than 1 in {MAX_SCREENED} screened patients meet the eligibility criteria and "
                              "screening labs; widen the criteria or move the population's distributions towards them.")
    if not spec.screening.labs:
        for c in drug.covariates:
            if c.name not in row:
                row[c.name] = c.draw(rng)
        row.update(_etas(rng, drug))
    row["screened_out_criteria"], row["screened_out_labs"] = out_criteria, out_labs
    row["arm"] = spec.arms[arm].name
    if spec.year is not None:
        row["year"] = float(spec.year)
    if spec.relapse_rate is not None:
        row["untreated_arr"] = float(spec.relapse_rate)
    return row
