"""The disease model on the command line: options shared by ``simulate`` and ``timeline``, their
checks, the run (after the counts, or without chemotherapy) and the tables on screen.

Light at import (``mschemo --help``): the disease package, numpy and pandas are imported by the
functions that need them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

import mschemo as ms

from ..requests import DiseaseJob, DiseaseRequest
from . import _common as c

PANEL = "Disease model (relapses, symptoms, EDSS)"
YEAR_D = 365.25
MONTH_D = YEAR_D / 12.0

# -- the options (one definition for every command that has them) ------------------------------
DiseaseUntil = Annotated[str | None, typer.Option(
    "--disease-until", metavar="DURATION", rich_help_panel=PANEL,
    help="End of the disease window, e.g. '10 years'; past the counts, each patient's lymphocytes are held at "
         "their last value \\[default: the simulation window].")]
Steroids = Annotated[bool, typer.Option(
    "--steroids", rich_help_panel=PANEL, help="Treat every relapse with corticosteroids (faster recovery).")]
PlasmaExchange = Annotated[bool, typer.Option(
    "--plasma-exchange", rich_help_panel=PANEL,
    help="Plasma exchange for severe relapses that steroids do not help.")]
Symptomatic = Annotated[list[str] | None, typer.Option(
    "--symptomatic", metavar="NAME", rich_help_panel=PANEL,
    help="A symptomatic medication for every patient, e.g. fampridine, baclofen or modafinil (repeatable).")]
Rehabilitation = Annotated[bool, typer.Option(
    "--rehabilitation", rich_help_panel=PANEL, help="Multidisciplinary rehabilitation for every patient.")]
Exercise = Annotated[bool, typer.Option(
    "--exercise", rich_help_panel=PANEL, help="Exercise training for every patient (acts on fatigue).")]
Diet = Annotated[bool, typer.Option("--diet", rich_help_panel=PANEL, help="A dietary intervention for every patient.")]
Dmt = Annotated[str | None, typer.Option(
    "--dmt", metavar="NAME", rich_help_panel=PANEL,
    help="A disease-modifying therapy for every patient, e.g. natalizumab (sets the 'dmt' column when the "
         "patients have none).")]


DiseaseOutdir = Annotated[str | None, typer.Option(
    "--disease-outdir", metavar="FOLDER", rich_help_panel=PANEL,
    help="Write the disease tables into this folder as Parquet (disease_relapses, _edss, _symptoms, _events, "
         "_patients); a new folder is created (a note says so).")]
DiseaseOutOld = Annotated[str | None, typer.Option("--disease-out", metavar="FOLDER", hidden=True,
                                                   help="Old spelling of --disease-outdir.")]


def disease_request(until: str | None, steroids: bool, plasma_exchange: bool, symptomatic: list[str] | None,
                    rehabilitation: bool, exercise: bool, diet: bool, dmt: str | None, outdir: str | None = None,
                    out_old: str | None = None) -> DiseaseRequest:
    """The disease options of a command as a request (``--disease-out`` still read, with a notice)."""
    if out_old is not None:
        if outdir is not None:
            raise ms.OptionError("--disease-out is the old spelling of --disease-outdir; give one of them.")
        c.deprecated("--disease-out", "--disease-outdir")
        outdir = out_old
    return DiseaseRequest(disease_until=until, steroids=steroids, plasma_exchange=plasma_exchange,
                          symptomatic=tuple(symptomatic or ()), rehabilitation=rehabilitation, exercise=exercise,
                          diet=diet, dmt=dmt, disease_outdir=outdir)


def write(disease: Any, folder: Path, stage) -> str:
    """The disease tables into a staged folder (renamed into place with the other outputs)."""
    tmp = stage(folder, folder=True)
    disease.write(tmp)
    names = sorted(p.name for p in Path(tmp).iterdir())
    return f"{c.fmt_path(folder)}/ (disease tables: {', '.join(names)})"


# -- on screen ----------------------------------------------------------------------------------
def window_text(days: float) -> str:
    """A window as people write it: '10 years', '18 months', '90 days'."""
    if days >= YEAR_D - 0.5 and abs(days / YEAR_D - round(days / YEAR_D)) < 0.02:
        y = round(days / YEAR_D)
        return f"{y} year{'s' if y != 1 else ''}"
    if days >= 2 * MONTH_D - 0.5:
        m = days / MONTH_D
        return f"{m:.3g} months"
    return f"{days:.3g} days"


def _value(value: float, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if unit == "share":
        return f"{100.0 * value:.1f} %"
    if unit == "share of points":
        return f"{100.0 * value:.0f} % of the EDSS points gained"
    if unit == "1/year":
        return f"{value:.3g} per patient-year"
    if unit == "EDSS":
        return f"{value:+.2f} points"
    return f"{value:.4g} {unit}".strip()


def summary_table(disease: Any) -> Any:
    """DiseaseResult.summary() as a Rich table (shares in %)."""
    df = disease.summary()
    t = c.table(f"Disease over {window_text(disease.until_d)}, {disease.n_patients} patient(s): relapses, "
                "disability (EDSS), symptoms")
    c.add_column(t, "", text=True)
    c.add_column(t, "value", justify="right")
    for row in df.itertuples(index=False):
        t.add_row(str(row.quantity), _value(float(row.value), str(row.unit)))
    return t


def header_lines(disease: Any, dplan: DiseaseJob, seed: Any, linked_possible: bool = True) -> list[str]:
    """What the disease run did: window, seed, the immune link, the treatments."""
    prov = disease.provenance or {}
    if prov.get("alc_link"):
        link = ("relapse rate follows each patient's immune memory compartment, which the drug's lymphocyte kill "
                "depletes and which reconstitutes over years")
    elif linked_possible:
        link = "relapse rate not linked: this model has no lymphocyte model"
    else:
        link = "no chemotherapy"
    lines = [f"disease: relapses, symptoms and EDSS over {window_text(disease.until_d)} "
             f"(every {prov.get('every_d', 7.0):g} days), seed {seed}; {link}"]
    other = list(dplan.labels)
    if dplan.dmt is not None:
        other.insert(0, f"disease-modifying therapy {dplan.dmt}")
    lines.append("other treatments: " + (", ".join(other) if other else "none"))
    return lines


def show(con: Any, disease: Any, dplan: DiseaseJob, seed: Any, linked_possible: bool = True) -> None:
    from rich.markup import escape

    for line in header_lines(disease, dplan, seed, linked_possible):
        con.print(escape(line))
    con.print(summary_table(disease))


def relapse_table(relapses: Any, title: str) -> Any:
    """One patient's relapses as a Rich table."""
    import pandas as pd

    if len(relapses) == 0:
        df = pd.DataFrame({"relapse": ["-"], "onset": ["no relapse in the window"]})
        return c.frame_table(df, title=title)
    rows = []
    for r in relapses.sort_values("day", kind="stable").itertuples(index=False):
        d = r._asdict()
        treat = [t for t, key in (("steroids", "steroids"), ("plasma exchange", "plasma_exchange")) if d.get(key)]
        rows.append({"relapse": str(d.get("relapse", "")), "onset": day_text(float(d["day"])),
                     "site": str(d.get("site", "") or "").replace("_", " "),
                     "symptoms": ", ".join(s.replace("_", " ") for s in str(d.get("symptoms", "") or "").split(";") if s)
                     or "-",
                     "EDSS rise": _num(d.get("edss_rise")), "recovery (days)": _num(d.get("recovery_d"), "{:.0f}"),
                     "residual EDSS": _num(d.get("edss_residual")), "treated with": ", ".join(treat) or "-"})
    return c.frame_table(pd.DataFrame(rows), title=title)


def event_table(events: Any, title: str) -> Any:
    """One patient's dated events (relapses, SPMS, EDSS milestones) as a Rich table."""
    import pandas as pd

    if len(events) == 0:
        return c.frame_table(pd.DataFrame({"when": ["-"], "event": ["no event in the window"]}), title=title)
    names = {"relapse": "relapse", "spms": "secondary progression"}
    rows = [{"when": day_text(float(e.day)), "day": f"{float(e.day):.0f}",
             "event": names.get(str(e.event), str(e.event).replace("edss_", "sustained EDSS ")),
             "detail": str(e.detail).replace("_", " ").replace(";", ", ").rstrip().rstrip(":")}
            for e in events.itertuples(index=False)]
    return c.frame_table(pd.DataFrame(rows), title=title)


def day_text(day: float) -> str:
    """A day as 'month 7.2' (first 3 years) or 'year 4.3'."""
    if day < 3 * YEAR_D:
        return f"month {day / MONTH_D:.1f}"
    return f"year {day / YEAR_D:.1f}"


def _num(v: Any, fmt: str = "{:g}") -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-"
    return fmt.format(f) if math.isfinite(f) else "-"
