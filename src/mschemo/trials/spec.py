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
NUMERIC_FIELDS = ("age_y", "height_cm", "weight_kg", "edss", "ms_duration_y", "prior_relapses_2y", "bsa_m2")
CATEGORICAL_FIELDS = ("sex", "ms_course")


def _positive_interval(v: str) -> str:
    if parse_duration(v, "interval") <= 0:
        raise ValueError(f"'{v}' is not a positive interval; give one such as '3 months'")
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


class Arm(_Strict):
    """One arm: a drug with its regimen and dosing rules, or none (placebo / a DMT comparator)."""

    name: str = Field(min_length=1)
    drug: str | None = None
    regimen: str | None = None            # the drug's label regimen when absent
    rules: bool = True                    # the drug's dosing rules (counts, LVEF, cap)
    cap_region: str | None = None
    options: list[str] = Field(default_factory=list)
    dmt: str | None = None                # a disease-modifying therapy by name (relapse-rate ratio)
    ratio: int = Field(default=1, ge=1)   # allocation weight
    steroids: bool = True                 # relapses treated with corticosteroids
    plasma_exchange: bool = False

    @model_validator(mode="after")
    def _check(self) -> Arm:
        if self.drug is None and (self.regimen or self.options or self.cap_region):
            raise ValueError("regimen, options and cap_region need a drug")
        return self


class Visits(_Strict):
    """When counts and EDSS are observed (baseline at day 0, then every ...)."""

    counts_every: str = "1 month"
    edss_every: str = "3 months"

    @field_validator("counts_every", "edss_every")
    @classmethod
    def _interval(cls, v: str) -> str:
        return _positive_interval(v)


class TrialSpec(_Strict):
    """A whole trial. ``reference``: the arm effects are measured against (default: the first)."""

    name: str = "trial"
    description: str = ""
    duration: str = "2 years"
    seed: int = 1
    reference: str | None = None
    population: dict[str, Distribution] = Field(default_factory=dict)
    eligibility: list[Criterion] = Field(default_factory=list)
    arms: list[Arm] = Field(min_length=1)
    visits: Visits = Field(default_factory=Visits)
    confirmation: list[str] = Field(default_factory=lambda: ["3 months", "6 months"])

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
            if name not in NUMERIC_FIELDS + CATEGORICAL_FIELDS or name in ("bsa_m2", "prior_relapses_2y"):
                raise ValueError(f"'{name}' is not a baseline characteristic; use age_y, sex, height_cm, weight_kg, ms_course, edss or ms_duration_y")
            dist.covariate(name)                      # checks the parameters (PopulationError)
        return v

    @model_validator(mode="after")
    def _arms(self) -> TrialSpec:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names repeat in {names}; give each arm its own name")
        if self.reference is not None and self.reference not in names:
            raise ValueError(f"reference '{self.reference}' is not an arm; use one of {', '.join(names)}")
        return self

    # -- derived ----------------------------------------------------------------------------------
    @property
    def reference_arm(self) -> str:
        return self.reference or self.arms[0].name

    @property
    def duration_d(self) -> float:
        return parse_duration(self.duration, "duration")

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
        for arm in spec.arms:
            _check_arm(arm, source, spec.arms.index(arm))
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
        except Exception as exc:   # tomllib.TOMLDecodeError, yaml.YAMLError
            raise TrialSpecError(f"trial spec '{path}' is not valid {suffix[1:].upper()} ({str(exc).splitlines()[0]}); fix the syntax.") from None
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
    """Arms that name a drug, a regimen, a region or options: each must exist."""
    from ..disease.relapses import RelapseModel
    from ..drugs import available_drugs, load_drug
    from ..regimen import Regimen

    where = f"{source}: arms[{k}]"
    if arm.drug is not None:
        if arm.drug not in available_drugs():
            raise TrialSpecError(f"{where}.drug: '{arm.drug}' is not a drug of the library; use one of {', '.join(available_drugs())}.")
        drug = load_drug(arm.drug)
        if arm.regimen is not None:
            try:
                Regimen.parse(arm.regimen)
            except InputError as exc:
                raise TrialSpecError(f"{where}.regimen: {exc}") from None
        try:
            rules = drug.rules
            if arm.cap_region is not None:
                rules = rules.with_region(arm.cap_region)
            if arm.options:
                rules.with_options(*arm.options)
        except InputError as exc:
            raise TrialSpecError(f"{where}: {exc}") from None
    if arm.dmt is not None:
        try:
            RelapseModel.load().dmt_factor([arm.dmt])
        except InputError as exc:
            raise TrialSpecError(f"{where}.dmt: {exc}") from None
