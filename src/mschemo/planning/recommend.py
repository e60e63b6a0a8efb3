"""The next dose for one patient: date, amount and what the posterior says about its nadir.

:func:`recommend_dose` takes a patient's posterior (:func:`mschemo.estimation.map.estimate_map`) and

1. checks the label rules of the drug file before the dose (pre-dose counts, LVEF, lifetime cap), on
   the requested date and, while a count rule fails, weekly after it (the rule's longest delay at most);
2. on the first date that passes, predicts every candidate dose with posterior draws (one batched
   solve per candidate: the dosing history plus the candidate) and reads, over the cycle after it,
   the nadir of the target count, P(nadir in the target range) and P(CTCAE grade >= 3 of WBC or ANC);
3. picks the dose with the highest P(in range) among those whose P(grade >= 3) is within the limit
   (no target range: the highest such dose up to the label's);
4. suggests the day of the next count (where the posterior predictive spread of the target count is
   largest after the dose).

Everything it shows is a model's estimate. Research and education only, not a prescription.

Rule details (each a one-sentence reason in :attr:`DosePlan.checks`):

* count rules (``kind = "count"`` in the drug file, e.g. ANC >= 1.5 x10^9/L): the latest measured
  count counts if taken within :data:`RECENT_COUNT_D` days before the dose date (pass / fail);
  otherwise the posterior prediction decides: its median below the limit fails (the dose is delayed
  a week), else the rule is "to-check" (measure it on the day) with P(count >= limit) (residual
  error included);
* covariate rules (LVEF >= 50 %): the latest LVEF in the record; none, or older than
  :data:`LVEF_MAX_AGE_D` days, is "to-check" (a measurement to do, not a pass); below the limit fails
  and the rule's action applies (stop);
* lifetime caps (mitoxantrone 140 mg/m2 US, 72 EU): past doses (mg/m2) + the candidate must stay
  within the cap of the region in force; candidate doses above the remaining amount are dropped,
  and if none is left treatment stops.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import DISCLAIMER
from ..errors import OptionError, SolverError
from ..regimen import Dose, Regimen
from ..results import ctcae_grade
from ..rules import CountRule, CovariateRule, CumulativeCap, NadirTitration

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["NadirTarget", "DosePlan", "recommend_dose", "DECISIONS", "RECENT_COUNT_D", "LVEF_MAX_AGE_D"]

KINDS = ("wbc", "anc", "alc")
LABELS = {"wbc": "WBC", "anc": "ANC", "alc": "ALC"}
#: a measured pre-dose count is used for a dose at most this many days after it
RECENT_COUNT_D = 3
#: an LVEF older than this (3 months) before the dose date is a check to do, not a pass
LVEF_MAX_AGE_D = 91
#: candidate dates: the requested one, then weekly ...
WEEK_D = 7
#: ... up to 4 weeks later
MAX_DATE_SHIFT_D = 28
#: mitoxantrone candidate doses, mg/m2 (assumption: 5 and 12 mg/m2 are the doses of the MIMS trial,
#: Hartung 2002; whole mg/m2 between them)
MITOXANTRONE_MIN_MG_M2 = 5.0
DOSE_STEP = {"mitoxantrone": 1.0}
#: doses of one course lie within this many days of its first dose (tablet drugs: weeks 1 and 2)
TABLET_COURSE_WINDOW_D = 60.0
#: a measured count this many residual SDs from the MAP fit is a check to do (model-data conflict)
FIT_Z = 2.0
#: P(target) values closer than this to the best are ties (broken by the median nadir's distance
#: to the middle of the range)
P_TIE = 0.02
#: below this best P(target), the dose whose median nadir is closest to the range is taken
P_NONE = 0.05

DECISIONS = {
    "give": "give the proposed dose on the proposed date",
    "delay": "give the proposed dose later than asked (a pre-dose rule fails on the asked date)",
    "review": "no candidate dose keeps the grade >= 3 risk within the limit; the lowest dose is shown for review",
    "withhold": "skip this course (a pre-dose rule still fails at the longest delay)",
    "stop": "no further dose (a label rule ends treatment)",
}


# -- the target ------------------------------------------------------------------------------------
@dataclass(frozen=True, init=False)
class NadirTarget:
    """The wanted nadir range of one count, 10^9/L: ``NadirTarget("wbc", 1.5, 2.0)`` or
    ``NadirTarget(wbc=(1.5, 2.0))``.

    >>> NadirTarget(wbc=(1.5, 2.0))
    NadirTarget(kind='wbc', low=1.5, high=2.0)
    """

    kind: str
    low: float
    high: float

    def __init__(self, kind: str = "wbc", low: float = 1.5, high: float = 2.0, *,
                 wbc: Sequence[float] | None = None, anc: Sequence[float] | None = None,
                 alc: Sequence[float] | None = None) -> None:
        given = {k: v for k, v in (("wbc", wbc), ("anc", anc), ("alc", alc)) if v is not None}
        if len(given) > 1:
            raise OptionError(f"NadirTarget got ranges for {', '.join(given)}; give one count's range, e.g. "
                              "NadirTarget(wbc=(1.5, 2.0)).")
        if given:
            kind, rng = next(iter(given.items()))
            if isinstance(rng, (str, bytes)) or not isinstance(rng, Sequence) or len(rng) != 2:
                raise OptionError(f"NadirTarget({kind}={rng!r}) is not a (low, high) pair; write e.g. "
                                  f"NadirTarget({kind}=(1.5, 2.0)).")
            low, high = rng
        key = str(kind).strip().lower()
        if key not in KINDS:
            raise OptionError(f"target kind {kind!r} is not a count; use one of {', '.join(KINDS)}.")
        for name, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v) \
                    or v <= 0:
                raise OptionError(f"target {name} {v!r} is not a count > 0; give it in 10^9/L, e.g. 1.5.")
        if not float(low) < float(high):
            raise OptionError(f"target range {float(low):g}-{float(high):g} x10^9/L is empty; give low < high, "
                              "e.g. 1.5-2.0.")
        if float(high) > 50:
            raise OptionError(f"target high {float(high):g} x10^9/L is not a plausible nadir; give the count in "
                              "10^9/L (e.g. 2.0, not 2000).")
        object.__setattr__(self, "kind", key)
        object.__setattr__(self, "low", float(low))
        object.__setattr__(self, "high", float(high))

    def contains(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        return (v >= self.low) & (v <= self.high)

    def __str__(self) -> str:
        return f"{LABELS[self.kind]} nadir {self.low:g}-{self.high:g} x10^9/L"


# -- the plan --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class DosePlan:
    """A proposed next dose (or why there is none) with the posterior's predictions and the rule checks.

    Tables: ``checks`` (rule, status pass/fail/to-check, value, limit, reason), ``candidates`` (every
    dose evaluated on the dose date), ``predicted`` (day, date, kind, median, p5, p95 of the counts
    under the proposed plan), ``parameters`` (the patient's estimated parameters with 90 % intervals).
    """

    patient_id: str
    drug: str
    decision: str
    reason: str
    date: dt.date | None
    day: float | None
    dose: float | None
    dose_unit: str
    mg: float | None
    duration_h: float | None
    route: str
    administration: str
    kind: str
    target: NadirTarget | None
    max_risk_grade3: float
    risk_kinds: tuple[str, ...]
    p_target: float
    p_grade3: float
    p_grade4: float
    risk_grade: int
    nadir_median: float
    nadir_p5: float
    nadir_p95: float
    nadir_day: float
    checks: pd.DataFrame
    candidates: pd.DataFrame
    predicted: pd.DataFrame
    parameters: pd.DataFrame
    next_count_date: dt.date | None
    next_count_day: float | None
    next_count_reason: str
    requested_on: dt.date
    cycle_d: float
    region: str
    mg_basis: str
    cumulative: dict[str, Any] | None
    posterior_method: str
    n_draws: int
    seed: int
    notes: tuple[str, ...] = ()
    record: Any = field(default=None, repr=False)
    disclaimer: str = DISCLAIMER

    @property
    def gives_dose(self) -> bool:
        return self.dose is not None

    def dose_text(self) -> str:
        """'700 mg/m2 (1,166 mg) IV over 1 h on 2026-03-31', or the decision when there is no dose."""
        if self.dose is None:
            return f"no dose ({self.decision})"
        amount = f"{self.dose:g} {self.dose_unit}" if self.dose_unit == "mg" else \
            f"{self.dose:g} {self.dose_unit} ({self.mg:,.0f} mg)"
        return f"{amount}, {self.administration}, on {self.date.isoformat()}"

    def proposal_rows(self) -> list[tuple[str, str]]:
        """(label, text) rows of the proposal: dose, date, how, mg basis, predicted nadir, P(target),
        the grade risks with the limit, lifetime dose and next count (the CLI and the sheet show them)."""
        rows: list[tuple[str, str]] = []
        if self.dose is not None:
            dose = f"{self.dose:g} {self.dose_unit}" + (f" = {self.mg:,.0f} mg" if self.dose_unit != "mg" else "")
            rows += [("dose", dose), ("date", self.date.isoformat()), ("how", self.administration),
                     ("mg basis", self.mg_basis),
                     (f"predicted {LABELS[self.kind]} nadir (10^9/L)",
                      f"{self.nadir_median:.2f} (90 % band {self.nadir_p5:.2f}-{self.nadir_p95:.2f}), about day "
                      f"{self.nadir_day:g} after the dose")]
            if self.target is not None:
                rows.append(("P(nadir in target)", f"{self.p_target:.0%} (target {self.target.low:g}-"
                                                   f"{self.target.high:g} x10^9/L {LABELS[self.target.kind]})"))
            for grade, p in ((3, self.p_grade3), (4, self.p_grade4)):
                limit = f" (limit {self.max_risk_grade3:.0%})" if self.risk_grade == grade else ""
                rows.append((self.risk_text(3) if grade == 3 else "grade 4", f"{p:.0%}{limit}"))
        if self.cumulative is not None:
            cu = self.cumulative
            rows.append(("lifetime dose", f"{cu['given']:g} {cu['unit']} given, {cu['after']:g} after this dose; cap "
                                          f"{cu['limit']:g} ({cu['region'].upper()})"))
        if self.next_count_date is not None:
            rows.append(("next count", f"{self.next_count_date.isoformat()}: {self.next_count_reason}"))
        return rows

    def risk_text(self, grade: int | None = None) -> str:
        g = self.risk_grade if grade is None else grade
        return f"P(CTCAE grade >= {g} of " + " or ".join(LABELS[k] for k in self.risk_kinds) + ")"

    def summary(self) -> str:
        """The plan as plain text (what the CLI prints, without tables)."""
        lines = [f"Patient {self.patient_id}, {self.drug}: {self.decision.upper()} - {self.reason}"]
        if self.dose is not None:
            lines.append(f"Proposed dose: {self.dose_text()}")
            lines.append(f"  {self.mg_basis}")
            lines.append(f"Predicted {LABELS[self.kind]} nadir: {self.nadir_median:.2f} x10^9/L "
                         f"(90 % band {self.nadir_p5:.2f}-{self.nadir_p95:.2f}) around day {self.nadir_day:g} "
                         "after the dose")
            if self.target is not None:
                lines.append(f"P(nadir in the target {self.target.low:g}-{self.target.high:g}): {self.p_target:.0%}")
            lim3 = f" (limit {self.max_risk_grade3:.0%})" if self.risk_grade == 3 else ""
            lim4 = f" (limit {self.max_risk_grade3:.0%})" if self.risk_grade == 4 else ""
            lines.append(f"{self.risk_text(3)}: {self.p_grade3:.0%}{lim3}; grade 4: {self.p_grade4:.0%}{lim4}")
        if self.cumulative is not None:
            c = self.cumulative
            lines.append(f"Lifetime dose: {c['given']:g} {c['unit']} given, {c['after']:g} after this dose, cap "
                         f"{c['limit']:g} ({c['region'].upper()})")
        if self.next_count_date is not None:
            lines.append(f"Next count: {self.next_count_date.isoformat()} - {self.next_count_reason}")
        for row in self.checks.itertuples(index=False):
            lines.append(f"  [{row.status}] {row.rule}: {row.reason}")
        lines += [f"Note: {n}" for n in self.notes]
        lines.append(self.disclaimer)
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The candidate doses evaluated on the dose date, the proposed one flagged (``proposed``)."""
        return self.candidates.copy()

    def plot(self, path: str | Path | None = None) -> Figure:
        """Counts: measured (points), posterior median and 90 % band under the plan, the proposed
        dose (dashed line) and the target range (shaded). Written to ``path`` if given."""
        fig = plot_plan(self)
        if path is not None:
            from ..plotting import save_figure
            save_figure(fig, path)
        return fig

    def to_html(self, path: str | Path) -> Path:
        """A printable one-page infusion-centre sheet (self-contained HTML), written atomically."""
        from .sheet import write_sheet
        return write_sheet(self, path)


# -- helpers ---------------------------------------------------------------------------------------
def _as_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        s = value.strip()
        if s.lower() == "today":
            return dt.date.today()
        try:
            return dt.date.fromisoformat(s)
        except ValueError:
            pass
    raise OptionError(f"{what} {value!r} is not a date; give it as YYYY-MM-DD, e.g. 2026-03-31.")


def _quantiles(x: np.ndarray) -> tuple[float, float, float]:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if not x.size:
        return math.nan, math.nan, math.nan
    q = np.quantile(x, [0.5, 0.05, 0.95])
    return float(q[0]), float(q[1]), float(q[2])


def _fmt(x: float) -> str:
    return f"{x:.2f}" if math.isfinite(x) else "n/a"


@dataclass
class _Row:
    rule: str
    status: str       # pass | fail | to-check
    value: str
    limit: str
    reason: str
    action: str = ""  # for a fail: delay | withhold | stop


class _Context:
    """What the plan needs to know about the patient, the drug and its label."""

    def __init__(self, posterior: Any, region: str | None) -> None:
        from ..units import HOUR_D

        self.post = posterior
        self.patient = posterior.patient
        self.record = self.patient.record
        self.drug = self.patient.drug
        rec = self.record
        if rec is None or rec.doses is None or not len(rec.doses):
            raise OptionError("the posterior's patient has no dose history; plan the first dose with the label regimen.")
        self.rules = self.drug.rules if region is None else self.drug.rules.with_region(region.strip().lower())
        self.region = self.rules.region
        self.history = rec.regimen()
        d = rec.doses
        self.dose_days = d["day"].to_numpy(dtype=float)
        self.last = d.iloc[-1]
        self.tablets = (self.drug.raw or {}).get("tablets")
        self.bsa = float(self.patient.bsa)
        self.weight = float(self.patient.weight)
        try:
            label = Regimen.parse(self.drug.default_regimen)
        except Exception:  # noqa: BLE001 - a label plan built per patient (cladribine tablets)
            label = None
        self.label_dose = label.doses[0] if label is not None else None
        self.label_courses = label.n_doses if label is not None else 0
        if label is not None and label.doses[0].ii_d > 0:
            self.cycle_d = float(label.doses[0].ii_d)
        else:
            self.cycle_d = 365.25
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
        window = self.rules.course_window_d or (TABLET_COURSE_WINDOW_D if self.tablets else 0.0)
        starts: list[float] = []
        for day in self.dose_days:
            if not starts or day - starts[-1] > window + 1e-9:
                starts.append(float(day))
        self.course_starts = starts
        self.course_no = len(starts) + 1
        self.due_day = float(round(starts[-1] + self.cycle_d))
        probe = self.patient.predict(self.post.mode[None, :], np.array([0.0]), self.history)
        self.outputs = tuple(k for k in KINDS if k in probe)

    # dose units ----------------------------------------------------------------------------------
    def to_mg(self, amount: float, unit: str) -> float:
        return amount * {"mg": 1.0, "mg/m2": self.bsa, "mg/kg": self.weight}[unit]

    def in_unit(self, mg: float, unit: str) -> float:
        return mg / {"mg": 1.0, "mg/m2": self.bsa, "mg/kg": self.weight}[unit]

    def given(self, unit: str) -> float:
        """Sum of the doses given so far, in ``unit``."""
        d = self.record.doses
        return float(sum(self.in_unit(self.to_mg(float(a), str(u)), unit) for a, u in zip(d["amount"], d["unit"])))

    def candidate_doses(self, day: float, amount: float) -> list[Dose]:
        """The Dose records of one candidate (a tablet drug: its label course from ``day``)."""
        from ..units import HOUR_D

        if self.tablets:
            from ..drugs.cladribine import course_doses
            return course_doses(self.weight, day)   # food state: the patient's covariate 'fed' (model effect)
        return [Dose(time_d=day, amount=amount, unit=self.unit, cmt="central" if self.route != "oral" else "depot",
                     duration_d=self.duration_h * HOUR_D)]


# -- rule checks -----------------------------------------------------------------------------------
def _count_check(ctx: _Context, rule: CountRule, day: float, hist: dict[str, np.ndarray], grid: np.ndarray,
                 sigma: dict[str, float]) -> _Row:
    kind = rule.output
    label = LABELS.get(kind, kind.upper())
    date = ctx.record.date_of(day)
    name = f"{label} >= {rule.minimum:g} x10^9/L before the dose"
    limit = f">= {rule.minimum:g} x10^9/L"
    c = ctx.record.counts
    c = c[(c["kind"] == kind) & (c["day"] <= day) & (c["day"] >= day - RECENT_COUNT_D)]
    if len(c):
        last = c.iloc[-1]
        v = float(last["value"])
        when = f"measured {last['date']}"
        if v >= rule.minimum:
            return _Row(name, "pass", f"{v:g} ({when})", limit,
                        f"{label} {v:g} x10^9/L {when}, within {RECENT_COUNT_D} days of {date}, meets the label "
                        f"limit of {rule.minimum:g}.")
        return _Row(name, "fail", f"{v:g} ({when})", limit,
                    f"{label} {v:g} x10^9/L {when} is below the label limit of {rule.minimum:g}, so the dose cannot "
                    f"be given on {date} ({rule.label}).", rule.action)
    if kind not in hist:
        return _Row(name, "to-check", "not measured", limit,
                    f"no {label} within {RECENT_COUNT_D} days of {date} and the model does not predict it; measure "
                    "it before the dose.")
    k = int(np.searchsorted(grid, day))
    f = hist[kind][1:, min(k, grid.size - 1)]
    f = f[np.isfinite(f) & (f > 0)]
    med = float(np.median(f)) if f.size else math.nan
    from scipy.stats import norm
    p = float(np.mean(norm.sf((math.log(rule.minimum) - np.log(f)) / sigma.get(kind, 0.3)))) if f.size else math.nan
    value = f"{_fmt(med)} (predicted)"
    if not med >= rule.minimum:
        return _Row(name, "fail", value, limit,
                    f"no {label} measured within {RECENT_COUNT_D} days of {date}; the posterior predicts {_fmt(med)} "
                    f"x10^9/L (P(>= {rule.minimum:g}) {p:.0%}), below the label limit, so the dose waits "
                    f"({rule.label}).", rule.action)
    return _Row(name, "to-check", value, limit,
                f"no {label} measured within {RECENT_COUNT_D} days of {date}; the posterior predicts {_fmt(med)} "
                f"x10^9/L (P(>= {rule.minimum:g}) {p:.0%}); measure it before the dose - the label rule needs a "
                "measured count.")


def _covariate_check(ctx: _Context, rule: CovariateRule, day: float) -> _Row:
    cov = rule.covariate
    date = ctx.record.date_of(day)
    if cov == "lvef_pct":
        name = f"LVEF >= {rule.minimum:g} % before the dose"
        limit = f">= {rule.minimum:g} %"
        lv = ctx.record.lvef
        lv = lv[lv["day"] <= day] if lv is not None and len(lv) else lv
        if lv is None or not len(lv):
            return _Row(name, "to-check", "not in the record", limit,
                        f"the record has no LVEF before {date}; measure it (echocardiography or MUGA) before the dose "
                        f"({rule.label}).")
        last = lv.iloc[-1]
        v = float(last["lvef_pct"])
        age = day - float(last["day"])
        if v < rule.minimum:
            return _Row(name, "fail", f"{v:g} % ({last['date']})", limit,
                        f"LVEF {v:g} % on {last['date']} is below {rule.minimum:g} %: no further dose "
                        f"({rule.label}).", rule.action)
        if age > LVEF_MAX_AGE_D:
            return _Row(name, "to-check", f"{v:g} % ({last['date']}, {age:.0f} days old)", limit,
                        f"the latest LVEF, {v:g} % on {last['date']}, is {age:.0f} days before {date} (more than "
                        f"{LVEF_MAX_AGE_D} days); measure it again before the dose.")
        return _Row(name, "pass", f"{v:g} % ({last['date']})", limit,
                    f"LVEF {v:g} % on {last['date']} ({age:.0f} days before the dose) meets the limit of "
                    f"{rule.minimum:g} %.")
    name = f"{cov} >= {rule.minimum:g}"
    v = ctx.record.covariates.get(cov)
    if v is None:
        return _Row(name, "to-check", "not in the record", f">= {rule.minimum:g}",
                    f"the record has no {cov}; measure it before the dose ({rule.label}).")
    if float(v) < rule.minimum:
        return _Row(name, "fail", f"{float(v):g}", f">= {rule.minimum:g}",
                    f"{cov} {float(v):g} is below {rule.minimum:g} ({rule.label}).", rule.action)
    return _Row(name, "pass", f"{float(v):g}", f">= {rule.minimum:g}", f"{cov} {float(v):g} meets the limit.")


def _caps(ctx: _Context) -> tuple[CumulativeCap | None, list[CumulativeCap]]:
    all_caps = [r for r in ctx.rules.rules if isinstance(r, CumulativeCap)]
    in_force = [r for r in ctx.rules.in_force() if isinstance(r, CumulativeCap)]
    return (in_force[0] if in_force else None), all_caps


def _fit_check(ctx: _Context, sigma: dict[str, float]) -> tuple[_Row | None, bool]:
    """How far the measured counts lie from the MAP fit (residual SDs); whether a count after the last
    dose lies at least :data:`FIT_Z` SDs below it (the patient is more sensitive than the model can
    follow, so the dose is not raised above the last one)."""
    c = ctx.record.counts
    c = c[c["kind"].isin(ctx.outputs)]
    if not len(c):
        return None, False
    days = c["day"].to_numpy(dtype=float)
    pred = ctx.patient.predict(ctx.post.mode[None, :], days)
    kinds = c["kind"].to_numpy().astype(str)
    f = np.array([pred[k][0, j] for j, k in enumerate(kinds)])
    floor = sigma.get("floor", 0.01)
    z = (np.log(np.maximum(c["value"].to_numpy(dtype=float), floor)) - np.log(np.maximum(f, floor))) / \
        np.array([sigma.get(k, 0.3) for k in kinds])
    j = int(np.argmax(np.abs(z)))
    row = c.iloc[j]
    what = f"{LABELS[kinds[j]]} {float(row['value']):g} on {row['date']}"
    after = days > float(ctx.dose_days.max())
    low_after = bool(np.any(z[after] <= -FIT_Z))
    if abs(z[j]) < FIT_Z:
        return _Row("model fit to the measured counts", "pass", f"largest residual {z[j]:+.1f} SD ({what})",
                    f"|residual| < {FIT_Z:g} SD",
                    f"every measured count lies within {FIT_Z:g} residual SDs of the patient's fitted curve."), False
    side = "below" if z[j] < 0 else "above"
    return _Row("model fit to the measured counts", "to-check", f"residual {z[j]:+.1f} SD ({what})",
                f"|residual| < {FIT_Z:g} SD",
                f"the {what} lies {abs(z[j]):.1f} residual SDs {side} the fitted {f[j]:.2f}: the model cannot follow "
                "this count, so read the predictions with care" + (
                    "; the dose is not raised above the last one." if low_after else ".")), low_after


# -- candidates ------------------------------------------------------------------------------------
def _titration(ctx: _Context) -> NadirTitration | None:
    for r in ctx.rules.rules:
        if isinstance(r, NadirTitration) and r.unit == ctx.unit:
            return r
    return None


def _default_target(ctx: _Context) -> NadirTarget | None:
    """The drug file's titration aim: the band that keeps the dose ("change = 0")."""
    t = _titration(ctx)
    if t is None:
        return None
    prev = 0.0
    for band in t.bands:
        if band.change == 0 and band.factor == 1 and prev > 0 and math.isfinite(band.below):
            return NadirTarget(t.output, prev, band.below)
        prev = band.below
    return None


def _dose_grid(ctx: _Context) -> tuple[list[float], str]:
    """Candidate doses (in the history's unit) and where they come from."""
    if ctx.tablets:
        return [float("nan")], "the label's course for this weight"
    t = _titration(ctx)
    if t is not None:
        steps = sorted({abs(b.change) for b in t.bands if b.change})
        step = steps[0] if steps else 100.0
        grid = np.arange(t.minimum_dose, t.maximum_dose + step / 2, step)
        return [float(x) for x in grid], (f"the drug file's titration range {t.minimum_dose:g}-{t.maximum_dose:g} "
                                          f"{t.unit} in steps of {step:g}")
    label = ctx.label_dose
    if label is None or label.unit != ctx.unit:
        last = float(ctx.last["amount"])
        return [float(round(last * f, 6)) for f in np.linspace(0.5, 1.0, 6)], "50-100 % of the last dose"
    step = DOSE_STEP.get(ctx.drug.name, max(label.amount / 10, 1e-9))
    low = MITOXANTRONE_MIN_MG_M2 if ctx.drug.name == "mitoxantrone" else label.amount / 2
    grid = np.arange(low, label.amount + step / 2, step)
    return [float(x) for x in grid], f"{low:g}-{label.amount:g} {label.unit} (up to the label dose) in steps of {step:g}"


def _evaluate(ctx: _Context, etas: np.ndarray, day: float, amount: float, kind: str, target: NadirTarget | None,
              risk_kinds: tuple[str, ...], risk_grade: int) -> dict[str, Any]:
    doses = ctx.candidate_doses(day, amount)
    regimen = Regimen.from_doses(list(ctx.history.doses) + doses, text="history + candidate")
    times = np.arange(day, day + math.floor(ctx.cycle_d) + 1, 1.0)
    pred = ctx.patient.predict(etas, times, regimen)
    ok = np.all([np.all(np.isfinite(v[1:]), axis=1) for v in pred.values()], axis=0)
    if not ok.any():
        raise SolverError(f"no posterior draw of patient {ctx.record.id} could be solved for {amount:g} {ctx.unit}; "
                          "check the patient file.", ctx.record.id)
    draws = {k: v[1:][ok] for k, v in pred.items()}
    nadir = {k: np.nanmin(v, axis=1) for k, v in draws.items()}
    worst = np.zeros(int(ok.sum()), dtype=np.int64)
    for k in risk_kinds:
        worst = np.maximum(worst, ctcae_grade(nadir[k], k))
    n_med, n_lo, n_hi = _quantiles(nadir[kind])
    nadir_day = float(np.median(np.nanargmin(draws[kind], axis=1))) if draws[kind].size else math.nan
    mg = sum(ctx.to_mg(d.amount, d.unit) for d in doses)
    return {"day": day, "dose": float(sum(d.amount for d in doses)) if ctx.tablets else amount, "mg": mg,
            "p_target": float(np.mean(target.contains(nadir[kind]))) if target is not None else math.nan,
            "p_grade3": float(np.mean(worst >= 3)), "p_grade4": float(np.mean(worst >= 4)),
            "p_risk": float(np.mean(worst >= risk_grade)), "nadir_median": n_med, "nadir_p5": n_lo, "nadir_p95": n_hi,
            "nadir_day": nadir_day, "_draws": draws, "_times": times, "_doses": doses}


def _choose(cands: list[dict[str, Any]], target: NadirTarget | None, max_risk: float,
            risk_grade: int) -> tuple[dict[str, Any], bool, str]:
    """The chosen candidate, whether it is within the risk limit, and why it was chosen."""
    ok = [c for c in cands if c["p_risk"] <= max_risk + 1e-12]
    if not ok:
        low = min(cands, key=lambda c: c["dose"])
        return low, False, (f"no candidate keeps the grade >= {risk_grade} risk within {max_risk:.0%}; the lowest "
                            f"dose has {low['p_risk']:.0%}")
    if target is None:
        best = max(ok, key=lambda c: c["dose"])
        return best, True, f"the highest candidate dose whose grade >= {risk_grade} risk is within {max_risk:.0%}"
    mid = math.log(math.sqrt(target.low * target.high))

    def dist(c: dict[str, Any]) -> float:
        m = c["nadir_median"]
        if not (m > 0 and math.isfinite(m)):
            return math.inf
        return 0.0 if target.low <= m <= target.high else min(abs(math.log(m / target.low)),
                                                              abs(math.log(m / target.high)))

    top = max(c["p_target"] for c in ok)
    if top < P_NONE:
        best = min(ok, key=lambda c: (dist(c), -c["p_target"], c["dose"]))
        return best, True, (f"no candidate within the risk limit reaches the target with more than {P_NONE:.0%} "
                            "probability; this dose puts the median nadir closest to it")
    near = [c for c in ok if c["p_target"] >= top - P_TIE]
    best = min(near, key=lambda c: (abs(math.log(c["nadir_median"]) - mid) if c["nadir_median"] > 0 else math.inf,
                                    c["dose"]))
    return best, True, (f"the highest probability of a nadir in the target range among doses whose grade >= "
                        f"{risk_grade} risk is within {max_risk:.0%}")


def _next_count(ctx: _Context, cand: dict[str, Any], kind: str) -> tuple[float, str]:
    """The day (since the first dose) of the most informative next count after the dose."""
    times = cand["_times"]
    v = cand["_draws"][kind]
    day = cand["day"]
    med = np.nanmedian(v, axis=0)
    window = (times >= day + 3) & (times <= day + min(ctx.cycle_d, 60.0) - 1)
    sel = window & (med < med[0])          # the dip: below the pre-dose count
    if not sel.any():
        sel = window if window.any() else times > day
    logv = np.log(np.maximum(v[:, sel], 1e-6))
    sd = np.nanstd(logv, axis=0)
    k = int(np.nanargmax(sd))
    best = float(times[sel][k])
    nadir = day + cand["nadir_day"]
    label = LABELS[kind]
    if abs(best - nadir) <= 2:
        return best, (f"day {best - day:.0f} after the dose: the predicted {label} nadir falls then and, of the days "
                      f"the count is down, the model is least sure of it then (SD of log {label} {sd[k]:.2f}), so one "
                      "count there checks the nadir and informs the next dose most.")
    k_n = int(np.clip(np.searchsorted(times[sel], nadir), 0, sd.size - 1))
    return best, (f"day {best - day:.0f} after the dose: of the days the {label} is predicted to be down, the model "
                  f"is least sure of it then (SD of log {label} {sd[k]:.2f}, vs {sd[k_n]:.2f} at the predicted nadir "
                  f"on day {cand['nadir_day']:.0f}, {ctx.record.date_of(nadir)}), so a count then tells most about "
                  "this patient for the next dose.")


# -- the recommendation ----------------------------------------------------------------------------
def recommend_dose(posterior: Any, *, target: NadirTarget | None = None, max_risk_grade3: float = 0.10,
                   on: dt.date | str | None = None, dates: Sequence[dt.date | str] | None = None,
                   doses: Sequence[float] | None = None, n_draws: int = 300, seed: int = 0,
                   region: str | None = None, risk_kinds: Sequence[str] | None = None,
                   risk_grade: int = 3) -> DosePlan:
    """The next dose of the posterior's patient: date, amount, predicted nadir and the rule checks.

    posterior: from :func:`~mschemo.estimation.map.estimate_map` (Laplace draws) or
    :func:`~mschemo.estimation.map.sample_posterior` (SIR draws).
    target: the wanted nadir range (default: the drug file's titration aim, cyclophosphamide WBC
    1.5-2.0; none for mitoxantrone and cladribine).
    max_risk_grade3: the largest acceptable P(CTCAE grade >= 3 of WBC or ANC at the nadir) (with
    ``risk_grade=4``: of grade 4; a WBC target of 1.5-2.0 lies inside grade 3, see the plan's notes).
    on: the wanted date (default: the later of the day after the last count and the date the regimen
    makes the next course due). dates: candidate dates instead of ``on`` and weekly after it.
    doses: candidate doses (the history's unit) instead of the drug's grid.
    n_draws, seed: posterior draws used for the predictions. region: the lifetime cap in force
    ("us", "eu"; default the drug file's). risk_kinds: the counts whose grade counts (default WBC and
    ANC, plus ALC when ALC is the count followed).

    Research and education only, not a prescription.
    """
    if isinstance(max_risk_grade3, bool) or not isinstance(max_risk_grade3, (int, float)) \
            or not 0 <= max_risk_grade3 <= 1:
        raise OptionError(f"max_risk_grade3 {max_risk_grade3!r} is not a probability; give a number from 0 to 1, "
                          "e.g. 0.10.")
    if risk_grade not in (3, 4):
        raise OptionError(f"risk_grade {risk_grade!r} is not 3 or 4; give the CTCAE grade whose risk is limited.")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 20:
        raise OptionError(f"n_draws {n_draws!r} is too few; give a whole number of at least 20, e.g. 300.")
    if target is not None and not isinstance(target, NadirTarget):
        raise OptionError(f"target {target!r} is not a NadirTarget; write e.g. NadirTarget(wbc=(1.5, 2.0)).")
    planner = _Planner(_Context(posterior, region), target, float(max_risk_grade3), risk_kinds, risk_grade)
    planner.dates(on, dates)
    planner.predict_history(int(n_draws), seed)
    planner.count_rules_by_date(explicit_dates=dates is not None)
    planner.other_rules(doses)
    planner.choose_dose()
    return planner.plan()


class _Planner:
    """The steps of :func:`recommend_dose`, sharing the patient, the rules found and the notes."""

    def __init__(self, ctx: _Context, target: NadirTarget | None, max_risk: float,
                 risk_kinds: Sequence[str] | None, risk_grade: int) -> None:
        self.ctx, self.rec = ctx, ctx.record
        self.max_risk, self.risk_grade = max_risk, risk_grade
        self.notes: list[str] = list(getattr(self.rec, "notes", ()) or ())
        self.rows: list[_Row] = []
        self.decision, self.reason = "", ""
        self.chosen_day: float | None = None
        self.next_check_day: float | None = None
        self.first_fail = ""
        self.cands: list[dict[str, Any]] = []
        self.chosen: dict[str, Any] | None = None
        self.cumulative: dict[str, Any] | None = None
        if target is None:
            target = _default_target(ctx)
            if target is not None:
                self.notes.append(f"target: the drug file's titration aim, {target}")
        if target is not None and target.kind not in ctx.outputs:
            raise OptionError(f"the {ctx.drug.name} model has no {target.kind.upper()} output; target one of "
                              f"{', '.join(ctx.outputs)}.")
        self.target = target
        self.count_rules = [r for r in ctx.rules.in_force() if isinstance(r, CountRule) and r.applies_to(ctx.course_no)]
        if target is not None:
            self.kind = target.kind
        else:
            self.kind = next((r.output for r in self.count_rules if r.output in ctx.outputs),
                             "wbc" if "wbc" in ctx.outputs else ctx.outputs[0])
        if risk_kinds is None:
            rk = [k for k in ("wbc", "anc") if k in ctx.outputs]
            if self.kind == "alc" and "alc" in ctx.outputs:
                rk.append("alc")
            self.risk_kinds = tuple(rk) or (self.kind,)
        else:
            bad = [k for k in risk_kinds if k not in ctx.outputs]
            if bad or not risk_kinds:
                raise OptionError(f"risk kind {bad[0] if bad else None!r} is not an output of the {ctx.drug.name} "
                                  f"model; use {', '.join(ctx.outputs)}.")
            self.risk_kinds = tuple(risk_kinds)
        g3 = {"wbc": 2.0, "anc": 1.0, "alc": 0.5}
        if risk_grade == 3 and target is not None and target.kind in self.risk_kinds and target.low < g3[target.kind]:
            self.notes.append(
                f"the target {target} lies below the CTCAE grade-3 limit of {LABELS[target.kind]} "
                f"(< {g3[target.kind]:g} x10^9/L), so the grade >= 3 risk limit ({max_risk:.0%}) caps how close the "
                "nadir may come to the target; to aim at it, bound grade 4 instead (risk_grade=4, --risk-grade 4), "
                "raise the limit, or give a target above the grade-3 limit.")
        if ctx.label_courses and ctx.course_no > ctx.label_courses and not ctx.tablets:
            self.notes.append(f"this would be course {ctx.course_no}; the label regimen "
                              f"({ctx.drug.default_regimen}) has {ctx.label_courses}.")

    # 1. dates -------------------------------------------------------------------------------------
    def dates(self, on: Any, dates: Sequence[Any] | None) -> None:
        ctx, rec = self.ctx, self.rec
        last_dose_day = float(ctx.dose_days.max())
        last_count_day = float(rec.counts["day"].max()) if len(rec.counts) else last_dose_day
        if dates is not None:
            days = sorted({rec.day_of(_as_date(d, "dates entry")) for d in dates})
            if not days:
                raise OptionError("dates is empty; give at least one candidate date (YYYY-MM-DD).")
            self.on_day = days[0]
        else:
            if on is None:
                self.on_day = max(last_count_day + 1, ctx.due_day)
                self.notes.append(f"date asked: {rec.date_of(self.on_day)}, " + (
                    "when the regimen makes the next course due" if self.on_day == ctx.due_day
                    else "the day after the last count"))
            else:
                self.on_day = rec.day_of(_as_date(on, "on"))
            days = [self.on_day + WEEK_D * k for k in range(MAX_DATE_SHIFT_D // WEEK_D + 1)]
        if days[0] <= last_dose_day:
            raise OptionError(f"the dose date {rec.date_of(days[0])} is not after the last dose "
                              f"({rec.date_of(last_dose_day)}); give a later date with on=... (--on).")
        if self.on_day < ctx.due_day - 0.5:
            self.notes.append(f"{rec.date_of(self.on_day)} is {ctx.due_day - self.on_day:.0f} days before the regimen "
                              f"makes the next course due ({rec.date_of(ctx.due_day)}, every {ctx.cycle_d:g} days).")
        self.cand_days = days

    # 2. the posterior draws and the history's prediction ----------------------------------------------
    def predict_history(self, n_draws: int, seed: int) -> None:
        from ..estimation.map import residual_sigmas

        post, rec = self.ctx.post, self.rec
        self.n_draws, self.seed = n_draws, seed
        self.etas = np.vstack([post.mode[None, :], post.draws(n_draws, seed)])
        self.t0 = min(0.0, math.floor(float(rec.counts["day"].min())) if len(rec.counts) else 0.0)
        self.grid = np.arange(self.t0, max(self.cand_days) + math.floor(self.ctx.cycle_d) + 1, 1.0)
        self.hist = self.ctx.patient.predict(self.etas, self.grid, self.ctx.history)
        self.sigma = residual_sigmas()

    # 3. pre-dose count rules, date by date --------------------------------------------------------------
    def count_rules_by_date(self, explicit_dates: bool) -> None:
        ctx, rec, days = self.ctx, self.rec, self.cand_days
        if ctx.tablets and ctx.course_no > 2:
            self.decision = "stop"
            self.reason = (f"the label's two yearly courses of {ctx.drug.name} have been given; no further course is "
                           "planned in the label.")
            return
        for i, day in enumerate(days):
            day_rows = [_count_check(ctx, r, day, self.hist, self.grid, self.sigma) for r in self.count_rules]
            for row in day_rows:
                row.rule = f"{row.rule} ({rec.date_of(day)})" if len(days) > 1 else row.rule
            self.rows += day_rows
            failing = [(r, row) for r, row in zip(self.count_rules, day_rows) if row.status == "fail"]
            if not failing:
                self.chosen_day = day
                return
            rule, row = failing[0]
            self.first_fail = self.first_fail or (f"{LABELS.get(rule.output, rule.output)} {row.value} is below "
                                                  f"{rule.minimum:g} x10^9/L")
            if rule.action in ("stop", "withhold"):
                self.decision, self.reason = rule.action, row.reason
                return
            later = days[i + 1] if i + 1 < len(days) else day + WEEK_D
            ref = min(days[0], days[0] if explicit_dates else ctx.due_day)
            if later - ref > rule.max_delay_d + 1e-9:
                self.decision = rule.after_max_delay
                what = "treatment stops" if self.decision == "stop" else "this course is skipped"
                self.reason = (f"{row.reason[:-1]}; still failing at the longest delay the rule allows "
                               f"({rule.max_delay_d:g} days), so {what}.")
                self.next_check_day = day + rule.recheck_d if self.decision != "stop" else None
                return
            if i + 1 == len(days):
                self.decision = "delay"
                self.next_check_day = day + rule.recheck_d
                self.reason = (f"{row.reason[:-1]}; it is still predicted to fail on {rec.date_of(day)}, so re-check "
                               f"on {rec.date_of(self.next_check_day)}.")

    # 4. LVEF, lifetime cap, model fit; the candidate doses -----------------------------------------------
    def other_rules(self, doses: Sequence[float] | None) -> None:
        ctx = self.ctx
        grid, self.grid_from = _dose_grid(ctx)
        if doses is not None:
            vals = [float(x) for x in doses]
            if not vals or any(not (math.isfinite(x) and x > 0) for x in vals):
                raise OptionError(f"doses {list(doses)!r} must be amounts > 0 in {ctx.unit}; give e.g. [600, 700, 800].")
            if ctx.tablets:
                raise OptionError(f"{ctx.drug.name} is planned as the label's tablet course only; leave doses out.")
            grid, self.grid_from = sorted(set(vals)), "the doses asked for"
        if self.chosen_day is not None:
            for r in ctx.rules.in_force():
                if isinstance(r, CovariateRule) and r.applies_to(ctx.course_no):
                    row = _covariate_check(ctx, r, self.chosen_day)
                    self.rows.append(row)
                    if row.status == "fail" and not self.decision:
                        self.decision, self.reason = row.action or "stop", row.reason
        grid = self._cap(grid)
        fit_row, no_raise = _fit_check(ctx, self.sigma)
        if fit_row is not None:
            self.rows.append(fit_row)
        if no_raise and not ctx.tablets and str(ctx.last["unit"]) == ctx.unit:
            kept = [x for x in grid if x <= float(ctx.last["amount"]) + 1e-9]
            if kept and len(kept) < len(grid):
                self.notes.append(f"a count after the last dose lies far below the model's fit, so doses above the "
                                  f"last ({float(ctx.last['amount']):g} {ctx.unit}) were not considered.")
                grid = kept
        self.dose_grid = grid

    def _cap(self, grid: list[float]) -> list[float]:
        ctx = self.ctx
        cap, all_caps = _caps(ctx)
        if cap is None or ctx.tablets:
            return grid
        self.cap = cap
        given = ctx.given(cap.unit)
        remaining = cap.limit - given
        self.cumulative = {"given": round(given, 3), "limit": cap.limit, "unit": cap.unit, "region": cap.region or "",
                           "remaining": round(remaining, 3), "after": round(given, 3),
                           "others": {c.region: c.limit for c in all_caps if c is not cap}}
        if self.chosen_day is None:
            return grid
        fits = [x for x in grid if ctx.in_unit(ctx.to_mg(x, ctx.unit), cap.unit) <= remaining + 1e-9]
        if not fits:
            why = (f"the lifetime dose so far is {given:g} {cap.unit}; the {max(remaining, 0):g} {cap.unit} left under "
                   f"the {cap.limit:g} {cap.unit} cap ({cap.region.upper()}) is below the smallest candidate dose "
                   f"({min(grid):g} {ctx.unit}), so treatment stops ({cap.label}).")
            if not self.decision:
                self.decision, self.reason = "stop", why
            self.rows.append(_Row(cap.label, "fail", f"{given:g} {cap.unit} given", f"<= {cap.limit:g} {cap.unit}",
                                  why, "stop"))
        elif len(fits) < len(grid):
            self.notes.append(f"candidate doses above the {remaining:g} {cap.unit} left under the lifetime cap were "
                              "dropped.")
        return fits

    # 5. predict every candidate dose and choose ------------------------------------------------------------
    def choose_dose(self) -> None:
        ctx, rec = self.ctx, self.rec
        if self.chosen_day is None or self.decision:
            return
        if not ctx.tablets:
            self.notes.append(f"candidate doses: {self.grid_from}.")
        self.cands = [_evaluate(ctx, self.etas, self.chosen_day, x, self.kind, self.target, self.risk_kinds,
                                self.risk_grade) for x in self.dose_grid]
        if ctx.tablets:
            chosen, within = self.cands[0], self.cands[0]["p_risk"] <= self.max_risk + 1e-12
            why = "the label's course for this weight (cladribine is given as the label course only)"
        else:
            chosen, within, why = _choose(self.cands, self.target, self.max_risk, self.risk_grade)
        self.chosen, self.within = chosen, within
        date = rec.date_of(self.chosen_day)
        delayed = self.chosen_day != self.on_day
        lead = (f"delayed to {date} because on {rec.date_of(self.on_day)} {self.first_fail} (label rule); "
                if delayed else "")
        if not within and not ctx.tablets:
            self.decision = "review"
            self.reason = (f"{lead}{why}: {chosen['dose']:g} {ctx.unit} on {date} is shown for review - consider "
                           "delaying or withholding.")
        else:
            self.decision = "delay" if delayed else "give"
            self.reason = f"{lead}{why}."
        self.reason = self.reason[0].upper() + self.reason[1:]
        if self.cumulative is not None:
            cu, cap = self.cumulative, self.cap
            added = ctx.in_unit(chosen["mg"], cu["unit"])
            after = cu["given"] + added
            cu["after"] = round(after, 3)
            passed = [f"the {r.upper()} cap of {lim:g} {cu['unit']} is passed"
                      for r, lim in cu["others"].items() if r and after > lim]
            tail = f" ({'; '.join(passed)})" if passed else ""
            self.rows.append(_Row(cap.label, "pass", f"{cu['given']:g} + {added:g} = {after:g} {cap.unit}",
                                  f"<= {cap.limit:g} {cap.unit} ({cap.region.upper()})",
                                  f"after this dose the lifetime dose would be {after:g} of {cap.limit:g} {cap.unit} "
                                  f"({cap.region.upper()}){tail}."))
        status = "pass" if within else ("to-check" if ctx.tablets else "fail")
        self.rows.append(_Row(_risk_words(self.risk_kinds, self.risk_grade, cap=True) + " at the nadir (model)", status,
                              f"{chosen['p_risk']:.0%}", f"<= {self.max_risk:.0%}",
                              f"{chosen['p_risk']:.0%} of the posterior draws reach grade >= {self.risk_grade} after "
                              f"{_dose_words(ctx, chosen)} (limit {self.max_risk:.0%})"
                              + ("; the label course is not reduced, so discuss it." if status == "to-check" else ".")))

    # 6. the plan -----------------------------------------------------------------------------------------
    def plan(self) -> DosePlan:
        ctx, rec, chosen, kind = self.ctx, self.rec, self.chosen, self.kind
        cand_frame = pd.DataFrame([{
            "date": rec.date_of(c["day"]), "day": c["day"], f"dose_{_unit_col(ctx.unit)}": c["dose"], "dose_mg": c["mg"],
            "p_target": c["p_target"], "p_grade3": c["p_grade3"], "p_grade4": c["p_grade4"],
            f"nadir_{kind}_median_1e9_per_L": c["nadir_median"], f"nadir_{kind}_p5_1e9_per_L": c["nadir_p5"],
            f"nadir_{kind}_p95_1e9_per_L": c["nadir_p95"], "nadir_day_after_dose": c["nadir_day"],
            "within_risk": c["p_risk"] <= self.max_risk + 1e-12, "proposed": c is chosen} for c in self.cands])
        if chosen is not None:
            regimen = Regimen.from_doses(list(ctx.history.doses) + chosen["_doses"], text="history + proposed dose")
            full_grid = np.arange(self.t0, chosen["day"] + math.floor(ctx.cycle_d) + 1, 1.0)
            pred = ctx.patient.predict(self.etas, full_grid, regimen)
            nc_day, nc_reason = _next_count(ctx, chosen, kind)
            if ctx.route != "oral":
                self.notes.append(f"infusion over {_hours(ctx.duration_h)}, as {ctx.duration_from} "
                                  f"({rec.date_of(ctx.dose_days.max())}).")
            tit = _titration(ctx)
            note = _titration_note(ctx, tit) if tit is not None else ""
            if note:
                self.notes.append(note)
        else:
            end = (self.next_check_day or self.cand_days[0]) + 28
            full_grid = np.arange(self.t0, max(end, self.grid[-1]) + 1, 1.0)
            pred = ctx.patient.predict(self.etas, full_grid, ctx.history)
            nc_day = self.next_check_day if self.decision != "stop" else None
            if self.decision == "stop":
                nc_reason = "no further dose is planned; follow the counts as usual."
            elif nc_day is not None:
                nc_reason = "re-check the counts on the rule's re-check date before the next attempt."
            else:
                nc_reason = ""
        post = ctx.post
        method = (f"sampling-importance-resampling ({len(post.samples)} samples, ESS {post.ess:.0f})"
                  if getattr(post, "samples", None) is not None else "Laplace approximation at the MAP")
        pick = (lambda key: chosen[key]) if chosen is not None else (lambda key: math.nan)
        return DosePlan(
            patient_id=str(rec.id), drug=ctx.drug.name, decision=self.decision, reason=self.reason,
            date=rec.date_of(chosen["day"]) if chosen is not None else None,
            day=chosen["day"] if chosen is not None else None,
            dose=chosen["dose"] if chosen is not None else None, dose_unit=ctx.unit,
            mg=chosen["mg"] if chosen is not None else None,
            duration_h=ctx.duration_h if ctx.route != "oral" else None, route=ctx.route,
            administration=_administration(ctx, chosen), kind=kind, target=self.target, max_risk_grade3=self.max_risk,
            risk_kinds=self.risk_kinds, p_target=pick("p_target"), p_grade3=pick("p_grade3"), p_grade4=pick("p_grade4"),
            risk_grade=self.risk_grade, nadir_median=pick("nadir_median"), nadir_p5=pick("nadir_p5"),
            nadir_p95=pick("nadir_p95"), nadir_day=pick("nadir_day"),
            checks=pd.DataFrame([{"rule": r.rule, "status": r.status, "value": r.value, "limit": r.limit,
                                  "reason": r.reason} for r in self.rows],
                                columns=["rule", "status", "value", "limit", "reason"]),
            candidates=cand_frame, predicted=_predicted_table(rec, full_grid, pred), parameters=_parameter_table(post),
            next_count_date=rec.date_of(nc_day) if nc_day is not None else None, next_count_day=nc_day,
            next_count_reason=nc_reason, requested_on=rec.date_of(self.on_day), cycle_d=ctx.cycle_d,
            region=ctx.region, mg_basis=_mg_basis(ctx), cumulative=self.cumulative, posterior_method=method,
            n_draws=self.n_draws, seed=self.seed, notes=tuple(self.notes), record=rec)


# -- small texts and tables --------------------------------------------------------------------------
def _risk_words(kinds: Sequence[str], grade: int = 3, cap: bool = False) -> str:
    names = " or ".join(LABELS[k] for k in kinds)
    return f"P(grade >= {grade} {names})" if cap else f"risk of grade >= {grade} {names}"


def _dose_words(ctx: _Context, c: dict[str, Any]) -> str:
    if ctx.tablets:
        return f"the label course ({c['mg']:g} mg)"
    return f"{c['dose']:g} {ctx.unit}"


def _unit_col(unit: str) -> str:
    return {"mg": "mg", "mg/m2": "mg_per_m2", "mg/kg": "mg_per_kg"}[unit]


def _hours(h: float) -> str:
    return f"{h * 60:g} min" if h < 1 else f"{h:g} h"


def _administration(ctx: _Context, chosen: dict[str, Any] | None) -> str:
    if chosen is None:
        return ""
    if ctx.tablets:
        from ..drugs.cladribine import tablet_schedule
        sched = tablet_schedule(ctx.weight)
        tab = float(ctx.tablets["tablet_mg"])
        w1 = [n for w, n in sched if w == 1]
        w2 = [n for w, n in sched if w == 2]
        return (f"oral, {sum(w1) + sum(w2)} tablets of {tab:g} mg: week 1 {sum(w1)} tablets over {len(w1)} days, "
                f"week 2 {sum(w2)} tablets over {len(w2)} days from day {float(ctx.tablets['week2_start_day']):g}")
    if ctx.route == "oral":
        return "by mouth"
    return f"IV infusion over {_hours(ctx.duration_h)}" if ctx.duration_h > 0 else "IV bolus"


def _mg_basis(ctx: _Context) -> str:
    cov = ctx.record.covariates
    h, w = cov.get("height_cm"), cov.get("weight_kg")
    if ctx.tablets:
        return f"tablets from the label's weight band for {w:g} kg (the weight in the record)"
    if ctx.unit == "mg/m2":
        return (f"mg from a body-surface area of {ctx.bsa:.2f} m2 (Mosteller; height {h:g} cm, weight {w:g} kg, the "
                "latest in the record)")
    if ctx.unit == "mg/kg":
        return f"mg from a weight of {w:g} kg (the latest in the record)"
    return "dose in mg as written in the record"


def _titration_note(ctx: _Context, tit: NadirTitration) -> str:
    """What the drug file's titration table would give from the last measured nadir (for comparison)."""
    c = ctx.record.counts
    last = float(ctx.dose_days.max())
    c = c[(c["kind"] == tit.output) & (c["day"] > last)]
    if not len(c) or str(ctx.last["unit"]) != tit.unit:
        return ""
    low = c.loc[c["value"].idxmin()]
    new, _ = tit.next_dose(float(ctx.last["amount"]), float(low["value"]))
    return (f"for comparison, the label titration table gives {new:g} {tit.unit} from the lowest measured "
            f"{LABELS.get(tit.output, tit.output)} after the last dose ({float(low['value']):g} x10^9/L on "
            f"{low['date']}; a sparse count may miss the true nadir).")


def _predicted_table(rec: Any, grid: np.ndarray, pred: dict[str, np.ndarray]) -> pd.DataFrame:
    frames = []
    for kind, v in pred.items():
        d = v[1:]
        q = np.nanquantile(d, [0.5, 0.05, 0.95], axis=0)
        frames.append(pd.DataFrame({"day": grid, "date": [rec.date_of(t) for t in grid], "kind": kind,
                                    "median_1e9_per_L": q[0], "p5_1e9_per_L": q[1], "p95_1e9_per_L": q[2],
                                    "map_1e9_per_L": v[0]}))
    return pd.concat(frames, ignore_index=True)


def _parameter_table(posterior: Any) -> pd.DataFrame:
    ps = posterior.patient.model.parameter_set
    p = posterior.patient
    rows = []
    for j, (name, (mode, lo, hi)) in enumerate(posterior.parameters().items()):
        par = ps[name] if ps is not None and name in ps else None
        factor = (par.file_value / par.value) if par is not None and par.value else 1.0
        rows.append({"parameter": name, "unit": par.file_unit if par is not None else "",
                     "typical": float(p.base[p.cols][j]) * factor, "map": mode * factor, "p5": lo * factor,
                     "p95": hi * factor, "eta_map": float(posterior.mode[j]),
                     "description": par.description if par is not None else ""})
    return pd.DataFrame(rows)


# -- the figure --------------------------------------------------------------------------------------
def plot_plan(plan: DosePlan) -> Figure:
    """Measured counts (points), posterior median and 90 % band under the plan, doses, target range."""
    from matplotlib.figure import Figure

    rec = plan.record
    kinds = [plan.kind] + [k for k in KINDS if k != plan.kind and k in set(plan.predicted["kind"])
                           and (k in set(rec.counts["kind"]) or k in plan.risk_kinds)]
    kinds = kinds[:3]
    fig = Figure(figsize=(8.0, 2.4 * len(kinds) + 0.8))
    axes = fig.subplots(len(kinds), 1, sharex=True, squeeze=False)[:, 0]
    colors = {"wbc": "#1f5fa8", "anc": "#b2472a", "alc": "#2f7d4f"}
    g3 = {"wbc": 2.0, "anc": 1.0, "alc": 0.5}
    for ax, kind in zip(axes, kinds):
        p = plan.predicted[plan.predicted["kind"] == kind]
        ax.fill_between(p["day"], p["p5_1e9_per_L"], p["p95_1e9_per_L"], color=colors[kind], alpha=0.2,
                        lw=0, label="90 % band (posterior)")
        ax.plot(p["day"], p["median_1e9_per_L"], color=colors[kind], lw=1.6, label="posterior median")
        c = rec.counts[rec.counts["kind"] == kind]
        if len(c):
            ax.plot(c["day"], c["value"], "o", color="black", ms=4.5, label="measured", zorder=5)
        if plan.target is not None and plan.target.kind == kind:
            ax.axhspan(plan.target.low, plan.target.high, color="#f2c14e", alpha=0.35, lw=0,
                       label=f"target {plan.target.low:g}-{plan.target.high:g}")
        ax.axhline(g3[kind], color="#c0392b", lw=0.8, ls=":", label="CTCAE grade 3")
        for d in rec.doses["day"]:
            ax.axvline(float(d), color="#7a7a7a", lw=0.8, alpha=0.7)
        if plan.day is not None:
            ax.axvline(plan.day, color="black", lw=1.4, ls="--",
                       label=f"proposed {plan.dose:g} {plan.dose_unit}" if plan.dose_unit != "mg"
                       else f"proposed {plan.mg:g} mg")
        if plan.next_count_day is not None:
            ax.axvline(plan.next_count_day, color="#6a4c93", lw=1.0, ls="-.", label="next count")
        ax.set_ylabel(f"{LABELS[kind]} (10^9/L)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.25)
        ax.legend(fontsize=7, loc="best", ncol=2, framealpha=0.85)
    axes[-1].set_xlabel(f"days since the first dose ({rec.start.isoformat()})")
    what = plan.dose_text() if plan.dose is not None else f"no dose: {plan.decision}"
    fig.suptitle(f"Patient {plan.patient_id}, {plan.drug}: {what}", fontsize=10)
    fig.text(0.5, 0.005, plan.disclaimer, ha="center", va="bottom", fontsize=8, color="#c0392b")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig
