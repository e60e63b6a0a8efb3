"""The statistics the validation page compares with published facts, one small function each.

Every function takes ``r``, the results of one scenario for one seed (a dict: ``"counts"`` for a drug's
count result, ``"patients"`` for a trial's per-patient table, one ``DiseaseResult`` per arm name for a
disease cohort), and the fact's ``args`` from ``validation/facts.toml``, and returns one float.
``COMPUTE`` maps the names used in the file to the functions. The functions read only what the public
results expose (``times_d``, ``column()``, ``patients``, ``relapses``, ``edss_sustained``, ...), so they
can be checked on hand-made inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

YEAR = 365.25
MONTH = YEAR / 12.0

__all__ = ["COMPUTE"]


# -- helpers ---------------------------------------------------------------------------------------
def _window(times: np.ndarray, t0: float, t1: float) -> np.ndarray:
    return (times >= t0 - 1e-9) & (times <= t1 + 1e-9)


def _index_at(times: np.ndarray, day: float) -> int:
    """Index of the first output time at or after ``day`` (the last one if none)."""
    return min(int(np.searchsorted(times, day - 1e-9)), len(times) - 1)


def _odds(p: float) -> float:
    return p / (1.0 - p) if p < 1.0 else math.inf


def _compare(values: np.ndarray, op: str, value) -> np.ndarray:
    ops = {"==": np.equal, ">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
    if op not in ops:
        raise ValueError(f"op {op!r} is not a comparison; use one of {', '.join(ops)}")
    return ops[op](values, value)


# -- drug counts and concentrations (r["counts"]: a SimulationResult) --------------------------------
def median_nadir_day(r, output: str, t0: float = 0.0, t1: float = 28.0) -> float:
    """Median over patients of the day of the lowest count in [t0, t1]."""
    res = r["counts"]
    m = _window(res.times_d, t0, t1)
    return float(np.median(res.times_d[m][np.argmin(res.column(output)[:, m], axis=1)]))


def median_curve_nadir_day(r, output: str, t0: float, t1: float, offset: float = 0.0) -> float:
    """Day of the lowest point of the cohort's median count curve in [t0, t1], minus ``offset`` (how
    trials report a nadir: the median count by visit)."""
    res = r["counts"]
    m = _window(res.times_d, t0, t1)
    return float(res.times_d[m][np.argmin(np.median(res.column(output)[:, m], axis=0))] - offset)


def median_recovery_day(r, output: str, fraction: float, t0: float = 0.0, t1: float = 120.0) -> float:
    """Median over patients of the first day after the nadir in [t0, t1] with a count at or above
    ``fraction`` x the patient's baseline (t1 + 1 if never)."""
    res = r["counts"]
    v, t = res.column(output), res.times_d
    idx = np.flatnonzero(_window(t, t0, t1))
    days = np.full(v.shape[0], t1 + 1.0)
    for i in range(v.shape[0]):
        seg = v[i, idx]
        k = int(np.argmin(seg))
        ok = np.flatnonzero(seg[k:] >= fraction * v[i, 0])
        if ok.size:
            days[i] = t[idx[k + ok[0]]]
    return float(np.median(days))


def share_below(r, output: str, limit: float, t0: float = 0.0, t1: float = math.inf) -> float:
    """Share of patients whose count falls below ``limit`` on some output day in [t0, t1]."""
    res = r["counts"]
    return float(np.mean(res.column(output)[:, _window(res.times_d, t0, t1)].min(axis=1) < limit))


def share_at_least_on_days(r, output: str, limit: float, days: list[float]) -> float:
    """Share of patients whose count is at or above ``limit`` on every one of ``days``."""
    res = r["counts"]
    idx = [_index_at(res.times_d, d) for d in days]
    return float(np.mean(np.all(res.column(output)[:, idx] >= limit, axis=1)))


def median_lowest_count(r, output: str, t0: float, t1: float, relative: bool = False) -> float:
    """Median over patients of the lowest count in [t0, t1] (as a fraction of baseline if ``relative``)."""
    res = r["counts"]
    v = res.column(output)
    low = v[:, _window(res.times_d, t0, t1)].min(axis=1)
    return float(np.median(low / v[:, 0] if relative else low))


def median_count_on_day(r, output: str, day: float, relative: bool = False) -> float:
    """Median over patients of the count on ``day`` (as a fraction of baseline if ``relative``)."""
    res = r["counts"]
    v = res.column(output)
    x = v[:, _index_at(res.times_d, day)]
    return float(np.median(x / v[:, 0] if relative else x))


def median_lymphopenia_days(r, output: str, below: float, recovered: float, t0: float = 0.0,
                            t1: float = math.inf) -> float:
    """Median, over patients who fall below ``below`` in [t0, t1], of the days from the first day below
    it to the first later day at or above ``recovered`` (to the end of the window if never); the
    window's length if nobody falls below."""
    res = r["counts"]
    v, t = res.column(output), res.times_d
    idx = np.flatnonzero(_window(t, t0, t1))
    spans = []
    for i in range(v.shape[0]):
        seg = v[i, idx]
        low = np.flatnonzero(seg < below)
        if not low.size:
            continue
        back = np.flatnonzero(seg[low[0]:] >= recovered)
        end = t[idx[low[0] + back[0]]] if back.size else t[idx[-1]]
        spans.append(end - t[idx[low[0]]])
    return float(np.median(spans)) if spans else float(t[idx[-1]] - t[idx[0]])


def median_clearance(r, dose: float, dose_per: str, per: str, at_day: float, scale: float = 1.0) -> float:
    """Median over patients of the clearance dose / AUC (L/h) per unit of body size ``per`` (a patient
    column: bsa_m2 or weight_kg), from the recorded AUC on ``at_day`` after one dose of ``dose`` mg per
    unit of ``dose_per`` (bsa_m2 for mg/m2, weight_kg for mg/kg), times ``scale`` (1000 for mL)."""
    res = r["counts"]
    dose_mg = dose * res.patients[dose_per].to_numpy(dtype=float)
    auc_mg_h_per_l = res.column("auc")[:, _index_at(res.times_d, at_day)] * 24.0
    clearance_l_per_h = dose_mg / auc_mg_h_per_l
    return float(np.median(clearance_l_per_h / res.patients[per].to_numpy(dtype=float) * scale))


def median_half_life_h(r, t0: float, t1: float) -> float:
    """Median over patients of ln 2 / the slope of ln(concentration) fitted between days t0 and t1
    (the terminal half-life, in hours, when the window lies in the terminal phase)."""
    res = r["counts"]
    m = _window(res.times_d, t0, t1)
    t = res.times_d[m] * 24.0
    logc = np.log(res.column("conc")[:, m])
    tc = t - t.mean()
    slopes = (logc - logc.mean(axis=1, keepdims=True)) @ tc / np.sum(tc * tc)
    return float(np.median(math.log(2.0) / -slopes))


def median_baseline_count(r, output: str) -> float:
    """Median over patients of the count at day 0."""
    return float(np.median(r["counts"].column(output)[:, 0]))


# -- trials (r["patients"]: the per-patient table of run_trial) -------------------------------------
def _arm(r, arm: str) -> pd.DataFrame:
    p = r["patients"]
    sel = p[p["arm"].astype(str) == arm]
    if sel.empty:
        raise ValueError(f"the trial has no arm named {arm!r}; use one of {', '.join(map(str, pd.unique(p['arm'].astype(str))))}")
    return sel


def arm_mean(r, column: str, arm: str) -> float:
    """Mean of a per-patient column in one arm."""
    return float(_arm(r, arm)[column].astype(float).mean())


def arm_mean_ratio(r, column: str, arm: str, reference: str, reference_column: str | None = None) -> float:
    """Mean of a per-patient column in ``arm`` over its mean in ``reference`` (e.g. relapses per
    patient: with equal follow-up, the ratio of annualised relapse rates); ``reference_column`` reads
    another column in the reference arm (e.g. one kind of event over all events)."""
    return arm_mean(r, column, arm) / arm_mean(r, reference_column or column, reference)


def arm_annual_rate(r, column: str, arm: str, followup: str = "followup_d") -> float:
    """Events per patient-year in one arm: the sum of ``column`` over the sum of ``followup`` (days)."""
    a = _arm(r, arm)
    return float(a[column].astype(float).sum() / (a[followup].astype(float).sum() / YEAR))


def arm_share(r, column: str, op: str, value: float, arm: str) -> float:
    """Share of an arm's patients whose ``column`` compares as ``op value`` (e.g. relapses == 0)."""
    x = _arm(r, arm)[column].astype(float).to_numpy()
    return float(np.mean(_compare(x, op, value)))


def arm_odds_ratio(r, column: str, op: str, value: float, arm: str, reference: str) -> float:
    """Odds of ``column op value`` in ``arm`` over the odds in ``reference``."""
    return _odds(arm_share(r, column, op, value, arm)) / _odds(arm_share(r, column, op, value, reference))


def kaplan_meier_median(times: np.ndarray, events: np.ndarray) -> float:
    """Kaplan-Meier median of (time, event) pairs: the first time the survival falls to 0.5 or below
    (inf if it never does: the median is not reached)."""
    times, events = np.asarray(times, dtype=float), np.asarray(events, dtype=bool)
    surv = 1.0
    for t in np.unique(times[events]):
        at_risk = np.sum(times >= t)
        surv *= 1.0 - np.sum((times == t) & events) / at_risk
        if surv <= 0.5:
            return float(t)
    return math.inf


def arm_km_median_months(r, time_col: str, event_col: str, arm: str) -> float:
    """Kaplan-Meier median of a time to event in one arm, in months."""
    a = _arm(r, arm)
    return kaplan_meier_median(a[time_col].to_numpy(dtype=float), a[event_col].to_numpy(dtype=bool)) / MONTH


def arm_km_median_years(r, time_col: str, event_col: str, arm: str) -> float:
    """Kaplan-Meier median of an arm's time to event, in years."""
    a = _arm(r, arm)
    return kaplan_meier_median(a[time_col].astype(float).to_numpy(), a[event_col].astype(float).to_numpy()) / YEAR


def arm_hazard_ratio(r, time_col: str, event_col: str, arm: str, reference: str) -> float:
    """Cox hazard ratio of ``arm`` against ``reference`` (mschemo's trial outcome statistics)."""
    from mschemo.trials.outcomes import time_to_event

    p = r["patients"]
    keep = p[p["arm"].astype(str).isin([arm, reference])].copy()
    keep["arm"] = keep["arm"].astype(str)
    out = time_to_event(keep, reference, time_col, event_col)
    return float(out.loc[out["arm"] == arm, "hr"].iloc[0])


# -- disease cohorts (r[arm]: a DiseaseResult) -----------------------------------------------------
def relapse_counts(dis, t0: float = 0.0, t1: float | None = None) -> np.ndarray:
    """Relapses per patient with onset in [t0, t1) (t1: the end of the window)."""
    t1 = dis.until_d if t1 is None else t1
    rel = dis.relapses
    sel = rel[(rel["day"] >= t0) & (rel["day"] < t1)]
    return sel.groupby("id").size().reindex(dis.ids, fill_value=0).to_numpy()


def relapse_rate(r, arm: str = "cohort") -> float:
    """Relapses per patient-year over the whole window."""
    dis = r[arm]
    return float(relapse_counts(dis).sum() / (len(dis.ids) * dis.until_d / YEAR))


def relapse_dispersion(r, arm: str = "cohort") -> float:
    """Method-of-moments negative-binomial dispersion k = (variance - mean) / mean^2 of the relapse
    counts over the window."""
    c = relapse_counts(r[arm]).astype(float)
    m = c.mean()
    return float((c.var() - m) / m**2)


def relapse_rate_ratio(r, arm: str, reference: str, t0: float = 0.0, t1: float | None = None) -> float:
    """Relapses of ``arm`` over those of ``reference`` with onset in [t0, t1) (cohorts of equal size)."""
    return float(relapse_counts(r[arm], t0, t1).sum() / relapse_counts(r[reference], t0, t1).sum())


def relapse_free_share(r, arm: str = "cohort") -> float:
    """Share of patients without a relapse over the window."""
    return float(np.mean(relapse_counts(r[arm]) == 0))


def relapse_share(r, column: str, op: str, value, arm: str = "cohort") -> float:
    """Share of all relapses whose ``column`` compares as ``op value`` (e.g. edss_rise >= 1.0, site == spinal_cord)."""
    x = r[arm].relapses[column].to_numpy()
    return float(np.mean(_compare(x, op, value)))


def relapse_mean(r, column: str, arm: str = "cohort") -> float:
    """Mean of a column over all relapses."""
    return float(r[arm].relapses[column].astype(float).mean())


def relapse_median(r, column: str, arm: str = "cohort") -> float:
    """Median of a column over all relapses."""
    return float(r[arm].relapses[column].astype(float).median())


def relapse_odds_ratio(r, column: str, op: str, value, arm: str, reference: str) -> float:
    """Odds of ``column op value`` among the relapses of ``arm`` over the odds among those of ``reference``."""
    return _odds(relapse_share(r, column, op, value, arm)) / _odds(relapse_share(r, column, op, value, reference))


def plasma_exchange_response(r, arm: str, reference: str, min_rise: float, from_day: float,
                             course_end_day: float) -> float:
    """Share of the severe relapses still unrecovered at ``from_day`` without plasma exchange (rise >=
    ``min_rise``, recovery later than ``course_end_day`` in ``reference``) that recover sooner with it
    (``arm``): the responders. Both arms must hold the same relapses (same cohort and seed)."""
    a, b = r[reference].relapses, r[arm].relapses
    if len(a) != len(b) or not np.array_equal(a["day"].to_numpy(), b["day"].to_numpy()):
        raise ValueError("the two arms do not hold the same relapses; run them on one cohort and seed")
    late = (a["edss_rise"].to_numpy() >= min_rise) & (a["recovery_d"].to_numpy() > max(from_day, course_end_day))
    faster = b["recovery_d"].to_numpy() < a["recovery_d"].to_numpy()
    return float(np.sum(faster & late) / np.sum(late))


def _day_of_year_angle(days: np.ndarray) -> np.ndarray:
    return 2.0 * np.pi * np.mod(days, YEAR) / YEAR


def seasonal_peak_day(r, arm: str = "cohort") -> float:
    """Day of the year (1 January = 0) of the relapses' first-harmonic peak (their circular mean)."""
    a = _day_of_year_angle(r[arm].relapses["day"].to_numpy())
    return float(np.mod(math.atan2(np.mean(np.sin(a)), np.mean(np.cos(a))), 2 * np.pi) * YEAR / (2 * np.pi))


def seasonal_ratio(r, peak_day: float, half_width: float, arm: str = "cohort") -> float:
    """Relapses within ``half_width`` days of ``peak_day`` (day of the year) over those within
    ``half_width`` days of the opposite day of the year."""
    doy = np.mod(r[arm].relapses["day"].to_numpy(), YEAR)

    def near(center: float) -> int:
        return int(np.sum(np.abs((doy - center + YEAR / 2) % YEAR - YEAR / 2) <= half_width))

    return near(peak_day) / near(peak_day + YEAR / 2)


def first_day_at_or_above(times: np.ndarray, values: np.ndarray, level: float) -> np.ndarray:
    """Per row of ``values`` (patients x times): the first time with a value >= level (inf if never)."""
    hit = values >= level - 1e-9
    first = np.where(hit.any(axis=1), times[np.argmax(hit, axis=1)], np.inf)
    return first


def median_years_to_edss(r, level: float, arm: str = "cohort") -> float:
    """Median years to a sustained EDSS of ``level`` on the result's grid (inf when fewer than half reach it)."""
    dis = r[arm]
    return float(np.median(first_day_at_or_above(dis.times_d, dis.edss_sustained, level)) / YEAR)


def share_reaching_edss(r, level: float, years: float, arm: str = "cohort") -> float:
    """Share of patients with a sustained EDSS of ``level`` or more within ``years``."""
    dis = r[arm]
    return float(np.mean(first_day_at_or_above(dis.times_d, dis.edss_sustained, level) <= years * YEAR + 1e-9))


def _spms_days(dis) -> np.ndarray:
    d = dis.patients()["spms_day"].to_numpy(dtype=float)
    return np.where(np.isfinite(d), d, np.inf)


def median_years_to_spms(r, arm: str = "cohort") -> float:
    """Median years to conversion to secondary progression (inf when fewer than half convert)."""
    return float(np.median(_spms_days(r[arm])) / YEAR)


def share_spms_by(r, years: float, arm: str = "cohort") -> float:
    """Share of patients converted to secondary progression within ``years``."""
    return float(np.mean(_spms_days(r[arm]) <= years * YEAR))


def mean_edss_change(r, arm: str = "cohort", per_year: bool = False, scored: bool = False) -> float:
    """Mean change of the sustained EDSS (or as scored) from the first to the last grid time, per year if asked."""
    dis = r[arm]
    e = dis.edss if scored else dis.edss_sustained
    change = float(np.mean(e[:, -1] - e[:, 0]))
    return change / ((dis.times_d[-1] - dis.times_d[0]) / YEAR) if per_year else change


def share_points_without_relapse(r, arm: str = "cohort") -> float:
    """Share of the sustained EDSS points gained over the window that came without a relapse (PIRA and
    progression) rather than from relapse residuals."""
    p = r[arm].patients()
    pira, rel = float(p["edss_points_pira"].sum()), float(p["edss_points_relapses"].sum())
    return pira / (pira + rel)


def points_without_relapse_ratio(r, arm: str, reference: str) -> float:
    """EDSS points gained without a relapse in ``arm`` over those in ``reference`` (same patients)."""
    return float(r[arm].patients()["edss_points_pira"].sum() / r[reference].patients()["edss_points_pira"].sum())


def symptom_prevalence(r, symptom: str, day: float = 0.0, arm: str = "cohort") -> float:
    """Share of patients with ``symptom`` on the grid day at or after ``day``."""
    dis = r[arm]
    return float(np.mean(dis.symptoms.present[symptom][:, _index_at(dis.times_d, day)]))


def symptom_absence_odds_ratio(r, symptom: str, arm: str, reference: str, day: float = 0.0) -> float:
    """Odds of being free of ``symptom`` in ``arm`` over the odds in ``reference`` (a benefit odds ratio)."""
    free = {a: 1.0 - symptom_prevalence(r, symptom, day, a) for a in (arm, reference)}
    return _odds(free[arm]) / _odds(free[reference])


COMPUTE: dict[str, Callable[..., float]] = {f.__name__: f for f in (
    median_nadir_day, median_curve_nadir_day, median_recovery_day, share_below, share_at_least_on_days,
    median_lowest_count, median_count_on_day, median_lymphopenia_days, median_clearance, median_half_life_h,
    median_baseline_count,
    arm_mean, arm_mean_ratio, arm_annual_rate, arm_share, arm_odds_ratio, arm_km_median_months, arm_km_median_years,
    arm_hazard_ratio,
    relapse_rate, relapse_dispersion, relapse_rate_ratio, relapse_free_share, relapse_share, relapse_mean,
    relapse_median, relapse_odds_ratio, plasma_exchange_response, seasonal_peak_day, seasonal_ratio,
    median_years_to_edss, share_reaching_edss, median_years_to_spms, share_spms_by, mean_edss_change,
    share_points_without_relapse, points_without_relapse_ratio, symptom_prevalence, symptom_absence_odds_ratio,
)}
