"""Candidate doses, their predicted nadirs and risks under the posterior, and the choice among them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..dosing import NadirTitration, count_name
from ..errors import SolverError
from ..grading import grade
from ..regimen import Regimen
from .context import PatientContext
from .target import NadirTarget

__all__ = ["titration_rule", "default_target", "dose_grid", "evaluate", "choose", "next_count", "P_TIE", "P_NONE"]

#: P(target) values closer than this to the best are ties (broken by the median nadir's distance
#: to the middle of the range)
P_TIE = 0.02
#: below this best P(target), the dose whose median nadir is closest to the range is taken
P_NONE = 0.05


def _quantiles(x: np.ndarray) -> tuple[float, float, float]:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if not x.size:
        return math.nan, math.nan, math.nan
    q = np.quantile(x, [0.5, 0.05, 0.95])
    return float(q[0]), float(q[1]), float(q[2])



def titration_rule(ctx: PatientContext) -> NadirTitration | None:
    for r in ctx.rules.rules:
        if isinstance(r, NadirTitration) and r.unit == ctx.unit:
            return r
    return None


def default_target(ctx: PatientContext) -> NadirTarget | None:
    """The drug file's titration aim: the band that keeps the dose ("change = 0")."""
    t = titration_rule(ctx)
    if t is None:
        return None
    prev = 0.0
    for band in t.bands:
        if band.change == 0 and band.factor == 1 and prev > 0 and math.isfinite(band.below):
            return NadirTarget(t.output, prev, band.below)
        prev = band.below
    return None


def dose_grid(ctx: PatientContext) -> tuple[list[float], str]:
    """Candidate doses (in the history's unit) and where they come from."""
    if ctx.tablets:
        return [float("nan")], "the label's course for this weight"
    t = titration_rule(ctx)
    if t is not None:
        steps = sorted({abs(b.change) for b in t.bands if b.change})
        step = steps[0] if steps else 100.0
        grid = np.arange(t.minimum_dose, t.maximum_dose + step / 2, step)
        return [float(x) for x in grid], (f"the drug file's titration range {t.minimum_dose:g}-{t.maximum_dose:g} "
                                          f"{t.unit} in steps of {step:g}")
    label = ctx.label_dose
    if label is None or label.unit != ctx.unit:
        last = float(ctx.last["amount"])
        return [float(round(last * f, 6)) for f in np.linspace(0.5, 1.0, 6)], "50-100 % of the last dose"
    plan = ctx.drug.planning
    own = plan.unit == label.unit
    step = plan.step if own and plan.step is not None else max(label.amount / 10, 1e-9)
    low = plan.minimum if own and plan.minimum is not None else label.amount / 2
    grid = np.arange(low, label.amount + step / 2, step)
    return [float(x) for x in grid], f"{low:g}-{label.amount:g} {label.unit} (up to the label dose) in steps of {step:g}"


def evaluate(ctx: PatientContext, etas: np.ndarray, day: float, amount: float, kind: str, target: NadirTarget | None,
              risk_kinds: tuple[str, ...], risk_grade: int) -> dict[str, Any]:
    doses = ctx.candidate_doses(day, amount)
    regimen = Regimen.from_doses(list(ctx.history.doses) + doses, text="history + candidate")
    times = np.arange(day, day + math.floor(ctx.cycle_d) + 1, 1.0)
    pred = ctx.patient.predict(etas, times, regimen)
    ok = np.all([np.all(np.isfinite(v[1:]), axis=1) for v in pred.values()], axis=0)
    if not ok.any():
        raise SolverError(f"no posterior draw of patient {ctx.record.id} could be solved for {amount:g} {ctx.unit}; "
                          "check the patient file.", ctx.record.id)
    draws = {k: v[1:][ok] for k, v in pred.items()}
    nadir = {k: np.nanmin(v, axis=1) for k, v in draws.items()}
    worst = np.zeros(int(ok.sum()), dtype=np.int64)
    for k in risk_kinds:
        worst = np.maximum(worst, grade(nadir[k], k))
    n_med, n_lo, n_hi = _quantiles(nadir[kind])
    nadir_day = float(np.median(np.nanargmin(draws[kind], axis=1))) if draws[kind].size else math.nan
    mg = sum(ctx.body.to_mg(d.amount, d.unit) for d in doses)
    return {"day": day, "dose": float(sum(d.amount for d in doses)) if ctx.tablets else amount, "mg": mg,
            "p_target": float(np.mean(target.contains(nadir[kind]))) if target is not None else math.nan,
            "p_grade3": float(np.mean(worst >= 3)), "p_grade4": float(np.mean(worst >= 4)),
            "p_risk": float(np.mean(worst >= risk_grade)), "nadir_median": n_med, "nadir_p5": n_lo, "nadir_p95": n_hi,
            "nadir_day": nadir_day, "_draws": draws, "_times": times, "_doses": doses}


def choose(cands: list[dict[str, Any]], target: NadirTarget | None, max_risk: float,
            risk_grade: int) -> tuple[dict[str, Any], bool, str]:
    """The chosen candidate, whether it is within the risk limit, and why it was chosen."""
    ok = [c for c in cands if c["p_risk"] <= max_risk + 1e-12]
    if not ok:
        low = min(cands, key=lambda c: c["dose"])
        return low, False, (f"no candidate keeps the grade >= {risk_grade} risk within {max_risk:.0%}; the lowest "
                            f"dose has {low['p_risk']:.0%}")
    if target is None:
        best = max(ok, key=lambda c: c["dose"])
        return best, True, f"the highest candidate dose whose grade >= {risk_grade} risk is within {max_risk:.0%}"
    mid = math.log(math.sqrt(target.low * target.high))

    def dist(c: dict[str, Any]) -> float:
        m = c["nadir_median"]
        if not (m > 0 and math.isfinite(m)):
            return math.inf
        return 0.0 if target.low <= m <= target.high else min(abs(math.log(m / target.low)),
                                                              abs(math.log(m / target.high)))

    top = max(c["p_target"] for c in ok)
    if top < P_NONE:
        best = min(ok, key=lambda c: (dist(c), -c["p_target"], c["dose"]))
        return best, True, (f"no candidate within the risk limit reaches the target with more than {P_NONE:.0%} "
                            "probability; this dose puts the median nadir closest to it")
    near = [c for c in ok if c["p_target"] >= top - P_TIE]
    best = min(near, key=lambda c: (abs(math.log(c["nadir_median"]) - mid) if c["nadir_median"] > 0 else math.inf,
                                    c["dose"]))
    return best, True, (f"the highest probability of a nadir in the target range among doses whose grade >= "
                        f"{risk_grade} risk is within {max_risk:.0%}")


def next_count(ctx: PatientContext, cand: dict[str, Any], kind: str) -> tuple[float, str]:
    """The day (since the first dose) of the most informative next count after the dose."""
    times = cand["_times"]
    v = cand["_draws"][kind]
    day = cand["day"]
    med = np.nanmedian(v, axis=0)
    window = (times >= day + 3) & (times <= day + min(ctx.cycle_d, 60.0) - 1)
    sel = window & (med < med[0])          # the dip: below the pre-dose count
    if not sel.any():
        sel = window if window.any() else times > day
    logv = np.log(np.maximum(v[:, sel], 1e-6))
    sd = np.nanstd(logv, axis=0)
    k = int(np.nanargmax(sd))
    best = float(times[sel][k])
    nadir = day + cand["nadir_day"]
    label = count_name(kind)
    if abs(best - nadir) <= 2:
        return best, (f"day {best - day:.0f} after the dose: the predicted {label} nadir falls then and, of the days "
                      f"the count is down, the model is least sure of it then (SD of log {label} {sd[k]:.2f}), so one "
                      "count there checks the nadir and informs the next dose most.")
    k_n = int(np.clip(np.searchsorted(times[sel], nadir), 0, sd.size - 1))
    return best, (f"day {best - day:.0f} after the dose: of the days the {label} is predicted to be down, the model "
                  f"is least sure of it then (SD of log {label} {sd[k]:.2f}, vs {sd[k_n]:.2f} at the predicted nadir "
                  f"on day {cand['nadir_day']:.0f}, {ctx.record.date_of(nadir)}), so a count then tells most about "
                  "this patient for the next dose.")
