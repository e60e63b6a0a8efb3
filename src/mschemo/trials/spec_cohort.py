"""Who enters a trial: baseline distributions, eligibility criteria on baseline fields and screening labs."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from ..population import Covariate
from .spec_base import _Strict

__all__ = ["Distribution", "Criterion", "LabCriterion", "Screening", "DEFAULT_POPULATION", "WORSENING_FIELDS",
           "NUMERIC_FIELDS", "HISTORY_FIELDS", "CATEGORICAL_FIELDS"]


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
