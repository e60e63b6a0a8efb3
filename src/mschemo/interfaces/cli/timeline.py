"""``mschemo timeline``: one patient's course on one time axis (doses, counts, relapses, symptoms,
EDSS) as a figure, with the patient's relapses and dated events on screen."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

import mschemo as ms

from ..requests import DiseaseJob, TimelineRequest
from ..requests.timeline import DEFAULT_PLOT
from . import _common as c
from . import disease as dz

_WHAT = "What to simulate"
_PATIENTS = "Patients"


def timeline_command(
    drug: Annotated[str | None, typer.Option("--drug", metavar="NAME", rich_help_panel=_WHAT,
                                                help="A built-in drug with its label regimen and dosing rules (or a "
                                                     "built-in model with --regimen); see 'mschemo drugs'.")] = None,
    regimen: Annotated[str | None, typer.Option("--regimen", metavar="TEXT", rich_help_panel=_WHAT,
                                                   help="Doses as people write them, e.g. '12 mg/m2 over 30 min every "
                                                        "3 months x 8' \\[default: the drug's label regimen].")] = None,
    untreated: Annotated[bool, typer.Option("--untreated", rich_help_panel=_WHAT,
                                            help="No chemotherapy: the disease alone.")] = False,
    patient: Annotated[str | None, typer.Option("--patient", metavar="ID", rich_help_panel=_PATIENTS,
                                                   help="Which patient to draw \\[default: the first].")] = None,
    n: Annotated[str | None, typer.Option("--n", metavar="INTEGER", rich_help_panel=_PATIENTS,
                                             help="Number of virtual patients to simulate \\[default: 1].")] = None,
    seed: c.Seed = None,
    population: Annotated[str | None, typer.Option("--population", metavar="FILE.csv|FILE.toml",
                                                      rich_help_panel=_PATIENTS,
                                                      help="Real patients (.csv: id, height_cm, weight_kg, and "
                                                           "optionally ms_course, edss, ms_duration_y, dmt) or a "
                                                           "virtual-population spec (.toml).")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="DURATION", rich_help_panel=_WHAT,
                                                 help="End of the simulation, e.g. '5 years' \\[default: last dose + "
                                                      "13 weeks; --untreated: 2 years].")] = None,
    disease_until: dz.DiseaseUntil = None,
    steroids: dz.Steroids = False,
    plasma_exchange: dz.PlasmaExchange = False,
    symptomatic: dz.Symptomatic = None,
    rehabilitation: dz.Rehabilitation = False,
    exercise: dz.Exercise = False,
    diet: dz.Diet = False,
    dmt: dz.Dmt = None,
    plot: Annotated[str, typer.Option("--plot", metavar="FILE.png",
                                      help="Where to write the figure (.png, .pdf or .svg).")] = DEFAULT_PLOT,
    quiet: c.Quiet = False,
) -> None:
    """One patient's timeline: doses, white-cell counts, relapses, symptoms and EDSS on one time axis.

    Simulates one virtual patient (or --n of them and draws --patient) under a drug's label regimen
    with its dosing rules (--drug), a regimen of your own (--drug with --regimen) or no chemotherapy
    (--untreated); the relapse rate follows each patient's immune memory compartment. Writes the figure
    (timeline.png by default) and prints the patient's relapses and dated events.

    Examples:

      mschemo timeline --drug mitoxantrone --seed 5 --disease-until "5 years" --plot patient.png

      mschemo timeline --untreated --n 20 --patient 7 --seed 3 --until "10 years" --steroids
    """
    dopts = dz.disease_request(disease_until, steroids, plasma_exchange, symptomatic, rehabilitation, exercise, diet,
                               dmt)
    request = TimelineRequest(drug=drug, regimen=regimen, untreated=untreated, patient=patient, n=n, seed=seed,
                              population=population, until=until, disease_options=dopts, plot=plot)
    run_timeline(request, quiet)


def run_timeline(request: TimelineRequest, quiet: bool = False) -> None:
    job = request.resolve(c.CLI)
    dres, counts, index = job.run(c.CLI)
    if dres is None:
        c.err_console().print(f"warning: patient {counts.ids[index]} could not be solved "
                              f"({counts.status_table()['status'].iloc[index]}); no timeline was drawn.")
        raise SystemExit(1)
    pid = dres.ids[index]
    seed_used = counts.provenance.get("seed") if counts is not None else job.seed
    fig = ms.plot_timeline(dres, pid, counts=counts)
    with c.staged_outputs(quiet) as stage:
        ms.save_figure(fig, stage(job.plot_path))
    if quiet:
        return
    _show(dres, pid, counts, job.counts, job.disease, job.population_label, seed_used, job.plot_path)


def _show(dres: Any, pid: Any, counts: Any, plan: Any, dplan: DiseaseJob, label: str, seed: Any,
          plot_path: Path) -> None:
    from rich.markup import escape

    con = c.console()
    k = int(list(map(str, dres.ids)).index(str(pid)))
    if counts is None:
        con.print(f"[bold]patient {escape(str(pid))}[/bold]: no chemotherapy")
    else:
        what = plan.drug.name if plan.drug is not None else counts.model.name
        con.print(f"[bold]patient {escape(str(pid))}[/bold]: {escape(what)}, {escape(plan.regimen_label)}")
    con.print(f"simulated: {escape(label)}")
    if counts is not None:
        if counts.decisions is not None:
            d = counts.decisions
            d = d[(d["id"] == pid) & (d["day"] <= float(counts.times_d[-1]) + 1e-9)]   # courses in the window
            counted = c.decision_counts(d)
            given_words = ms.dosing.GIVEN
            given = sum(counted[a] for a in given_words)
            others = ", ".join(f"{v} {a}" for a, v in counted.items() if v and a not in given_words)
            mg = float(d.loc[d["action"].isin(given_words), "dose_mg"].sum())
            con.print(f"courses: {given} given ({mg:.4g} mg in all)" + (f"; {others}" if others else ""))
    for line in dz.header_lines(dres, dplan, seed, linked_possible=counts is not None):
        con.print(escape(line))
    p = dres.patients().iloc[k]
    con.print(f"relapses: {int(p['relapses'])} ({float(p['arr']):.2g} per year); sustained EDSS "
              f"{float(p['edss_start']):g} -> {float(p['edss_end']):g}; course at the end: {p['course_end']}")
    tables = dres.patient(pid)
    con.print(dz.relapse_table(tables["relapses"], f"Relapses of patient {pid}"))
    con.print(dz.event_table(tables["events"], f"Events of patient {pid} (relapses, secondary progression, "
                                               "sustained EDSS milestones)"))
    con.print(f"wrote {c.fmt_path(plot_path)} (timeline of patient {pid})")
    con.print(f"[bold]{c.DISCLAIMER}[/bold]")
