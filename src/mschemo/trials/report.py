"""A trial's report: one self-contained HTML file (tables and base64 PNG figures) from its two tables.

Example::

    from mschemo.trials.report import write_report
    write_report(patients, visits, "trial.html", title="Mitoxantrone vs placebo", reference="placebo",
                 provenance={"spec_sha256": sha, "seed": 1, "mschemo_version": "0.1.0", "chunk_size": 1000})

The figures are matplotlib ``Figure`` objects drawn off-screen (no pyplot state); nothing is fetched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from .._internal.html import esc as _e
from .._internal.html import png_img
from .._internal.meta import DISCLAIMER, __version__
from ..errors import InputError
from ..presentation.style import set_time_axis
from . import outcomes as oc

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["write_report", "report_html", "DISCLAIMER"]

_COUNTS = {"wbc_1e9_per_L": "WBC", "anc_1e9_per_L": "ANC", "alc_1e9_per_L": "ALC"}
_PROVENANCE = (("spec_sha256", "spec sha256"), ("seed", "seed"), ("mschemo_version", "mschemo"),
               ("n_per_arm", "n per arm"), ("chunk_size", "chunk size"))
#: the interval drawn around the Kaplan-Meier curves and given for the event-free share in the table
KM_CI = "exponential Greenwood"
_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}thead th{background:#eef2f7}.p{color:#555;font-size:.85em}
img{max-width:100%;display:block;margin:.5em 0 1.5em}.disclaimer{font-weight:bold}.repro{font-size:.85em;color:#444}
@media screen and (max-width:700px){table{display:block;overflow-x:auto;max-width:100%}}"""


def _png(fig: Figure, alt: str) -> str:
    return png_img(fig, alt, dpi=110)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], cls: str) -> str:
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in header)
    body = "".join("<tr>" + f'<th scope="row">{_e(r[0])}</th>' + "".join(f"<td>{c}</td>" for c in r[1:]) + "</tr>"
                   for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _p(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return '<br><span class="p">p ' + ("&lt; 0.001" if p < 0.001 else f"= {p:.3f}") + "</span>"


def _colors(arms: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {a: cmap(i % 10) for i, a in enumerate(arms)}


def _arm_legend(fig: Figure, arms: Sequence[str], colors: Mapping[str, Any], extra: Sequence = ()) -> None:
    """One legend for the figure, below its panels (never over a curve): the arms, then ``extra`` handles."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[a], lw=2, label=a) for a in arms] + list(extra)
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), fontsize="small",
               frameon=False)


def _figure(ncols: int, width: float = 5.0, height: float = 3.6) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    return fig, np.atleast_1d(fig.subplots(1, ncols))


def _time_axis(ax: Any, span_d: float) -> None:
    """Days since randomisation as days, months or years (the data stay in days)."""
    set_time_axis(ax, 0.0, span_d, "{unit} since randomisation")
    ax.set_xlim(-0.01 * span_d, span_d * 1.01)


def _km_figure(patients: pd.DataFrame, arms: Sequence[str], endpoints: Sequence, span_d: float) -> Figure | None:
    colors = _colors(arms)
    panels = oc.time_to_event_endpoints(endpoints)[:3]
    if not panels:
        return None
    from matplotlib.patches import Patch

    fig, axes = _figure(len(panels), width=4.6, height=3.9)
    for ax, e in zip(axes, panels):
        for arm, c in oc.km_curves(patients, f"{e.name}_d", f"{e.name}_event").items():
            x = c["timeline"].to_numpy()
            ax.step(x, c["survival"], where="post", color=colors[arm])
            ax.fill_between(x, c["lower"], c["upper"], step="post", color=colors[arm], alpha=0.15, lw=0)
        ax.set(title=f"Time to {e.title}", ylabel="proportion event-free", ylim=(0, 1.02))
        _time_axis(ax, span_d)
    _arm_legend(fig, arms, colors, [Patch(color="#777777", alpha=0.3, lw=0, label=f"95 % CI ({KM_CI})")])
    return fig


def _visit_summary(visits: pd.DataFrame, col: str, stats: Sequence[str]) -> pd.DataFrame:
    """Per arm and visit day (a week wide): the statistics of ``col`` ('mean', 'q05', 'q50', 'q95') over the
    visits that measured it; days seen in fewer than half of an arm's patients are left out."""
    data = pd.DataFrame({"arm": visits["arm"].astype(str), "id": visits["id"],
                         "day": np.round(oc._floats(visits["day"]) / 7.0) * 7.0, "y": oc._floats(visits[col])})
    data = data[np.isfinite(data["y"])]
    g = data.groupby(["arm", "day"], sort=True)
    out = pd.DataFrame({"n": g["id"].nunique()})
    for s in stats:
        out[s] = g["y"].mean() if s == "mean" else g["y"].quantile(int(s[1:]) / 100)
    out = out.reset_index()
    size = data.groupby("arm")["id"].nunique()
    return out[out["n"] >= 0.5 * out["arm"].map(size)]


def _counts_figure(visits: pd.DataFrame, arms: Sequence[str], span_d: float) -> Figure | None:
    """Counts as reported at the first counts schedule's visits (others, e.g. around each dose, would
    mix two curves into one): median and the 5-95 % spread of the patients (not a CI)."""
    colors = _colors(arms)
    panels = [c for c in _COUNTS if c in visits.columns and np.isfinite(oc._floats(visits[c])).any()]
    if not panels:
        return None
    from matplotlib.patches import Patch

    schedule = None
    if "schedule" in visits.columns:
        has = visits[np.isfinite(oc._floats(visits[panels[0]]))]
        schedule = str(has["schedule"].iloc[0]) if len(has) else None
        visits = visits[visits["schedule"].astype(str) == schedule] if schedule else visits
    fig, axes = _figure(len(panels), width=4.2, height=3.9)
    drawn = []
    for ax, col in zip(axes, panels):
        summary = _visit_summary(visits, col, ("q05", "q50", "q95"))
        for arm in arms:
            s = summary[(summary["arm"] == arm) & summary["q50"].notna()]
            if s.empty:   # an arm without a count model
                continue
            drawn.append(arm)
            x = s["day"].to_numpy()
            ax.plot(x, s["q50"], color=colors[arm])
            ax.fill_between(x, s["q05"], s["q95"], color=colors[arm], alpha=0.12, lw=0)
        where = f" ({schedule} visits)" if schedule else ""
        ax.set(title=f"{_COUNTS[col]} as reported{where}", ylabel=f"{_COUNTS[col]} (10$^9$/L)")
        ax.set_ylim(bottom=0)
        _time_axis(ax, span_d)
    shown = [a for a in arms if a in drawn]
    _arm_legend(fig, shown, colors, [Patch(color="#777777", alpha=0.25, lw=0,
                                           label="line: median; band: 5-95 % of the patients (spread, not a CI)")])
    return fig


def _edss_figure(visits: pd.DataFrame, patients: pd.DataFrame, arms: Sequence[str], span_d: float) -> Figure | None:
    """Mean EDSS change from each patient's own baseline (so baseline differences between arms do not
    show as effects), on an axis that includes 0, labelled as a change."""
    if "edss" not in visits.columns or not np.isfinite(oc._floats(visits["edss"])).any():
        return None
    base = dict(zip(patients["id"], oc._floats(patients["edss_baseline"])))
    v = visits.assign(change=oc._floats(visits["edss"]) - visits["id"].map(base).to_numpy(dtype=float))
    colors = _colors(arms)
    fig, (ax,) = _figure(1, width=6.4, height=3.9)
    summary = _visit_summary(v, "change", ("mean",))
    for arm in arms:
        s = summary[(summary["arm"] == arm) & summary["mean"].notna()]
        ax.plot(s["day"].to_numpy(), s["mean"], marker=".", color=colors[arm])
    ax.axhline(0.0, color="#999", lw=1)
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, -0.1), max(hi, 0.1))
    ax.set(title="EDSS change from each patient's baseline: mean by arm",
           ylabel="EDSS change from baseline (points)")
    _time_axis(ax, span_d)
    _arm_legend(fig, arms, colors)
    return fig


def _forest_rows(effects: pd.DataFrame) -> list[tuple[str, str | None, pd.Series | None]]:
    """(label, arm or None, row or None) top to bottom: each outcome as a heading, then its arms."""
    rows: list[tuple[str, str | None, pd.Series | None]] = []
    for outcome, g in effects.groupby("outcome", sort=False):
        rows.append((str(outcome), None, None))
        rows += [(str(r["arm"]), str(r["arm"]), r) for _, r in g.iterrows()]
    return rows


def _forest_figure(effects: pd.DataFrame, arms: Sequence[str], reference: str) -> Figure | None:
    """Ratios vs the reference arm: one row per arm under a heading per outcome, the 95 % CI as a bar,
    the estimate and CI as text at the right."""
    finite = cast(np.ndarray, np.isfinite(effects[["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)).all(axis=1))
    ok = effects[finite & (effects["ci_low"] > 0)]
    if ok.empty:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter
    from matplotlib.transforms import blended_transform_factory

    rows = _forest_rows(ok)
    fig = Figure(figsize=(9.0, 1.5 + 0.3 * len(rows)), layout="constrained")
    ax = fig.subplots()
    colors = _colors(arms)
    y = np.arange(len(rows))[::-1].astype(float)
    across = blended_transform_factory(ax.transAxes, ax.transData)   # x: axes fraction, y: row
    for yi, (label, arm, r) in zip(y, rows):
        if r is None:   # an outcome's heading: a shaded row across the plot, its name at the left
            ax.axhspan(yi - 0.5, yi + 0.5, color="#eef2f7", lw=0, zorder=0)
            ax.text(0.005, yi, label, transform=across, va="center", ha="left", fontsize=9.5,
                    fontweight="bold")
            continue
        assert arm is not None   # an arm's row (a heading has neither arm nor row)
        est, lo, hi = float(r["estimate"]), float(r["ci_low"]), float(r["ci_high"])
        ax.errorbar(est, yi, xerr=[[est - lo], [hi - est]], fmt="s", color=colors[arm], ecolor=colors[arm],
                    capsize=3, ms=6)
        ax.text(1.02, yi, oc.format_estimate(est, lo, hi), transform=across, va="center", fontsize=9)
    ax.text(1.02, y[0] + 0.9, "ratio (95 % CI)", transform=across, va="center", fontsize=9, fontweight="bold")
    ax.axvline(1.0, color="#999", lw=1, ls="--")
    ax.set_xscale("log")
    lo, hi = float(ok["ci_low"].min()), float(ok["ci_high"].max())
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0) if lo / 1.5 <= t <= hi * 1.5]
    ax.set_xticks(ticks or [1.0])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, ["" if arm is None else label for label, arm, _ in rows])
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, y[0] + 1.4)
    ax.grid(axis="x", color="#e6e6e6", lw=0.6)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(f"ratio vs {reference} (log scale; below 1: fewer events than in {reference})")
    return fig


def _provenance_line(provenance: Mapping[str, Any], patients: pd.DataFrame, arms: Sequence[str]) -> str:
    prov = dict(provenance)
    prov.setdefault("mschemo_version", __version__)
    counts = ", ".join(f"{a} {int(oc._arm_mask(patients, a).sum())}" for a in arms)   # as in the table
    n = prov.get("n_per_arm")
    prov["n_per_arm"] = counts if n is None else (n if isinstance(n, Mapping) else f"{n} ({counts})")
    parts = []
    for key, label in [*_PROVENANCE, *((k, k.replace("_", " ")) for k in prov if k not in dict(_PROVENANCE))]:
        value = prov.get(key, "not given")
        if value is None:        # an option not used (e.g. no Dask cluster): nothing to say
            continue
        if isinstance(value, Mapping):
            value = ", ".join(f"{k} {v}" for k, v in value.items() if v is not None)
        text = f"<code>{_e(value)}</code>" if key == "spec_sha256" else _e(value)
        parts.append(f"{_e(label)} {text}")
    return "Reproducibility: " + "; ".join(parts) + "."


def _outcome_section(table: pd.DataFrame, arms: Sequence[str]) -> str:
    rows = []
    for outcome, g in table.groupby("outcome", sort=False):
        cells = {r.arm: _e(r.text) + _p(r.p) for r in oc._records(g)}
        rows.append([outcome, *(cells.get(a, "") for a in arms)])
    return _table(["Outcome", *arms], rows, "outcomes")


def _screening_line(patients: pd.DataFrame) -> str:
    if "screened_out_criteria" not in patients.columns:
        return ""
    crit, labs = float(patients["screened_out_criteria"].sum()), float(patients["screened_out_labs"].sum())
    total = crit + labs + len(patients)
    return (f"<p>Screened {int(total)} candidates for {len(patients)} patients: {100 * crit / total:.1f} % screened out "
            f"by the eligibility criteria, {100 * labs / total:.1f} % by the screening labs.</p>")


def _baseline_section(patients: pd.DataFrame, arms: Sequence[str]) -> str:
    def ms(col: str, m: np.ndarray) -> str:
        mean, sd = oc._mean_sd(oc._floats(patients[col])[m])
        return oc.format_estimate(mean, kind="x") + (f" ({sd:.2f})" if np.isfinite(sd) else "")

    rows = []
    for arm in arms:
        m = oc._arm_mask(patients, arm)
        female = (patients.loc[m, "sex"].astype(str) == "F").mean()
        courses = patients.loc[m, "ms_course"].astype(str).value_counts()
        rows.append([arm, str(int(m.sum())), ms("age_y", m), f"{100 * female:.1f}%", ms("edss_baseline", m),
                     ms("prior_relapses_1y", m), ms("prior_relapses_2y", m),
                     _e(", ".join(f"{k} {v}" for k, v in courses.items()))])
    return _table(["Arm", "Patients", "Age, y: mean (SD)", "Female", "EDSS: mean (SD)", "Relapses in 1 y: mean (SD)",
                   "Relapses in 2 y: mean (SD)", "Course"], rows, "baseline")


def _toxicity_section(patients: pd.DataFrame, arms: Sequence[str], endpoints: Sequence) -> str:
    tox = oc.toxicity(patients, endpoints)
    rows = []
    for (label, scale, schedule, basis), g in tox.groupby(["label", "scale", "schedule", "basis"], sort=False):
        cells = {r.arm: (f"{int(r.events)}/{r.patients} ({100 * r.share:.1f}%)" if r.patients else "NE (no counts)")
                 for r in oc._records(g)}
        where = f"{schedule} visits, as reported" if basis == "visits" else "true nadir (daily curve)"
        rows.append([label, scale, where, *(cells.get(a, "") for a in arms)])
    return _table(["Adverse event (patients)", "Scale", "Counts read at", *arms], rows, "toxicity")


def _in_order(table: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    return table.set_index("arm").loc[list(arms)].reset_index()


def _dosing_section(patients: pd.DataFrame, arms: Sequence[str]) -> str:
    rows = []
    for r in oc._records(_in_order(oc.dosing(patients), arms)):
        unit = "" if r.dose_unit in ("", None) or pd.isna(r.dose_unit) else f" {r.dose_unit}"
        dose = f"{r.cumulative_dose_mean:.1f} ({r.cumulative_dose_sd:.1f}){unit}" if np.isfinite(
            r.cumulative_dose_mean) else "NE"
        mg = (f"{r.cumulative_dose_mg_mean:.0f} ({r.cumulative_dose_mg_sd:.0f})"
              if np.isfinite(r.cumulative_dose_mg_sd) else "NE")
        rows.append([r.arm, str(r.patients), *(f"{v:.2f}" for v in (r.courses_planned, r.courses_given,
                                                                       r.courses_delayed, r.courses_withheld)),
                     f"{100 * r.discontinued:.1f}%", _e(dose), mg])
    return _table(["Arm", "Patients", "Courses planned", "given", "delayed", "withheld", "Discontinued",
                   "Cumulative dose: mean (SD)", "Cumulative mg: mean (SD)"], rows, "dosing")


def _disability_section(patients: pd.DataFrame, arms: Sequence[str], endpoints: Sequence) -> str:
    """EDSS at baseline and the first EDSS-change endpoint where the spec has one. The share free of
    relapse is in the outcome table only (Kaplan-Meier, one interval for one share)."""
    table = _in_order(oc.disability(patients, endpoints), arms)
    change = np.isfinite(table["edss_change_mean"].to_numpy(dtype=float)).any()
    rows = []
    for r in oc._records(table):
        row = [r.arm, str(r.patients), f"{r.edss_baseline_mean:.2f}"]
        if change:
            row.append(f"{r.edss_change_mean:+.2f}" + (f" ({r.edss_change_sd:.2f})" if np.isfinite(r.edss_change_sd) else ""))
        rows.append(row)
    header = ["Arm", "Patients", "EDSS at baseline: mean"] + (["EDSS change from baseline: mean (SD)"] if change else [])
    return _table(header, rows, "disability")


def _methods_line() -> str:
    """How each interval of the outcome table was computed (one method per kind of estimate)."""
    return (f'<p class="p">95 % CIs: relapse rates and rate ratios Wald, from the negative binomial model; '
            f"event-free shares Kaplan-Meier with {KM_CI} intervals (lifelines), as drawn in the Kaplan-Meier "
            "curves; hazard ratios Wald, from the Cox model; shares of patients Wilson; mean changes t.</p>")


def _span_d(patients: pd.DataFrame, visits: pd.DataFrame, endpoints: Sequence) -> float:
    """The trial's time window (days): its last visit or time to event."""
    days = [oc._floats(visits["day"])]
    days += [oc._floats(patients[f"{e.name}_d"]) for e in oc.time_to_event_endpoints(endpoints)
             if f"{e.name}_d" in patients.columns]
    finite = np.concatenate(days)
    finite = finite[np.isfinite(finite)]
    return float(finite.max()) if finite.size else 365.25


def report_html(patients: pd.DataFrame, visits: pd.DataFrame, *, title: str, reference: str,
                provenance: Mapping[str, Any], endpoints: Sequence | None = None,
                outcomes: pd.DataFrame | None = None) -> str:
    """The report as one HTML document (str); see :func:`write_report`. ``outcomes``: the outcome table
    of these patients when it is at hand (:func:`outcomes.outcome_table`), else it is worked out here."""
    endpoints = oc.default_endpoints() if endpoints is None else list(endpoints)
    arms = oc.trial_arms(patients, reference, ("id", "edss_baseline", "age_y", "sex", "ms_course"))
    missing = [c for c in ("arm", "visit", "day") if c not in visits.columns]
    if missing:
        raise InputError(f"the visit table lacks column(s) {', '.join(missing)}; give a table with the columns "
                         f"of mschemo.trials.schema.VISIT_COLUMNS.")
    table = oc.outcome_table(patients, reference, endpoints) if outcomes is None else outcomes
    ratios = table[table["outcome"].str.contains("ratio") & (table["arm"] != reference)]
    span_d = _span_d(patients, visits, endpoints)
    figures = [(f"Kaplan-Meier curves (95 % CI, {KM_CI})", _km_figure(patients, arms, endpoints, span_d)),
               ("Counts at the visits (median, 5-95 % of patients)", _counts_figure(visits, arms, span_d)),
               ("Disability at the visits (EDSS change from baseline)", _edss_figure(visits, patients, arms, span_d)),
               ("Effects vs reference (forest plot, 95 % CI)", _forest_figure(ratios, arms, reference))]
    body = [f"<h1>{_e(title)}</h1>", f'<p class="disclaimer">{_e(DISCLAIMER)}</p>',
            f"<p>Reference arm: {_e(reference)}. Ratios are negative binomial rate ratios (relapses) and Cox hazard "
            "ratios; NE = not estimable.</p>",
            "<h2>Patients at randomisation</h2>", _screening_line(patients), _baseline_section(patients, arms),
            "<h2>Outcomes</h2>", _outcome_section(table, arms), _methods_line()]
    for heading, fig in figures:
        if fig is not None:
            body += [f"<h2>{_e(heading)}</h2>", _png(fig, heading)]
    body += ["<h2>Disability</h2>", _disability_section(patients, arms, endpoints),
             "<h2>Toxicity</h2>", _toxicity_section(patients, arms, endpoints),
             "<h2>Dosing</h2>", _dosing_section(patients, arms),
             f'<p class="repro">{_provenance_line(provenance, patients, arms)}</p>',
             f'<p class="disclaimer">{_e(DISCLAIMER)}</p>']
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def write_report(patients: pd.DataFrame, visits: pd.DataFrame, path: str | Path, *, title: str, reference: str,
                 provenance: Mapping[str, Any], endpoints: Sequence | None = None,
                 outcomes: pd.DataFrame | None = None) -> Path:
    """Write the trial report to ``path`` (HTML, self-contained) atomically; return the path.

    Sections: patients at randomisation, the outcome table (:func:`outcomes.outcome_table`), Kaplan-Meier
    curves (first relapse, 3-month CDP), counts (median, 5-95 %) and mean EDSS at the visits, a forest plot
    of the ratios, disability, toxicity and dosing tables, and a reproducibility line from ``provenance``
    (keys spec_sha256, seed, mschemo_version, n_per_arm, chunk_size; others are listed after them).
    The document is built first, so a failure leaves no file; the file appears whole or not at all.
    """
    from .._internal.files import atomic_path

    text = report_html(patients, visits, title=title, reference=reference, provenance=provenance, endpoints=endpoints,
                       outcomes=outcomes)
    path = Path(path)
    with atomic_path(path) as tmp:
        _write_text(tmp, text)
    return path
