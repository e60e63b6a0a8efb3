"""Counts over time: one panel per count output, for one patient, a few or a population.

``plot_counts`` (also ``SimulationResult.plot``) draws one patient's curve, one curve per patient
up to ``FEW_PATIENTS`` patients, or the median and a band over a larger population, with the dose
times (or the dosing decisions) and the CTCAE v5.0 grade-3 limit. The panel helpers here also draw
the columns of ``plot_drugs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..dosing.actions import REFUSED
from ..errors import OptionError
from .style import (
    _COLORS,
    _COUNT_LABELS,
    _DOSE_COLOR,
    _G3_COLOR,
    _GIVEN_ACTIONS,
    _REFUSED_COLOR,
    DISCLAIMER,
    _footer,
    set_time_axis,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from ..results import SimulationResult

__all__ = ["plot_counts", "FEW_PATIENTS"]

#: populations up to this size are drawn one line per patient, larger ones as median and band
FEW_PATIENTS = 6
#: heights (axes fraction) of the decision markers: given courses on top, refusals just below
_GIVEN_Y, _REFUSED_Y = 0.975, 0.915


def _grade3_limit(kind: str) -> float | None:
    """CTCAE v5.0 grade-3 limit (10^9/L) of a count, from the ctcae-v5 parameter file."""
    from ..grading import CTCAE_TERMS
    from ..params import load_parameters

    if kind not in CTCAE_TERMS:
        return None
    ps = load_parameters("ctcae-v5")
    key = f"{kind.upper()}_G3"
    return float(ps[key].value) if key in ps else None


def _select_outputs(result: SimulationResult, output: str | Sequence[str] | None) -> list[str]:
    counts = list(result.count_outputs)
    if output is None:
        if counts:
            return counts
        conc = [c for c in result.columns if c.startswith("conc")]   # a PK-only model: its concentration
        if not conc:
            raise OptionError(f"this result has no count or concentration to plot; give output= one of "
                              f"{', '.join(result.columns)}.")
        return conc
    wanted = [output] if isinstance(output, str) else list(output)
    cols = []
    for w in wanted:
        if w in result.columns:
            cols.append(w)
            continue
        match = [c for c in result.columns if c.split("_")[0] == str(w).lower()]
        if not match:
            raise OptionError(f"output {w!r} is not in this result; choose one of {', '.join(result.columns)}.")
        cols.append(match[0])
    return cols


def _patient_index(result: SimulationResult, patient: Any) -> int | None:
    if patient is None:
        return 0 if result.n_patients == 1 else None
    ids = result.ids
    hits = np.flatnonzero(ids == patient)
    if hits.size == 0:
        # ids read from files may be strings or ints; compare as text as a fallback
        hits = np.flatnonzero(np.asarray([str(i) for i in ids]) == str(patient))
    if hits.size == 0:
        shown = ", ".join(map(str, ids[:5])) + (", ..." if ids.size > 5 else "")
        raise OptionError(f"patient {patient!r} is not in this result (ids {shown}); give one of its ids.")
    return int(hits[0])


def _label(col: str) -> tuple[str, str, str]:
    """(kind, axis label with unit, long name) of an output column."""
    kind = col.split("_")[0]
    if col.endswith("_1e9_per_L"):
        short, name = _COUNT_LABELS.get(kind, (kind.upper(), kind.upper()))
        return kind, f"{short} ($10^9$/L)", name
    if col.startswith("conc"):
        return "conc", "Concentration (mg/L)", "Drug concentration (central)"
    if col.endswith("_mg_d_per_L"):
        return kind, f"{kind.upper()} (mg·d/L)", kind.upper()
    return kind, col, col


def _dose_times(result: SimulationResult, index: int | None) -> np.ndarray:
    from ..regimen import Regimen

    if index is not None or isinstance(result.regimen, Regimen):
        return np.unique(result.dose_times_d(0 if index is None else index))
    times = [result.dose_times_d(i) for i in range(result.n_patients)]
    return np.unique(np.concatenate(times)) if times else np.empty(0)


def _mark_doses(ax: Axes, doses: np.ndarray, t_end: float, label: bool) -> None:
    """Dose times as short ticks along the top of the axes (and a faint line through the panel)."""
    doses = doses[doses <= t_end]
    if doses.size == 0:
        return
    tr = ax.get_xaxis_transform()
    for k, d in enumerate(doses):
        ax.axvline(d, color=_DOSE_COLOR, lw=0.6, alpha=0.25, zorder=0)
        ax.plot([d, d], [0.93, 1.0], transform=tr, color=_DOSE_COLOR, lw=1.6, solid_capstyle="butt",
                label="dose" if (label and k == 0) else None, clip_on=False)


def _decision_marks(result: SimulationResult, index: int | None) -> dict[str, np.ndarray] | None:
    """Days of the dosing decisions to mark (None when the result has no decisions).

    One patient: that patient's days. A population: a rug of every distinct day on which some
    patient's course was given, withheld or stopped, or delayed.
    """
    d = result.decisions
    if d is None:
        return None
    if index is not None:
        d = d[d["id"] == result.ids[index]]
    action = d["action"].astype(str)
    day = d["day"].to_numpy(dtype=float)
    out = {}
    for key, actions in (("given", _GIVEN_ACTIONS), ("refused", REFUSED), ("delayed", ("delayed",))):
        mask = action.isin(actions).to_numpy()
        out[key] = np.unique(day[mask])
        out[f"n_{key}"] = np.array(int(mask.sum()))
    return out


_DECISION_STYLES: tuple[tuple[str, float, dict[str, Any], str], ...] = (
    ("given", _GIVEN_Y, dict(marker="v", color=_DOSE_COLOR, markersize=5.5, markeredgewidth=0.0), "course given"),
    ("refused", _REFUSED_Y, dict(marker="x", color=_REFUSED_COLOR, markersize=6.0, markeredgewidth=1.6),
     "withheld or stopped"),
    ("delayed", _REFUSED_Y, dict(marker="o", color=_DOSE_COLOR, markerfacecolor="none", markersize=5.5,
                                 markeredgewidth=1.2), "delayed"),
)


def _decision_label(marks: dict[str, np.ndarray], key: str, text: str) -> str:
    if key == "given":
        return text
    n = int(marks[f"n_{key}"])
    return f"{text} ({n} course{'s' if n != 1 else ''})"


def _mark_decisions(ax: Axes, marks: dict[str, np.ndarray], t_end: float, label: bool) -> None:
    """Dosing decisions along the top of the axes: given courses as triangles, withheld or stopped
    courses as red crosses, delays as open circles."""
    tr = ax.get_xaxis_transform()
    for key, y, style, text in _DECISION_STYLES:
        days = marks[key]
        days = days[days <= t_end]
        if days.size == 0:
            continue
        ax.plot(days, np.full(days.size, y), transform=tr, linestyle="none", clip_on=False, zorder=5,
                label=_decision_label(marks, key, text) if label else None, **style)


def _decision_handles(marks: dict[str, np.ndarray], t_end: float) -> list:
    """Legend entries of the decision markers that appear (for a figure legend)."""
    from matplotlib.lines import Line2D

    return [Line2D([], [], linestyle="none", label=_decision_label(marks, key, text), **style)
            for key, _, style, text in _DECISION_STYLES if np.any(marks[key] <= t_end)]


def _draw_panel(ax: Axes, result: SimulationResult, col: str, index: int | None, band: tuple[float, float],
                doses: np.ndarray, show_limit: bool = True, marks: dict[str, np.ndarray] | None = None,
                legend: bool = True, marks_in_legend: bool = True) -> None:
    t = result.times_d
    vals = result.column(col)
    kind, ylabel, name = _label(col)
    if col.startswith("conc"):   # the drug level where its peaks are, not only on the output grid
        from .concentration import concentration_near_doses

        dense = concentration_near_doses(result, col)
        if dense is not None:
            t, vals = dense
    color = _COLORS.get(kind, "#333333")
    is_count = col.endswith("_1e9_per_L")
    if index is not None:
        ax.plot(t, vals[index], color=color, lw=1.6, label=f"patient {result.ids[index]}")
    elif result.n_patients <= FEW_PATIENTS:   # too few for a band: one line per patient
        import matplotlib as mpl

        cmap = mpl.colormaps["tab10"]
        for i in range(result.n_patients):
            ax.plot(t, vals[i], color=cmap(i % 10), lw=1.4, label=f"patient {result.ids[i]}")
    else:
        ok = np.all(np.isfinite(vals), axis=1)
        v = vals[ok] if ok.any() else vals
        lo, med, hi = np.nanpercentile(v, [band[0], 50.0, band[1]], axis=0)
        ax.fill_between(t, lo, hi, color=color, alpha=0.22, lw=0,
                        label=f"{band[0]:g}-{band[1]:g} % of patients")
        ax.plot(t, med, color=color, lw=1.6, label=f"median of {int(ok.sum())} patients")
    if is_count and show_limit:
        g3 = _grade3_limit(kind)
        if g3 is not None:
            short = _COUNT_LABELS.get(kind, (kind.upper(),))[0]
            ax.axhline(g3, color=_G3_COLOR, lw=1.2, ls=":", label=f"CTCAE grade 3: {short} < {g3:.1f}")
    if marks is not None:
        _mark_decisions(ax, marks, float(t[-1]), label=marks_in_legend)
    else:
        _mark_doses(ax, doses, float(t[-1]), label=True)
    ax.set_ylabel(ylabel)
    ax.set_title(name, loc="left", fontsize=10, color="#333333")
    ax.set_xlim(float(t[0]), float(t[-1]))
    if is_count:
        if index is not None:
            top = float(np.nanmax(vals[index]))
        elif result.n_patients <= FEW_PATIENTS:
            top = float(np.nanmax(vals))
        else:
            top = float(np.nanmax(np.nanpercentile(vals, band[1], axis=0)))
        headroom = 1.12 if marks is None else 1.22   # room for the decision markers along the top
        ax.set_ylim(0.0, max(top * headroom, (_grade3_limit(kind) or 0.0) * 1.5, 1e-9))
    else:
        positive = vals[np.isfinite(vals) & (vals > 0)]
        if positive.size:
            ax.set_yscale("log")
            peak = float(positive.max())
            ax.set_ylim(max(float(positive.min()), peak * 1e-4), peak * 2.0)
    ax.grid(True, color="#e6e6e6", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if not legend:
        return
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(labels), fontsize=8,
              frameon=False, borderaxespad=0.2, handlelength=1.8, columnspacing=1.2)


def plot_counts(result: SimulationResult, output: str | Sequence[str] | None = None, patient: Any = None,
                ax: Axes | None = None, title: str | None = None, *, show_conc: bool = False,
                band: tuple[float, float] = (5.0, 95.0)) -> Figure | SubFigure:
    """White-cell counts over time, one panel per count output (WBC, ANC, ALC as present).

    One patient (a one-patient result, or ``patient=<id>``): that patient's curve. Up to
    ``FEW_PATIENTS`` patients: one curve each. A larger population: the median with a ``band``
    (default 5-95 %) band over patients. Each panel marks the dose
    times (ticks along the top) and the CTCAE v5.0 grade-3 limit (dotted); the time axis is in days up
    to about 6 months, in months or years beyond. A result of dosing rules
    (``result.decisions``) marks the decisions instead: given courses as triangles along the top,
    withheld or stopped courses as red crosses and delays as open circles (for a population, every
    day on which some patient's course was so decided). ``show_conc`` adds a
    concentration panel (log scale), drawn at the output times plus times close after each dose
    (the PK solved again, :mod:`.concentration`), so every peak shows at its height. ``ax``: draw the first selected output into these axes.
    Returns the matplotlib Figure (``ax``'s figure, a SubFigure where ``ax`` is in one); write it with
    :func:`save_figure`.
    """
    from matplotlib.figure import Figure

    if not (len(band) == 2 and 0.0 <= band[0] < 50.0 < band[1] <= 100.0):
        raise OptionError(f"band = {band!r}; give two percentiles around the median, e.g. (5, 95).")
    cols = _select_outputs(result, output)
    if show_conc:
        conc = [c for c in result.columns if c.startswith("conc")]
        cols = cols + [c for c in conc if c not in cols]
    index = _patient_index(result, patient)
    marks = _decision_marks(result, index)
    doses = _dose_times(result, index) if marks is None else np.empty(0)

    if ax is not None:
        fig = ax.figure
        _draw_panel(ax, result, cols[0], index, band, doses, marks=marks)
        set_time_axis(ax, float(result.times_d[0]), float(result.times_d[-1]))
        if title:
            ax.set_title(title, loc="left", fontsize=10)
        return fig

    n = len(cols)
    fig = Figure(figsize=(9.0, 2.0 + 2.6 * n), layout="constrained")
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    for a, col in zip(axes, cols, strict=True):
        _draw_panel(a, result, col, index, band, doses, marks=marks, marks_in_legend=False)
    set_time_axis(axes[-1], float(result.times_d[0]), float(result.times_d[-1]))
    fig.suptitle(title or _default_title(result, index), x=0.01, ha="left", fontsize=11, fontweight="bold")
    engine = cast("ConstrainedLayoutEngine", fig.get_layout_engine())   # layout="constrained"
    if marks is None:
        engine.set(h_pad=0.08, rect=(0.0, 0.045, 1.0, 0.955))
    else:   # the decision markers get one legend for the figure, between the panels and the footer
        height = fig.get_figheight()
        engine.set(h_pad=0.08, rect=(0.0, 0.75 / height, 1.0, 1.0 - 0.75 / height))
        fig.legend(handles=_decision_handles(marks, float(result.times_d[-1])), loc="center",
                   bbox_to_anchor=(0.5, 0.42 / height), ncol=3, fontsize=8.5, frameon=False)
    fig.text(0.5, 0.012, f"{DISCLAIMER}   |   {_footer(result)}", ha="center", va="bottom", fontsize=7.5,
             color="#666666")
    return fig


def _default_title(result: SimulationResult, index: int | None) -> str:
    from ..regimen import Regimen

    planned = (result.provenance or {}).get("regimen") if result.decisions is not None else None
    if planned:   # a drug under its rules: the regimen planned (the doses given are marked)
        reg = f"{planned}, {'dosing rules' if (result.provenance or {}).get('dosing_rules') else 'every dose given'}"
    else:
        reg = result.regimen.describe() if isinstance(result.regimen, Regimen) else "doses from an event table"
    reg = str(reg).replace("mg/m2", "mg/m²")
    who = f"patient {result.ids[index]}" if index is not None else f"{result.n_patients} patients"
    return f"{result.model.name}: {reg} ({who})"
