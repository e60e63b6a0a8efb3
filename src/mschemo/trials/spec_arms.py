"""What each arm gives: treatment phases (a drug or a disease-modifying therapy), co-medication,
how relapses are treated and the allocation weight."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..units import parse_duration
from .spec_base import _duration_or_zero, _positive_interval, _Strict

__all__ = ["Arm", "Phase", "Comedication", "STEROID_RULES"]


def _mg_cap(v: str | None) -> str | None:
    if v is not None:
        from ..units import parse_dose
        amount, unit = parse_dose(v, "max_dose")
        if unit != "mg" or amount <= 0:
            raise ValueError(f"'{v}' is not a dose in mg; give the largest single dose, such as '20 mg'")
    return v


class Phase(_Strict):
    """One phase of an arm's treatment: a drug (regimen, rules, cap region, options, a per-dose cap in
    mg) or a disease-modifying therapy, from ``start`` (a time after randomisation) or from the day of
    course ``start_after_course`` of the arm's drug (plus ``start``), until ``stop`` (a time)."""

    drug: str | None = None
    regimen: str | None = None
    rules: bool = True
    cap_region: str | None = None
    options: list[str] = Field(default_factory=list)
    max_dose: str | None = None
    dmt: str | None = None
    start: str = "0 days"
    start_after_course: int | None = Field(default=None, ge=1)
    stop: str | None = None

    @field_validator("start", "stop")
    @classmethod
    def _times(cls, v: str | None) -> str | None:
        return None if v is None else _duration_or_zero(v)

    @field_validator("max_dose")
    @classmethod
    def _cap(cls, v: str | None) -> str | None:
        return _mg_cap(v)

    @model_validator(mode="after")
    def _check(self) -> Phase:
        if (self.drug is None) == (self.dmt is None):
            raise ValueError("a phase has either a drug or a dmt")
        if self.drug is None and (self.regimen or self.options or self.cap_region or self.max_dose):
            raise ValueError("regimen, options, cap_region and max_dose need a drug")
        if self.drug is not None and self.start_after_course is not None:
            raise ValueError("start_after_course starts a dmt after the arm's drug; a drug phase starts at a time")
        if self.stop is not None and parse_duration(self.stop, "stop") <= parse_duration(self.start, "start"):
            raise ValueError(f"stop '{self.stop}' is not after start '{self.start}'")
        return self

    @property
    def start_d(self) -> float:
        return parse_duration(self.start, "start")

    @property
    def stop_d(self) -> float:
        return math.inf if self.stop is None else parse_duration(self.stop, "stop")


class Comedication(_Strict):
    """Scheduled pulses of a co-medication given to every patient of the arm (e.g. methylprednisolone
    1 g monthly for 6 months). Methylprednisolone pulses do not change the relapse rate; a relapse
    that starts within RECOVERY_WINDOW days after a pulse recovers as a steroid-treated one (an
    assumption, docs/trials.md)."""

    name: Literal["methylprednisolone"]
    dose: str = "1 g"
    every: str
    start: str = "0 days"
    count: int = Field(ge=1, le=1000)

    @field_validator("every")
    @classmethod
    def _every(cls, v: str) -> str:
        return _positive_interval(v)

    @field_validator("start")
    @classmethod
    def _start(cls, v: str) -> str:
        return _duration_or_zero(v)

    def days(self) -> list[float]:
        t0, step = parse_duration(self.start, "start"), parse_duration(self.every, "every")
        return [t0 + k * step for k in range(self.count)]


STEROID_RULES = ("all", "moderate_or_severe", "severe", "none")


class Arm(_Strict):
    """One arm: its treatment phases (or the one-phase shorthand ``drug``/``regimen``/``dmt``),
    co-medication, how relapses are treated and its allocation weight."""

    name: str = Field(min_length=1, max_length=80)
    drug: str | None = None
    regimen: str | None = None            # the drug's label regimen when absent
    rules: bool = True                    # the drug's dosing rules (counts, LVEF, cap)
    cap_region: str | None = None
    options: list[str] = Field(default_factory=list)
    max_dose: str | None = None
    dmt: str | None = None                # a disease-modifying therapy by name (relapse-rate ratio)
    phases: list[Phase] = Field(default_factory=list)
    comedication: list[Comedication] = Field(default_factory=list)
    ratio: int = Field(default=1, ge=1, le=100)   # allocation weight
    steroids: bool | Literal["all", "moderate_or_severe", "severe", "none"] = "all"
    plasma_exchange: bool = False

    @field_validator("max_dose")
    @classmethod
    def _cap(cls, v: str | None) -> str | None:
        return _mg_cap(v)

    @model_validator(mode="after")
    def _check(self) -> Arm:
        short = self.drug is not None or self.dmt is not None
        if self.drug is None and (self.regimen or self.options or self.cap_region or self.max_dose):
            raise ValueError("regimen, options, cap_region and max_dose need a drug")
        if short and self.phases:
            raise ValueError("give either phases or drug/dmt, not both")
        drugs = {p.drug for p in self.phases if p.drug is not None}
        if len(drugs) > 1:
            raise ValueError(f"the phases give {len(drugs)} drugs ({', '.join(sorted(drugs))}); an arm simulates one drug's counts")
        runs = sorted((p.start_d, p.stop_d) for p in self.phases if p.drug is not None)
        for (_, a1), (b0, _) in zip(runs, runs[1:]):
            if b0 < a1:
                raise ValueError("two drug phases overlap; give the second a start after the first one's stop")
        dmts = sorted((p.start_d, p.stop_d) for p in self.phases if p.dmt is not None and p.start_after_course is None)
        for (_, a1), (b0, _) in zip(dmts, dmts[1:]):
            if b0 < a1:
                raise ValueError("two dmt phases overlap; give the second a start after the first one's stop")
        if any(p.start_after_course is not None for p in self.phases) and not drugs:
            raise ValueError("start_after_course needs a drug phase in the same arm")
        return self

    @property
    def steroid_rule(self) -> str:
        """Which relapses get corticosteroids: all, moderate_or_severe, severe or none."""
        return ("all" if self.steroids else "none") if isinstance(self.steroids, bool) else self.steroids

    def plan(self) -> list[Phase]:
        """The arm's phases (the shorthand as one phase from day 0)."""
        if self.phases:
            return list(self.phases)
        out = []
        if self.drug is not None:
            out.append(Phase(drug=self.drug, regimen=self.regimen, rules=self.rules, cap_region=self.cap_region,
                             options=self.options, max_dose=self.max_dose))
        if self.dmt is not None:
            out.append(Phase(dmt=self.dmt))
        return out

    @property
    def drug_name(self) -> str | None:
        return next((p.drug for p in self.plan() if p.drug is not None), None)
