"""Running a trial: screening, randomisation, each arm's counts and disease, visits and outcomes.

Patient j of the trial (0-based, over all arms) is screened from its own stream (patient_rng(seed,
j)): baseline characteristics are drawn until the eligibility criteria hold, then the random effects
of the model of the arm it was randomised to. Randomisation is in permuted blocks (one block of
sum(ratios) patients, shuffled by its own stream), so patient j's arm depends on j only. Every
patient's counts, relapses, symptoms and EDSS come from its own streams (disease streams keyed by
j), so a trial gives the same per-patient data for any chunk size and any number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._internal.rng import patient_rng
from ..disease.model import Treatments, attach_disease
from ..disease.relapses import RelapseModel
from ..errors import PopulationError
from ..population import Population, body_surface_area
from ..results import ctcae_grade
from ..units import parse_duration
from .schema import PATIENT_COLUMNS, VISIT_COLUMNS
from .spec import TrialSpec

__all__ = ["arm_of", "screen", "run_chunk", "visit_days", "RANDOMISATION_STREAM", "MAX_SCREENED"]

RANDOMISATION_STREAM = 9
MAX_SCREENED = 1000          # candidates screened per enrolled patient before giving up
PLACEBO_COUNT_MODEL = "mitoxantrone"   # counts of arms without a drug: this model without a dose


def _block(spec: TrialSpec) -> list[int]:
    return [k for k, arm in enumerate(spec.arms) for _ in range(arm.ratio)]


def arm_of(spec: TrialSpec, seed: int, j: np.ndarray) -> np.ndarray:
    """Arm index of trial patients j (permuted blocks of sum(ratios), each shuffled by its own stream)."""
    block = np.array(_block(spec))
    b = len(block)
    j = np.asarray(j, dtype=np.int64)
    out = np.empty(j.size, dtype=np.int64)
    perms: dict[int, np.ndarray] = {}
    for n, jj in enumerate(j):
        k = int(jj) // b
        if k not in perms:
            perms[k] = patient_rng(seed, k, RANDOMISATION_STREAM).permutation(block)
        out[n] = perms[k][int(jj) % b]
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
class _Context:
    """What screening and running need, loaded once per process."""

    spec: TrialSpec
    covariates: tuple
    relapse_model: RelapseModel
    drugs: dict[str, Any]          # drug name -> Drug (arms' drugs and the placebo count model)

    @classmethod
    def of(cls, spec: TrialSpec) -> _Context:
        from ..drugs import load_drug
        names = {a.drug for a in spec.arms if a.drug} | {PLACEBO_COUNT_MODEL}
        return cls(spec, spec.covariates(), RelapseModel.load(), {n: load_drug(n) for n in sorted(names)})

    def drug_of(self, arm_index: int):
        return self.drugs[self.spec.arms[arm_index].drug or PLACEBO_COUNT_MODEL]


def _prior_relapses(rng: np.random.Generator, row: dict[str, Any], rm: RelapseModel) -> int:
    """Relapses in the 2 years before randomisation: negative binomial at the cohort's rate for the
    patient's sex and disease duration (drawn independently of the on-trial relapses: the reference
    rate is already that of a trial cohort selected on recent relapses)."""
    years = min(2.0, row["ms_duration_y"])
    mid = max(0.0, row["ms_duration_y"] - years / 2.0) * 365.25
    rate = rm.base_rate(np.array([row["sex"]]), np.array([mid]))[0] * 365.25
    if row["ms_course"] == "PPMS":
        rate *= rm.ppms_factor
    z = rng.gamma(1.0 / rm.frailty_k, rm.frailty_k) if rm.frailty_k > 0 else 1.0
    return int(rng.poisson(z * rate * years))


def screen(ctx: _Context, seed: int, j: int, arm: int) -> dict[str, Any]:
    """Baseline of trial patient j: candidates drawn from its stream until eligible, then the
    covariates and random effects of its arm's model."""
    spec, rng = ctx.spec, patient_rng(seed, j)
    for _ in range(MAX_SCREENED):
        row: dict[str, Any] = {"id": j + 1}
        for c in ctx.covariates:
            row[c.name] = c.draw(rng)
        row["edss"] = float(np.clip(np.round(row["edss"] * 2.0) / 2.0, 0.0, 9.5))
        row["ms_course"] = str(row["ms_course"]).upper()
        row["prior_relapses_2y"] = _prior_relapses(rng, row, ctx.relapse_model)
        row["bsa_m2"] = float(body_surface_area(np.array([row["height_cm"]]), np.array([row["weight_kg"]]))[0])
        if _eligible(row, spec):
            break
    else:
        raise PopulationError(f"fewer than 1 in {MAX_SCREENED} screened patients meet the eligibility criteria; "
                              "widen the criteria or move the population's distributions towards them.")
    drug = ctx.drug_of(arm)
    for c in drug.covariates:
        if c.name not in row:
            row[c.name] = c.draw(rng)
    ps = drug.model.parameter_set
    names = [nm for nm in ps.iiv_names if nm in drug.model.parameters]
    if names:
        keep = [ps.iiv_names.index(nm) for nm in names]
        chol = np.linalg.cholesky(ps.omega_matrix()[np.ix_(keep, keep)])
        eta = chol @ rng.standard_normal(len(names))
        row.update({f"ETA_{nm}": float(e) for nm, e in zip(names, eta)})
    row["arm"] = spec.arms[arm].name
    if spec.arms[arm].dmt:
        row["dmt"] = spec.arms[arm].dmt
    return row


def visit_days(spec: TrialSpec) -> tuple[np.ndarray, np.ndarray]:
    """Days of the count visits and of the EDSS visits (baseline 0 to the end of the trial)."""
    end = spec.duration_d

    def grid(every: str) -> np.ndarray:
        step = parse_duration(every, "visit interval")
        k = int(math.floor(end / step + 1e-9))
        return np.round(np.arange(k + 1) * step, 6)

    return grid(spec.visits.counts_every), grid(spec.visits.edss_every)


def _confirmed_progression(days: np.ndarray, edss: np.ndarray, base: float, confirm_d: float) -> tuple[bool, float]:
    """First visit with EDSS >= base + 1.0 (1.5 from 0, 0.5 above 5.5) that stays there at every
    visit until one at least ``confirm_d`` later. Returns (event, day) (censored: last visit)."""
    step = 1.5 if base == 0 else (0.5 if base > 5.5 else 1.0)
    up = edss >= base + step - 1e-9
    for k in np.flatnonzero(up[1:]) + 1:
        later = np.flatnonzero(days >= days[k] + confirm_d - 1e-6)
        if later.size and np.all(up[k:later[0] + 1]):
            return True, float(days[k])
    return False, float(days[-1])


def _grade_max(v: np.ndarray, kind: str) -> np.ndarray:
    g = ctcae_grade(v, kind).astype(float)
    g[~np.isfinite(v)] = 0
    return g.max(axis=1) if v.size else np.zeros(len(v))


def _arm_outcomes(ctx: _Context, k: int, pop: Population, j: np.ndarray, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one arm's patients of a chunk: counts (with the dosing rules), disease, visits, outcomes."""
    from ..simulation import simulate

    spec, arm = ctx.spec, ctx.spec.arms[k]
    end = spec.duration_d
    cdays, edays = visit_days(spec)
    grid = np.unique(np.concatenate([np.arange(0.0, end, 7.0), cdays, edays, [end]]))
    if arm.drug:
        drug = ctx.drugs[arm.drug]
        res = drug.simulate(pop, regimen=arm.regimen, rules=arm.rules, region=arm.cap_region,
                            options=tuple(arm.options), seed=seed, output=grid, until=f"{end} days", immune=True)
    else:
        res = simulate(ctx.drugs[PLACEBO_COUNT_MODEL].model, None, pop, output=grid, seed=seed, immune=True)
    dis = attach_disease(res, Treatments(steroids=arm.steroids, plasma_exchange=arm.plasma_exchange), start=j)
    t = res.times_d
    ci = np.searchsorted(t, cdays)
    counts = {c: res.column(c)[:, ci] for c in ("wbc", "anc", "alc")}
    edss = dis.edss_at(edays)
    ids = pop.ids
    n = len(ids)

    # visits: the union of count and EDSS days
    vdays = np.unique(np.concatenate([cdays, edays]))
    vt = pd.DataFrame({"id": np.repeat(ids, vdays.size), "arm": arm.name,
                       "visit": np.tile(np.arange(vdays.size), n), "day": np.tile(vdays, n)})
    for c, v in counts.items():
        full = np.full((n, vdays.size), np.nan)
        full[:, np.searchsorted(vdays, cdays)] = v
        vt[f"{c}_1e9_per_L"] = full.ravel()
    full = np.full((n, vdays.size), np.nan)
    full[:, np.searchsorted(vdays, edays)] = edss
    vt["edss"] = full.ravel()

    # per patient
    tab = pop.table
    out = pd.DataFrame({c: tab[c].to_numpy() for c in ("id", "arm", "age_y", "sex", "height_cm", "weight_kg", "bsa_m2",
                                                       "ms_course", "ms_duration_y")})
    out["edss_baseline"] = tab["edss"].to_numpy(dtype=float)
    out["prior_relapses_2y"] = tab["prior_relapses_2y"].to_numpy(dtype=np.int64)
    out["followup_d"] = end
    rel = dis.relapses
    nrel = rel.groupby("id").size().reindex(ids, fill_value=0).to_numpy()
    first = rel.groupby("id")["day"].min().reindex(ids).to_numpy(dtype=float)
    out["relapses"] = nrel
    out["first_relapse_d"] = first
    out["relapse_event"] = np.isfinite(first)
    out["time_to_first_relapse_d"] = np.where(np.isfinite(first), first, end)
    for months, text in zip((3, 6), spec.confirmation[:2]):
        conf = parse_duration(text, "confirmation")
        ev = [_confirmed_progression(edays, edss[i], out["edss_baseline"].iat[i], conf) for i in range(n)]
        out[f"cdp{months}_event"] = [e for e, _ in ev]
        out[f"cdp{months}_d"] = [d for _, d in ev]
    out["edss_end"] = edss[:, -1]
    out["edss_change"] = edss[:, -1] - out["edss_baseline"].to_numpy()
    for c, v in counts.items():
        out[f"{c}_min_1e9_per_L"] = np.nanmin(v, axis=1)
        out[f"{c}_grade_max"] = _grade_max(v, c).astype(np.int64)
    out["who_leukopenia"] = np.any(counts["wbc"] < 4.0, axis=1)
    _dosing(out, res.decisions, ids)
    return out[list(PATIENT_COLUMNS)], vt[list(VISIT_COLUMNS)]


def _dosing(out: pd.DataFrame, dec: pd.DataFrame | None, ids: np.ndarray) -> None:
    if dec is None or not len(dec):
        for c in ("courses_planned", "courses_given", "courses_delayed", "courses_withheld"):
            out[c] = 0
        out["discontinued"] = False
        out["cumulative_dose"] = 0.0
        out["dose_unit"] = ""
        out["cumulative_dose_mg"] = 0.0
        return
    given = dec["action"].isin(["given", "reduced", "increased"])
    by = dec.assign(given=given, dose_given=np.where(given, dec["dose"], 0.0), mg=np.where(given, dec["dose_mg"], 0.0))
    g = by.groupby("id")
    out["courses_planned"] = g["course"].max().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    out["courses_given"] = g["given"].sum().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    out["courses_delayed"] = (by[by["action"] == "delayed"].groupby("id")["course"].nunique()
                              .reindex(ids, fill_value=0).to_numpy(dtype=np.int64))
    out["courses_withheld"] = (by["action"] == "withheld").groupby(by["id"]).sum().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    out["discontinued"] = (by["action"] == "stopped").groupby(by["id"]).any().reindex(ids, fill_value=False).to_numpy(dtype=bool)
    out["cumulative_dose"] = g["dose_given"].sum().reindex(ids, fill_value=0.0).to_numpy(dtype=float)
    out["dose_unit"] = str(dec["dose_unit"].iloc[0])
    out["cumulative_dose_mg"] = g["mg"].sum().reindex(ids, fill_value=0.0).to_numpy(dtype=float)


def run_chunk(spec: TrialSpec, seed: int, start: int, stop: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Patients start..stop-1 of the trial: (per-patient table, per-visit table), in patient order."""
    ctx = _context(spec)
    j = np.arange(start, stop, dtype=np.int64)
    arms = arm_of(spec, seed, j)
    rows = [screen(ctx, seed, int(jj), int(a)) for jj, a in zip(j, arms)]
    pats, visits = [], []
    for k in range(len(spec.arms)):
        sel = np.flatnonzero(arms == k)
        if not sel.size:
            continue
        pop = Population(pd.DataFrame([rows[i] for i in sel]).reset_index(drop=True))
        p, v = _arm_outcomes(ctx, k, pop, j[sel], seed)
        pats.append(p)
        visits.append(v)
    p = pd.concat(pats, ignore_index=True).sort_values("id", kind="stable").reset_index(drop=True)
    v = pd.concat(visits, ignore_index=True).sort_values(["id", "visit"], kind="stable").reset_index(drop=True)
    return p, v


_CONTEXTS: dict[str, _Context] = {}


def _context(spec: TrialSpec) -> _Context:
    key = spec.sha256()
    if key not in _CONTEXTS:
        _CONTEXTS.clear()
        _CONTEXTS[key] = _Context.of(spec)
    return _CONTEXTS[key]


def chunks(total: int, chunk_size: int) -> Iterator[tuple[int, int]]:
    for a in range(0, total, chunk_size):
        yield a, min(total, a + chunk_size)


ChunkRunner = Callable[[TrialSpec, int, int, int], tuple[pd.DataFrame, pd.DataFrame]]
