"""``mschemo timeline``: one patient's course on one time axis (doses, counts, relapses, symptoms,
EDSS) as a figure, with the patient's relapses and dated events on screen."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import OptionError
from . import _common as c
from . import disease as dz

_WHAT = "What to simulate"
_PATIENTS = "Patients"
DEFAULT_PLOT = "timeline.png"


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
    seed: Annotated[str | None, typer.Option("--seed", metavar="INTEGER", rich_help_panel=_PATIENTS,
                                                help="Seed of the patients and their disease (same seed, same "
                                                     "timeline) \\[default: fresh, printed].")] = None,
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No tables; errors only.")] = False,
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
    dopts = dz.DiseaseOptions(until=disease_until, steroids=steroids, plasma_exchange=plasma_exchange,
                              symptomatic=tuple(symptomatic or ()), rehabilitation=rehabilitation, exercise=exercise,
                              diet=diet, dmt=dmt)
    run_timeline(drug=drug, regimen=regimen, untreated=untreated, patient=patient, n=n, seed=seed,
                 population=population, until=until, dopts=dopts, plot=plot, quiet=quiet)


def run_timeline(*, drug: str | None, regimen: str | None, untreated: bool, patient: str | None, n: str | None,
                 seed: str | None, population: str | None, until: str | None, dopts: dz.DiseaseOptions,
                 plot: str, quiet: bool) -> None:
    # -- 1. the options ---------------------------------------------------------------------------
    n_val = c.whole_number(n, "--n", 1, "10")
    seed_val = c.whole_number(seed, "--seed", 0, "1")
    plot_path = c.output_path(plot, "--plot", c.PLOT_SUFFIXES)
    if patient is not None and not patient.strip():
        raise OptionError("--patient is empty; give a patient id, e.g. --patient 1.")
    if untreated and drug is not None:
        raise OptionError("--untreated draws a patient without chemotherapy, so --drug does not apply; give one of "
                          "them.")
    if untreated and regimen is not None:
        raise OptionError("--untreated draws a patient without chemotherapy, so --regimen does not apply; leave "
                          "--regimen out or drop --untreated.")
    if not untreated and drug is None:
        raise OptionError("no treatment given; add --drug NAME (e.g. --drug mitoxantrone; see 'mschemo drugs'), or "
                          "--untreated for the disease without chemotherapy.")
    csv_population = population is not None and Path(population).suffix.lower() == ".csv"
    n_used = n_val if n_val is not None or csv_population else 1
    n_arg = n_val if csv_population else n_used   # a patient table gives its own patients (--n is an error there)
    if patient is not None and not csv_population:
        _check_virtual_id(patient, n_used)
    dplan = dz.plan(dopts)

    # -- 2. simulate --------------------------------------------------------------------------------
    if untreated:
        if until is not None and dopts.until is not None:
            raise OptionError("--until and --disease-until both set the window of an untreated run; give one of "
                              "them.")
        until_d = dz.window_days(until, "--until") if until is not None else dplan.until_d
        if until_d is None:
            until_d = dz.window_days(dz.UNTREATED_UNTIL, "--until")
        pop, seed_used, label = dz.untreated_population(population, n_arg, seed_val, 1)
        dz.check_population(pop, dplan.dmt, f"'{population}'")
        index = _pick(pop.ids, patient)
        dres = dz.untreated(pop, seed_used, until_d, dplan)
        counts, plan = None, None
    else:
        from .simulate import _output_times, _plan, _run

        plan = _plan(drug=drug, model=None, regimen=regimen, events=None, time_unit="d", example=None,
                     population=population, n=n_arg, seed=seed_val,
                     output=_output_times(until, None), backend_name="compiled", threads=None, disease=True)
        dz.check_population(plan.population, dplan.dmt, f"'{population}'")
        if csv_population:
            _pick(plan.population.ids, patient)   # a wrong id fails before the simulation
        counts = _run(plan, quiet=True, immune=True)
        index = _pick(counts.ids, patient)
        if int(counts.status[index]) != 0:
            c.err_console().print(f"warning: patient {counts.ids[index]} could not be solved "
                                  f"({counts.status_table()['status'].iloc[index]}); no timeline was drawn.")
            raise SystemExit(1)
        dres = dz.attach(counts, dplan)
        seed_used = counts.provenance.get("seed")
        label = plan.population_label
    pid = dres.ids[index]

    # -- 3. the figure, then the tables ----------------------------------------------------------
    from ..plotting import plot_timeline, save_figure

    fig = plot_timeline(dres, pid, counts=counts)
    with c.staged_outputs() as stage:
        save_figure(fig, stage(plot_path))
    if quiet:
        return
    _show(dres, pid, counts, plan, dplan, label, seed_used, plot_path)


def _check_virtual_id(text: str, n: int) -> None:
    """Virtual patients have ids 1..n: a larger or non-numeric id fails before anything runs."""
    try:
        k = int(text.strip())
    except ValueError:
        raise OptionError(f"--patient '{text}' is not an id of the virtual patients (1 to {n}); give a whole number, "
                          "e.g. --patient 1.") from None
    if not 1 <= k <= n:
        fix = f"give --n {k} or more" if k > n else "give an id from 1"
        raise OptionError(f"--patient {k} is not among the {n} virtual patient(s) (ids 1 to {n}); {fix}, or leave "
                          "--patient out.")


def _pick(ids: Any, patient: str | None) -> int:
    """Index of --patient among ``ids`` (compared as text); the first patient without it."""
    if patient is None:
        return 0
    text = [str(i) for i in ids]
    if patient.strip() in text:
        return text.index(patient.strip())
    shown = ", ".join(text[:5]) + (", ..." if len(text) > 5 else "")
    raise OptionError(f"--patient '{patient}' is not among the patients (ids {shown}); give one of their ids.")


def _show(dres: Any, pid: Any, counts: Any, plan: Any, dplan: dz.DiseasePlan, label: str, seed: Any,
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
            given = counted["given"] + counted["reduced"] + counted["increased"]
            others = ", ".join(f"{v} {a}" for a, v in counted.items() if v and a not in ("given", "reduced",
                                                                                          "increased"))
            mg = float(d.loc[d["action"].isin(["given", "reduced", "increased"]), "dose_mg"].sum())
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
