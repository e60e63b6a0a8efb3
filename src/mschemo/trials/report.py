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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._internal.html import esc as _e
from .._internal.html import png_img
from .._internal.meta import DISCLAIMER, __version__
from ..errors import InputError
from . import outcomes as oc

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["write_report", "report_html", "DISCLAIMER"]

_COUNTS = {"wbc_1e9_per_L": "WBC", "anc_1e9_per_L": "ANC", "alc_1e9_per_L": "ALC"}
_PROVENANCE = (("spec_sha256", "spec sha256"), ("seed", "seed"), ("mschemo_version", "mschemo"),
               ("n_per_arm", "n per arm"), ("chunk_size", "chunk size"))
_DAYS_PER_MONTH = 365.25 / 12
_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}thead th{background:#eef2f7}.p{color:#555;font-size:.85em}
img{max-width:100%;display:block;margin:.5em 0 1.5em}.disclaimer{font-weight:bold}.repro{font-size:.85em;color:#444}"""


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


def _legend(ax: Any) -> None:
    if ax.get_legend_handles_labels()[0]:   # no empty legend (matplotlib would warn)
        ax.legend(fontsize="small")


def _figure(ncols: int, width: float = 5.0, height: float = 3.6) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    return fig, np.atleast_1d(fig.subplots(1, ncols))


def _km_figure(patients: pd.DataFrame, arms: Sequence[str], endpoints: Sequence) -> Figure | None:
    colors = _colors(arms)
    panels = oc.time_to_event_endpoints(endpoints)[:3]
    if not panels:
        return None
    fig, axes = _figure(len(panels), width=4.6)
    for ax, e in zip(axes, panels):
        for arm, c in oc.km_curves(patients, f"{e.name}_d", f"{e.name}_event").items():
            x = c["timeline"].to_numpy() / _DAYS_PER_MONTH
            ax.step(x, c["survival"], where="post", color=colors[arm], label=arm)
            ax.fill_between(x, c["lower"], c["upper"], step="post", color=colors[arm], alpha=0.15, lw=0)
        ax.set(title=f"Time to {e.title}", xlabel="months since randomisation", ylabel="proportion event-free",
               ylim=(0, 1.02))
        _legend(ax)
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


def _counts_figure(visits: pd.DataFrame, arms: Sequence[str]) -> Figure | None:
    """Counts as reported at the first counts schedule's visits (others, e.g. around each dose, would
    mix two curves into one)."""
    colors = _colors(arms)
    panels = [c for c in _COUNTS if c in visits.columns and np.isfinite(oc._floats(visits[c])).any()]
    if not panels:
        return None
    schedule = None
    if "schedule" in visits.columns:
        has = visits[np.isfinite(oc._floats(visits[panels[0]]))]
        schedule = str(has["schedule"].iloc[0]) if len(has) else None
        visits = visits[visits["schedule"].astype(str) == schedule] if schedule else visits
    fig, axes = _figure(len(panels), width=4.2)
    for ax, col in zip(axes, panels):
        summary = _visit_summary(visits, col, ("q05", "q50", "q95"))
        for arm in arms:
            s = summary[(summary["arm"] == arm) & summary["q50"].notna()]
            if s.empty:   # an arm without a count model
                continue
            x = s["day"].to_numpy() / _DAYS_PER_MONTH
            ax.plot(x, s["q50"], color=colors[arm], label=arm)
            ax.fill_between(x, s["q05"], s["q95"], color=colors[arm], alpha=0.15, lw=0)
        where = f", {schedule} visits" if schedule else ""
        ax.set(title=f"{_COUNTS[col]} as reported{where}: median, 5-95 %", xlabel="months since randomisation",
               ylabel="10^9/L")
        ax.set_ylim(bottom=0)
        _legend(ax)
    return fig


def _edss_figure(visits: pd.DataFrame, patients: pd.DataFrame, arms: Sequence[str]) -> Figure | None:
    """Mean EDSS change from each patient's baseline (so baseline differences between arms do not show
    as effects), on an axis that includes 0."""
    if "edss" not in visits.columns or not np.isfinite(oc._floats(visits["edss"])).any():
        return None
    base = dict(zip(patients["id"], oc._floats(patients["edss_baseline"])))
    v = visits.assign(change=oc._floats(visits["edss"]) - visits["id"].map(base).to_numpy(dtype=float))
    colors = _colors(arms)
    fig, (ax,) = _figure(1, width=6.0)
    summary = _visit_summary(v, "change", ("mean",))
    for arm in arms:
        s = summary[(summary["arm"] == arm) & summary["mean"].notna()]
        ax.plot(s["day"].to_numpy() / _DAYS_PER_MONTH, s["mean"], marker=".", color=colors[arm], label=arm)
    ax.axhline(0.0, color="#999", lw=1)
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, -0.1), max(hi, 0.1))
    ax.set(title="EDSS change from baseline: mean by arm", xlabel="months since randomisation", ylabel="EDSS points")
    _legend(ax)
    return fig


def _forest_figure(effects: pd.DataFrame, arms: Sequence[str]) -> Figure | None:
    ok = effects[np.isfinite(effects[["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)).all(axis=1)
                 & (effects["ci_low"] > 0)]
    if ok.empty:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig = Figure(figsize=(7.5, 1.2 + 0.38 * len(ok)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(ok))[::-1]
    est = ok["estimate"].to_numpy(dtype=float)
    err = np.vstack([est - ok["ci_low"].to_numpy(dtype=float), ok["ci_high"].to_numpy(dtype=float) - est])
    colors = _colors(arms)
    for i, arm in enumerate(ok["arm"]):
        ax.errorbar(est[i], y[i], xerr=err[:, i:i + 1], fmt="s", color=colors[arm], ecolor=colors[arm], capsize=3)
    ax.axvline(1.0, color="#999", lw=1, ls="--")
    ax.set_xscale("log")
    lo, hi = float(ok["ci_low"].min()), float(ok["ci_high"].max())
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0) if lo / 1.5 <= t <= hi * 1.5]
    ax.set_xticks(ticks or [1.0])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, [f"{a}: {o}" for a, o in zip(ok["arm"], ok["outcome"])])
    ax.set(xlabel="ratio vs reference (95 % CI, log scale)", title="Effects vs reference")
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
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        text = f"<code>{_e(value)}</code>" if key == "spec_sha256" else _e(value)
        parts.append(f"{_e(label)} {text}")
    return "Reproducibility: " + "; ".join(parts) + "."


def _outcome_section(table: pd.DataFrame, arms: Sequence[str]) -> str:
    rows = []
    for outcome, g in table.groupby("outcome", sort=False):
        cells = {r.arm: _e(r.text) + _p(r.p) for r in g.itertuples()}
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
                 for r in g.itertuples()}
        where = f"{schedule} visits, as reported" if basis == "visits" else "true nadir (daily curve)"
        rows.append([label, scale, where, *(cells.get(a, "") for a in arms)])
    return _table(["Adverse event (patients)", "Scale", "Counts read at", *arms], rows, "toxicity")


def _in_order(table: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    return table.set_index("arm").loc[list(arms)].reset_index()


def _dosing_section(patients: pd.DataFrame, arms: Sequence[str]) -> str:
    rows = []
    for r in _in_order(oc.dosing(patients), arms).itertuples():
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
    """EDSS at baseline, and the first EDSS-change and time-to-relapse endpoints where the spec has them."""
    table = _in_order(oc.disability(patients, endpoints), arms)
    change = np.isfinite(table["edss_change_mean"].to_numpy(dtype=float)).any()
    free = np.isfinite(table["relapse_free"].to_numpy(dtype=float)).any()
    rows = []
    for r in table.itertuples():
        row = [r.arm, str(r.patients), f"{r.edss_baseline_mean:.2f}"]
        if change:
            row.append(f"{r.edss_change_mean:+.2f}" + (f" ({r.edss_change_sd:.2f})" if np.isfinite(r.edss_change_sd) else ""))
        if free:
            row.append(oc.format_estimate(r.relapse_free, r.relapse_free_low, r.relapse_free_high, "share"))
        rows.append(row)
    header = ["Arm", "Patients", "EDSS at baseline: mean"]
    header += ["EDSS change: mean (SD)"] if change else []
    header += ["Relapse-free (95 % CI)"] if free else []
    return _table(header, rows, "disability")


def report_html(patients: pd.DataFrame, visits: pd.DataFrame, *, title: str, reference: str,
                provenance: Mapping[str, Any], endpoints: Sequence | None = None) -> str:
    """The report as one HTML document (str); see :func:`write_report`."""
    endpoints = oc.default_endpoints() if endpoints is None else list(endpoints)
    arms = oc.trial_arms(patients, reference, ("id", "edss_baseline", "age_y", "sex", "ms_course"))
    missing = [c for c in ("arm", "visit", "day") if c not in visits.columns]
    if missing:
        raise InputError(f"the visit table lacks column(s) {', '.join(missing)}; give a table with the columns "
                         f"of mschemo.trials.schema.VISIT_COLUMNS.")
    table = oc.outcome_table(patients, reference, endpoints)
    ratios = table[table["outcome"].str.contains("ratio") & (table["arm"] != reference)]
    figures = [("Kaplan-Meier curves (95 % CI)", _km_figure(patients, arms, endpoints)),
               ("Counts at the visits", _counts_figure(visits, arms)),
               ("Disability at the visits", _edss_figure(visits, patients, arms)),
               ("Effects vs reference (forest plot)", _forest_figure(ratios, arms))]
    body = [f"<h1>{_e(title)}</h1>", f'<p class="disclaimer">{_e(DISCLAIMER)}</p>',
            f"<p>Reference arm: {_e(reference)}. Ratios are negative binomial rate ratios (relapses) and Cox hazard "
            "ratios; NE = not estimable.</p>",
            "<h2>Patients at randomisation</h2>", _screening_line(patients), _baseline_section(patients, arms),
            "<h2>Outcomes</h2>", _outcome_section(table, arms)]
    for heading, fig in figures:
        if fig is not None:
            body += [f"<h2>{_e(heading)}</h2>", _png(fig, heading)]
    body += ["<h2>Disability and relapses</h2>", _disability_section(patients, arms, endpoints),
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
                 provenance: Mapping[str, Any], endpoints: Sequence | None = None) -> Path:
    """Write the trial report to ``path`` (HTML, self-contained) atomically; return the path.

    Sections: patients at randomisation, the outcome table (:func:`outcomes.outcome_table`), Kaplan-Meier
    curves (first relapse, 3-month CDP), counts (median, 5-95 %) and mean EDSS at the visits, a forest plot
    of the ratios, disability, toxicity and dosing tables, and a reproducibility line from ``provenance``
    (keys spec_sha256, seed, mschemo_version, n_per_arm, chunk_size; others are listed after them).
    The document is built first, so a failure leaves no file; the file appears whole or not at all.
    """
    from .._internal.files import atomic_path

    text = report_html(patients, visits, title=title, reference=reference, provenance=provenance, endpoints=endpoints)
    path = Path(path)
    with atomic_path(path) as tmp:
        _write_text(tmp, text)
    return path
