"""One interpreter of the dosing rules: the facts before a course in, a decision with its reasons out.

:func:`decide` is used for simulated patients (:func:`mschemo.simulate` with rules, the exact
simulated counts) and for real ones (:func:`mschemo.recommend_dose`: measured counts with their
dates, or the posterior's prediction where none is recent; an LVEF with its date). The facts say
which kind each value is (:class:`Reading`); the rules act the same way on all of them:

1. covariate and count rules, in the file's order: the first that fails decides (``delay`` while the
   delay so far plus the next attempt stays within the rule's longest delay, then
   ``after_max_delay``; or ``withhold``, ``stop``); a value missing, older than the rule's
   ``valid_for`` or only predicted above the limit is a check to make ("to-check"), not a failure;
2. titration: the dose from the previous course's nadir (when both are known);
3. the lifetime cap in force: a course that would pass it is not given and treatment stops.

>>> from mschemo.dosing import BodySize, Course, read_rules
>>> from mschemo.regimen import Dose
>>> rules = read_rules({"rules": [{"kind": "count", "output": "anc", "minimum": 1.5, "action": "withhold",
...                                "label": "ANC >= 1.5", "assumption": "example"}]}, "example")
>>> course = Course(0.0, (Dose(time_d=0.0, amount=12.0, unit="mg/m2"),))
>>> facts = PreDose(course=1, planned=course, body=BodySize(1.8, 70.0), counts={"anc": Reading(1.2)})
>>> decide(rules, facts).action
'withhold'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .actions import recorded
from .courses import BodySize, Course
from .rules import CountRule, CovariateRule, CumulativeCap, DosingRules, NadirTitration

__all__ = ["Reading", "PreDose", "Check", "Decision", "decide", "checklist", "count_name"]

_TIME_EPS = 1e-9
#: covariates that have a clinical name, a unit and a way to measure them
_COVARIATES = {"lvef_pct": ("LVEF", "%", "echocardiography or MUGA")}


def count_name(output: str) -> str:
    """"anc" -> "ANC"."""
    return output.upper()


@dataclass(frozen=True)
class Reading:
    """One value a rule reads before the dose.

    kind: "simulated" (the model's own patient, exact on the day), "measured" (with ``age_d``, the
    days from the measurement to the dose, and ``date`` as text) or "predicted" (posterior draws of
    the value on the day, ``draws``, with the residual SD of its log, ``sigma``).
    """

    value: float
    kind: str = "simulated"
    age_d: float = 0.0
    date: str = ""
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)
    sigma: float = 0.3

    @classmethod
    def measured(cls, value: float, age_d: float, date: str) -> Reading:
        return cls(float(value), "measured", float(age_d), str(date))

    @classmethod
    def predicted(cls, draws: np.ndarray, sigma: float) -> Reading:
        """From draws of the value on the dose day (non-finite and non-positive draws are left out)."""
        f = np.asarray(draws, dtype=float)
        f = f[np.isfinite(f) & (f > 0)]
        return cls(float(np.median(f)) if f.size else math.nan, "predicted", draws=f, sigma=float(sigma))

    def p_at_least(self, limit: float) -> float:
        """A prediction's probability that the value measured on the day is >= ``limit`` (residual
        error included)."""
        if self.draws is None or not self.draws.size:
            return math.nan
        from scipy.stats import norm

        return float(np.mean(norm.sf((math.log(limit) - np.log(self.draws)) / self.sigma)))


@dataclass(frozen=True)
class PreDose:
    """What is known before course ``course`` (1-based) of the ``planned`` doses.

    counts: the latest reading of each count ("anc", "wbc", "alc"); predicted: the posterior's
    reading where no measured one is recent (real patients only). covariates: the latest reading of
    each covariate a rule reads (missing: not in the record). given: the courses given so far as
    (amount, unit), for the lifetime dose; previous: the last course given (amount, unit) and
    previous_nadirs: its nadir of each count, for titration. delayed_d: days this course has been
    delayed so far; next_try_d: days to the next attempt if it is delayed again (default: the rule's
    re-check interval). date: the dose day as text ("2026-03-31"; empty for simulated patients).
    """

    course: int
    planned: Course
    body: BodySize
    counts: Mapping[str, Reading] = field(default_factory=dict)
    predicted: Mapping[str, Reading] = field(default_factory=dict)
    covariates: Mapping[str, Reading] = field(default_factory=dict)
    given: Sequence[tuple[float, str]] = ()
    previous: tuple[float, str] | None = None
    previous_nadirs: Mapping[str, float] = field(default_factory=dict)
    delayed_d: float = 0.0
    next_try_d: float | None = None
    date: str = ""


@dataclass(frozen=True)
class Check:
    """One rule checked: ``status`` pass, fail or to-check, with the value read and the limit."""

    rule: str                 # the rule's label (the drug file's sentence)
    name: str                 # what was checked, e.g. "ANC >= 1.5 x10^9/L before the dose"
    kind: str                 # count, covariate, titration, cumulative
    subject: str              # what was read, e.g. "ANC", "LVEF", "lifetime dose"
    status: str
    value: float
    limit: float
    value_text: str
    limit_text: str
    reason: str
    action: str = ""          # a fail: what the rule does (delay, withhold, stop)


@dataclass(frozen=True)
class Decision:
    """What to do with the course: ``action`` (give, reduce, increase, delay, withhold, stop), the
    course to give (titrated; None when not given), the deciding rule with its value and limit, the
    reason, and every check made. ``recheck_d``: a delay's days to the next attempt.
    ``max_delay_reached``: a count still fails at the rule's longest delay. ``lifetime``: the lifetime
    dose in the cap's unit (``lifetime_unit``), after this course when it is given."""

    action: str
    course: Course | None
    rule: str
    value: float
    limit: float
    reason: str
    checks: tuple[Check, ...]
    recheck_d: float = 0.0
    max_delay_reached: bool = False
    lifetime: float = 0.0
    lifetime_unit: str = ""
    lifetime_before: float = 0.0

    @property
    def given(self) -> bool:
        return self.course is not None

    @property
    def recorded(self) -> str:
        """The decisions table's word ("given", "delayed", ...)."""
        return recorded(self.action)

    @property
    def status(self) -> str:
        """fail if a check failed, to-check if one needs a measurement, else pass."""
        statuses = {c.status for c in self.checks}
        return "fail" if "fail" in statuses else "to-check" if "to-check" in statuses else "pass"

    def failed(self) -> Check | None:
        """The check that decided a refusal (None when the course is given)."""
        return next((c for c in self.checks if c.status == "fail"), None)


# -- checks of one rule ------------------------------------------------------------------------------
def _covariate_check(r: CovariateRule, reading: Reading | None, date: str) -> Check:
    name, unit, how = _COVARIATES.get(r.covariate, (r.covariate, "", ""))
    if reading is not None and reading.kind == "simulated":     # the simulated patient's short texts
        v, lim, vt = reading.value, f"{r.minimum:g}", f"{reading.value:.3g}"
        ok = v >= r.minimum
        return Check(r.label, f"{r.covariate} >= {lim}", "covariate", name, "pass" if ok else "fail", v, r.minimum, vt,
                     ">= " + lim, f"{r.covariate} {vt} >= {lim}" if ok else f"{r.covariate} {vt} is below {lim}", r.action)
    u = f" {unit}" if unit else ""
    common: dict[str, Any] = dict(rule=r.label, kind="covariate", subject=name, limit=r.minimum, action=r.action)
    title = f"{name} >= {r.minimum:g}{u} before the dose" if unit else f"{name} >= {r.minimum:g}"
    limit = f">= {r.minimum:g}{u}"
    if reading is None:
        what = f"the record has no {name} before {date}" if unit else f"the record has no {name}"
        measure = f"measure it ({how}) before the dose" if how else "measure it before the dose"
        return Check(name=title, status="to-check", value=math.nan, value_text="not in the record", limit_text=limit,
                     reason=f"{what}; {measure} ({r.label}).", **common)
    v = reading.value
    when = f" ({reading.date})" if reading.date else ""
    on = f" on {reading.date}" if reading.date else ""
    if v < r.minimum:
        text = (f"{name} {v:g}{u}{on} is below {r.minimum:g}{u}: no further dose ({r.label})." if unit
                else f"{name} {v:g} is below {r.minimum:g} ({r.label}).")
        return Check(name=title, status="fail", value=v, value_text=f"{v:g}{u}{when}", limit_text=limit, reason=text,
                     **common)
    if reading.age_d > r.valid_d:
        return Check(name=title, status="to-check", value=v,
                     value_text=f"{v:g}{u} ({reading.date}, {reading.age_d:.0f} days old)", limit_text=limit,
                     reason=f"the latest {name}, {v:g}{u}{on}, is {reading.age_d:.0f} days before {date} (more than "
                            f"{r.valid_d:g} days); measure it again before the dose.", **common)
    text = (f"{name} {v:g}{u}{on} ({reading.age_d:.0f} days before the dose) meets the limit of {r.minimum:g}{u}."
            if unit else f"{name} {v:g} meets the limit.")
    return Check(name=title, status="pass", value=v, value_text=f"{v:g}{u}{when}", limit_text=limit, reason=text,
                 **common)


def _count_check(r: CountRule, facts: PreDose) -> Check:
    label = count_name(r.output)
    reading = facts.counts.get(r.output)
    if reading is not None and reading.kind == "simulated":     # the simulated patient's short texts
        v, lim, vt = reading.value, f"{r.minimum:g}", f"{reading.value:.2f}"
        ok = v >= r.minimum
        return Check(r.label, f"{label} >= {lim}", "count", label, "pass" if ok else "fail", v, r.minimum, vt, ">= " + lim,
                     f"{label} {vt} >= {lim}" if ok else f"{label} {vt} x10^9/L is below {lim}", r.action)
    common: dict[str, Any] = dict(rule=r.label, kind="count", subject=label, limit=r.minimum, action=r.action)
    name = f"{label} >= {r.minimum:g} x10^9/L before the dose"
    limit = f">= {r.minimum:g} x10^9/L"
    date, days = facts.date, f"{r.valid_d:g} days"
    if reading is not None and reading.age_d <= r.valid_d:
        v, when = reading.value, f"measured {reading.date}"
        if v >= r.minimum:
            return Check(name=name, status="pass", value=v, value_text=f"{v:g} ({when})", limit_text=limit,
                         reason=f"{label} {v:g} x10^9/L {when}, within {days} of {date}, meets the label limit of "
                                f"{r.minimum:g}.", **common)
        return Check(name=name, status="fail", value=v, value_text=f"{v:g} ({when})", limit_text=limit,
                     reason=f"{label} {v:g} x10^9/L {when} is below the label limit of {r.minimum:g}, so the dose "
                            f"cannot be given on {date} ({r.label}).", **common)
    pred = facts.predicted.get(r.output)
    if pred is None:
        return Check(name=name, status="to-check", value=math.nan, value_text="not measured", limit_text=limit,
                     reason=f"no {label} within {days} of {date} and the model does not predict it; measure it "
                            "before the dose.", **common)
    med, p = pred.value, pred.p_at_least(r.minimum)
    shown = f"{med:.2f}" if math.isfinite(med) else "n/a"
    said = (f"no {label} measured within {days} of {date}; the posterior predicts {shown} x10^9/L "
            f"(P(>= {r.minimum:g}) {p:.0%})")
    if not med >= r.minimum:
        return Check(name=name, status="fail", value=med, value_text=f"{shown} (predicted)", limit_text=limit,
                     reason=f"{said}, below the label limit, so the dose waits ({r.label}).", **common)
    return Check(name=name, status="to-check", value=med, value_text=f"{shown} (predicted)", limit_text=limit,
                 reason=f"{said}; measure it before the dose - the label rule needs a measured count.", **common)


# -- the decision ------------------------------------------------------------------------------------
def decide(rules: DosingRules, facts: PreDose) -> Decision:
    """The decision on course ``facts.course`` under the rules in force (see the module's docstring)."""
    in_force = rules.in_force()
    no = facts.course
    course = facts.planned
    caps = [r for r in in_force if isinstance(r, CumulativeCap)]
    cap_unit = caps[0].unit if caps else ""
    totals: dict[str, float] = {}

    def lifetime(unit: str) -> float:
        """The lifetime dose before this course, in ``unit`` (summed once per unit)."""
        if unit not in totals:
            totals[unit] = facts.body.total(facts.given, unit)
        return totals[unit]

    before = lifetime(cap_unit) if caps else 0.0
    checks: list[Check] = []

    def refuse(action: str, check: Check, reason: str, recheck: float = 0.0, max_reached: bool = False) -> Decision:
        return Decision(action, None, check.rule, check.value, check.limit, reason, tuple(checks), recheck,
                        max_reached, before, cap_unit, before)

    for r in in_force:
        if not r.applies_to(no):
            continue
        if isinstance(r, CovariateRule):
            check = _covariate_check(r, facts.covariates.get(r.covariate), facts.date)
        elif isinstance(r, CountRule):
            check = _count_check(r, facts)
        else:
            continue
        checks.append(check)
        if check.status != "fail":
            continue
        if not (isinstance(r, CountRule) and r.action == "delay"):
            return refuse(r.action, check, check.reason)
        step = r.recheck_d if facts.next_try_d is None else facts.next_try_d
        simulated = facts.counts.get(r.output) is not None and facts.counts[r.output].kind == "simulated"
        if facts.delayed_d + step <= r.max_delay_d + _TIME_EPS:
            why = f"{check.reason}; re-check in {r.recheck_d:g} days" if simulated else check.reason
            return refuse("delay", check, why, r.recheck_d)
        why = (f"{count_name(r.output)} {check.value:.2f} x10^9/L is still below {r.minimum:g} after "
               f"{facts.delayed_d:g} days of delay" if simulated else check.reason)
        return refuse(r.after_max_delay, check, why, r.recheck_d, True)

    action = "give"
    passed = [c for c in checks if c.status == "pass"]
    reason = ("all checks passed" + (": " + "; ".join(c.reason for c in passed) if passed else "")) if in_force \
        else "no dosing rules"
    rule, value, limit = (passed[-1].rule, passed[-1].value, passed[-1].limit) if passed else ("", math.nan, math.nan)
    for r in in_force:
        if not (isinstance(r, NadirTitration) and r.applies_to(no) and facts.previous is not None
                and facts.previous_nadirs):
            continue
        nadir = facts.previous_nadirs[r.output]
        last = facts.body.convert(facts.previous[0], facts.previous[1], r.unit)
        planned = facts.body.convert(course.amount, course.unit, r.unit)
        new, band = r.next_dose(last, nadir)
        if course.amount:
            course = course.scaled(facts.body.convert(new, r.unit, course.unit) / course.amount)
        action = "reduce" if new < last - 1e-9 else "increase" if new > last + 1e-9 else "give"
        reason = (f"previous {count_name(r.output)} nadir {nadir:.2f} x10^9/L: dose {new:g} {r.unit} "
                  f"(previous {last:g}, planned {planned:g})")
        rule, value, limit = r.label, nadir, band.below
        checks.append(Check(rule=r.label, name=f"dose from the previous {count_name(r.output)} nadir", kind="titration",
                            subject=count_name(r.output), status="pass", value=nadir, limit=band.below, value_text=f"{nadir:.2f}",
                            limit_text=f"< {band.below:g}", reason=reason))
    after = before
    for r in caps:
        if not r.applies_to(no):
            continue
        before = lifetime(r.unit)
        added = facts.body.convert(course.amount, course.unit, r.unit)
        after = before + added
        where = f"{r.region.upper()} " if r.region else ""
        if after > r.limit * (1.0 + 1e-9):
            check = Check(rule=r.label, name=r.label, kind="cumulative", subject="lifetime dose", status="fail", value=after, limit=r.limit,
                          value_text=f"{before:g} {r.unit} given", limit_text=f"<= {r.limit:g} {r.unit}",
                          reason=f"this course would bring the lifetime dose to {after:g} {r.unit}, above the "
                                 f"{where}limit of {r.limit:g} {r.unit}", action="stop")
            checks.append(check)
            return refuse("stop", check, check.reason)
        others = [f"the {c.region.upper()} cap of {c.limit:g} {c.unit} is passed" for c in rules.rules
                  if isinstance(c, CumulativeCap) and c is not r and c.region and c.unit == r.unit and after > c.limit]
        tail = f" ({'; '.join(others)})" if others else ""
        checks.append(Check(rule=r.label, name=r.label, kind="cumulative", subject="lifetime dose", status="pass", value=after, limit=r.limit,
                            value_text=f"{before:g} + {added:g} = {after:g} {r.unit}",
                            limit_text=f"<= {r.limit:g} {r.unit}" + (f" ({r.region.upper()})" if r.region else ""),
                            reason=f"after this dose the lifetime dose would be {after:g} of {r.limit:g} {r.unit}"
                                   + (f" ({r.region.upper()})" if r.region else "") + f"{tail}."))
    return Decision(action, course, rule, value, limit, reason, tuple(checks), 0.0, False, after, cap_unit, before)


def checklist(rules: DosingRules, facts: PreDose) -> tuple[Check, ...]:
    """Every rule in force for course ``facts.course`` checked on its own, in the file's order: a
    failing count does not hide the LVEF or the lifetime dose (the give-or-hold list at the chair).
    :func:`decide` gives the decision; this gives the whole list."""
    out: list[Check] = []
    for r in rules.in_force():
        if not r.applies_to(facts.course):
            continue
        # the caps of other regions stay (not in force) so that a cap's check says which of them is passed
        alone = tuple(x for x in rules.rules if x is r or (isinstance(x, CumulativeCap) and x not in rules.in_force()))
        out.extend(c for c in decide(replace(rules, rules=alone), facts).checks if c.rule == r.label)
    return tuple(out)
