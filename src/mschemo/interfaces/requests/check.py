"""A give-or-hold request: today's facts at the infusion chair (counts, LVEF, the lifetime dose so
far, the planned dose) checked against every label rule of the drug; the decision and its list.

>>> from mschemo.interfaces.requests import API, CheckRequest
>>> job = CheckRequest(drug="mitoxantrone", anc="1.3", lvef="60", given="108 mg/m2").resolve(API)
>>> result = job.run()
>>> result.verdict, result.decision.action
('hold', 'delay')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ...errors import MschemoError, OptionError
from ...regimen.dose import MAX_AMOUNT
from .base import Request, Spelling, choice, number, quote, whole_number

__all__ = ["CheckRequest", "CheckJob", "CheckResult", "VERDICTS"]

#: the verdict at the chair, from the decision and its checks
VERDICTS = {
    "give": "every label rule passes: the dose may be given",
    "check first": "no rule fails, but a value is missing or too old: measure it, then check again",
    "hold": "a count is below the label limit: do not give today; re-check",
    "skip": "a rule fails at its longest delay: this course is skipped",
    "stop": "a label rule ends treatment: no further dose",
}
COUNTS = ("anc", "wbc", "alc")
#: the highest course number a check may be for, and the furthest a date may lie ahead of today (days)
MAX_COURSE, MAX_AHEAD_D = 100, 3653


class CheckRequest(Request):
    """Today's facts for one planned dose, as asked (text as typed; counts in 10^9/L unless a unit is given)."""

    drug: str
    date: str | None = None
    dose: str | None = None
    course: str | int | None = None
    anc: str | float | None = None
    wbc: str | float | None = None
    alc: str | float | None = None
    counts_date: str | None = None
    lvef: str | float | None = None
    lvef_date: str | None = None
    given: str | None = None
    height: str | None = None
    weight: str | None = None
    cap_region: str | None = None

    def resolve(self, sp: Spelling) -> CheckJob:
        from ...drugs import available_drugs, load_drug
        from ...units import parse_count, parse_dose, parse_height, parse_weight

        name = choice(self.drug, sp("drug"), tuple(available_drugs()))
        drug = load_drug(name)
        today = _date(self.date, sp("date"), sp) or dt.date.today()
        course = whole_number(self.course, sp("course"), 1, "2", MAX_COURSE)
        counts = {}
        for key in COUNTS:
            value = getattr(self, key)
            if value is None or not str(value).strip():
                continue
            text = str(value).strip()
            if _bare_number(text):
                text += " x10^9/L"
            try:
                counts[key] = parse_count(text, sp(key))
            except MschemoError as exc:
                raise OptionError(str(exc)) from None
            if not 0 <= counts[key] < 200:
                raise OptionError(f"{sp(key)} {value} is not a plausible count; give it in 10^9/L (e.g. "
                                  f"{sp.eg(key, '1.8')}) or with its unit (e.g. 1800 /uL).")
        counts_on = _date(self.counts_date, sp("counts_date"), sp) or today
        lvef = number(self.lvef, sp("lvef"), "60") if self.lvef is not None and str(self.lvef).strip() else None
        if lvef is not None and not 5 <= lvef <= 90:
            raise OptionError(f"{sp('lvef')} {self.lvef} is not an ejection fraction in %; give e.g. {sp.eg('lvef', '60')}.")
        lvef_on = _date(self.lvef_date, sp("lvef_date"), sp) or today
        for what, when in ((sp("counts_date"), counts_on), (sp("lvef_date"), lvef_on)):
            if when > today:
                raise OptionError(f"{what} {when} is after the dose date {today}; give the date it was measured.")
        try:
            planned = parse_dose(self.dose, sp("dose")) if self.dose else None
            given = parse_dose(self.given, sp("given")) if self.given else None
            height = parse_height(self.height, sp("height")) if self.height else None
            weight = parse_weight(self.weight, sp("weight")) if self.weight else None
        except MschemoError as exc:
            raise OptionError(str(exc)) from None
        for what, dose in ((sp("dose"), planned), (sp("given"), given)):
            if dose is not None and dose[0] > MAX_AMOUNT:
                raise OptionError(f"{what} {dose[0]:.4g} {dose[1]} is more than {MAX_AMOUNT:,.0f}; check the amount "
                                  "and its unit.")
        if planned is None:
            planned = _label_dose(drug, sp)
        region = choice(self.cap_region, sp("cap_region"), ("us", "eu"))
        if region is not None and region not in drug.rules.regions:
            raise OptionError(f"{sp('cap_region')} applies to drugs with a lifetime cap; {name} has none, so leave it out.")
        units = {planned[1]} | ({given[1]} if given else set())
        if len(units) > 1 or "mg" in units and any(u != "mg" for u in units):
            if "mg/m2" in units and (height is None or weight is None):
                raise OptionError(f"the doses are in {' and '.join(sorted(units))}; give {sp('height')} and "
                                  f"{sp('weight')} to convert (e.g. {sp.eg('height', '170 cm')}).")
            if "mg/kg" in units and weight is None:
                raise OptionError(f"the doses are in {' and '.join(sorted(units))}; give {sp('weight')} to convert "
                                  f"(e.g. {sp.eg('weight', '70 kg')}).")
        if course is None:
            course = 2 if given is not None and given[0] > 0 else 1
        return CheckJob(drug, today, course, planned, counts, counts_on, lvef, lvef_on, given, height, weight,
                        region or "us")


def _bare_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _date(text: str | None, option: str, sp: Spelling) -> dt.date | None:
    if text is None or not str(text).strip():
        return None
    try:
        day = dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise OptionError(f"{option} {quote(text, 40)} is not a date; write YYYY-MM-DD, e.g. "
                          f"{sp.eg(option.lstrip('-'), '2026-03-31')}.") from None
    if (day - dt.date.today()).days > MAX_AHEAD_D:
        raise OptionError(f"{option} {day} is more than 10 years after today; check the year.")
    return day


def _label_dose(drug: Any, sp: Spelling) -> tuple[float, str]:
    """The first dose of the drug's label regimen (amount, unit)."""
    from ...regimen import Regimen

    try:
        first = Regimen.parse(drug.default_regimen).doses[0]
    except (MschemoError, IndexError):
        raise OptionError(f"{drug.name}'s label dose is built per patient; give {sp.eg('dose', '1.75 mg/kg')}.") from None
    return first.amount, first.unit


@dataclass
class CheckResult:
    """The decision on today's dose, every rule's check, and the verdict at the chair."""

    drug: str
    date: dt.date
    course: int
    dose_text: str
    decision: Any
    checks: tuple[Any, ...]
    verdict: str
    recheck_date: dt.date | None

    @property
    def verdict_text(self) -> str:
        return VERDICTS[self.verdict]


@dataclass
class CheckJob:
    """A checked give-or-hold request."""

    drug: Any
    date: dt.date
    course: int
    planned: tuple[float, str]
    counts: dict[str, float]
    counts_on: dt.date
    lvef: float | None
    lvef_on: dt.date
    given: tuple[float, str] | None
    height_cm: float | None
    weight_kg: float | None
    region: str

    def facts(self) -> Any:
        from ...dosing import BodySize, Course, PreDose, Reading
        from ...population import body_surface_area
        from ...regimen import Dose

        weight = self.weight_kg or 70.0
        bsa = float(body_surface_area(self.height_cm, weight)) if self.height_cm else 1.8
        age = float((self.date - self.counts_on).days)
        counts = {k: Reading.measured(v, age, self.counts_on.isoformat()) for k, v in self.counts.items()}
        covariates = {}
        if self.lvef is not None:
            covariates["lvef_pct"] = Reading.measured(self.lvef, float((self.date - self.lvef_on).days),
                                                      self.lvef_on.isoformat())
        course = Course(0.0, (Dose(time_d=0.0, amount=self.planned[0], unit=self.planned[1]),))
        return PreDose(course=self.course, planned=course, body=BodySize(bsa, weight), counts=counts,
                       covariates=covariates, given=[self.given] if self.given else [], date=self.date.isoformat())

    def run(self) -> CheckResult:
        from ...dosing import checklist, decide

        rules = self.drug.rules.with_region(self.region) if self.drug.rules.regions else self.drug.rules
        facts = self.facts()
        decision = decide(rules, facts)
        checks = checklist(rules, facts)
        statuses = {c.status for c in checks}
        action = decision.action
        if action == "stop":
            verdict = "stop"
        elif action == "withhold":
            verdict = "skip"
        elif action == "delay" or "fail" in statuses:
            verdict = "hold"
        elif "to-check" in statuses:
            verdict = "check first"
        else:
            verdict = "give"
        recheck = self.date + dt.timedelta(days=decision.recheck_d) if action == "delay" and decision.recheck_d else None
        amount, unit = self.planned
        return CheckResult(self.drug.name, self.date, self.course, f"{amount:g} {unit}", decision, checks, verdict,
                           recheck)
