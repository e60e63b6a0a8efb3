"""What every part of a trial spec shares: a strict, frozen model and the checks of its durations."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .._internal.text import quote
from ..units import parse_duration

__all__ = ["COUNTS"]

#: the counts a trial measures (10^9/L)
COUNTS = ("wbc", "anc", "alc")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _positive_interval(v: str) -> str:
    days = parse_duration(v, "interval")
    if days <= 0:
        raise ValueError(f"{quote(v)} is not a positive interval; give one such as '3 months'")
    if days < 1:
        raise ValueError(f"{quote(v)} is shorter than a day, the shortest interval of a trial; give one such as '1 month'")
    return v


def _duration_or_zero(v: str) -> str:
    if parse_duration(v, "duration") < 0:
        raise ValueError(f"{quote(v)} is negative; give a duration from the start of the trial such as '9 months'")
    return v
