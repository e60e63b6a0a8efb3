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

The parts of a spec are models of their own, each importable from here: spec_cohort (population,
eligibility, screening), spec_visits (schedules, visits, measurement), spec_arms (arms, phases,
co-medication) and spec_endpoints (endpoints).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from .._internal.structured import DataTextError, load_data
from .._internal.text import listing, quote, shown
from ..errors import InputError
from ..population import Covariate
from ..units import parse_duration
from .spec_arms import STEROID_RULES as STEROID_RULES
from .spec_arms import Arm
from .spec_arms import Comedication as Comedication
from .spec_arms import Phase as Phase
from .spec_base import COUNTS as COUNTS
from .spec_base import _positive_interval, _Strict
from .spec_cohort import (
    CATEGORICAL_FIELDS,
    DEFAULT_POPULATION,
    HISTORY_FIELDS,
    NUMERIC_FIELDS,
    Criterion,
    Distribution,
    Screening,
)
from .spec_cohort import WORSENING_FIELDS as WORSENING_FIELDS
from .spec_cohort import LabCriterion as LabCriterion
from .spec_endpoints import ENDPOINT_KINDS as ENDPOINT_KINDS
from .spec_endpoints import EVENT_KINDS, Endpoint
from .spec_endpoints import RELAPSE_KINDS as RELAPSE_KINDS
from .spec_endpoints import Steps as Steps
from .spec_visits import Measurement, Schedule, Visits

__all__ = ["TrialSpec", "Arm", "Criterion", "Visits", "TrialSpecError", "DEFAULT_POPULATION"]

#: (endpoint name, count) of the default grade >= 3 toxicity endpoints
_GRADE3_TOXICITIES: tuple[tuple[str, Literal["wbc", "anc", "alc"]], ...] = (
    ("leukopenia", "wbc"), ("neutropenia", "anc"), ("lymphopenia", "alc"))


class TrialSpecError(InputError):
    """A trial spec that cannot be run (one sentence with its location)."""


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

    name: str = Field(default="trial", max_length=200)
    description: str = Field(default="", max_length=5000)
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
            raise ValueError(f"arm names repeat in {listing(names)}; give each arm its own name")
        if self.reference is not None and self.reference not in names:
            raise ValueError(f"reference {quote(self.reference)} is not an arm; use one of {listing(names)}")
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
                  for name, c in _GRADE3_TOXICITIES),
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
        if suffix not in (".toml", ".yaml", ".yml"):
            raise TrialSpecError(f"trial spec '{path}' has the extension '{suffix}'; give a .toml, .yaml or .yml file.")
        return cls.from_text(text, "toml" if suffix == ".toml" else "yaml", f"trial spec '{path}'", str(path))

    @classmethod
    def from_text(cls, text: str, fmt: str = "toml", name: str = "the trial spec", source: str | None = None) -> TrialSpec:
        """A spec from its text (``fmt`` "toml" or "yaml"), e.g. pasted into the web app; ``name`` is
        how messages call it."""
        if fmt not in ("toml", "yaml"):
            raise TrialSpecError(f"format '{fmt}' of {name} is not toml or yaml; give one of them.")
        try:
            data = load_data(text, fmt)
        except DataTextError as exc:
            raise TrialSpecError(f"{name} {exc.reason}; {exc.fix}.") from None
        if not isinstance(data, dict):
            raise TrialSpecError(f"{name} is not a table of settings; start with name = ... and [[arms]].")
        return cls.from_dict(data, source or name)


def _one_sentence(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = ""
    for part in err["loc"]:
        loc += f"[{part}]" if isinstance(part, int) else (f".{str(part)[:40]}" if loc else str(part)[:40])
    msg = str(err["msg"]).rstrip(".")
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    value = err.get("input")
    got = "" if isinstance(value, (dict, list)) or value is None else f" (got {shown(value, 40)})"
    more = f" ({len(exc.errors()) - 1} more problem(s) after this one)" if len(exc.errors()) > 1 else ""
    return f"{source}: {loc or 'top level'}: {msg}{got}{more}."


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
