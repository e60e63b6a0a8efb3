"""Running a chunk of a trial: screening, each arm's counts and disease, visits, endpoints.

Per arm: the drug phases become each patient's planned courses, decided by the drug's dosing rules;
the counts are solved once on a grid holding every fixed visit day and a daily grid (the true curve
the toxicity endpoints' "true nadir" reads), and once more at the visits that follow each patient's
own doses; the disease (relapses, EDSS) reads the immune memory compartment on its own grid, so the
visits never change it. Reported counts carry the laboratory's error (``measurement``), keyed by
patient, day and count. Every patient's data come from its own streams, so a trial gives the same
per-patient data for any chunk size and any number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from .._internal.rng import patient_streams
from ..disease.model import Treatments, attach_disease
from ..dosing import GIVEN
from ..population import Population
from .endpoints import ArmData, evaluate
from .plans import dmt_periods, dose_days, drug_plan, pulse_days
from .schedules import common_days, schedule_days
from .schema import VISIT_COLUMNS, patient_columns
from .screening import PLACEBO_COUNT_MODEL, Context, arm_of, screen
from .spec import COUNTS, TrialSpec

__all__ = ["run_chunk", "chunks", "ChunkRunner", "arm_of"]

TRUE_GRID_D = 1.0     # d: spacing of the true count curve the "true nadir" reads


def _grade(values: np.ndarray, count: str, scale: str) -> np.ndarray:
    from ..grading import grade
    return grade(values, count, scale)


def _counts_at(res, population: Population, times_by: dict, seed: int) -> dict:
    """Each patient's true counts at its own days: read off ``res`` where they are on its grid, else
    solved again at those days with the same doses, to the same end (the solver's steps depend on the
    doses and the end only, not on the output times, so a patient's values do not depend on which
    other patients share the chunk)."""
    grid = res.times_d
    all_days = np.unique(np.concatenate([d for d in times_by.values()] + [np.zeros(0)]))
    missing = all_days[~np.isin(np.round(all_days, 6), np.round(grid, 6))]
    if missing.size:
        from ..simulation import simulate
        extra = simulate(res.model, res.regimen, population, output=np.union1d(all_days, [0.0, grid[-1]]), seed=seed)
        src, src_grid = extra, extra.times_d
    else:
        src, src_grid = res, grid
    cols = {c: src.column(c) for c in COUNTS}
    out = {}
    for i, pid in enumerate(population.ids):
        k = np.searchsorted(np.round(src_grid, 6), np.round(times_by[pid], 6))
        out[pid] = {c: v[i, k] for c, v in cols.items()}
    return out


def _reported(true_by: dict, days_by: dict, spec: TrialSpec, seed: int, index: dict) -> dict:
    """Counts as a laboratory reports them: the true value with the assay and day-to-day error
    (one draw per patient, day and count, whatever else is measured; patients with the same visit
    days are drawn together)."""
    m = spec.measurement
    if not (m.assay or m.biological):
        return true_by
    from ..labs import measured
    groups: dict[bytes, list] = {}
    for pid in true_by:
        groups.setdefault(np.asarray(days_by[pid], dtype=float).tobytes(), []).append(pid)
    out: dict = {pid: {} for pid in true_by}
    for pids in groups.values():
        days = np.asarray(days_by[pids[0]], dtype=float)
        idx = np.array([index[p] for p in pids])
        for c in COUNTS:
            values = np.vstack([true_by[p][c] for p in pids])
            rep = measured(values, c, seed, idx, days, analytical=m.assay, biological=m.biological)
            for k, p in enumerate(pids):
                out[p][c] = rep[k]
    return out


def _arm_outcomes(ctx: Context, k: int, pop: Population, j: np.ndarray, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One arm's patients of a chunk: counts (with the dosing rules), disease, visits, endpoints."""
    from ..simulation import simulate

    spec, arm = ctx.spec, ctx.spec.arms[k]
    end = spec.duration_d
    ids = pop.ids
    index = dict(zip(ids, j))
    schedules = spec.all_schedules()
    fixed = [d for s in schedules.values() if (d := common_days(s, end)) is not None]
    grid = np.unique(np.concatenate([np.arange(0.0, end, TRUE_GRID_D), [end], *fixed]))
    drug_name = arm.drug_name
    if drug_name:
        drug = ctx.drugs[drug_name]
        phase = next(p for p in arm.plan() if p.drug is not None)
        rules = drug.rules if phase.rules else drug.rules.without()
        if phase.cap_region is not None:
            rules = rules.with_region(phase.cap_region)
        if phase.options:
            rules = rules.with_options(*phase.options)
        res = simulate(drug, drug_plan(drug, arm), pop, rules=rules, seed=seed, output=grid, until=f"{end} days",
                       immune=True)
    else:
        res = simulate(ctx.drugs[PLACEBO_COUNT_MODEL].model, None, pop, output=grid, seed=seed, immune=True)
    given = dose_days(res.decisions, ids)
    treatments = Treatments(steroids=arm.steroid_rule, plasma_exchange=arm.plasma_exchange,
                            dmt_periods=dmt_periods(arm, ids, given, end) or None, pulses=pulse_days(arm, ids) or None)
    dis = attach_disease(res, treatments, start=j)

    # visits of every schedule
    edss_by, counts_by, rows = {}, {}, []
    for name, sch in schedules.items():
        days_by = schedule_days(sch, end, ids, given)
        if sch.measures == "edss":
            union = np.unique(np.concatenate(list(days_by.values()) + [np.zeros(1)]))
            scored = dis.edss_at(union)
            vals = {pid: scored[i, np.searchsorted(union, days_by[pid])] for i, pid in enumerate(ids)}
            edss_by[name] = (days_by, vals)
        else:
            vals = _reported(_counts_at(res, pop, days_by, seed), days_by, spec, seed, index)
            counts_by[name] = (days_by, vals)
        counts_here = sch.measures == "counts"
        sizes = np.array([days_by[pid].size for pid in ids])
        block = {"id": np.repeat(np.asarray(ids), sizes), "schedule": name,
                 "day": np.concatenate([days_by[pid] for pid in ids])}
        for c in COUNTS:
            block[f"{c}_1e9_per_L"] = (np.concatenate([vals[pid][c] for pid in ids]) if counts_here
                                       else np.full(sizes.sum(), np.nan))
        block["edss"] = np.full(sizes.sum(), np.nan) if counts_here else np.concatenate([vals[pid] for pid in ids])
        rows.append(pd.DataFrame(block))
    vt = pd.concat(rows, ignore_index=True)
    vt.insert(1, "arm", arm.name)
    vt = vt.sort_values(["id", "day", "schedule"], kind="stable").reset_index(drop=True)
    vt.insert(2, "visit", vt.groupby("id").cumcount().to_numpy())

    # per patient
    tab = pop.table
    out = pd.DataFrame({c: tab[c].to_numpy() for c in ("id", "arm", "age_y", "sex", "height_cm", "weight_kg", "bsa_m2",
                                                       "ms_course", "ms_duration_y")})
    out["edss_baseline"] = dis.edss_at(np.zeros(1))[:, 0]     # the score at the baseline visit
    for c in ("prior_relapses_1y", "prior_relapses_2y", "screened_out_criteria", "screened_out_labs"):
        out[c] = tab[c].to_numpy(dtype=np.int64)
    out["followup_d"] = end
    rel = dis.relapses
    out["relapses_total"] = rel.groupby("id").size().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    in_grid = res.times_d <= end + 1e-9
    true_min = {c: np.nanmin(res.column(c)[:, in_grid], axis=1) for c in COUNTS}
    stopped = np.full(len(ids), np.nan)
    if res.decisions is not None and len(res.decisions):
        st = res.decisions[res.decisions["action"] == "stopped"].groupby("id")["day"].min()
        stopped = st.reindex(ids).to_numpy(dtype=float)
    data = ArmData(ids=np.asarray(ids), end_d=end, edss_baseline=out["edss_baseline"].to_numpy(), relapses=rel,
                   edss=edss_by, counts=counts_by, true_min=true_min, stopped_d=stopped, grade=_grade)
    defaults = {"edss": spec.schedule_for("edss"), "counts": spec.schedule_for("counts")}
    ep = evaluate(spec.all_endpoints(), data, defaults)
    out = pd.concat([out, ep], axis=1)
    _dosing(out, res.decisions, ids)
    return out[patient_columns(spec)], vt[list(VISIT_COLUMNS)]


def _dosing(out: pd.DataFrame, dec: pd.DataFrame | None, ids: np.ndarray) -> None:
    if dec is None or not len(dec):
        for c in ("courses_planned", "courses_given", "courses_delayed", "courses_withheld"):
            out[c] = 0
        out["discontinued"] = False
        out["cumulative_dose"] = 0.0
        out["dose_unit"] = ""
        out["cumulative_dose_mg"] = 0.0
        return
    given = dec["action"].isin(GIVEN)
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
    rows = [screen(ctx, seed, int(jj), int(a), rng) for jj, a, rng in zip(j, arms, patient_streams(seed, j))]
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


_CONTEXTS: dict[str, Context] = {}


def _context(spec: TrialSpec) -> Context:
    key = spec.sha256()
    if key not in _CONTEXTS:
        _CONTEXTS.clear()
        _CONTEXTS[key] = Context.of(spec)
    return _CONTEXTS[key]


def chunks(total: int, chunk_size: int) -> Iterator[tuple[int, int]]:
    for a in range(0, total, chunk_size):
        yield a, min(total, a + chunk_size)


ChunkRunner = Callable[[TrialSpec, int, int, int], tuple[pd.DataFrame, pd.DataFrame]]
