"""The API's request bodies: the fields of the shared requests that a web client may send. Nothing
here names a path on the server: a patient file or a trial spec travels as text and is read in
memory; outputs come back in the response."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..requests import CheckRequest, DiseaseRequest, ExplainRequest, PersonaliseRequest, SimulateRequest, TrialRequest

__all__ = ["ExplainBody", "SimulateBody", "CheckBody", "PersonaliseBody", "TrialBody", "ErrorBody"]

Text = str | float | int | None
#: a built-in name: letters, digits and '-' or '_' (never a path on the server)
BUILT_IN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
_LONG = 200_000      # characters of a pasted patient file or trial spec (the body limit is in bytes, below it)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def _text(self, *leave_out: str) -> dict[str, Any]:
        """The fields sent, numbers as text (the requests read text, as typed): keyword arguments of a
        request, each field's value of its own type (``model_dump``'s values are ``Any``)."""
        return {k: (str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                for k, v in self.model_dump(exclude_none=True).items() if k not in leave_out}


class ExplainBody(_Body):
    """The explainer's choices (see GET /api/v1/drugs for each drug's range)."""

    drug: str = Field("mitoxantrone", pattern=BUILT_IN, examples=["mitoxantrone"])
    dose: Text = Field(None, examples=[12])
    every: str | None = Field(None, max_length=40, examples=["3 months"])
    courses: Text = Field(None, examples=[4])
    years: Text = Field(3, examples=[3])
    n: Text = Field(40, examples=[40])
    seed: Text = Field(None, examples=[1])
    treatments: list[str] = Field(default_factory=list, max_length=20, examples=[["steroids", "exercise"]])

    def request(self) -> ExplainRequest:
        return ExplainRequest(**self._text("treatments"), treatments=tuple(self.treatments))


class SimulateBody(_Body):
    """A simulation as ``mschemo simulate`` runs it, with built-in drugs, models and scenarios only:
    the counts' summary, every patient's nadirs and grades, the dosing decisions and the disease."""

    drug: str | None = Field(None, pattern=BUILT_IN, examples=["mitoxantrone"])
    model: str | None = Field(None, pattern=BUILT_IN, examples=["mitox-2y"])
    example: str | None = Field(None, pattern=BUILT_IN, examples=["mitox-2y"])
    regimen: str | None = Field(None, max_length=300, examples=["12 mg/m2 over 30 min every 3 months x 4"])
    n: Text = Field(None, examples=[100])
    seed: Text = Field(None, examples=[1])
    until: str | None = Field(None, max_length=40, examples=["2 years"])
    every: str | None = Field(None, max_length=40, examples=["1 day"])
    no_rules: bool = False
    cap_region: str | None = Field(None, max_length=10, examples=["eu"])
    options: list[str] = Field(default_factory=list, max_length=10)
    disease: bool | None = None
    untreated: bool = False
    disease_until: str | None = Field(None, max_length=40, examples=["5 years"])
    steroids: bool = False
    plasma_exchange: bool = False
    symptomatic: list[str] = Field(default_factory=list, max_length=10)
    rehabilitation: bool = False
    exercise: bool = False
    diet: bool = False
    dmt: str | None = Field(None, pattern=BUILT_IN)

    def request(self) -> SimulateRequest:
        disease_fields = ("disease_until", "steroids", "plasma_exchange", "symptomatic", "rehabilitation", "exercise",
                          "diet", "dmt")
        d = self._text()
        dis = {k: d.pop(k) for k in disease_fields if k in d}
        for k in ("symptomatic",):
            if k in dis:
                dis[k] = tuple(dis[k])
        d["options"] = tuple(d.get("options", ()))
        return SimulateRequest(**d, disease_options=DiseaseRequest(**dis))


class CheckBody(_Body):
    """Today's facts at the infusion chair: counts in 10^9/L (or with a unit: "1300 /uL"), LVEF in %,
    the lifetime dose so far and the planned dose with units ("108 mg/m2", "12 mg/m2")."""

    drug: str = Field(..., pattern=BUILT_IN, examples=["mitoxantrone"])
    date: str | None = Field(None, max_length=20, examples=["2026-12-07"])
    dose: str | None = Field(None, max_length=40, examples=["12 mg/m2"])
    course: Text = Field(None, examples=[3])
    anc: Text = Field(None, examples=[1.3])
    wbc: Text = Field(None, examples=[3.9])
    alc: Text = Field(None, examples=[1.1])
    counts_date: str | None = Field(None, max_length=20)
    lvef: Text = Field(None, examples=[58])
    lvef_date: str | None = Field(None, max_length=20)
    given: str | None = Field(None, max_length=40, examples=["108 mg/m2"])
    height: str | None = Field(None, max_length=40, examples=["170 cm"])
    weight: str | None = Field(None, max_length=40, examples=["70 kg"])
    cap_region: str | None = Field(None, max_length=10, examples=["us"])

    def request(self) -> CheckRequest:
        return CheckRequest(**self._text())


class PersonaliseBody(_Body):
    """One patient (the text of a patient file, as for ``mschemo personalise``, or a built-in example)
    and the plan's settings."""

    example: str | None = Field(None, pattern=BUILT_IN, examples=["mitoxantrone"])
    patient_text: str | None = Field(None, max_length=_LONG)
    patient_format: Literal["csv", "json"] = "csv"
    on: str | None = Field(None, max_length=20, examples=["2026-07-08"])
    target_low: Text = None
    target_high: Text = None
    target_kind: str | None = Field(None, max_length=10)
    max_risk: Text = Field(0.10, examples=[0.1])
    risk_grade: Text = Field(3, examples=[3])
    cap_region: str | None = Field(None, max_length=10)
    draws: Text = Field(300, examples=[300])
    seed: Text = Field(None, examples=[1])

    def request(self) -> PersonaliseRequest:
        return PersonaliseRequest(**self._text())


class TrialBody(_Body):
    """A built-in trial (``example``) or a spec's text (TOML or YAML), patients per arm and the seed."""

    example: str | None = Field(None, pattern=BUILT_IN, examples=["mims"])
    spec_text: str | None = Field(None, max_length=_LONG)
    spec_format: Literal["toml", "yaml"] = "toml"
    n_per_arm: Text = Field(None, examples=[50])
    seed: Text = Field(None, examples=[1])

    def request(self) -> TrialRequest:
        return TrialRequest(**self._text())


class ErrorBody(BaseModel):
    """Every error: one sentence, and the field it is about when there is one."""

    error: str
    field: str | None = None
