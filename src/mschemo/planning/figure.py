"""The plan's figure: measured counts, the posterior under the plan, doses and the target range."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..dosing import count_name
from ..grading import limits
from .target import KINDS

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from .plan import DosePlan

__all__ = ["plot_plan"]


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
        ax.axhline(limits(kind)[3], color="#c0392b", lw=0.8, ls=":", label="CTCAE grade 3")
        for d in rec.doses["day"]:
            ax.axvline(float(d), color="#7a7a7a", lw=0.8, alpha=0.7)
        if plan.day is not None:
            ax.axvline(plan.day, color="black", lw=1.4, ls="--",
                       label=f"proposed {plan.dose:g} {plan.dose_unit}" if plan.dose_unit != "mg"
                       else f"proposed {plan.mg:g} mg")
        if plan.next_count_day is not None:
            ax.axvline(plan.next_count_day, color="#6a4c93", lw=1.0, ls="-.", label="next count")
        ax.set_ylabel(f"{count_name(kind)} (10^9/L)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.25)
        ax.legend(fontsize=7, loc="best", ncol=2, framealpha=0.85)
    axes[-1].set_xlabel(f"days since the first dose ({rec.start.isoformat()})")
    what = plan.dose_text() if plan.dose is not None else f"no dose: {plan.decision}"
    fig.suptitle(f"Patient {plan.patient_id}, {plan.drug}: {what}", fontsize=10)
    fig.text(0.5, 0.005, plan.disclaimer, ha="center", va="bottom", fontsize=8, color="#c0392b")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig
