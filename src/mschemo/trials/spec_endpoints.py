"""What a trial analyses: endpoints as data (kind, relapses counted, schedule, confirmation, window)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..units import parse_duration
from .spec_base import _positive_interval, _Strict

__all__ = ["Endpoint", "Steps", "ENDPOINT_KINDS", "RELAPSE_KINDS", "EVENT_KINDS"]


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
