"""The next dose for one patient: date, amount and what the posterior says about its nadir.

:func:`recommend_dose` takes a patient's posterior (:func:`mschemo.estimation.map.estimate_map`) and

1. checks the drug file's rules before the dose with :func:`mschemo.dosing.decide` (the same
   interpreter as for simulated patients), on the requested date and, while a count rule delays the
   dose, weekly after it (the rule's longest delay at most). The rules read the latest measured
   count if it is recent enough (the rule's ``valid_for``), else the posterior's prediction for the
   day; an LVEF with its age; the lifetime dose with each candidate;
2. on the first date that passes, predicts every candidate dose with posterior draws (one batched
   solve per candidate: the dosing history plus the candidate) and reads, over the cycle after it,
   the nadir of the target count, P(nadir in the target range) and P(CTCAE grade >= 3 of WBC or ANC);
3. picks the dose with the highest P(in range) among those whose P(grade >= 3) is within the limit
   (no target range: the highest such dose up to the label's);
4. suggests the day of the next count (where the posterior predictive spread of the target count is
   largest after the dose).

The candidate doses come from the drug file (its titration range, or ``[drug.planning]``); grades
from ``ctcae_v5.toml``. Everything it shows is a model's estimate. Research and education only, not
a prescription.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..dosing import CountRule, CumulativeCap, Decision, count_name, decide
from ..errors import OptionError
from ..grading import limits
from ..regimen import Regimen
from .candidates import choose, default_target, dose_grid, evaluate, next_count, titration_rule
from .context import PatientContext
from .plan import DosePlan
from .target import NadirTarget
from .texts import (
    administration,
    dose_words,
    hours,
    mg_basis,
    parameter_table,
    predicted_table,
    risk_words,
    titration_note,
    unit_column,
)

__all__ = ["recommend_dose", "WEEK_D", "MAX_DATE_SHIFT_D"]

#: candidate dates: the requested one, then weekly ...
WEEK_D = 7
#: ... up to 4 weeks later
MAX_DATE_SHIFT_D = 28


def recommend_dose(posterior: Any, *, target: NadirTarget | None = None, max_risk_grade3: float = 0.10,
                   on: dt.date | str | None = None, dates: Sequence[dt.date | str] | None = None,
                   doses: Sequence[float] | None = None, n_draws: int = 300, seed: int = 0,
                   region: str | None = None, risk_kinds: Sequence[str] | None = None,
                   risk_grade: int = 3) -> DosePlan:
    """The next dose of the posterior's patient: date, amount, predicted nadir and the rule checks.

    posterior: from :func:`~mschemo.estimation.map.estimate_map` (Laplace draws) or
    :func:`~mschemo.estimation.map.sample_posterior` (SIR draws).
    target: the wanted nadir range (default: the drug file's titration aim, cyclophosphamide WBC
    1.5-2.0; none for mitoxantrone and cladribine).
    max_risk_grade3: the largest acceptable P(CTCAE grade >= 3 of WBC or ANC at the nadir) (with
    ``risk_grade=4``: of grade 4; a WBC target of 1.5-2.0 lies inside grade 3, see the plan's notes).
    on: the wanted date (default: the later of the day after the last count and the date the regimen
    makes the next course due). dates: candidate dates instead of ``on`` and weekly after it.
    doses: candidate doses (the history's unit) instead of the drug's grid.
    n_draws, seed: posterior draws used for the predictions. region: the lifetime cap in force
    ("us", "eu"; default the drug file's). risk_kinds: the counts whose grade counts (default WBC and
    ANC, plus ALC when ALC is the count followed).

    Research and education only, not a prescription.
    """
    if isinstance(max_risk_grade3, bool) or not isinstance(max_risk_grade3, (int, float)) \
            or not 0 <= max_risk_grade3 <= 1:
        raise OptionError(f"max_risk_grade3 {max_risk_grade3!r} is not a probability; give a number from 0 to 1, "
                          "e.g. 0.10.")
    if risk_grade not in (3, 4):
        raise OptionError(f"risk_grade {risk_grade!r} is not 3 or 4; give the CTCAE grade whose risk is limited.")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 20:
        raise OptionError(f"n_draws {n_draws!r} is too few; give a whole number of at least 20, e.g. 300.")
    if target is not None and not isinstance(target, NadirTarget):
        raise OptionError(f"target {target!r} is not a NadirTarget; write e.g. NadirTarget(wbc=(1.5, 2.0)).")
    ctx = PatientContext(posterior, region)
    s = _State(ctx, notes=list(getattr(ctx.record, "notes", ()) or ()))
    _aim(s, target, float(max_risk_grade3), risk_kinds, risk_grade)
    _dates(s, on, dates)
    _predict_history(s, int(n_draws), seed)
    _candidate_grid(s, doses)
    _check_rules_by_date(s, explicit_dates=dates is not None)
    _lifetime_cap(s)
    _model_fit(s)
    _choose_dose(s)
    return _plan(s)


@dataclass
class _State:
    """What the steps of :func:`recommend_dose` find, in order."""

    ctx: PatientContext
    notes: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)
    decision: str = ""
    reason: str = ""
    chosen_day: float | None = None
    day_decision: Decision | None = None
    next_check_day: float | None = None
    first_fail: str = ""
    cands: list[dict[str, Any]] = field(default_factory=list)
    chosen: dict[str, Any] | None = None
    cumulative: dict[str, Any] | None = None
    cap: CumulativeCap | None = None
    target: NadirTarget | None = None
    kind: str = "wbc"
    risk_kinds: tuple[str, ...] = ()
    risk_grade: int = 3
    max_risk: float = 0.1
    on_day: float = 0.0
    cand_days: list[float] = field(default_factory=list)
    dose_grid: list[float] = field(default_factory=list)
    grid_from: str = ""
    etas: np.ndarray | None = None
    t0: float = 0.0
    grid: np.ndarray | None = None
    hist: dict[str, np.ndarray] = field(default_factory=dict)
    sigma: dict[str, float] = field(default_factory=dict)
    n_draws: int = 0
    seed: int = 0


def _row(check: Any, rule: str | None = None) -> dict[str, str]:
    return {"rule": check.name if rule is None else rule, "status": check.status, "value": check.value_text,
            "limit": check.limit_text, "reason": check.reason}


# 0. the aim: target, the count followed, the risk limited ------------------------------------------
def _aim(s: _State, target: NadirTarget | None, max_risk: float, risk_kinds: Sequence[str] | None,
         risk_grade: int) -> None:
    ctx = s.ctx
    s.max_risk, s.risk_grade = max_risk, risk_grade
    if target is None:
        target = default_target(ctx)
        if target is not None:
            s.notes.append(f"target: the drug file's titration aim, {target}")
    if target is not None and target.kind not in ctx.outputs:
        raise OptionError(f"the {ctx.drug.name} model has no {target.kind.upper()} output; target one of "
                          f"{', '.join(ctx.outputs)}.")
    s.target = target
    count_rules = [r for r in ctx.rules.in_force() if isinstance(r, CountRule) and r.applies_to(ctx.course_no)]
    s.kind = target.kind if target is not None else next(
        (r.output for r in count_rules if r.output in ctx.outputs), "wbc" if "wbc" in ctx.outputs else ctx.outputs[0])
    if risk_kinds is None:
        rk = [k for k in ("wbc", "anc") if k in ctx.outputs]
        if s.kind == "alc" and "alc" in ctx.outputs:
            rk.append("alc")
        s.risk_kinds = tuple(rk) or (s.kind,)
    else:
        bad = [k for k in risk_kinds if k not in ctx.outputs]
        if bad or not risk_kinds:
            raise OptionError(f"risk kind {bad[0] if bad else None!r} is not an output of the {ctx.drug.name} "
                              f"model; use {', '.join(ctx.outputs)}.")
        s.risk_kinds = tuple(risk_kinds)
    if target is not None and risk_grade == 3 and target.kind in s.risk_kinds:
        g3 = limits(target.kind)[3]
        if target.low < g3:
            s.notes.append(
                f"the target {target} lies below the CTCAE grade-3 limit of {count_name(target.kind)} "
                f"(< {g3:g} x10^9/L), so the grade >= 3 risk limit ({max_risk:.0%}) caps how close the nadir may "
                "come to the target; to aim at it, bound grade 4 instead (risk_grade=4, --risk-grade 4), raise the "
                "limit, or give a target above the grade-3 limit.")
    if ctx.label_courses and ctx.course_no > ctx.label_courses and not ctx.tablets:
        s.notes.append(f"this would be course {ctx.course_no}; the label regimen ({ctx.drug.default_regimen}) has "
                       f"{ctx.label_courses}.")


# 1. dates -----------------------------------------------------------------------------------------
def _as_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "today":
            return dt.date.today()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise OptionError(f"{what} {value!r} is not a date; give it as YYYY-MM-DD, e.g. 2026-03-31.")


def _dates(s: _State, on: Any, dates: Sequence[Any] | None) -> None:
    ctx, rec = s.ctx, s.ctx.record
    last_dose_day = float(ctx.dose_days.max())
    last_count_day = float(rec.counts["day"].max()) if len(rec.counts) else last_dose_day
    if dates is not None:
        days = sorted({rec.day_of(_as_date(d, "dates entry")) for d in dates})
        if not days:
            raise OptionError("dates is empty; give at least one candidate date (YYYY-MM-DD).")
        s.on_day = days[0]
    else:
        if on is None:
            s.on_day = max(last_count_day + 1, ctx.due_day)
            s.notes.append(f"date asked: {rec.date_of(s.on_day)}, " + (
                "when the regimen makes the next course due" if s.on_day == ctx.due_day
                else "the day after the last count"))
        else:
            s.on_day = rec.day_of(_as_date(on, "on"))
        days = [s.on_day + WEEK_D * k for k in range(MAX_DATE_SHIFT_D // WEEK_D + 1)]
    if days[0] <= last_dose_day:
        raise OptionError(f"the dose date {rec.date_of(days[0])} is not after the last dose "
                          f"({rec.date_of(last_dose_day)}); give a later date with on=... (--on).")
    if s.on_day < ctx.due_day - 0.5:
        s.notes.append(f"{rec.date_of(s.on_day)} is {ctx.due_day - s.on_day:.0f} days before the regimen makes the "
                       f"next course due ({rec.date_of(ctx.due_day)}, every {ctx.cycle_d:g} days).")
    s.cand_days = days


# 2. the posterior draws and the history's prediction ------------------------------------------------
def _predict_history(s: _State, n_draws: int, seed: int) -> None:
    from ..estimation.map import residual_sigmas

    ctx, rec = s.ctx, s.ctx.record
    s.n_draws, s.seed = n_draws, seed
    s.etas = np.vstack([ctx.post.mode[None, :], ctx.post.draws(n_draws, seed)])
    s.t0 = min(0.0, math.floor(float(rec.counts["day"].min())) if len(rec.counts) else 0.0)
    s.grid = np.arange(s.t0, max(s.cand_days) + math.floor(ctx.cycle_d) + 1, 1.0)
    s.hist = ctx.patient.predict(s.etas, s.grid, ctx.history)
    s.sigma = residual_sigmas()


# 3. the candidate doses ---------------------------------------------------------------------------
def _candidate_grid(s: _State, doses: Sequence[float] | None) -> None:
    ctx = s.ctx
    grid, s.grid_from = dose_grid(ctx)
    if doses is not None:
        vals = [float(x) for x in doses]
        if not vals or any(not (math.isfinite(x) and x > 0) for x in vals):
            raise OptionError(f"doses {list(doses)!r} must be amounts > 0 in {ctx.unit}; give e.g. [600, 700, 800].")
        if ctx.tablets:
            raise OptionError(f"{ctx.drug.name} is planned as the label's tablet course only; leave doses out.")
        grid, s.grid_from = sorted(set(vals)), "the doses asked for"
    s.dose_grid = grid


# 4. the rules before the dose, date by date (dosing.decide) ------------------------------------------
def _check_rules_by_date(s: _State, explicit_dates: bool) -> None:
    ctx, rec, days = s.ctx, s.ctx.record, s.cand_days
    if ctx.tablets and ctx.course_no > 2:
        s.decision = "stop"
        s.reason = (f"the label's two yearly courses of {ctx.drug.name} have been given; no further course is "
                    "planned in the label.")
        return
    ref = min(days[0], days[0] if explicit_dates else ctx.due_day)
    smallest = min(s.dose_grid)
    for i, day in enumerate(days):
        later = days[i + 1] if i + 1 < len(days) else day + WEEK_D
        d = decide(ctx.rules, ctx.facts(day, smallest, s.hist, s.grid, s.sigma, delayed_d=day - ref,
                                        next_try_d=later - day))
        suffix = f" ({rec.date_of(day)})" if len(days) > 1 else ""
        s.rows += [_row(c, c.name + suffix) for c in d.checks if c.kind == "count"]
        failed = d.failed()
        if failed is None or failed.kind == "cumulative":     # the rules before the dose pass on this day
            s.chosen_day, s.day_decision = day, d
            s.rows += [_row(c) for c in d.checks if c.kind == "covariate"]
            return
        if failed.kind == "covariate":
            s.rows += [_row(c) for c in d.checks if c.kind == "covariate"]
            s.decision, s.reason = d.action, failed.reason
            return
        s.first_fail = s.first_fail or f"{failed.subject} {failed.value_text} is below {failed.limit:g} x10^9/L"
        if d.action in ("stop", "withhold") and not d.max_delay_reached:
            s.decision, s.reason = d.action, failed.reason
            return
        if d.max_delay_reached:
            rule = next(r for r in ctx.rules.in_force() if isinstance(r, CountRule) and r.label == failed.rule)
            s.decision = d.action
            what = "treatment stops" if s.decision == "stop" else "this course is skipped"
            s.reason = (f"{failed.reason[:-1]}; still failing at the longest delay the rule allows "
                        f"({rule.max_delay_d:g} days), so {what}.")
            s.next_check_day = day + d.recheck_d if s.decision != "stop" else None
            return
        if i + 1 == len(days):
            s.decision = "delay"
            s.next_check_day = day + d.recheck_d
            s.reason = (f"{failed.reason[:-1]}; it is still predicted to fail on {rec.date_of(day)}, so re-check "
                        f"on {rec.date_of(s.next_check_day)}.")


# 5. the lifetime cap: candidates that fit ---------------------------------------------------------------
def _lifetime_cap(s: _State) -> None:
    ctx = s.ctx
    caps = [r for r in ctx.rules.in_force() if isinstance(r, CumulativeCap)]
    if not caps or ctx.tablets:
        return
    cap = s.cap = caps[0]
    given = ctx.body.total(ctx.given(), cap.unit)
    remaining = cap.limit - given
    s.cumulative = {"given": round(given, 3), "limit": cap.limit, "unit": cap.unit, "region": cap.region or "",
                    "remaining": round(remaining, 3), "after": round(given, 3),
                    "others": {c.region: c.limit for c in ctx.rules.rules if isinstance(c, CumulativeCap) and c is not cap}}
    if s.chosen_day is None:
        return
    facts = ctx.facts(s.chosen_day, min(s.dose_grid), s.hist, s.grid, s.sigma)
    fits = [x for x in s.dose_grid if decide(ctx.rules, replace(facts, planned=ctx.course(s.chosen_day, x))).given]
    if not fits:
        why = (f"the lifetime dose so far is {given:g} {cap.unit}; the {max(remaining, 0):g} {cap.unit} left under "
               f"the {cap.limit:g} {cap.unit} cap ({cap.region.upper()}) is below the smallest candidate dose "
               f"({min(s.dose_grid):g} {ctx.unit}), so treatment stops ({cap.label}).")
        if not s.decision:
            s.decision, s.reason = "stop", why
        s.rows.append({"rule": cap.label, "status": "fail", "value": f"{given:g} {cap.unit} given",
                       "limit": f"<= {cap.limit:g} {cap.unit}", "reason": why})
    elif len(fits) < len(s.dose_grid):
        s.notes.append(f"candidate doses above the {remaining:g} {cap.unit} left under the lifetime cap were dropped.")
    s.dose_grid = fits


# 6. how well the model follows the counts -------------------------------------------------------------
def _model_fit(s: _State) -> None:
    ctx = s.ctx
    row, no_raise = ctx.fit_check(s.sigma)
    if row is not None:
        s.rows.append(row)
    if no_raise and not ctx.tablets and str(ctx.last["unit"]) == ctx.unit:
        kept = [x for x in s.dose_grid if x <= float(ctx.last["amount"]) + 1e-9]
        if kept and len(kept) < len(s.dose_grid):
            s.notes.append(f"a count after the last dose lies far below the model's fit, so doses above the last "
                           f"({float(ctx.last['amount']):g} {ctx.unit}) were not considered.")
            s.dose_grid = kept


# 7. predict every candidate dose and choose --------------------------------------------------------------
def _choose_dose(s: _State) -> None:
    ctx, rec = s.ctx, s.ctx.record
    if s.chosen_day is None or s.decision:
        return
    if not ctx.tablets:
        s.notes.append(f"candidate doses: {s.grid_from}.")
    assert s.etas is not None   # drawn by _predict_history
    s.cands = [evaluate(ctx, s.etas, s.chosen_day, x, s.kind, s.target, s.risk_kinds, s.risk_grade)
               for x in s.dose_grid]
    if ctx.tablets:
        chosen, within = s.cands[0], s.cands[0]["p_risk"] <= s.max_risk + 1e-12
        why = "the label's course for this weight (cladribine is given as the label course only)"
    else:
        chosen, within, why = choose(s.cands, s.target, s.max_risk, s.risk_grade)
    s.chosen = chosen
    date = rec.date_of(s.chosen_day)
    delayed = s.chosen_day != s.on_day
    lead = f"delayed to {date} because on {rec.date_of(s.on_day)} {s.first_fail} (label rule); " if delayed else ""
    if not within and not ctx.tablets:
        s.decision = "review"
        s.reason = (f"{lead}{why}: {chosen['dose']:g} {ctx.unit} on {date} is shown for review - consider delaying "
                    "or withholding.")
    else:
        s.decision = "delay" if delayed else "give"
        s.reason = f"{lead}{why}."
    s.reason = s.reason[0].upper() + s.reason[1:]
    if s.cumulative is not None:
        cu = s.cumulative
        after = cu["given"] + ctx.body.convert(chosen["mg"], "mg", cu["unit"])
        cu["after"] = round(after, 3)
        d = decide(ctx.rules, ctx.facts(s.chosen_day, chosen["dose"], s.hist, s.grid, s.sigma))
        s.rows += [_row(c, c.rule) for c in d.checks if c.kind == "cumulative"]
    status = "pass" if within else ("to-check" if ctx.tablets else "fail")
    s.rows.append({"rule": risk_words(s.risk_kinds, s.risk_grade, cap=True) + " at the nadir (model)", "status": status,
                   "value": f"{chosen['p_risk']:.0%}", "limit": f"<= {s.max_risk:.0%}",
                   "reason": f"{chosen['p_risk']:.0%} of the posterior draws reach grade >= {s.risk_grade} after "
                             f"{dose_words(ctx, chosen)} (limit {s.max_risk:.0%})"
                             + ("; the label course is not reduced, so discuss it." if status == "to-check" else ".")})


# 8. the plan ----------------------------------------------------------------------------------------------
def _plan(s: _State) -> DosePlan:
    ctx, rec, chosen, kind = s.ctx, s.ctx.record, s.chosen, s.kind
    cand_frame = pd.DataFrame([{
        "date": rec.date_of(c["day"]), "day": c["day"], f"dose_{unit_column(ctx.unit)}": c["dose"], "dose_mg": c["mg"],
        "p_target": c["p_target"], "p_grade3": c["p_grade3"], "p_grade4": c["p_grade4"],
        f"nadir_{kind}_median_1e9_per_L": c["nadir_median"], f"nadir_{kind}_p5_1e9_per_L": c["nadir_p5"],
        f"nadir_{kind}_p95_1e9_per_L": c["nadir_p95"], "nadir_day_after_dose": c["nadir_day"],
        "within_risk": c["p_risk"] <= s.max_risk + 1e-12, "proposed": c is chosen} for c in s.cands])
    if chosen is not None:
        regimen = Regimen.from_doses(list(ctx.history.doses) + chosen["_doses"], text="history + proposed dose")
        full_grid = np.arange(s.t0, chosen["day"] + math.floor(ctx.cycle_d) + 1, 1.0)
        pred = ctx.patient.predict(s.etas, full_grid, regimen)
        nc_day, nc_reason = next_count(ctx, chosen, kind)
        if ctx.route != "oral":
            s.notes.append(f"infusion over {hours(ctx.duration_h)}, as {ctx.duration_from} "
                           f"({rec.date_of(ctx.dose_days.max())}).")
        tit = titration_rule(ctx)
        note = titration_note(ctx, tit) if tit is not None else ""
        if note:
            s.notes.append(note)
    else:
        end = (s.next_check_day or s.cand_days[0]) + 28
        assert s.grid is not None   # set by _predict_history
        full_grid = np.arange(s.t0, max(end, s.grid[-1]) + 1, 1.0)
        pred = ctx.patient.predict(s.etas, full_grid, ctx.history)
        nc_day = s.next_check_day if s.decision != "stop" else None
        if s.decision == "stop":
            nc_reason = "no further dose is planned; follow the counts as usual."
        elif nc_day is not None:
            nc_reason = "re-check the counts on the rule's re-check date before the next attempt."
        else:
            nc_reason = ""
    post = ctx.post
    method = (f"sampling-importance-resampling ({len(post.samples)} samples, ESS {post.ess:.0f})"
              if getattr(post, "samples", None) is not None else "Laplace approximation at the MAP")

    def pick(key: str) -> float:
        return chosen[key] if chosen is not None else math.nan

    return DosePlan(
        patient_id=str(rec.id), drug=ctx.drug.name, decision=s.decision, reason=s.reason,
        date=rec.date_of(chosen["day"]) if chosen is not None else None,
        day=chosen["day"] if chosen is not None else None,
        dose=chosen["dose"] if chosen is not None else None, dose_unit=ctx.unit,
        mg=chosen["mg"] if chosen is not None else None,
        duration_h=ctx.duration_h if ctx.route != "oral" else None, route=ctx.route,
        administration=administration(ctx, chosen), kind=kind, target=s.target, max_risk_grade3=s.max_risk,
        risk_kinds=s.risk_kinds, p_target=pick("p_target"), p_grade3=pick("p_grade3"), p_grade4=pick("p_grade4"),
        risk_grade=s.risk_grade, nadir_median=pick("nadir_median"), nadir_p5=pick("nadir_p5"),
        nadir_p95=pick("nadir_p95"), nadir_day=pick("nadir_day"),
        checks=pd.DataFrame(s.rows, columns=["rule", "status", "value", "limit", "reason"]),
        candidates=cand_frame, predicted=predicted_table(rec, full_grid, pred, s.sigma), parameters=parameter_table(post),
        next_count_date=rec.date_of(nc_day) if nc_day is not None else None, next_count_day=nc_day,
        next_count_reason=nc_reason, requested_on=rec.date_of(s.on_day), cycle_d=ctx.cycle_d,
        region=ctx.region, mg_basis=mg_basis(ctx), cumulative=s.cumulative, posterior_method=method,
        n_draws=s.n_draws, seed=s.seed, notes=tuple(s.notes), record=rec)
