"""What a plan needs to know about one patient: the record, the drug and its rules, the courses given,
when the next is due, and the facts the dosing rules read on a given day."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..dosing import BodySize, Course, DosingRules, PreDose, Reading, count_name
from ..errors import OptionError
from ..regimen import Dose, Regimen
from ..units import HOUR_D
from .target import KINDS

__all__ = ["PatientContext", "FIT_Z"]

#: a measured count this many residual SDs from the MAP fit is a check to do (model-data conflict)
FIT_Z = 2.0


class PatientContext:
    """The posterior's patient with the drug's label: dose history, courses, units and readings."""

    def __init__(self, posterior: Any, region: str | None) -> None:
        self.post = posterior
        self.patient = posterior.patient
        self.record = self.patient.record
        self.drug = self.patient.drug
        rec = self.record
        if rec is None or rec.doses is None or not len(rec.doses):
            raise OptionError("the posterior's patient has no dose history; plan the first dose with the label regimen.")
        self.rules: DosingRules = self.drug.rules if region is None else self.drug.rules.with_region(region.strip().lower())
        self.region = self.rules.region
        self.history = rec.regimen()
        d = rec.doses
        self.dose_days = d["day"].to_numpy(dtype=float)
        self.last = d.iloc[-1]
        self.tablets = (self.drug.raw or {}).get("tablets")
        self.body = BodySize(float(self.patient.bsa), float(self.patient.weight))
        self.bsa, self.weight = self.body.bsa_m2, self.body.weight_kg
        try:
            label = Regimen.parse(self.drug.default_regimen)
        except Exception:  # noqa: BLE001 - a label plan built per patient (cladribine tablets)
            label = None
        self.label_dose = label.doses[0] if label is not None else None
        self.label_courses = label.n_doses if label is not None else 0
        self.cycle_d = float(label.doses[0].ii_d) if label is not None and label.doses[0].ii_d > 0 else 365.25
        self.unit = str(self.last["unit"])
        self.route = str(self.last["route"])
        if self.route == "oral":
            self.duration_h = 0.0
        elif math.isfinite(float(self.last["duration_h"])):
            self.duration_h = float(self.last["duration_h"])
        else:
            self.duration_h = self.label_dose.duration_d / HOUR_D if self.label_dose is not None else 1.0
        self.duration_from = "the last dose" if self.route != "oral" else ""
        # courses given: doses within a window of the course's first dose belong to it
        window = self.rules.course_window_d or self.drug.planning.course_window_d
        starts: list[float] = []
        for day in self.dose_days:
            if not starts or day - starts[-1] > window + 1e-9:
                starts.append(float(day))
        self.course_starts = starts
        self.course_no = len(starts) + 1
        self.due_day = float(round(starts[-1] + self.cycle_d))
        probe = self.patient.predict(self.post.mode[None, :], np.array([0.0]), self.history)
        self.outputs = tuple(k for k in KINDS if k in probe)

    # doses ---------------------------------------------------------------------------------------
    def given(self) -> list[tuple[float, str]]:
        """Every dose given so far as (amount, unit), in the record's order."""
        d = self.record.doses
        return [(float(a), str(u)) for a, u in zip(d["amount"], d["unit"])]

    def candidate_doses(self, day: float, amount: float) -> list[Dose]:
        """The Dose records of one candidate (a tablet drug: its label course from ``day``)."""
        if self.tablets:
            from ..drugs.cladribine import course_doses
            return course_doses(self.weight, day)   # food state: the patient's covariate 'fed' (model effect)
        return [Dose(time_d=day, amount=amount, unit=self.unit, cmt="central" if self.route != "oral" else "depot",
                     duration_d=self.duration_h * HOUR_D)]

    def course(self, day: float, amount: float) -> Course:
        """A candidate as a course starting on ``day``."""
        return Course(day, tuple(d.replace(time_d=d.time_d - day) for d in self.candidate_doses(day, amount)))

    # the facts the rules read --------------------------------------------------------------------
    def facts(self, day: float, amount: float, hist: dict[str, np.ndarray] | None = None,
              grid: np.ndarray | None = None, sigma: dict[str, float] | None = None, *, delayed_d: float = 0.0,
              next_try_d: float | None = None) -> PreDose:
        """What the rules read before a candidate of ``amount`` on ``day``: the latest measured counts
        and covariates with their age, the posterior's prediction of each count on the day (from the
        history's predicted draws ``hist`` on ``grid``) and the lifetime dose."""
        rec = self.record
        counts: dict[str, Reading] = {}
        c = rec.counts.sort_values("day", kind="stable")
        for kind, rows in c[c["day"] <= day].groupby("kind", sort=False):
            last = rows.iloc[-1]
            counts[str(kind)] = Reading.measured(float(last["value"]), day - float(last["day"]), str(last["date"]))
        predicted: dict[str, Reading] = {}
        if hist is not None and grid is not None:
            k = min(int(np.searchsorted(grid, day)), grid.size - 1)
            predicted = {kind: Reading.predicted(v[1:, k], (sigma or {}).get(kind, 0.3)) for kind, v in hist.items()}
        covariates: dict[str, Reading] = {}
        lv = rec.lvef
        if lv is not None and len(lv) and len(lv[lv["day"] <= day]):
            last = lv[lv["day"] <= day].iloc[-1]
            covariates["lvef_pct"] = Reading.measured(float(last["lvef_pct"]), day - float(last["day"]), str(last["date"]))
        for name, value in rec.covariates.items():
            if name not in covariates and isinstance(value, (int, float)) and not isinstance(value, bool):
                covariates[name] = Reading.measured(float(value), 0.0, "")
        return PreDose(course=self.course_no, planned=self.course(day, amount), body=self.body, counts=counts,
                       predicted=predicted, covariates=covariates, given=self.given(), delayed_d=delayed_d,
                       next_try_d=next_try_d, date=str(rec.date_of(day)))

    # how well the model follows the counts ---------------------------------------------------------
    def fit_check(self, sigma: dict[str, float]) -> tuple[dict[str, str] | None, bool]:
        """How far the measured counts lie from the MAP fit (residual SDs): a check row, and whether a
        count after the last dose lies at least :data:`FIT_Z` SDs below it (the patient is more
        sensitive than the model can follow, so the dose is not raised above the last one)."""
        c = self.record.counts
        c = c[c["kind"].isin(self.outputs)]
        if not len(c):
            return None, False
        days = c["day"].to_numpy(dtype=float)
        pred = self.patient.predict(self.post.mode[None, :], days)
        kinds = c["kind"].to_numpy().astype(str)
        f = np.array([pred[k][0, j] for j, k in enumerate(kinds)])
        floor = sigma.get("floor", 0.01)
        z = (np.log(np.maximum(c["value"].to_numpy(dtype=float), floor)) - np.log(np.maximum(f, floor))) / \
            np.array([sigma.get(k, 0.3) for k in kinds])
        j = int(np.argmax(np.abs(z)))
        row = c.iloc[j]
        what = f"{count_name(kinds[j])} {float(row['value']):g} on {row['date']}"
        after = days > float(self.dose_days.max())
        low_after = bool(np.any(z[after] <= -FIT_Z))
        name, limit = "model fit to the measured counts", f"|residual| < {FIT_Z:g} SD"
        if abs(z[j]) < FIT_Z:
            return dict(rule=name, status="pass", value=f"largest residual {z[j]:+.1f} SD ({what})", limit=limit,
                        reason=f"every measured count lies within {FIT_Z:g} residual SDs of the patient's fitted "
                               "curve."), False
        side = "below" if z[j] < 0 else "above"
        return dict(rule=name, status="to-check", value=f"residual {z[j]:+.1f} SD ({what})", limit=limit,
                    reason=f"the {what} lies {abs(z[j]):.1f} residual SDs {side} the fitted {f[j]:.2f}: the model "
                           "cannot follow this count, so read the predictions with care" + (
                               "; the dose is not raised above the last one." if low_after else ".")), low_after
