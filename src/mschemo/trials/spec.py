"""A trial spec: population, eligibility, arms, duration, visits and seed, from a TOML or YAML file.

    name = "Mitoxantrone in worsening MS"
    duration = "2 years"
    seed = 1
    reference = "placebo"
    [population]
    age_y = { distribution = "normal", mean = 40, sd = 8, lower = 18, upper = 55 }
    ms_course = { distribution = "categorical", values = ["RRMS", "SPMS"], p = [0.5, 0.5] }
    edss = { distribution = "normal", mean = 4.5, sd = 1.0, lower = 0, upper = 9.5 }
    [[eligibility]]
    field = "edss"
    min = 3.0
    max = 6.0
    [[arms]]
    name = "placebo"
    [[arms]]
    name = "mitoxantrone 12 mg/m2"
    drug = "mitoxantrone"
    regimen = "12 mg/m2 over 30 min every 3 months x 8"
    [visits]
    counts_every = "1 month"
    edss_every = "3 months"

Validation is pydantic's; every problem is reported as one sentence with its location
("arms[2].regimen: ..."). Population fields take the distributions of PopulationSpec covariates.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import InputError
from ..population import Covariate
from ..units import parse_duration

__all__ = ["TrialSpec", "Arm", "Criterion", "Visits", "TrialSpecError", "DEFAULT_POPULATION"]


class TrialSpecError(InputError):
    """A trial spec that cannot be run (one sentence with its location)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Distribution(_Strict):
    """One baseline characteristic's distribution (as PopulationSpec covariates)."""

    distribution: Literal["normal", "lognormal", "uniform", "categorical", "fixed"]
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    cv: float | None = None
    low: float | None = None
    high: float | None = None
    values: list[Any] | None = None
    p: list[float] | None = None
    value: Any = None
    lower: float = -math.inf
    upper: float = math.inf

    def covariate(self, name: str) -> Covariate:
        params = {k: v for k, v in self.model_dump(exclude={"distribution", "lower", "upper"}).items() if v is not None}
        return Covariate(name, self.distribution, params, self.lower, self.upper)


# assumption-marked defaults: a relapsing-MS trial cohort (ms_disease_facts.md section 6: AFFIRM
# age 36.0 (8.3), 70 % women, EDSS 2.3 (1.2); NO.MS RRMS 38.7 (8.9), 73.6 % women; disease
# duration median category 5-10 years).
DEFAULT_POPULATION: dict[str, dict[str, Any]] = {
    "age_y": {"distribution": "normal", "mean": 37.0, "sd": 8.5, "lower": 18.0, "upper": 55.0},
    "sex": {"distribution": "categorical", "values": ["F", "M"], "p": [0.7, 0.3]},
    "height_cm": {"distribution": "normal", "mean": 168.0, "sd": 9.0, "lower": 140.0, "upper": 205.0},
    "weight_kg": {"distribution": "lognormal", "median": 72.0, "cv": 0.20, "lower": 40.0, "upper": 150.0},
    "ms_course": {"distribution": "categorical", "values": ["RRMS"], "p": [1.0]},
    "edss": {"distribution": "normal", "mean": 2.3, "sd": 1.2, "lower": 0.0, "upper": 6.5},
    "ms_duration_y": {"distribution": "lognormal", "median": 6.0, "cv": 0.7, "lower": 0.5, "upper": 30.0},
}
WORSENING_FIELDS = {"edss_worsening_1y": 365.25, "edss_worsening_18m": 547.875, "edss_worsening_2y": 730.5}
NUMERIC_FIELDS = ("age_y", "height_cm", "weight_kg", "edss", "ms_duration_y", "prior_relapses_1y", "prior_relapses_2y",
                  *WORSENING_FIELDS, "bsa_m2")
HISTORY_FIELDS = ("bsa_m2", "prior_relapses_1y", "prior_relapses_2y", *WORSENING_FIELDS)   # worked out at screening
CATEGORICAL_FIELDS = ("sex", "ms_course")


def _positive_interval(v: str) -> str:
    if parse_duration(v, "interval") <= 0:
        raise ValueError(f"'{v}' is not a positive interval; give one such as '3 months'")
    return v


def _duration_or_zero(v: str) -> str:
    if parse_duration(v, "duration") < 0:
        raise ValueError(f"'{v}' is negative; give a duration from the start of the trial such as '9 months'")
    return v


COUNTS = ("wbc", "anc", "alc")


def _mg_cap(v: str | None) -> str | None:
    if v is not None:
        from ..units import parse_dose
        amount, unit = parse_dose(v, "max_dose")
        if unit != "mg" or amount <= 0:
            raise ValueError(f"'{v}' is not a dose in mg; give the largest single dose, such as '20 mg'")
    return v


class Criterion(_Strict):
    """An eligibility criterion on one baseline field: min/max (inclusive) or allowed values."""

    field: str
    min: float | None = None
    max: float | None = None
    values: list[str] | None = None

    @model_validator(mode="after")
    def _check(self) -> Criterion:
        if self.field not in NUMERIC_FIELDS + CATEGORICAL_FIELDS:
            raise ValueError(f"field '{self.field}' is not a baseline field; use one of {', '.join(NUMERIC_FIELDS + CATEGORICAL_FIELDS)}")
        if self.min is None and self.max is None and not self.values:
            raise ValueError("a criterion needs min, max or values")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Schedule(_Strict):
    """When counts or EDSS are measured: a regular grid (``every``), a list of ``days``, days after
    each dose (``after_each_dose``, e.g. ["10 days", "14 days"]) or the day of each dose, before it
    (``before_each_dose``). ``start``/``until`` bound a grid (the whole trial by default); ``baseline``
    adds day 0 to any kind."""

    measures: Literal["counts", "edss"] = "counts"
    every: str | None = None
    days: list[float] | None = None
    after_each_dose: list[str] | None = None
    before_each_dose: bool = False
    start: str = "0 days"
    until: str | None = None
    baseline: bool = True

    @field_validator("every")
    @classmethod
    def _every(cls, v: str | None) -> str | None:
        return None if v is None else _positive_interval(v)

    @field_validator("start", "until")
    @classmethod
    def _bounds(cls, v: str | None) -> str | None:
        return None if v is None else _duration_or_zero(v)

    @field_validator("after_each_dose")
    @classmethod
    def _after(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v:
                raise ValueError("give at least one delay, such as [\"10 days\", \"14 days\"]")
            for x in v:
                _duration_or_zero(x)
        return v

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and (not v or any(not math.isfinite(d) or d < 0 for d in v)):
            raise ValueError("give the days as numbers >= 0, such as [0, 30, 90]")
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> Schedule:
        kinds = [k for k, on in (("every", self.every is not None), ("days", self.days is not None),
                                 ("after_each_dose", self.after_each_dose is not None),
                                 ("before_each_dose", self.before_each_dose)) if on]
        if len(kinds) != 1:
            raise ValueError("a schedule takes exactly one of every, days, after_each_dose or before_each_dose"
                             + (f" (got {', '.join(kinds)})" if kinds else ""))
        if self.until is not None and parse_duration(self.until, "until") < parse_duration(self.start, "start"):
            raise ValueError(f"until '{self.until}' is before start '{self.start}'")
        return self

    @property
    def relative_to_doses(self) -> bool:
        return self.after_each_dose is not None or self.before_each_dose


class Visits(_Strict):
    """The two regular schedules of earlier specs: counts and EDSS every ... (baseline at day 0)."""

    counts_every: str = "1 month"
    edss_every: str = "3 months"

    @field_validator("counts_every", "edss_every")
    @classmethod
    def _interval(cls, v: str) -> str:
        return _positive_interval(v)


class LabCriterion(_Strict):
    """Screening on a baseline count (10^9/L): ``min``/``max`` inclusive."""

    count: Literal["wbc", "anc", "alc"]
    min: float | None = Field(default=None, ge=0.0)
    max: float | None = Field(default=None, ge=0.0)

    @model_validator(mode="after")
    def _check(self) -> LabCriterion:
        if self.min is None and self.max is None:
            raise ValueError("a lab criterion needs min or max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Screening(_Strict):
    """Screening before randomisation: baseline labs (measured with the lab error unless ``measured``
    is false). The share of candidates screened out is reported."""

    labs: list[LabCriterion] = Field(default_factory=list)
    measured: bool = True


class Measurement(_Strict):
    """How visit counts are reported: with the assay error and the day-to-day variation of a
    laboratory (both on by default), or exact (both off). The true curves are always exact."""

    assay: bool = True
    biological: bool = True


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
    count: int = Field(ge=1)

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

    name: str = Field(min_length=1)
    drug: str | None = None
    regimen: str | None = None            # the drug's label regimen when absent
    rules: bool = True                    # the drug's dosing rules (counts, LVEF, cap)
    cap_region: str | None = None
    options: list[str] = Field(default_factory=list)
    max_dose: str | None = None
    dmt: str | None = None                # a disease-modifying therapy by name (relapse-rate ratio)
    phases: list[Phase] = Field(default_factory=list)
    comedication: list[Comedication] = Field(default_factory=list)
    ratio: int = Field(default=1, ge=1)   # allocation weight
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
        return {True: "all", False: "none"}.get(self.steroids, self.steroids) if isinstance(self.steroids, bool) else self.steroids

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


ENDPOINT_KINDS = ("relapse_rate", "time_to_relapse", "relapse_free", "confirmed_progression", "confirmed_improvement",
                  "edss_change", "composite", "toxicity", "discontinuation")
RELAPSE_KINDS = ("all", "confirmed", "treated", "severe")
EVENT_KINDS = ("time_to_relapse", "confirmed_progression", "confirmed_improvement", "discontinuation", "composite")


class Steps(_Strict):
    """EDSS steps of confirmed progression (or improvement): ``from_0`` at baseline 0, ``default``,
    ``high`` from baseline above ``high_from``."""

    from_0: float = Field(default=1.5, gt=0.0, le=10.0)
    default: float = Field(default=1.0, gt=0.0, le=10.0)
    high: float = Field(default=0.5, gt=0.0, le=10.0)
    high_from: float = Field(default=5.5, ge=0.0, le=9.5)

    def step(self, baseline: float) -> float:
        return self.from_0 if baseline == 0 else (self.high if baseline > self.high_from else self.default)


class Endpoint(_Strict):
    """One endpoint, as data. kinds: relapse_rate (negative binomial), time_to_relapse and the other
    event kinds (Kaplan-Meier, Cox), relapse_free (a share), confirmed_progression and
    confirmed_improvement (EDSS ``steps`` confirmed ``confirm`` later on the ``schedule``'s visits),
    edss_change (at the visit nearest ``at``, else the last), composite (the first of its ``parts``:
    other event endpoints' names or "discontinuation"), toxicity (``count`` graded on ``scale``, at
    ``grade`` or worse, at the ``schedule``'s visits and at the true nadir), discontinuation
    (treatment stopped by a dosing rule). ``relapses`` picks which relapses count (all, confirmed,
    treated, severe); ``window`` ends the observation early (e.g. "96 weeks"); ``start`` begins it late
    (relapse_rate and relapse_free only, e.g. the years after an extension starts). A confirmed
    progression counts only when ``association`` allows it: "independent" (no relapse began within
    ``association_window`` before its onset: PIRA, NO.MS's 90 days) or "relapse_associated" (RAW); the
    first confirmed event decides, so the two partition the events of "any"."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    kind: Literal["relapse_rate", "time_to_relapse", "relapse_free", "confirmed_progression", "confirmed_improvement",
                  "edss_change", "composite", "toxicity", "discontinuation"]
    label: str | None = None
    relapses: Literal["all", "confirmed", "treated", "severe"] = "all"
    schedule: str | None = None
    confirm: str = "3 months"
    steps: Steps = Field(default_factory=Steps)
    min_baseline: float | None = Field(default=None, ge=0.0, le=9.5)
    association: Literal["any", "independent", "relapse_associated"] = "any"
    association_window: str = "90 days"
    start: str | None = None
    window: str | None = None
    at: str | None = None
    parts: list[str] = Field(default_factory=list)
    count: Literal["wbc", "anc", "alc"] | None = None
    scale: Literal["ctcae_v3", "ctcae_v4", "ctcae_v5", "who"] = "ctcae_v5"
    grade: int = Field(default=3, ge=1, le=4)

    @field_validator("confirm", "window", "at", "start", "association_window")
    @classmethod
    def _durations(cls, v: str | None) -> str | None:
        return None if v is None else _positive_interval(v)

    @model_validator(mode="after")
    def _check(self) -> Endpoint:
        if self.kind == "composite" and len(self.parts) < 2:
            raise ValueError("a composite endpoint needs at least two parts")
        if self.kind != "composite" and self.parts:
            raise ValueError("parts belong to a composite endpoint")
        if self.kind == "toxicity" and self.count is None:
            raise ValueError("a toxicity endpoint needs a count (wbc, anc or alc)")
        if self.kind == "toxicity" and self.scale == "who" and self.count == "alc":
            raise ValueError("the WHO scale has no lymphocyte grades; grade alc on ctcae_v3, ctcae_v4 or ctcae_v5")
        if self.kind != "toxicity" and self.count is not None:
            raise ValueError("count belongs to a toxicity endpoint")
        if self.at is not None and self.kind != "edss_change":
            raise ValueError("at belongs to an edss_change endpoint")
        if self.association != "any" and self.kind != "confirmed_progression":
            raise ValueError("association belongs to a confirmed_progression endpoint")
        if self.start is not None and self.kind not in ("relapse_rate", "relapse_free"):
            raise ValueError("start belongs to a relapse_rate or relapse_free endpoint")
        if self.start is not None and self.window is not None and (
                parse_duration(self.start, "start") >= parse_duration(self.window, "window")):
            raise ValueError(f"start '{self.start}' is not before window '{self.window}'")
        return self

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")


class TrialSpec(_Strict):
    """A whole trial. ``reference``: the arm effects are measured against (default: the first).

    The cohort's relapse activity comes from its patients' relapses before entry (simulated at
    screening, so that criteria on prior_relapses_1y / prior_relapses_2y select it, with regression
    to the mean), the calendar ``year`` of entry (placebo rates fell across trial eras), or is set
    directly as ``relapse_rate`` (untreated relapses a year at entry; history then only selects).
    ``schedules`` name when counts and EDSS are measured (default: ``labs``, counts monthly, and
    ``edss``, every 3 months, or the old ``[visits]``); ``endpoints`` name what is analysed (default:
    relapse rate, time to first relapse, 3- and 6-month confirmed progression, EDSS change, grade >= 3
    count decreases and WHO leukopenia).
    """

    name: str = "trial"
    description: str = ""
    duration: str = "2 years"
    seed: int = Field(default=1, ge=0, le=2**63 - 1)
    reference: str | None = None
    year: int | None = Field(default=None, ge=1950, le=2100)                 # calendar year of entry (era)
    relapse_rate: float | None = Field(default=None, gt=0.0, le=20.0)       # untreated relapses a year, set directly
    population: dict[str, Distribution] = Field(default_factory=dict)
    eligibility: list[Criterion] = Field(default_factory=list)
    screening: Screening = Field(default_factory=Screening)
    arms: list[Arm] = Field(min_length=1, max_length=20)
    visits: Visits | None = None
    schedules: dict[str, Schedule] = Field(default_factory=dict)
    measurement: Measurement = Field(default_factory=Measurement)
    confirmation: list[str] = Field(default_factory=lambda: ["3 months", "6 months"])
    endpoints: list[Endpoint] = Field(default_factory=list, max_length=50)

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: str) -> str:
        if parse_duration(v, "duration") <= 0:
            raise ValueError("give a positive duration such as '2 years'")
        return v

    @field_validator("confirmation")
    @classmethod
    def _confirmation(cls, v: list[str]) -> list[str]:
        if len(v) != 2:
            raise ValueError("give two confirmation periods, such as [\"3 months\", \"6 months\"]")
        return [_positive_interval(x) for x in v]

    @field_validator("population")
    @classmethod
    def _population(cls, v: dict[str, Distribution]) -> dict[str, Distribution]:
        for name, dist in v.items():
            if name not in NUMERIC_FIELDS + CATEGORICAL_FIELDS or name in HISTORY_FIELDS:
                raise ValueError(f"'{name}' is not a baseline characteristic; use age_y, sex, height_cm, weight_kg, ms_course, edss or ms_duration_y")
            dist.covariate(name)                      # checks the parameters (PopulationError)
        return v

    @field_validator("schedules")
    @classmethod
    def _schedule_names(cls, v: dict[str, Schedule]) -> dict[str, Schedule]:
        for name in v:
            if not name.isidentifier() or len(name) > 40:
                raise ValueError(f"schedule name '{name[:40]}' is not a word; use letters, digits and _ (e.g. nadir)")
        return v

    @model_validator(mode="after")
    def _arms(self) -> TrialSpec:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names repeat in {names[:10]}; give each arm its own name")
        if self.reference is not None and self.reference not in names:
            raise ValueError(f"reference '{self.reference}' is not an arm; use one of {', '.join(names[:10])}")
        if self.visits is not None and self.schedules:
            raise ValueError("give either [visits] or [schedules.NAME], not both")
        end = self.duration_d
        for name, sch in self.all_schedules().items():
            if parse_duration(sch.start, "start") > end:
                raise ValueError(f"schedules.{name}: start '{sch.start}' is after the end of the trial ({self.duration})")
        kinds = {n: s.measures for n, s in self.all_schedules().items()}
        if "counts" not in kinds.values() or "edss" not in kinds.values():
            raise ValueError("the schedules need at least one that measures counts and one that measures edss")
        seen: dict[str, str] = {}
        for k, e in enumerate(self.endpoints):
            if e.name in seen:
                raise ValueError(f"endpoints[{k}]: the name '{e.name}' is used twice; give each endpoint its own name")
            seen[e.name] = e.kind
            if e.schedule is not None and e.schedule not in kinds:
                raise ValueError(f"endpoints[{k}].schedule: '{e.schedule}' is not a schedule; use one of {', '.join(kinds)}")
            need = "edss" if e.kind in ("confirmed_progression", "confirmed_improvement", "edss_change") else (
                "counts" if e.kind == "toxicity" else None)
            if need and e.schedule is not None and kinds[e.schedule] != need:
                raise ValueError(f"endpoints[{k}].schedule: '{e.schedule}' measures {kinds[e.schedule]}, and a {e.kind} "
                                 f"endpoint reads {need}")
            for part in e.parts:
                if part != "discontinuation" and part not in seen:
                    raise ValueError(f"endpoints[{k}].parts: '{part}' is not an endpoint defined before it; name an "
                                     "earlier event endpoint or 'discontinuation'")
                if part in seen and seen[part] not in EVENT_KINDS:
                    raise ValueError(f"endpoints[{k}].parts: '{part}' is a {seen[part]} endpoint; a composite is made of "
                                     "event endpoints (time_to_relapse, confirmed_progression, confirmed_improvement, "
                                     "discontinuation, composite)")
            for field in ("window", "at", "start"):
                v = getattr(e, field)
                if v is not None and parse_duration(v, field) > end + 1e-9:
                    raise ValueError(f"endpoints[{k}].{field}: '{v}' is after the end of the trial ({self.duration})")
        for i, arm in enumerate(self.arms):
            for j, ph in enumerate(arm.phases):
                if ph.start_d > end:
                    raise ValueError(f"arms[{i}].phases[{j}].start: '{ph.start}' is after the end of the trial ({self.duration})")
        return self

    # -- derived ----------------------------------------------------------------------------------
    @property
    def reference_arm(self) -> str:
        return self.reference or self.arms[0].name

    @property
    def duration_d(self) -> float:
        return parse_duration(self.duration, "duration")

    def all_schedules(self) -> dict[str, Schedule]:
        """The named schedules (the old [visits] or the defaults as ``labs`` and ``edss``)."""
        if self.schedules:
            return dict(self.schedules)
        v = self.visits or Visits()
        return {"labs": Schedule(measures="counts", every=v.counts_every),
                "edss": Schedule(measures="edss", every=v.edss_every)}

    def schedule_for(self, measures: str) -> str:
        """The first schedule that measures ``measures`` (counts or edss)."""
        return next(n for n, s in self.all_schedules().items() if s.measures == measures)

    def all_endpoints(self) -> list[Endpoint]:
        """The endpoints (the defaults when the spec names none), each with the schedule it reads
        (the first counts or EDSS schedule where it names none)."""
        labs, edss = self.schedule_for("counts"), self.schedule_for("edss")
        if self.endpoints:
            need = {"confirmed_progression": edss, "confirmed_improvement": edss, "edss_change": edss, "toxicity": labs}
            return [e.model_copy(update={"schedule": need[e.kind]}) if e.schedule is None and e.kind in need else e
                    for e in self.endpoints]
        c3, c6 = self.confirmation
        return [Endpoint(name="relapses", kind="relapse_rate", label="relapse rate"),
                Endpoint(name="first_relapse", kind="time_to_relapse", label="first relapse"),
                Endpoint(name="cdp3", kind="confirmed_progression", confirm=c3, schedule=edss, label="3-month CDP"),
                Endpoint(name="cdp6", kind="confirmed_progression", confirm=c6, schedule=edss, label="6-month CDP"),
                Endpoint(name="edss_change", kind="edss_change", schedule=edss, label="EDSS change"),
                *(Endpoint(name=name, kind="toxicity", count=c, schedule=labs, label=f"{name} grade >= 3")
                  for name, c in (("leukopenia", "wbc"), ("neutropenia", "anc"), ("lymphopenia", "alc"))),
                Endpoint(name="who_leukopenia", kind="toxicity", count="wbc", scale="who", grade=1, schedule=labs,
                         label="leukopenia, WBC < 4.0")]

    def covariates(self) -> tuple[Covariate, ...]:
        """Baseline distributions: the spec's, over the defaults."""
        merged = {k: Distribution(**v) for k, v in DEFAULT_POPULATION.items()}
        merged.update(self.population)
        return tuple(d.covariate(k) for k, d in merged.items())

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()

    # -- reading ------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "trial spec") -> TrialSpec:
        try:
            spec = cls.model_validate(data)
        except ValidationError as exc:
            raise TrialSpecError(_one_sentence(exc, source)) from None
        except InputError as exc:
            raise TrialSpecError(f"{source}: {exc}") from None
        for k, arm in enumerate(spec.arms):
            _check_arm(arm, source, k)
        return spec

    @classmethod
    def from_file(cls, path: str | Path) -> TrialSpec:
        """Read a .toml, .yaml or .yml spec."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TrialSpecError(f"trial spec '{path}' does not exist; check the path.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TrialSpecError(f"trial spec '{path}' cannot be read ({exc}); give a UTF-8 TOML or YAML file.") from None
        suffix = path.suffix.lower()
        try:
            if suffix == ".toml":
                import tomllib
                data = tomllib.loads(text)
            elif suffix in (".yaml", ".yml"):
                import yaml
                data = yaml.safe_load(text)
            else:
                raise TrialSpecError(f"trial spec '{path}' has the extension '{suffix}'; give a .toml, .yaml or .yml file.")
        except TrialSpecError:
            raise
        except RecursionError:
            raise TrialSpecError(f"trial spec '{path}' is nested too deeply to be a trial spec; flatten it.") from None
        except Exception as exc:   # tomllib.TOMLDecodeError, yaml.YAMLError
            raise TrialSpecError(f"trial spec '{path}' is not valid {suffix[1:].upper()} ({str(exc).splitlines()[0][:200]}); fix the syntax.") from None
        if not isinstance(data, dict):
            raise TrialSpecError(f"trial spec '{path}' is not a table of settings; start with name = ... and [[arms]].")
        return cls.from_dict(data, str(path))


def _one_sentence(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = ""
    for part in err["loc"]:
        loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
    msg = str(err["msg"]).rstrip(".")
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    value = err.get("input")
    shown = "" if isinstance(value, (dict, list)) or value is None else f" (got {value!r})"
    more = f" ({len(exc.errors()) - 1} more problem(s) after this one)" if len(exc.errors()) > 1 else ""
    return f"{source}: {loc or 'top level'}: {msg}{shown}{more}."


def _check_arm(arm: Arm, source: str, k: int) -> None:
    """Each phase's drug, regimen, region, options and DMT must exist."""
    from ..disease.relapses import RelapseModel
    from ..drugs import available_drugs, load_drug
    from ..regimen import Regimen

    for j, phase in enumerate(arm.plan()):
        where = f"{source}: arms[{k}]" + (f".phases[{j}]" if arm.phases else "")
        if phase.drug is not None:
            if phase.drug not in available_drugs():
                raise TrialSpecError(f"{where}.drug: '{phase.drug}' is not a drug of the library; use one of {', '.join(available_drugs())}.")
            drug = load_drug(phase.drug)
            if phase.regimen is not None:
                try:
                    Regimen.parse(phase.regimen)
                except InputError as exc:
                    raise TrialSpecError(f"{where}.regimen: {exc}") from None
            try:
                rules = drug.rules
                if phase.cap_region is not None:
                    rules = rules.with_region(phase.cap_region)
                if phase.options:
                    rules.with_options(*phase.options)
            except InputError as exc:
                raise TrialSpecError(f"{where}: {exc}") from None
        if phase.dmt is not None:
            try:
                RelapseModel.load().dmt_factor([phase.dmt])
            except InputError as exc:
                raise TrialSpecError(f"{where}.dmt: {exc}") from None
