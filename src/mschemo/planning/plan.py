"""DosePlan: a proposed next dose (or why there is none), its predictions, checks and texts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._internal.meta import DISCLAIMER
from ..dosing import count_name
from .target import NadirTarget

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["DosePlan", "DECISIONS", "VERDICT_REVIEW"]

#: the verdict of a plan that gives a dose while a check did not pass
VERDICT_REVIEW = "needs review"

DECISIONS = {
    "give": "give the proposed dose on the proposed date",
    "delay": "give the proposed dose later than asked (a pre-dose rule fails on the asked date)",
    "review": "no candidate dose keeps the grade >= 3 risk within the limit; the lowest dose is shown for review",
    "withhold": "skip this course (a pre-dose rule still fails at the longest delay)",
    "stop": "no further dose (a label rule ends treatment)",
}


@dataclass(frozen=True, eq=False)
class DosePlan:
    """A proposed next dose (or why there is none) with the posterior's predictions and the rule checks.

    Tables: ``checks`` (rule, status pass/fail/to-check, value, limit, reason), ``candidates`` (every
    dose evaluated on the dose date), ``predicted`` (day, date, kind, median, p5, p95 of the model's
    curve under the proposed plan, pi5, pi95 of a measured count: the residual error added),
    ``parameters`` (the patient's estimated parameters with 90 % intervals).
    ``verdict`` is what a clinic reads first: "needs review" when the decision is to give but a check
    did not pass (``open_checks``), else the decision.
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

    @property
    def open_checks(self) -> pd.DataFrame:
        """The checks that did not pass (status fail or to-check)."""
        return self.checks[self.checks["status"] != "pass"].reset_index(drop=True)

    @property
    def verdict(self) -> str:
        """"needs review" when the decision is to give and a check did not pass; else the decision."""
        return VERDICT_REVIEW if self.decision == "give" and len(self.open_checks) else self.decision

    def measured_vs_band(self) -> pd.DataFrame:
        """The measured counts (kind, date, day, value) with the 90 % prediction interval of a measured
        count on their day (pi5, pi95; ``predicted``) and whether each lies in it (``inside``)."""
        rec = self.record
        cols = ["kind", "date", "day", "value", "pi5_1e9_per_L", "pi95_1e9_per_L", "inside"]
        if rec is None or not len(rec.counts):
            return pd.DataFrame(columns=cols)
        c = rec.counts[rec.counts["kind"].isin(set(self.predicted["kind"]))]
        frames = []
        for kind, rows in c.groupby("kind", sort=False):
            p = self.predicted[self.predicted["kind"] == kind]
            day = rows["day"].to_numpy(dtype=float)
            lo = np.interp(day, p["day"], p["pi5_1e9_per_L"])
            hi = np.interp(day, p["day"], p["pi95_1e9_per_L"])
            value = rows["value"].to_numpy(dtype=float)
            frames.append(pd.DataFrame({"kind": kind, "date": rows["date"].to_numpy(), "day": day, "value": value,
                                        "pi5_1e9_per_L": lo, "pi95_1e9_per_L": hi,
                                        "inside": (value >= lo) & (value <= hi)}))
        return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)

    def dose_text(self) -> str:
        """'700 mg/m2 (1,166 mg) IV over 1 h on 2026-03-31', or the decision when there is no dose."""
        if self.dose is None:
            return f"no dose ({self.decision})"
        assert self.date is not None   # a plan with a dose has its date
        amount = f"{self.dose:g} {self.dose_unit}" if self.dose_unit == "mg" else \
            f"{self.dose:g} {self.dose_unit} ({self.mg:,.0f} mg)"
        return f"{amount}, {self.administration}, on {self.date.isoformat()}"

    def proposal_rows(self) -> list[tuple[str, str]]:
        """(label, text) rows of the proposal: dose, date, how, mg basis, predicted nadir, P(target),
        the grade risks with the limit, lifetime dose and next count (the CLI and the sheet show them)."""
        rows: list[tuple[str, str]] = []
        if self.dose is not None:
            assert self.date is not None   # a plan with a dose has its date
            dose = f"{self.dose:g} {self.dose_unit}" + (f" = {self.mg:,.0f} mg" if self.dose_unit != "mg" else "")
            rows += [("dose", dose), ("date", self.date.isoformat()), ("how", self.administration),
                     ("mg basis", self.mg_basis),
                     (f"predicted {count_name(self.kind)} nadir (10^9/L)",
                      f"{self.nadir_median:.2f} (90 % band {self.nadir_p5:.2f}-{self.nadir_p95:.2f}), about day "
                      f"{self.nadir_day:g} after the dose")]
            if self.target is not None:
                rows.append(("P(nadir in target)", f"{self.p_target:.0%} (target {self.target.low:g}-"
                                                   f"{self.target.high:g} x10^9/L {count_name(self.target.kind)})"))
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
        return f"P(CTCAE grade >= {g} of " + " or ".join(count_name(k) for k in self.risk_kinds) + ")"

    def summary(self) -> str:
        """The plan as plain text (what the CLI prints, without tables)."""
        lines = [f"Patient {self.patient_id}, {self.drug}: {self.verdict.upper()} - {self.reason}"]
        if self.verdict == VERDICT_REVIEW:
            lines.append("Review before giving: " + "; ".join(f"{r.rule} ({r.status})"
                                                               for r in self.open_checks.itertuples(index=False)))
        if self.dose is not None:
            lines.append(f"Proposed dose: {self.dose_text()}")
            lines.append(f"  {self.mg_basis}")
            lines.append(f"Predicted {count_name(self.kind)} nadir: {self.nadir_median:.2f} x10^9/L "
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
        """Counts: measured (points), posterior median and 90 % prediction interval under the plan
        (a warning when a measured count lies outside it), the proposed dose (dashed line) and the
        target range (shaded). Written to ``path`` if given."""
        from .figure import plot_plan

        fig = plot_plan(self)
        if path is not None:
            from ..presentation import save_figure
            save_figure(fig, path)
        return fig

    def to_html(self, path: str | Path) -> Path:
        """A printable one-page infusion-centre sheet (self-contained HTML), written atomically."""
        from .sheet import write_sheet
        return write_sheet(self, path)

    def sheet_html(self, figure: bool = True) -> str:
        """The infusion-centre sheet as HTML text (nothing written; the web app serves it)."""
        from .sheet import sheet_html
        return sheet_html(self, figure=figure)
