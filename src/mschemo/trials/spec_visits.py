"""When a trial measures: named schedules of counts or EDSS visits, the older [visits] table, and how
the reported counts are measured."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import field_validator, model_validator

from ..units import parse_duration
from .spec_base import _duration_or_zero, _positive_interval, _Strict

__all__ = ["Schedule", "Visits", "Measurement"]


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


class Measurement(_Strict):
    """How visit counts are reported: with the assay error and the day-to-day variation of a
    laboratory (both on by default), or exact (both off). The true curves are always exact."""

    assay: bool = True
    biological: bool = True
