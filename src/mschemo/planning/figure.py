"""The plan's figure: measured counts, the prediction under the plan, doses and the target range.

Each count followed gets a panel: the posterior median of the model's curve and the 90 % prediction
interval of a measured count (the posterior's spread plus the residual error of a measurement), so
the patient's own counts lie in the band when the model follows them. A count outside it is ringed
in red and a warning above the panels names it. One legend for the figure, above the panels.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, cast

from ..dosing import count_name
from ..grading import limits
from ..presentation.style import set_time_axis
from .target import KINDS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from .plan import DosePlan

__all__ = ["plot_plan", "BAND_LABEL"]

BAND_LABEL = "90 % prediction interval of a measured count (posterior + measurement error)"
_COLORS = {"wbc": "#1f5fa8", "anc": "#b2472a", "alc": "#2f7d4f"}
_OUTSIDE = "#c0392b"
_NEXT = "#6a4c93"
_DOSE = "#8a8a8a"


def _kinds(plan: DosePlan) -> list[str]:
    """The count planned on first, then the other counts measured or whose risk is limited (3 at most)."""
    rec = plan.record
    shown = set(plan.predicted["kind"])
    others = [k for k in KINDS if k != plan.kind and k in shown
              and (k in set(rec.counts["kind"]) or k in plan.risk_kinds)]
    return ([plan.kind] + others)[:3]


def _warning(outside: pd.DataFrame, n: int) -> str:
    """One sentence on the measured counts outside the band ('' when none)."""
    if not len(outside):
        return ""
    shown = ", ".join(f"{count_name(cast(str, r.kind))} {r.value:g} on {r.date}" for r in outside.head(3).itertuples())
    more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
    some = "1 of the" if len(outside) == 1 else f"{len(outside)} of the"
    return (f"WARNING: {some} {n} measured counts lie outside the 90 % prediction interval ({shown}{more}): "
            "the model does not follow this patient well, so read every prediction here with care.")


def _legend_handles(plan: DosePlan, outside: bool) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    grey = "#555555"
    handles = [Patch(color=grey, alpha=0.25, lw=0, label=BAND_LABEL),
               Line2D([], [], color=grey, lw=1.8, label="posterior median"),
               Line2D([], [], marker="o", color="black", ls="none", ms=5, label="measured")]
    if outside:
        handles.append(Line2D([], [], marker="o", mfc="none", mec=_OUTSIDE, mew=1.8, ls="none", ms=11,
                              label="measured, outside the interval"))
    if plan.target is not None:
        handles.append(Patch(color="#f2c14e", alpha=0.45, lw=0,
                             label=f"target {count_name(plan.target.kind)} {plan.target.low:g}-{plan.target.high:g}"))
    handles += [Line2D([], [], color="#c0392b", lw=1.0, ls=":", label="CTCAE grade 3"),
                Line2D([], [], color=_DOSE, lw=1.0, label="dose given")]
    if plan.day is not None and plan.dose is not None:
        amount = f"{plan.dose:g} {plan.dose_unit}" if plan.dose_unit != "mg" else f"{plan.mg:g} mg"
        handles.append(Line2D([], [], color="black", lw=1.4, ls="--", label=f"proposed {amount} on {plan.date}"))
    if plan.next_count_day is not None:
        handles.append(Line2D([], [], color=_NEXT, lw=1.2, ls="-.", label=f"next count {plan.next_count_date}"))
    return handles


def plot_plan(plan: DosePlan) -> Figure:
    """Measured counts (points), posterior median and 90 % prediction interval under the plan, past
    and proposed doses, the next count and the target range; a warning when a measured count lies
    outside the interval. Time in days (months for a window over about 6 months) since the first dose."""
    from matplotlib.figure import Figure

    rec = plan.record
    kinds = _kinds(plan)
    measured = plan.measured_vs_band()
    outside = measured[~measured["inside"].astype(bool)]
    warning = _warning(outside, len(measured))
    what = plan.dose_text() if plan.dose is not None else f"no dose ({plan.verdict})"
    if plan.verdict != plan.decision and plan.dose is not None:
        what = f"{plan.verdict.upper()}: {what}"
    title = textwrap.fill(f"Patient {plan.patient_id}, {plan.drug}: {what}", 95)
    handles = _legend_handles(plan, bool(len(outside)))
    warning = textwrap.fill(warning, 115) if warning else ""
    ncol = 3
    # the strip above the panels, in inches from the top: title, warning box, legend
    title_in = 0.12 + 0.21 * (title.count("\n") + 1)
    warning_in = 0.2 + 0.165 * (warning.count("\n") + 1) if warning else 0.0
    legend_in = 0.2 + 0.21 * -(-len(handles) // ncol)
    head_in, foot_in = title_in + warning_in + legend_in + 0.08, 0.35
    height = 2.3 * len(kinds) + 0.6 + head_in + foot_in
    fig = Figure(figsize=(10.0, height), layout="constrained")
    axes = fig.subplots(len(kinds), 1, sharex=True, squeeze=False)[:, 0]
    p_all = plan.predicted
    start, end = float(p_all["day"].min()), float(p_all["day"].max())
    pad = 0.015 * (end - start)   # counts on the first or last day stay clear of the frame
    for ax, kind in zip(axes, kinds):
        color = _COLORS[kind]
        p = p_all[p_all["kind"] == kind]
        ax.fill_between(p["day"], p["pi5_1e9_per_L"], p["pi95_1e9_per_L"], color=color, alpha=0.2, lw=0)
        ax.plot(p["day"], p["median_1e9_per_L"], color=color, lw=1.8)
        m = measured[measured["kind"] == kind]
        if len(m):
            ax.plot(m["day"], m["value"], "o", color="black", ms=5, zorder=5)
            out = m[~m["inside"].astype(bool)]
            ax.plot(out["day"], out["value"], "o", mfc="none", mec=_OUTSIDE, mew=1.8, ms=11, zorder=6)
        if plan.target is not None and plan.target.kind == kind:
            ax.axhspan(plan.target.low, plan.target.high, color="#f2c14e", alpha=0.45, lw=0, zorder=0)
        ax.axhline(limits(kind)[3], color="#c0392b", lw=1.0, ls=":")
        for d in rec.doses["day"]:
            ax.axvline(float(d), color=_DOSE, lw=1.0, alpha=0.8, zorder=1)
        if plan.day is not None:
            ax.axvline(plan.day, color="black", lw=1.4, ls="--")
        if plan.next_count_day is not None:
            ax.axvline(plan.next_count_day, color=_NEXT, lw=1.2, ls="-.")
        ax.set_ylabel(f"{count_name(kind)} (10$^9$/L)")
        ax.set_ylim(0, max(float(p["pi95_1e9_per_L"].max()), float(m["value"].max()) if len(m) else 0.0) * 1.08)
        ax.set_xlim(start - pad, end + pad)
        ax.grid(alpha=0.25)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    set_time_axis(axes[-1], start, end, f"{{unit}} since the first dose ({rec.start.isoformat()})")
    # title, warning and legend in the strip above the panels; the disclaimer below them
    engine = cast("ConstrainedLayoutEngine", fig.get_layout_engine())   # layout="constrained"
    engine.set(rect=(0.0, foot_in / height, 1.0, 1.0 - head_in / height))
    fig.text(0.01, 1.0 - 0.1 / height, title, ha="left", va="top", fontsize=10.5, fontweight="bold")
    if warning:
        fig.text(0.5, 1.0 - (title_in + 0.1) / height, warning, ha="center", va="top", fontsize=9, color=_OUTSIDE,
                 fontweight="bold", bbox=dict(boxstyle="round,pad=0.35", fc="#fdecea", ec=_OUTSIDE, lw=1.2))
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1.0 - (title_in + warning_in) / height),
               ncol=ncol, fontsize=8, frameon=False, handlelength=2.0, columnspacing=1.5, borderaxespad=0.0)
    fig.text(0.5, 0.08 / height, plan.disclaimer, ha="center", va="bottom", fontsize=8.5, color="#c0392b")
    return fig
