"""Outcome statistics of an in-silico trial, read from its per-patient table (``schema.PATIENT_COLUMNS``).

Relapses: negative binomial (NB2, dispersion estimated) regression with log follow-up years as offset
(statsmodels). Time to event: Kaplan-Meier and Cox (lifelines). Shares: Wilson intervals, means: t
intervals (statsmodels). Every function returns one row per arm (in the trial's order); a value that
cannot be estimated (no events, an arm without counts, a fit that failed) is NaN and its ``note`` says why.
statsmodels and lifelines are imported inside the functions, so ``import mschemo`` stays light.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any, cast

import numpy as np
import pandas as pd

from ..errors import InputError, OptionError

__all__ = ["relapse_rate", "time_to_event", "km_curves", "toxicity", "dosing", "disability", "outcome_table",
           "trial_arms", "format_estimate", "default_endpoints", "time_to_event_endpoints", "DAYS_PER_YEAR"]

DAYS_PER_YEAR = 365.25


def default_endpoints() -> list:
    """The endpoints of a spec that names none."""
    from .spec import TrialSpec
    return TrialSpec.model_validate({"arms": [{"name": "arm"}]}).all_endpoints()


def time_to_event_endpoints(endpoints: Iterable | None = None) -> list:
    """The event endpoints (Kaplan-Meier and Cox) among ``endpoints``."""
    from .spec import EVENT_KINDS
    return [e for e in (default_endpoints() if endpoints is None else endpoints) if e.kind in EVENT_KINDS]


def trial_arms(patients: pd.DataFrame, reference: str | None = None, columns: Iterable[str] = ()) -> list[str]:
    """The arms in the trial's order (categories, else first appearance; ``reference`` first if given).

    Also checks that the table has ``columns`` and the reference arm.
    """
    missing = [c for c in ("arm", *columns) if c not in patients.columns]
    if missing:
        raise InputError(f"the patient table lacks column(s) {', '.join(missing)}; give a table with the columns "
                         f"of mschemo.trials.schema.PATIENT_COLUMNS.")
    col = patients["arm"]
    if col.isna().any():
        raise InputError(f"the patient table has {int(col.isna().sum())} patient(s) without an arm; give every "
                         f"patient an arm name.")
    values = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else list(pd.unique(col))
    arms = [str(a) for a in values if (col == a).any()]
    if reference is not None and reference not in arms:
        raise OptionError(f"reference arm '{reference}' is not in the patient table; use one of {', '.join(arms)}.")
    return arms if reference is None else [reference, *(a for a in arms if a != reference)]


def _floats(s: pd.Series) -> np.ndarray:
    """A column as float (bools as 0/1, missing as NaN), whatever its dtype (numpy, nullable, object)."""
    if s.dtype.kind in "fiub":          # numpy's own: no missing values but NaN (a tenth of the time)
        return s.to_numpy(dtype=float)
    return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _records(table: pd.DataFrame) -> Iterable[Any]:
    """``table.itertuples()``: a named tuple per row, one field per column (Any: the fields are the table's)."""
    return table.itertuples()


def _arm_mask(patients: pd.DataFrame, arm: str) -> np.ndarray:
    """The patients of ``arm`` (arms compared as text, whatever the column's dtype)."""
    col = patients["arm"]
    if isinstance(col.dtype, pd.CategoricalDtype):      # by code: the categories' text once, not each row's
        names = np.array([str(c) for c in col.cat.categories], dtype=object)
        return np.isin(col.cat.codes.to_numpy(), np.flatnonzero(names == arm))
    return (col.astype(str) == arm).to_numpy()


def _fit_quietly(fit: Callable[[], Any]) -> tuple[Any, str]:
    """Run a library fit with its warnings recorded (not shown): (result or None, note)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fit()
        except Exception as exc:  # noqa: BLE001 - a failed fit becomes NaN with its reason
            return None, f"fit failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
    notes = sorted({str(w.message).splitlines()[0] for w in caught})
    return result, "; ".join(notes)


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _not_estimable(out: pd.DataFrame, reference: str, what: str, col: str = "note") -> None:
    """Note (in ``col``) on every other arm that its ratio vs ``reference`` cannot be estimated, and why."""
    why = out.loc[out["arm"] == reference, "note"].iloc[0]
    others = out["arm"] != reference
    out.loc[others, col] = [_join(n, f"{what} not estimable: {why} in the reference arm") for n in out.loc[others, col]]


def overdispersion_score(y: np.ndarray, mu: np.ndarray) -> float:
    """The NB2 score for the dispersion alpha at alpha = 0, (1/2) sum((y - mu)^2 - y), at fitted Poisson means
    ``mu`` (Cameron AC, Trivedi PK 1986, J Appl Econom 1:29): > 0 when the counts vary more than Poisson."""
    y, mu = np.asarray(y, dtype=float), np.asarray(mu, dtype=float)
    return float(0.5 * np.sum((y - mu) ** 2 - y))


def relapse_rate(patients: pd.DataFrame, reference: str, count: str = "relapses",
                 followup: str = "followup_d") -> pd.DataFrame:
    """Per arm: patients, relapses, patient-years, crude and model ARR, rate ratio vs ``reference`` (95 % CI, p).

    The model is statsmodels' ``NegativeBinomial`` (NB2: var = mu + alpha mu^2, alpha estimated by maximum
    likelihood) of the ``count`` column on the arm (reference arm as baseline) with offset log(``followup`` / 365.25);
    CIs and p are Wald. An arm without relapses is left out of the fit (its rate ratio's MLE is 0: NaN,
    noted); that is the limit of the full fit, so the other arms' estimates are unchanged by leaving it out.
    When the counts show no overdispersion (:func:`overdispersion_score` <= 0 at the Poisson fit, so the
    dispersion's MLE is 0), NB2 reduces to Poisson regression, which is fitted instead (noted, alpha 0). The model ARR is exp(intercept [+ arm coefficient]) with its Wald CI.
    """
    arms = trial_arms(patients, reference, (count, followup))
    y, years = _floats(patients[count]), _floats(patients[followup]) / DAYS_PER_YEAR
    ok = np.isfinite(y) & np.isfinite(years) & (years > 0)
    rows = []
    for arm in arms:
        m = _arm_mask(patients, arm) & ok
        n, k, py = int(m.sum()), float(y[m].sum()), float(years[m].sum())
        note = "no relapse counts" if n == 0 else ("no relapses" if k == 0 else "")
        rows.append({"arm": arm, "patients": n, "relapses": k if n else np.nan, "patient_years": py,
                     "arr_crude": k / py if py > 0 else np.nan, "note": note})
    out = pd.DataFrame(rows)
    for c in ("arr_model", "arr_model_low", "arr_model_high", "rate_ratio", "rr_low", "rr_high", "p", "alpha"):
        out[c] = np.nan
    out.loc[arms.index(reference), "rate_ratio"] = 1.0
    fitted = [a for a, note in zip(arms, out["note"]) if not note]
    if reference not in fitted:
        _not_estimable(out, reference, "rate ratio")
    if not fitted:
        return out
    base = reference if reference in fitted else fitted[0]   # the model's baseline arm
    others = [a for a in fitted if a != base]
    mask = np.isin(patients["arm"].astype(str).to_numpy(), fitted) & ok
    arm_col = patients["arm"].astype(str).to_numpy()[mask]
    exog = np.column_stack([np.ones(mask.sum())] + [(arm_col == a).astype(float) for a in others])

    def fit() -> Any:
        from statsmodels.discrete.discrete_model import NegativeBinomial

        model = NegativeBinomial(y[mask], exog, loglike_method="nb2", offset=np.log(years[mask]))
        return model.fit(method="bfgs", maxiter=1000, disp=0)

    def fit_poisson() -> Any:
        from statsmodels.discrete.discrete_model import Poisson

        return Poisson(y[mask], exog, offset=np.log(years[mask])).fit(method="newton", maxiter=100, disp=0)

    # No overdispersion: the NB2 score for alpha at alpha = 0, (1/2) sum((y - mu)^2 - y) at the Poisson fit
    # (Cameron & Trivedi 1986), is <= 0, so the likelihood does not rise into alpha > 0 and the dispersion is
    # not identified: NB2 reduces to Poisson regression, whose fit is the limit. This is decided from the
    # data, not from where an optimiser happens to stop; a NB2 fit that still ends on the bound falls back too.
    pois, pnote = _fit_quietly(fit_poisson)
    poisson = pois is not None and overdispersion_score(y[mask], pois.predict(exog, offset=np.log(years[mask]))) <= 0.0
    res, note = (pois, pnote) if poisson else _fit_quietly(fit)
    if not poisson and res is not None and not res.mle_retvals.get("converged", False):
        res, note = None, _join("negative binomial fit did not converge", note)
    if not poisson and res is not None and not np.all(np.isfinite(res.bse)) and res.params[-1] < 1e-3:
        poisson, (res, note) = True, (pois, pnote)
    if poisson:
        note = _join("no overdispersion (alpha = 0): Poisson model", note)
    if res is None or not np.all(np.isfinite(res.bse)):
        idx = out["arm"].isin(fitted)
        out.loc[idx, "note"] = [_join(n, note or "negative binomial fit failed") for n in out.loc[idx, "note"]]
        return out
    params, ci, pvals = np.asarray(res.params), np.asarray(res.conf_int(alpha=0.05)), np.asarray(res.pvalues)
    for j, arm in enumerate([base, *others]):
        i = arms.index(arm)
        contrast = np.zeros(len(params))
        contrast[0] = 1.0
        if j:
            contrast[j] = 1.0
            if base == reference:
                out.loc[i, ["rate_ratio", "rr_low", "rr_high", "p"]] = [np.exp(params[j]), *np.exp(ci[j]), pvals[j]]
        test = res.t_test(contrast)   # log ARR of the arm = intercept (+ its coefficient)
        out.loc[i, ["arr_model", "arr_model_low", "arr_model_high"]] = np.exp(
            [float(np.squeeze(test.effect)), *np.ravel(test.conf_int(alpha=0.05))])
        out.loc[i, "alpha"] = 0.0 if poisson else params[-1]
        out.loc[i, "note"] = _join(cast(str, out.loc[i, "note"]), note)
    return out


def time_to_event(patients: pd.DataFrame, reference: str, time_col: str, event_col: str) -> pd.DataFrame:
    """Per arm: events, KM median (95 % CI; NaN = not reached), KM event-free share at the end, Cox HR vs reference.

    Kaplan-Meier and its exponential-Greenwood CIs from lifelines' ``KaplanMeierFitter``; the end is the
    last time in the whole table. Hazard ratios from lifelines' ``CoxPHFitter`` (Efron ties) on arm dummies,
    with Wald CIs and p. An arm without events is left out of the Cox fit (its HR's MLE is 0: NaN, noted).
    ``note`` is about the arm's KM estimates, ``hr_note`` about its hazard ratio (including fit warnings).
    """
    arms = trial_arms(patients, reference, (time_col, event_col))
    t, e = _floats(patients[time_col]), _floats(patients[event_col])
    ok = np.isfinite(t) & np.isfinite(e) & (t >= 0)
    t_end = float(t[ok].max()) if ok.any() else np.nan
    rows = []
    for arm in arms:
        m = _arm_mask(patients, arm) & ok
        row: dict[str, Any] = {"arm": arm, "patients": int(m.sum()), "events": float(e[m].sum()) if m.any() else np.nan,
                               "t_end": t_end, "note": ""}
        if m.any():
            row.update(_km_summary(t[m], e[m], t_end))
        if not m.any():
            row["note"] = "no times to event"
        elif row["events"] in (0, m.sum()):   # KM interval degenerate (S = 1 or 0): NaN
            row["note"] = "no events" if row["events"] == 0 else "all patients had an event"
            row["event_free_low"] = row["event_free_high"] = np.nan
        elif np.isnan(row["median"]):
            row["note"] = "median not reached"
        rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=["arm", "patients", "events", "median", "median_low", "median_high",
                                              "t_end", "event_free", "event_free_low", "event_free_high", "note"])
    for c in ("hr", "hr_low", "hr_high", "p"):
        out[c] = np.nan
    out["hr_note"] = [n if n in ("no events", "no times to event") else "" for n in out["note"]]
    out.loc[arms.index(reference), "hr"] = 1.0
    fitted = [a for a, n in zip(arms, out["events"]) if n > 0]
    if reference not in fitted:
        _not_estimable(out, reference, "hazard ratio", "hr_note")
        return out
    others = [a for a in fitted if a != reference]
    if not others:
        return out
    mask = np.isin(patients["arm"].astype(str).to_numpy(), fitted) & ok
    arm_col = patients["arm"].astype(str).to_numpy()[mask]
    data = pd.DataFrame({"T": t[mask], "E": e[mask]} | {f"x{j}": (arm_col == a).astype(float)
                                                          for j, a in enumerate(others)})

    def fit() -> Any:
        from lifelines import CoxPHFitter

        return CoxPHFitter().fit(data, duration_col="T", event_col="E")

    res, note = _fit_quietly(fit)
    summary = None if res is None else res.summary
    for j, arm in enumerate(others):
        i = arms.index(arm)
        out.loc[i, "hr_note"] = _join(cast(str, out.loc[i, "hr_note"]), note)
        if summary is not None:
            s = summary.loc[f"x{j}"]
            out.loc[i, ["hr", "hr_low", "hr_high", "p"]] = [s["exp(coef)"], s["exp(coef) lower 95%"],
                                                            s["exp(coef) upper 95%"], s["p"]]
    return out


def _km(t: np.ndarray, e: np.ndarray, label: str = "KM") -> Any:
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter().fit(t, event_observed=e, label=label)


def _km_summary(t: np.ndarray, e: np.ndarray, t_end: float) -> dict[str, float]:
    from lifelines.utils import median_survival_times

    kmf = _km(t, e)
    med_ci = np.asarray(median_survival_times(kmf.confidence_interval_), dtype=float).ravel()
    ci = kmf.confidence_interval_survival_function_.loc[:t_end].iloc[-1]
    med = [kmf.median_survival_time_, *med_ci]
    return dict(zip(("median", "median_low", "median_high"), [float(v) if np.isfinite(v) else np.nan for v in med])) | {
        "event_free": float(kmf.survival_function_at_times(t_end).iloc[0]),
        "event_free_low": float(ci.iloc[0]), "event_free_high": float(ci.iloc[1])}


def km_curves(patients: pd.DataFrame, time_col: str, event_col: str) -> dict[str, pd.DataFrame]:
    """Kaplan-Meier curve per arm: {arm: DataFrame(timeline, survival, lower, upper)} (lifelines, 95 % CI)."""
    arms = trial_arms(patients, None, (time_col, event_col))
    t, e = _floats(patients[time_col]), _floats(patients[event_col])
    ok = np.isfinite(t) & np.isfinite(e) & (t >= 0)
    curves = {}
    for arm in arms:
        m = _arm_mask(patients, arm) & ok
        if not m.any():
            continue
        kmf = _km(t[m], e[m])
        ci = kmf.confidence_interval_survival_function_
        curves[arm] = pd.DataFrame({"timeline": kmf.timeline, "survival": kmf.survival_function_.iloc[:, 0].to_numpy(),
                                    "lower": ci.iloc[:, 0].to_numpy(), "upper": ci.iloc[:, 1].to_numpy()})
    return curves


def _share(flags: np.ndarray) -> tuple[int, float, float, float, float]:
    """(assessed, events, share, Wilson 95 % low, high) of a 0/1/NaN array."""
    from statsmodels.stats.proportion import proportion_confint

    x = flags[np.isfinite(flags)]
    if x.size == 0:
        return 0, np.nan, np.nan, np.nan, np.nan
    k = float(x.sum())
    lo, hi = cast(tuple[float, float], proportion_confint(k, x.size, alpha=0.05, method="wilson"))   # scalar counts
    return int(x.size), k, k / x.size, float(lo), float(hi)


def _scale_name(scale: str) -> str:
    from ..grading import scale_name
    return scale_name(scale)


def toxicity(patients: pd.DataFrame, endpoints: Iterable | None = None) -> pd.DataFrame:
    """Per arm and toxicity endpoint: the share of patients at its grade or worse, at the visits of its
    schedule (as reported, with the lab error) and at the true nadir (the daily curve), Wilson 95 % CI.

    Long table (arm, endpoint, label, scale, schedule, basis, patients assessed, events, share, low, high,
    note). A patient with a missing value (an arm without a count model) is not assessed.
    """
    eps = [e for e in (default_endpoints() if endpoints is None else endpoints) if e.kind == "toxicity"]
    arms = trial_arms(patients, None, [c for e in eps for c in (e.name, f"{e.name}_true")])
    rows = []
    for e in eps:
        for basis, col in (("visits", e.name), ("true nadir", f"{e.name}_true")):
            flags = _floats(patients[col])
            for arm in arms:
                rows.append((arm, e.name, e.title, _scale_name(e.scale), e.schedule or "", basis,
                             *_share(flags[_arm_mask(patients, arm)])))
    out = pd.DataFrame(rows, columns=["arm", "endpoint", "label", "scale", "schedule", "basis", "patients", "events",
                                      "share", "low", "high"])
    out["note"] = np.where(out["patients"] == 0, "no counts in this arm", "")
    return out


def _mean_sd(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    return (float(x.mean()) if x.size else np.nan), (float(x.std(ddof=1)) if x.size > 1 else np.nan)


def dosing(patients: pd.DataFrame) -> pd.DataFrame:
    """Per arm: mean courses planned/given/delayed/withheld, share discontinued, cumulative dose mean (SD) in its
    unit and in mg. An arm whose patients have different dose units gets NaN for the dose in that unit."""
    courses = ("courses_planned", "courses_given", "courses_delayed", "courses_withheld")
    arms = trial_arms(patients, None, (*courses, "discontinued", "cumulative_dose", "dose_unit", "cumulative_dose_mg"))
    rows = []
    for arm in arms:
        m = _arm_mask(patients, arm)
        row: dict[str, Any] = {"arm": arm, "patients": int(m.sum())}
        row |= {c: _mean_sd(_floats(patients[c])[m])[0] for c in courses}
        row["discontinued"] = _share(_floats(patients["discontinued"])[m])[2]
        units = sorted({str(u) for u in patients.loc[m, "dose_unit"].dropna()} - {""})   # placebo: no unit
        dose_mean, dose_sd = _mean_sd(_floats(patients["cumulative_dose"])[m])
        row["note"] = f"mixed dose units ({', '.join(units)})" if len(units) > 1 else ""
        if len(units) > 1:
            dose_mean = dose_sd = np.nan
        row |= {"cumulative_dose_mean": dose_mean, "cumulative_dose_sd": dose_sd,
                "dose_unit": units[0] if len(units) == 1 else ", ".join(units)}
        row["cumulative_dose_mg_mean"], row["cumulative_dose_mg_sd"] = _mean_sd(_floats(patients["cumulative_dose_mg"])[m])
        rows.append(row)
    return pd.DataFrame(rows)


def mean_change(patients: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per arm: the mean of ``column`` (e.g. an EDSS change), its SD and t 95 % CI."""
    arms = trial_arms(patients, None, (column,))
    rows = []
    for arm in arms:
        x = _floats(patients[column])[_arm_mask(patients, arm)]
        x = x[np.isfinite(x)]
        mean, sd = _mean_sd(x)
        lo = hi = np.nan
        if x.size > 1 and sd > 0:
            from statsmodels.stats.weightstats import DescrStatsW

            lo, hi = DescrStatsW(x).tconfint_mean(alpha=0.05)
        rows.append({"arm": arm, "patients": int(x.size), "mean": mean, "sd": sd, "low": float(lo), "high": float(hi)})
    return pd.DataFrame(rows)


def shares(patients: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per arm: the share of True in ``column`` with its Wilson 95 % CI."""
    arms = trial_arms(patients, None, (column,))
    rows = []
    for arm in arms:
        n, k, share, lo, hi = _share(_floats(patients[column])[_arm_mask(patients, arm)])
        rows.append({"arm": arm, "patients": n, "events": k, "share": share, "low": lo, "high": hi})
    return pd.DataFrame(rows)


def disability(patients: pd.DataFrame, endpoints: Iterable | None = None) -> pd.DataFrame:
    """Per arm: EDSS at baseline (mean), the first edss_change endpoint's mean (SD, t 95 % CI) and the share
    free of the first time_to_relapse endpoint (Wilson CI)."""
    eps = list(default_endpoints() if endpoints is None else endpoints)
    change = next((e.name for e in eps if e.kind == "edss_change"), None)
    relapse = next((f"{e.name}_event" for e in eps if e.kind == "time_to_relapse"), None)
    arms = trial_arms(patients, None, ("edss_baseline",))
    rows = []
    ch = mean_change(patients, change).set_index("arm") if change else None
    rf = shares(patients, relapse).set_index("arm") if relapse else None
    for arm in arms:
        m = _arm_mask(patients, arm)
        row = {"arm": arm, "patients": int(m.sum()), "edss_baseline_mean": _mean_sd(_floats(patients["edss_baseline"])[m])[0],
               "edss_change_mean": np.nan, "edss_change_sd": np.nan, "edss_change_low": np.nan, "edss_change_high": np.nan,
               "relapse_free": np.nan, "relapse_free_low": np.nan, "relapse_free_high": np.nan}
        if ch is not None:
            r = ch.loc[arm]
            row |= {"edss_change_mean": r["mean"], "edss_change_sd": r["sd"], "edss_change_low": r["low"],
                    "edss_change_high": r["high"]}
        if rf is not None:
            r = rf.loc[arm]
            row |= {"relapse_free": 1 - r["share"], "relapse_free_low": 1 - r["high"], "relapse_free_high": 1 - r["low"]}
        rows.append(row)
    return pd.DataFrame(rows)


def format_estimate(estimate: float, low: float = np.nan, high: float = np.nan, kind: str = "ratio") -> str:
    """'0.42 (0.35-0.51)'; kind 'share' in %, 'days' without decimals, 'change' with ' to ' between signed bounds."""
    if not np.isfinite(estimate):
        return "NE"
    scale, fmt, unit = {"share": (100.0, "{:.1f}", "%"), "days": (1.0, "{:.0f}", "")}.get(kind, (1.0, "{:.2f}", ""))
    text = fmt.format(estimate * scale) + unit
    if np.isfinite(low) and np.isfinite(high):
        sep = " to " if low < 0 or high < 0 else "-"
        text += f" ({fmt.format(low * scale)}{sep}{fmt.format(high * scale)})"
    return text


def _rows(arm: str, outcome: str, est: float, lo: float, hi: float, p: float, kind: str, note: str) -> dict:
    text = format_estimate(est, lo, hi, kind)
    note = "" if np.isfinite(est) else note
    if text == "NE" and kind == "days" and note in ("median not reached", "no events"):   # S(t) stays above 0.5
        text = "not reached"
    elif text == "NE" and note:
        text = f"NE ({note})"
    return {"arm": arm, "outcome": outcome, "estimate": est, "ci_low": lo, "ci_high": hi, "p": p, "text": text,
            "note": note}


def outcome_table(patients: pd.DataFrame, reference: str, endpoints: Iterable | None = None) -> pd.DataFrame:
    """The main table of a trial report: (arm, outcome, estimate, ci_low, ci_high, p, text, note), tidy.

    One block of rows per endpoint, in the spec's order (``endpoints``; the defaults without them):
    relapse rates (annualised rate and rate ratio, negative binomial), event endpoints (KM median,
    event-free share at the end, Cox hazard ratio), shares (Wilson), EDSS changes (mean, t CI),
    toxicity (share at the schedule's visits and at the true nadir, with its scale). Ratios of the
    reference arm are 1 with text "reference".
    """
    from .spec import EVENT_KINDS

    eps = list(default_endpoints() if endpoints is None else endpoints)
    arms = trial_arms(patients, reference)
    rows: list[dict] = []
    r: Any   # a row of a per-arm table: a Series or a named tuple, a field per column
    for e in eps:
        t = e.title
        if e.kind == "relapse_rate":
            rr = relapse_rate(patients, reference, e.name, f"{e.name}_followup_d").set_index("arm")
            for arm in arms:
                r = rr.loc[arm]
                rows.append(_rows(arm, f"Annualised {t}", r.arr_model, r.arr_model_low, r.arr_model_high, np.nan,
                                  "rate", r.note))
                rows.append(_rows(arm, f"Rate ratio, {t}", r.rate_ratio, r.rr_low, r.rr_high, r.p, "ratio", r.note))
        elif e.kind in EVENT_KINDS:
            tte = time_to_event(patients, reference, f"{e.name}_d", f"{e.name}_event").set_index("arm")
            for arm in arms:
                r = tte.loc[arm]
                rows.append(_rows(arm, f"Median time to {t} (days)", r["median"], r.median_low, r.median_high,
                                  np.nan, "days", r.note))
                rows.append(_rows(arm, f"Free of {t} at end (KM)", r.event_free, r.event_free_low,
                                  r.event_free_high, np.nan, "share", r.note))
                rows.append(_rows(arm, f"Hazard ratio, {t}", r.hr, r.hr_low, r.hr_high, r.p, "ratio", r.hr_note))
        elif e.kind == "relapse_free":
            for r in shares(patients, e.name).itertuples():
                rows.append(_rows(r.arm, f"{t[0].upper()}{t[1:]} (share)", r.share, r.low, r.high, np.nan, "share", ""))
        elif e.kind == "edss_change":
            for r in mean_change(patients, e.name).itertuples():
                rows.append(_rows(r.arm, f"{t[0].upper()}{t[1:]}, mean", r.mean, r.low, r.high, np.nan, "change", ""))
        elif e.kind == "toxicity":
            tox = toxicity(patients, [e])
            for r in tox.itertuples():
                where = f"at {r.schedule} visits" if r.basis == "visits" else "true nadir"
                rows.append(_rows(r.arm, f"{t[0].upper()}{t[1:]} ({r.scale}, {where})", r.share, r.low, r.high,
                                  np.nan, "share", r.note))
    out = pd.DataFrame(rows)
    ref_ratio = (out["arm"] == reference) & out["outcome"].str.contains("ratio", case=False)
    out.loc[ref_ratio, "text"] = "reference"
    order = {o: i for i, o in enumerate(dict.fromkeys(out["outcome"]))}
    key = out["outcome"].map(order) * len(arms) + out["arm"].map({a: i for i, a in enumerate(arms)})
    return out.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
