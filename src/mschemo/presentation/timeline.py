"""One patient's course on one time axis: doses, counts, relapses, symptoms and EDSS."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

import numpy as np

from ..dosing.actions import REFUSED
from ..errors import OptionError
from .counts import _grade3_limit
from .style import (
    _COLORS,
    _COUNT_LABELS,
    _DOSE_COLOR,
    _G3_COLOR,
    _GIVEN_ACTIONS,
    _REFUSED_COLOR,
    DISCLAIMER,
    _footer,
    save_figure,
    time_axis,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from ..disease.model import DiseaseResult
    from ..results import SimulationResult

__all__ = ["plot_timeline"]

#: EDSS milestones drawn on the timeline, with what they mean
_EDSS_MILESTONES = {4.0: "EDSS 4: walking range limited", 6.0: "EDSS 6: needs a walking aid"}
_RELAPSE_COLOR = "#8e2c48"
_SYMPTOM_COLOR = "#4a6fa5"
_EDSS_COLOR = "#333333"
_SPMS_COLOR = "#d35400"


def _id_index(ids: np.ndarray, patient: Any, what: str) -> int:
    """Position of ``patient`` in ``ids`` (compared as given, then as text)."""
    hits = np.flatnonzero(ids == patient) if not isinstance(patient, (list, tuple, np.ndarray)) else np.empty(0)
    if hits.size == 0:
        hits = np.flatnonzero(np.asarray([str(i) for i in ids]) == str(patient).strip())
    if hits.size == 0:
        shown = ", ".join(map(str, ids[:5])) + (", ..." if ids.size > 5 else "")
        raise OptionError(f"patient {patient!r} is not in {what} (ids {shown}); give one of its ids.")
    return int(hits[0])


class _Doses(TypedDict):
    """One patient's administrations: days and mg (``per`` one "dose" or "course"), and the days of
    withheld or stopped (``refused``) and of delayed courses."""

    day: np.ndarray
    mg: np.ndarray
    per: str
    refused: np.ndarray
    delayed: np.ndarray


def _patient_doses(counts: SimulationResult, index: int) -> _Doses:
    """One patient's administrations: days and mg given; with dosing rules also the days of
    withheld or stopped and of delayed courses."""
    from ..regimen import Regimen, mg_per

    d = counts.decisions
    if d is not None:
        d = d[d["id"] == counts.ids[index]]
        action = d["action"].astype(str)
        given = action.isin(_GIVEN_ACTIONS).to_numpy()
        day = d["day"].to_numpy(dtype=float)
        return {"day": day[given], "mg": d["dose_mg"].to_numpy(dtype=float)[given], "per": "course",
                "refused": day[action.isin(REFUSED).to_numpy()],
                "delayed": day[(action == "delayed").to_numpy()]}
    reg = counts.regimen if isinstance(counts.regimen, Regimen) else counts.regimen.for_id(counts.ids[index])
    row = counts.patients.iloc[index]
    bsa, weight = float(row.get("bsa_m2", np.nan)), float(row.get("weight_kg", np.nan))
    days, mg = [], []
    for dose in reg.doses:
        t = dose.times_d()
        days.append(t)
        mg.append(np.full(t.size, dose.amount * mg_per(dose.unit, bsa, weight)))
    days_a = np.concatenate(days) if days else np.empty(0)
    mg_a = np.concatenate(mg) if mg else np.empty(0)
    keep = mg_a > 0
    return {"day": days_a[keep], "mg": mg_a[keep], "per": "dose", "refused": np.empty(0), "delayed": np.empty(0)}


def _style_timeline_axes(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=9.5, color="#333333")
    ax.grid(True, axis="x", color="#e6e6e6", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _small_legend(ax: Axes, ncol: int | None = None) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=ncol or len(labels),
                  fontsize=7.5, frameon=False, borderaxespad=0.2, handlelength=1.6, columnspacing=1.0)


#: (key, marker style, label) of the withheld or stopped and the delayed courses on the dose panel
_MARK_STYLES: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("refused", dict(marker="x", color=_REFUSED_COLOR, markersize=6.5, markeredgewidth=1.6), "withheld or stopped"),
    ("delayed", dict(marker="o", color=_DOSE_COLOR, markerfacecolor="none", markersize=5.5, markeredgewidth=1.2),
     "delayed"),
)


def _draw_doses(ax: Axes, doses: _Doses, scale: float, end: float) -> None:
    inside = doses["day"] / scale <= end * (1.0 + 1e-9)   # courses planned past the window are not drawn
    x, mg = doses["day"][inside] / scale, doses["mg"][inside]
    doses = {**doses, "refused": doses["refused"][doses["refused"] / scale <= end * (1.0 + 1e-9)],
             "delayed": doses["delayed"][doses["delayed"] / scale <= end * (1.0 + 1e-9)]}
    top = float(np.nanmax(mg)) if mg.size and np.isfinite(mg).any() else 1.0
    if x.size:
        ax.vlines(x, 0.0, mg, color=_DOSE_COLOR, lw=1.6, clip_on=False)
        ax.plot(x, mg, "v", color=_DOSE_COLOR, markersize=5.5, clip_on=False)
        finite = mg[np.isfinite(mg)]
        same = finite.size > 0 and float(np.ptp(finite)) <= 0.005 * float(np.max(finite))
        gap = float(np.min(np.diff(np.sort(x)))) / end if x.size > 1 else 1.0
        if same:   # one label for equal doses
            per = doses.get("per", "dose")
            ax.annotate(f"{finite[0]:.3g} mg per {per} ({x.size} {per}{'s' if x.size != 1 else ''})", (x[0], mg[0]),
                        xytext=(4, 4), textcoords="offset points", ha="left", va="bottom", fontsize=7.5,
                        color="#444444")
        elif gap >= 0.045:   # room to label each administration with its amount
            for xi, m in zip(x, mg, strict=True):
                if np.isfinite(m):
                    ax.annotate(f"{m:.3g} mg", (xi, m), xytext=(0, 3), textcoords="offset points", ha="center",
                                va="bottom", fontsize=7, color="#444444")
        else:
            per = doses.get("per", "dose")
            ax.annotate(f"{np.min(finite):.3g}-{np.max(finite):.3g} mg per {per} ({x.size} {per}s)", (x[0], top),
                        xytext=(4, 4), textcoords="offset points", ha="left", va="bottom", fontsize=7.5,
                        color="#444444")
    else:
        ax.text(0.5, 0.5, "no dose given", transform=ax.transAxes, ha="center", va="center", fontsize=8.5,
                color="#666666")
    for key, style, text in _MARK_STYLES:
        days = doses[key]
        if days.size:
            ax.plot(days / scale, np.zeros(days.size), linestyle="none", clip_on=False, label=text, **style)
    if doses["refused"].size or doses["delayed"].size:
        ax.legend(loc="upper right", fontsize=7.5, frameon=False, borderaxespad=0.2, handlelength=1.2)
    ax.set_ylim(0.0, top * 1.45)
    ax.set_ylabel("Dose (mg)")
    _style_timeline_axes(ax, "Doses")
    ax.set_title(DISCLAIMER, loc="right", fontsize=8.5, color=_G3_COLOR, fontweight="bold")


def _draw_counts(ax: Axes, counts: SimulationResult, index: int, scale: float, end: float) -> None:
    t = counts.times_d / scale
    top = 0.0
    for col in counts.count_outputs:
        kind = col.split("_")[0]
        short = _COUNT_LABELS.get(kind, (kind.upper(),))[0]
        color = _COLORS.get(kind, "#333333")
        vals = counts.column(col)[index]
        ax.plot(t, vals, color=color, lw=1.5, label=short)
        top = max(top, float(np.nanmax(vals)) if np.isfinite(vals).any() else 0.0)
        g3 = _grade3_limit(kind)
        if g3 is not None:
            ax.axhline(g3, color=color, lw=1.0, ls=":")
            top = max(top, g3 * 1.5)
    t_end = float(counts.times_d[-1]) / scale
    if t_end < end * 0.999:
        ax.axvspan(t_end, end, color="#999999", alpha=0.10, lw=0)
        ax.text((t_end + end) / 2.0, 0.5, "after the counts\n(held at their last value)", transform=ax.get_xaxis_transform(),
                ha="center", va="center", fontsize=7.5, color="#666666")
    ax.set_ylim(0.0, max(top * 1.12, 1e-9))
    ax.set_ylabel("Count ($10^9$/L)")
    _style_timeline_axes(ax, "White-cell counts")
    ax.plot([], [], color="#777777", lw=1.0, ls=":", label="CTCAE v5.0 grade 3 (dotted, per count)")
    _small_legend(ax)


def _relapse_label(row: Any) -> str:
    site = str(row.get("site", "") or "").replace("_", " ")
    sym = str(row.get("symptoms", "") or "")
    sym = ", ".join(s.replace("_", " ") for s in sym.split(";") if s) or "no listed symptom"
    return f"{site}: {sym}" if site else sym


def _relapse_lanes(x0: np.ndarray, rec: np.ndarray, labels: list[tuple[str, str]], end: float,
                   lanes: int) -> list[tuple[int, str, bool]]:
    """(lane, label, runs left) for each relapse (sorted by onset): the full label where it fits beside
    the earlier ones, else the site only, else none; a label near the right edge runs to the left."""
    per_char = 0.0068 * end          # width of one character at fontsize 7, in axis units (about)
    pad = 0.01 * end
    lane_end = np.full(lanes, -np.inf)
    out = []
    for x, r, texts in zip(x0, rec, labels, strict=True):
        placed = None
        for text in (*texts, ""):
            width = len(text) * per_char
            left = bool(text) and x + width > end
            lo, hi = (x - width, x + r) if left else (x, max(x + width, x + r))
            free = np.flatnonzero(lane_end < lo - pad)
            if free.size:
                placed = (int(free[0]), text, left, hi)
                break
        if placed is None:   # every lane is busy: the marker only, in the lane free soonest
            k = int(np.argmin(lane_end))
            placed = (k, "", False, x + r)
        lane_end[placed[0]] = max(lane_end[placed[0]], placed[3])
        out.append(placed[:3])
    return out


def _draw_relapses(ax: Axes, relapses: Any, scale: float, end: float) -> None:
    from matplotlib.lines import Line2D

    rel = relapses.sort_values("day", kind="stable").reset_index(drop=True)
    lanes = 4
    if len(rel) == 0:
        ax.text(0.5, 0.5, "no relapse in the window", transform=ax.transAxes, ha="center", va="center",
                fontsize=8.5, color="#666666")
    steroid = rel["steroids"].astype(bool).to_numpy() if "steroids" in rel.columns else np.zeros(len(rel), bool)
    plex = rel["plasma_exchange"].astype(bool).to_numpy() if "plasma_exchange" in rel.columns else np.zeros(len(rel), bool)
    x0 = rel["day"].to_numpy(dtype=float) / scale
    rec = (np.nan_to_num(rel["recovery_d"].to_numpy(dtype=float)) if "recovery_d" in rel.columns
           else np.zeros(len(rel))) / scale
    labels = []
    for _, row in rel.iterrows():
        rise = row.get("edss_rise", np.nan)
        extra = f" (EDSS +{float(rise):g})" if rise is not None and np.isfinite(rise) and float(rise) > 0 else ""
        labels.append((_relapse_label(row) + extra, str(row.get("site", "") or "").replace("_", " ")))
    for j, (lane, text, left) in enumerate(_relapse_lanes(x0, rec, labels, end, lanes)):
        y = float(lanes - 1 - lane)
        ax.hlines(y, x0[j], x0[j] + rec[j], color=_RELAPSE_COLOR, lw=5.0, alpha=0.30)
        ax.plot(x0[j], y, marker="D", color=_RELAPSE_COLOR, markersize=5.5,
                markerfacecolor=_RELAPSE_COLOR if steroid[j] else "white", markeredgewidth=1.3)
        if plex[j]:
            ax.plot(x0[j], y, marker="*", color="#222222", markersize=7.0, linestyle="none")
        if text:
            ax.annotate(text, (x0[j], y), xytext=(-4 if left else 4, 4), textcoords="offset points",
                        ha="right" if left else "left", va="bottom", fontsize=7, color="#333333")
    handles = [Line2D([], [], marker="D", color=_RELAPSE_COLOR, markerfacecolor="white", ls="none", markersize=5.5,
                      label="onset"),
               Line2D([], [], color=_RELAPSE_COLOR, lw=5.0, alpha=0.30, label="recovery time")]
    if steroid.any():
        handles.append(Line2D([], [], marker="D", color=_RELAPSE_COLOR, ls="none", markersize=5.5,
                              label="treated with steroids"))
    if plex.any():
        handles.append(Line2D([], [], marker="*", color="#222222", ls="none", markersize=7, label="plasma exchange"))
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(handles), fontsize=7.5,
              frameon=False, borderaxespad=0.2, handlelength=1.6, columnspacing=1.0)
    ax.set_ylim(-0.5, lanes - 0.2)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    n = len(rel)
    _style_timeline_axes(ax, f"Relapses ({n}): site and symptoms at onset" if n else "Relapses")


def _draw_symptoms(ax: Axes, symptoms: Any, index: int, scale: float, end_d: float) -> None:
    t = np.asarray(symptoms.times_d, dtype=float)
    edges = np.append(t, max(end_d, t[-1]) if t.size < 2 else t[-1] + (t[-1] - t[-2]))
    edges[-1] = max(min(edges[-1], end_d), t[-1])
    names = list(symptoms.present)
    for row, name in enumerate(names):
        on = np.asarray(symptoms.present[name][index], dtype=bool)
        if not on.any():
            continue
        padded = np.concatenate([[False], on, [False]]).astype(np.int8)
        starts = np.flatnonzero(np.diff(padded) == 1)
        stops = np.flatnonzero(np.diff(padded) == -1)
        spans = [(edges[a] / scale, (edges[b] - edges[a]) / scale) for a, b in zip(starts, stops, strict=True)]
        ax.broken_barh(spans, (row - 0.38, 0.76), facecolors=_SYMPTOM_COLOR, lw=0)
    ax.set_yticks(range(len(names)), [s.replace("_", " ") for s in names], fontsize=8)
    ax.set_ylim(len(names) - 0.5, -0.5)   # the first symptom on top
    ax.tick_params(axis="y", length=0)
    _style_timeline_axes(ax, "Symptoms (filled: present)")


def _draw_edss(ax: Axes, disease: DiseaseResult, index: int, scale: float, end: float) -> None:
    t = disease.times_d / scale
    scored, sustained = disease.edss[index], disease.edss_sustained[index]
    ax.step(t, scored, where="post", color="#8c8c8c", lw=1.1, label="EDSS as scored (with relapses)")
    ax.step(t, sustained, where="post", color=_EDSS_COLOR, lw=2.0, label="sustained EDSS")
    for level, text in _EDSS_MILESTONES.items():
        ax.axhline(level, color="#b0b0b0", lw=0.9, ls="--", zorder=0)
        ax.text(0.002, level, text, transform=ax.get_yaxis_transform(), ha="left", va="bottom", fontsize=7,
                color="#777777")
    paths = disease.paths
    day = float(paths.progressive_day[index])
    if str(paths.course0[index]) == "RRMS" and np.isfinite(day) and 0.0 < day <= float(disease.times_d[-1]):
        ax.axvline(day / scale, color=_SPMS_COLOR, lw=1.4, ls="-.", label="conversion to SPMS")
    top = float(np.nanmax(scored)) if np.isfinite(scored).any() else 0.0
    ax.set_ylim(0.0, min(10.0, max(7.0, top + 1.0)))
    ax.set_yticks(np.arange(0, int(ax.get_ylim()[1]) + 1, 1))
    ax.set_ylabel("EDSS")
    ax.grid(True, axis="y", color="#f0f0f0", lw=0.6)
    _style_timeline_axes(ax, "Disability (EDSS)")
    _small_legend(ax)


def plot_timeline(disease: DiseaseResult, patient: Any = None, *, counts: SimulationResult | None = None,
                  path: str | Path | None = None, title: str | None = None) -> Figure:
    """One patient's course on one time axis (months up to 3 years, years beyond), top to bottom:

    - doses (with ``counts``): each administration as a stem with its mg (from the dosing decisions
      when the result has them: withheld or stopped courses as red crosses, delays as open circles);
    - counts (with ``counts``): WBC, ANC, ALC as present, each with its CTCAE v5.0 grade-3 line;
    - relapses: a diamond at onset (filled: treated with steroids), a bar for the recovery time,
      labelled with the site and the symptoms;
    - symptoms: one row per symptom, filled where present;
    - EDSS: as scored (with relapses) and sustained, milestone lines at 4 and 6, the conversion to
      secondary progression marked.

    disease: a ``DiseaseResult`` (``result.disease``, ``attach_disease`` or ``simulate_disease``).
    patient: an id of that result (default: its first patient). counts: the ``SimulationResult``
    of the same patients, for the dose and count panels. path: also write the figure there
    (.png, .pdf or .svg, atomically). Returns the matplotlib Figure.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MultipleLocator

    ids = np.asarray(disease.ids)
    index = 0 if patient is None else _id_index(ids, patient, "the disease result")
    pid = ids[index]
    c_index = None
    if counts is not None:
        c_index = _id_index(np.asarray(counts.ids), pid, "the counts result")
    end_d = float(disease.times_d[-1])
    if counts is not None:
        end_d = max(end_d, float(counts.times_d[-1]))
    scale, unit, step = time_axis(end_d, days_up_to=0.0)   # months even for a short window
    end = end_d / scale

    n_sym = len(disease.symptoms.present)
    panels: list[tuple[str, float]] = []
    if counts is not None:
        panels += [("doses", 1.1), ("counts", 2.1)]
    panels += [("relapses", 1.5), ("symptoms", 0.28 * n_sym + 0.5), ("edss", 2.1)]
    ratios = [h for _, h in panels]
    fig = Figure(figsize=(10.0, sum(ratios) + 1.7), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False, gridspec_kw={"height_ratios": ratios})[:, 0]
    ax_of = {name: ax for (name, _), ax in zip(panels, axes, strict=True)}

    if counts is not None:
        assert c_index is not None   # found with counts
        _draw_doses(ax_of["doses"], _patient_doses(counts, c_index), scale, end)
        _draw_counts(ax_of["counts"], counts, c_index, scale, end)
    rel = disease.relapses
    _draw_relapses(ax_of["relapses"], rel[rel["id"] == pid], scale, end)
    _draw_symptoms(ax_of["symptoms"], disease.symptoms, index, scale, float(disease.times_d[-1]))
    _draw_edss(ax_of["edss"], disease, index, scale, end)

    last = axes[-1]
    last.set_xlim(-0.008 * end, end)
    assert step is not None   # days_up_to=0: a window (until > 0) is in months or years, with a step
    last.xaxis.set_major_locator(MultipleLocator(step))
    last.set_xlabel(f"Time ({unit})")
    for ax in axes[:-1]:
        ax.tick_params(axis="x", labelbottom=False)
    fig.suptitle(title or _timeline_title(disease, index, counts), x=0.01, ha="left", fontsize=11, fontweight="bold")
    engine = cast("ConstrainedLayoutEngine", fig.get_layout_engine())   # layout="constrained"
    engine.set(h_pad=0.06, rect=(0.0, 0.3 / fig.get_figheight(), 1.0, 1.0 - 0.3 / fig.get_figheight()))
    footer = f"{DISCLAIMER}   |   {_footer(counts)}" if counts is not None else DISCLAIMER
    fig.text(0.5, 0.004, footer, ha="center", va="bottom", fontsize=7.5, color="#666666")
    if path is not None:
        save_figure(fig, path)
    return fig


def _timeline_title(disease: DiseaseResult, index: int, counts: SimulationResult | None) -> str:
    pid = disease.ids[index]
    course = str(disease.course[index, 0])
    start = f"{course}, EDSS {float(disease.edss_sustained[index, 0]):g} at the start"
    if counts is None:
        return f"Patient {pid}: no chemotherapy ({start})"
    prov = counts.provenance or {}
    what = prov.get("drug") or counts.model.name
    reg = prov.get("regimen")
    if not reg:
        from ..regimen import Regimen

        reg = counts.regimen.describe() if isinstance(counts.regimen, Regimen) else "doses from an event table"
    return f"Patient {pid}: {what}, {str(reg).replace('mg/m2', 'mg/m²')} ({start})"
