"""Several drugs side by side: one column per result, one row per count output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

from ..errors import OptionError
from .counts import _decision_marks, _dose_times, _draw_panel
from .style import _DOSE_COLOR, _G3_COLOR, _REFUSED_COLOR, DISCLAIMER, _footer, set_time_axis

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from ..results import SimulationResult

__all__ = ["plot_drugs"]


def plot_drugs(results: dict[str, SimulationResult], subtitles: dict[str, str] | None = None, *,
               outputs: Sequence[str] = ("wbc", "anc", "alc"), band: tuple[float, float] = (5.0, 95.0),
               title: str | None = None) -> Figure:
    """Several drugs side by side: one column per result (``{name: result}``), one row per count
    output (WBC, ANC, ALC). Each panel: the median with a ``band`` over patients, the CTCAE v5.0
    grade-3 limit and the dosing decisions (or dose ticks); the rows share their y axis.
    ``subtitles``: a line under each column's name (e.g. the regimen). One legend for the figure.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not results:
        raise OptionError("plot_drugs needs at least one result; give {name: result}.")
    if not (len(band) == 2 and 0.0 <= band[0] < 50.0 < band[1] <= 100.0):
        raise OptionError(f"band = {band!r}; give two percentiles around the median, e.g. (5, 95).")
    names = list(results)
    rows = [o for o in outputs if all(f"{o}_1e9_per_L" in r.columns for r in results.values())]
    if not rows:
        raise OptionError(f"the results share none of the outputs {', '.join(outputs)}; give outputs= that all have.")
    fig = Figure(figsize=(4.4 * len(names) + 0.6, 2.4 * len(rows) + 1.6), layout="constrained")
    axes = fig.subplots(len(rows), len(names), sharex=False, squeeze=False)
    for j, name in enumerate(names):
        res = results[name]
        marks = _decision_marks(res, None)
        doses = _dose_times(res, None) if marks is None else np.empty(0)
        for i, out in enumerate(rows):
            ax = axes[i, j]
            _draw_panel(ax, res, f"{out}_1e9_per_L", None, band, doses, marks=marks, legend=False)
            ax.set_title("", loc="left")
            if j > 0:
                ax.set_ylabel("")
            set_time_axis(ax, float(res.times_d[0]), float(res.times_d[-1]))
            if i < len(rows) - 1:
                ax.set_xlabel("")
        sub = (subtitles or {}).get(name, "")
        head = name + (f"\n{sub.replace('mg/m2', 'mg/m²')}" if sub else "")
        axes[0, j].set_title(head, loc="left", fontsize=9.5, color="#333333")
    for i in range(len(rows)):   # one y scale per row, so the drugs compare at a glance
        top = max(a.get_ylim()[1] for a in axes[i])
        for a in axes[i]:
            a.set_ylim(0.0, top)
    handles = [Line2D([], [], color="#333333", lw=1.6, label="median"),
               Patch(color="#333333", alpha=0.22, lw=0, label=f"{band[0]:g}-{band[1]:g} % of patients"),
               Line2D([], [], color=_G3_COLOR, lw=1.2, ls=":", label="CTCAE v5.0 grade 3"),
               Line2D([], [], marker="v", color=_DOSE_COLOR, ls="none", markersize=5.5, markeredgewidth=0,
                      label="course given"),
               Line2D([], [], marker="x", color=_REFUSED_COLOR, ls="none", markersize=6, markeredgewidth=1.6,
                      label="withheld or stopped"),
               Line2D([], [], marker="o", color=_DOSE_COLOR, markerfacecolor="none", ls="none", markersize=5.5,
                      markeredgewidth=1.2, label="delayed")]
    # legend and footer below the panels, in the strip the layout leaves free (rect)
    fig.legend(handles=handles, loc="center", bbox_to_anchor=(0.5, 0.034), ncol=len(handles), fontsize=8.5,
               frameon=False)
    first = results[names[0]]
    fig.suptitle(title or f"White-cell counts under each drug's label regimen ({first.n_patients} patients each)",
                 x=0.01, ha="left", fontsize=11, fontweight="bold")
    cast("ConstrainedLayoutEngine", fig.get_layout_engine()).set(rect=(0.0, 0.06, 1.0, 0.94))
    fig.text(0.5, 0.004, f"{DISCLAIMER}   |   {_footer(first)}", ha="center", va="bottom", fontsize=7.5,
             color="#666666")
    return fig
