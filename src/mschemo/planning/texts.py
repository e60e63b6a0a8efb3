"""The plan's small texts (administration, mg basis, titration note) and tables (predictions, parameters)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..dosing import Course, NadirTitration, PreDose, count_name, decide
from ..regimen import Dose
from .context import PatientContext

__all__ = ["risk_words", "dose_words", "unit_column", "hours", "administration", "mg_basis", "titration_note",
           "predicted_table", "prediction_interval", "parameter_table"]


def risk_words(kinds: Sequence[str], grade: int = 3, cap: bool = False) -> str:
    names = " or ".join(count_name(k) for k in kinds)
    return f"P(grade >= {grade} {names})" if cap else f"risk of grade >= {grade} {names}"


def dose_words(ctx: PatientContext, c: dict[str, Any]) -> str:
    if ctx.tablets:
        return f"the label course ({c['mg']:g} mg)"
    return f"{c['dose']:g} {ctx.unit}"


def unit_column(unit: str) -> str:
    return {"mg": "mg", "mg/m2": "mg_per_m2", "mg/kg": "mg_per_kg"}[unit]


def hours(h: float) -> str:
    return f"{h * 60:g} min" if h < 1 else f"{h:g} h"


def administration(ctx: PatientContext, chosen: dict[str, Any] | None) -> str:
    if chosen is None:
        return ""
    if ctx.tablets:
        from ..drugs.cladribine import tablet_schedule
        sched = tablet_schedule(ctx.weight)
        tab = float(ctx.tablets["tablet_mg"])
        w1 = [n for w, n in sched if w == 1]
        w2 = [n for w, n in sched if w == 2]
        return (f"oral, {sum(w1) + sum(w2)} tablets of {tab:g} mg: week 1 {sum(w1)} tablets over {len(w1)} days, "
                f"week 2 {sum(w2)} tablets over {len(w2)} days from day {float(ctx.tablets['week2_start_day']):g}")
    if ctx.route == "oral":
        return "by mouth"
    return f"IV infusion over {hours(ctx.duration_h)}" if ctx.duration_h > 0 else "IV bolus"


def mg_basis(ctx: PatientContext) -> str:
    cov = ctx.record.covariates
    h, w = cov.get("height_cm"), cov.get("weight_kg")
    if ctx.tablets:
        return f"tablets from the label's weight band for {w:g} kg (the weight in the record)"
    if ctx.unit == "mg/m2":
        return (f"mg from a body-surface area of {ctx.bsa:.2f} m2 (Mosteller; height {h:g} cm, weight {w:g} kg, the "
                "latest in the record)")
    if ctx.unit == "mg/kg":
        return f"mg from a weight of {w:g} kg (the latest in the record)"
    return "dose in mg as written in the record"


def titration_note(ctx: PatientContext, tit: NadirTitration) -> str:
    """What the drug file's titration table would give from the last measured nadir (for comparison)."""
    c = ctx.record.counts
    last = float(ctx.dose_days.max())
    c = c[(c["kind"] == tit.output) & (c["day"] > last)]
    if not len(c) or str(ctx.last["unit"]) != tit.unit:
        return ""
    low = c.loc[c["value"].idxmin()]
    amount = float(ctx.last["amount"])
    only = replace(ctx.rules, rules=(tit,), options=frozenset({tit.option}) if tit.option else frozenset())
    planned = Course(0.0, (Dose(time_d=0.0, amount=amount, unit=tit.unit),))
    facts = PreDose(course=ctx.course_no, planned=planned, body=ctx.body, previous=(amount, tit.unit),
                    previous_nadirs={tit.output: float(low["value"])})
    course = decide(only, facts).course
    assert course is not None   # the titration rule alone never withholds the course
    new = course.amount
    return (f"for comparison, the label titration table gives {new:g} {tit.unit} from the lowest measured "
            f"{count_name(tit.output)} after the last dose ({float(low['value']):g} x10^9/L on "
            f"{low['date']}; a sparse count may miss the true nadir).")


def prediction_interval(draws: np.ndarray, sigma: float, floor: float, probs: Sequence[float] = (0.05, 0.95),
                        iterations: int = 24) -> np.ndarray:
    """Quantiles (len(probs), times) of a measured count: the posterior draws ``draws`` (draws, times)
    with the log-normal residual error (SD ``sigma`` of log count) added, so P(y <= q) is the mean
    over draws of Phi((log q - log f) / sigma). Solved by bisection on log q between the draws' own
    quantiles (the mixture's lies between them): 24 halvings leave under 1e-6 of a log unit."""
    from scipy.special import ndtr, ndtri

    mu = np.log(np.maximum(draws, floor))
    if sigma <= 0:
        return np.exp(np.nanquantile(mu, probs, axis=0))
    scaled = mu / sigma
    out = []
    for p in probs:
        z = float(ndtri(p))
        lo, hi = np.nanmin(scaled, axis=0) + z, np.nanmax(scaled, axis=0) + z
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            below = np.nanmean(ndtr(mid[None, :] - scaled), axis=0) < p
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        out.append(np.exp(0.5 * (lo + hi) * sigma))
    return np.array(out)


def predicted_table(rec: Any, grid: np.ndarray, pred: dict[str, np.ndarray], sigma: dict[str, float]) -> pd.DataFrame:
    """Per day and count: the posterior median and 90 % credible band of the model's curve (p5, p95)
    and the 90 % prediction interval of a measured count (pi5, pi95: the residual error added)."""
    frames = []
    for kind, v in pred.items():
        d = v[1:]
        q = np.nanquantile(d, [0.5, 0.05, 0.95], axis=0)
        pi = prediction_interval(d, sigma.get(kind, 0.3), sigma.get("floor", 0.01))
        frames.append(pd.DataFrame({"day": grid, "date": [rec.date_of(t) for t in grid], "kind": kind,
                                    "median_1e9_per_L": q[0], "p5_1e9_per_L": q[1], "p95_1e9_per_L": q[2],
                                    "pi5_1e9_per_L": pi[0], "pi95_1e9_per_L": pi[1], "map_1e9_per_L": v[0]}))
    return pd.concat(frames, ignore_index=True)


def parameter_table(posterior: Any) -> pd.DataFrame:
    ps = posterior.patient.model.parameter_set
    p = posterior.patient
    rows = []
    for j, (name, (mode, lo, hi)) in enumerate(posterior.parameters().items()):
        par = ps[name] if ps is not None and name in ps else None
        factor = (par.file_value / par.value) if par is not None and par.value else 1.0
        rows.append({"parameter": name, "unit": par.file_unit if par is not None else "",
                     "typical": float(p.base[p.cols][j]) * factor, "map": mode * factor, "p5": lo * factor,
                     "p95": hi * factor, "eta_map": float(posterior.mode[j]),
                     "description": par.description if par is not None else ""})
    return pd.DataFrame(rows)
