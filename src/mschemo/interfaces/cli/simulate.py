"""``mschemo simulate``: one regimen in a population, a summary on screen, tables and a plot on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

import mschemo as ms

from ..requests import SimulateRequest, SimulationJob, UntreatedJob
from ..requests.simulate import DEFAULT_N
from . import _common as c
from . import disease as dz

_INPUT = "Model and doses"
_PATIENTS = "Patients"
_RUN = "Run"
_OUTPUT = "Output"
_RULES = "Dosing rules (with --drug)"


def simulate_command(
    drug: Annotated[str | None, typer.Option("--drug", metavar="NAME", rich_help_panel=_INPUT,
                                                help="A built-in drug (label regimen and dosing rules) or model by name "
                                                     "(see 'mschemo drugs').")] = None,
    model: Annotated[str | None, typer.Option("--model", metavar="NAME|FILE.toml", rich_help_panel=_INPUT,
                                                 help="A built-in model name or your own model file (TOML).")] = None,
    regimen: Annotated[str | None, typer.Option("--regimen", metavar="TEXT", rich_help_panel=_INPUT,
                                                   help="Doses as people write them, e.g. "
                                                        "'12 mg/m2 over 30 min every 3 months x 8' \\[default with "
                                                        "a drug: its label regimen].")] = None,
    events: Annotated[str | None, typer.Option("--events", metavar="FILE.csv", rich_help_panel=_INPUT,
                                                  help="A NONMEM-style event table (ID, TIME, AMT, EVID, CMT, "
                                                       "RATE or DUR, II, ADDL, SS).")] = None,
    time_unit: Annotated[str | None, typer.Option("--time-unit", metavar="d|h|min|week", rich_help_panel=_INPUT,
                                                     help="Unit of TIME, II, DUR and RATE in --events "
                                                          "\\[default: d].")] = None,
    example: Annotated[str | None, typer.Option("--example", metavar="NAME", rich_help_panel=_INPUT,
                                                   help="A built-in example instead of your own input: a scenario "
                                                        "(model, doses and patients), e.g. mitox-2y.")] = None,
    no_rules: Annotated[bool, typer.Option("--no-rules", rich_help_panel=_RULES,
                                           help="Give every planned dose: switch the drug's dosing rules off "
                                                "(they are on by default).")] = False,
    cap_region: Annotated[str | None, typer.Option("--cap-region", metavar="us|eu", rich_help_panel=_RULES,
                                                      help="Which lifetime dose cap is in force (e.g. mitoxantrone: "
                                                           "us 140 mg/m2, eu 72 mg/m2) \\[default: the drug's].")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", metavar="NAME", rich_help_panel=_RULES,
                                                        help="Switch on an optional dosing rule, e.g. titrate "
                                                             "(repeatable; 'mschemo drugs NAME' lists them).")] = None,
    population: Annotated[str | None, typer.Option("--population", metavar="FILE.csv|FILE.toml",
                                                      rich_help_panel=_PATIENTS,
                                                      help="Real patients (.csv: id, height_cm, weight_kg, ...) or a "
                                                           "virtual-population spec (.toml).")] = None,
    n: Annotated[str | None, typer.Option("--n", metavar="INTEGER", rich_help_panel=_PATIENTS,
                                             help=f"Number of virtual patients \\[default: {DEFAULT_N}; with --events, "
                                                  "one typical patient per ID].")] = None,
    seed: c.Seed = None,
    until: Annotated[str | None, typer.Option("--until", metavar="DURATION", rich_help_panel=_RUN,
                                                 help="End of the simulation, e.g. '2 years' \\[default: last dose "
                                                      "+ 13 weeks].")] = None,
    every: Annotated[str | None, typer.Option("--every", metavar="DURATION", rich_help_panel=_RUN,
                                                 help="Output step, e.g. '1 day' or '12 h' \\[default: 1 day].")] = None,
    backend: Annotated[str | None, typer.Option("--backend", metavar="compiled|scipy|jax", rich_help_panel=_RUN,
                                                   help="Solver: compiled (fast, default), scipy (reference) or jax "
                                                        "(GPU; pip install \"mschemo[jax]\").")] = None,
    threads: Annotated[str | None, typer.Option("--threads", metavar="INTEGER", rich_help_panel=_RUN,
                                                   help="Worker threads of the compiled backend \\[default: all "
                                                        "cores].")] = None,
    dask: Annotated[str | None, c.dask_option(_RUN)] = None,
    workers: Annotated[str | None, typer.Option("--workers", metavar="INTEGER", rich_help_panel=_RUN,
                                                help="Processes on this machine that run the chunks of a --stream "
                                                     "run (same results with any number) \\[default: one per "
                                                     "core].")] = None,
    out: Annotated[str | None, typer.Option("--out", metavar="FILE.csv|FILE.parquet", rich_help_panel=_OUTPUT,
                                               help="Write the results table (with --example: the per-patient "
                                                    "nadir table, unless --table is given).")] = None,
    table: Annotated[str | None, typer.Option("--table", metavar="wide|long", rich_help_panel=_OUTPUT,
                                                 help="Layout of --out: wide (one column per output) or long "
                                                      "\\[default: wide].")] = None,
    plot: Annotated[str | None, typer.Option("--plot", metavar="FILE.png", rich_help_panel=_OUTPUT,
                                                help="Write a plot of the counts over time (.png, .pdf or .svg).")] = None,
    decisions: Annotated[str | None, typer.Option("--decisions", metavar="FILE.csv|FILE.parquet",
                                                     rich_help_panel=_OUTPUT,
                                                     help="Write the dosing decisions (one row per course and check: "
                                                          "action, dose, rule, reason); with --drug.")] = None,
    stream: Annotated[bool, typer.Option("--stream", rich_help_panel=_OUTPUT,
                                         help="Write --out chunk by chunk and keep only each patient's nadirs and "
                                              "grades in memory, for populations larger than memory (the same file "
                                              "and summaries).")] = False,
    quiet: c.Quiet = False,
    disease: Annotated[bool | None, typer.Option("--disease/--no-disease", rich_help_panel=dz.PANEL,
                                                    help="Also simulate relapses, symptoms and EDSS of the same "
                                                         "patients, the relapse rate following their lymphocytes "
                                                         "\\[default: on; with --example: off].")] = None,
    untreated: Annotated[bool, typer.Option("--untreated", rich_help_panel=dz.PANEL,
                                            help="The disease without chemotherapy: no drug, no doses, no counts "
                                                 "(--until sets the window, default 2 years).")] = False,
    disease_until: dz.DiseaseUntil = None,
    steroids: dz.Steroids = False,
    plasma_exchange: dz.PlasmaExchange = False,
    symptomatic: dz.Symptomatic = None,
    rehabilitation: dz.Rehabilitation = False,
    exercise: dz.Exercise = False,
    diet: dz.Diet = False,
    dmt: dz.Dmt = None,
    disease_outdir: dz.DiseaseOutdir = None,
    disease_out: dz.DiseaseOutOld = None,
) -> None:
    """Simulate doses in virtual or real patients: counts over time, nadirs and CTCAE grades, and the
    disease (relapses, symptoms, EDSS) that follows.

    A drug (mitoxantrone, cyclophosphamide, cladribine: see 'mschemo drugs') is simulated with its
    label regimen unless --regimen is given, and with its dosing rules (counts, LVEF, lifetime cap)
    unless --no-rules is given. The disease model runs for the same patients by default (--no-disease
    switches it off); --untreated simulates the disease alone, without chemotherapy.

    Examples:

      mschemo simulate --drug mitoxantrone --n 200 --seed 1 --cap-region eu --decisions decisions.csv

      mschemo simulate --drug mitox-2y --regimen "12 mg/m2 over 30 min every 3 months x 8" --n 500 --seed 1 --out res.parquet

      mschemo simulate --drug mitoxantrone --n 1000000 --until "2 years" --out counts.parquet --stream --dask tcp://scheduler:8786

      mschemo simulate --model mitox-2y --events doses.csv --time-unit h --population patients.csv --plot counts.png

      mschemo simulate --example mitox-2y --n 1000 --out nadirs.csv

      mschemo simulate --drug mitoxantrone --n 200 --disease-until "5 years" --steroids --disease-outdir disease

      mschemo simulate --untreated --n 1000 --seed 1 --until "10 years"
    """
    dopts = dz.disease_request(disease_until, steroids, plasma_exchange, symptomatic, rehabilitation, exercise, diet,
                               dmt, disease_outdir, disease_out)
    request = SimulateRequest(drug=drug, model=model, regimen=regimen, events=events, time_unit=time_unit,
                              example=example, population=population, n=n, seed=seed, until=until, every=every,
                              backend=backend, threads=threads, no_rules=no_rules, cap_region=cap_region,
                              options=tuple(option or ()), disease=disease, untreated=untreated, disease_options=dopts,
                              out=out, table=table, plot=plot, decisions=decisions, stream=stream, dask=dask,
                              workers=workers)
    run_simulate(request, quiet)


def run_simulate(request: SimulateRequest, quiet: bool = False) -> None:
    """Check the request, run it, write every file or none, and show the results."""
    job = request.resolve(c.CLI)
    if isinstance(job, UntreatedJob):
        _run_untreated(job, quiet)
        return
    if job.stream:
        _run_streamed(job, quiet)
        return
    show = not quiet and job.total >= c.PROGRESS_MIN_PATIENTS
    with c.progress_bar(job.total, show, label="deciding courses" if job.drug is not None else "simulating") as bar:
        result = job.run(bar, chunk_size=c.chunk_size_for(job.total, show or job.dask is not None))
    dres = None
    if job.disease is not None and (not quiet or job.disease.out_dir is not None) and result.all_ok:
        dres = job.attach_disease(result)
    written: list[str] = []
    with c.staged_outputs(quiet) as stage:
        if job.out_path is not None:
            written.append(_write_table(result, job, job.out_path, job.table_kind, stage))
        if job.plot_path is not None:
            written.append(_write_plot(result, job.plot_path, stage, title=job.plot_title(result.n_patients)))
        if job.decisions_path is not None:
            written.append(write_decisions(result.decisions, job.decisions_path, stage))
        if dres is not None and job.disease is not None and job.disease.out_dir is not None:
            written.append(dz.write(dres, job.disease.out_dir, stage))
    if not quiet:
        show_result(result, job, written, disease=(dres, job.disease) if job.disease is not None else None)
    _warn_failures(result)


def _run_streamed(job: SimulationJob, quiet: bool) -> None:
    """--stream: the time courses go to --out chunk by chunk; the summaries come from what is kept."""
    assert job.out_path is not None      # a streamed run has a file to stream into (checked by the request)
    if quiet:
        job.disease = None       # nothing would show it (--disease-outdir does not stream)
    show = not quiet and job.total >= c.PROGRESS_MIN_PATIENTS
    written: list[str] = []
    with c.staged_outputs(quiet) as stage:
        tmp = stage(job.out_path)
        dtmp = stage(job.decisions_path) if job.decisions_path is not None and job.drug is not None else None
        with c.progress_bar(job.total, show, label="simulating, streamed") as bar:
            # about 20 chunks even when quiet: they are what the worker processes share out
            result = job.run_to(tmp, bar, chunk_size=c.chunk_size_for(job.total, True),
                                decisions_path=dtmp)
        rows = result.n_patients * result.times_d.size * (1 if (job.table_kind or "wide") == "wide"
                                                          else len(result.columns))
        written.append(f"{c.fmt_path(job.out_path)} ({job.table_kind or 'wide'} table, {rows:,} rows, written "
                       "chunk by chunk)")
        counted = result.decision_counts()
        if dtmp is not None and job.decisions_path is not None and counted is not None:
            written.append(f"{c.fmt_path(job.decisions_path)} (dosing decisions, {int(counted['courses'].sum()):,} "
                           "rows, written chunk by chunk)")
    if not quiet:
        dres = result.disease if job.disease is not None and result.all_ok else None
        show_result(result, job, written, disease=(dres, job.disease) if job.disease is not None else None)
    _warn_failures(result)


def _run_untreated(job: UntreatedJob, quiet: bool) -> None:
    """--untreated: the disease of the default cohort (or --population) without chemotherapy."""
    dres = job.run()
    written: list[str] = []
    with c.staged_outputs(quiet) as stage:
        if job.disease.out_dir is not None:
            written.append(dz.write(dres, job.disease.out_dir, stage))
    if quiet:
        return
    con = c.console()
    con.print("[bold]untreated[/bold]: the disease without chemotherapy (no doses, no counts)")
    con.print(f"patients: {job.population_label}")
    dz.show(con, dres, job.disease, job.seed, linked_possible=False)
    for line in written:
        con.print(f"wrote {line}")
    con.print(f"[bold]{c.DISCLAIMER}[/bold]")


def _write_table(result: Any, job: SimulationJob, path: Path, kind: str | None, stage) -> str:
    tmp = stage(path)
    if job.example is not None and kind is None:
        df = job.example.peer_table(result)
        write_peer_table(df, tmp)
        what = f"per-patient nadirs, {len(df)} rows"
    else:
        result.write(tmp, kind=kind or "wide")
        rows = result.n_patients * result.times_d.size * (1 if (kind or "wide") == "wide" else len(result.columns))
        what = f"{kind or 'wide'} table, {rows:,} rows"
    return f"{c.fmt_path(path)} ({what})"


def write_peer_table(df: Any, path: Path) -> None:
    """The benchmark peers' per-patient table: ints as ints, every other number to 10 significant digits."""
    if path.suffix.lower() == ".csv":
        df.to_csv(path, index=False, float_format="%.10g")
    else:
        df.to_parquet(path, index=False)


def _write_plot(result: Any, path: Path, stage, title: str | None = None) -> str:
    ms.save_figure(result.plot(title=title), stage(path))
    return f"{c.fmt_path(path)} (plot)"


def write_decisions(decisions: Any, path: Path, stage) -> str:
    """The decisions table to a staged .csv or .parquet file."""
    tmp = stage(path)
    if path.suffix.lower() == ".csv":
        decisions.to_csv(tmp, index=False, float_format="%.10g")
    else:
        decisions.to_parquet(tmp, index=False)
    return f"{c.fmt_path(path)} (dosing decisions, {len(decisions)} rows)"


def show_result(result: Any, job: SimulationJob, written: list[str], disease: tuple[Any, Any] | None = None) -> None:
    """Print what was run, the summary table, the dosing decisions, the disease (``(DiseaseResult or
    None, DiseaseJob)``), the solve status, the files and the disclaimer."""
    from rich.markup import escape

    con = c.console()
    prov = result.provenance
    backend = prov.get("backend", {})
    con.print(f"[bold]{result.model.name}[/bold]: {result.model.describe()}")
    con.print(f"doses: {job.regimen_label}")
    seeded = job.n is not None or (job.drug is not None and "drawn from" in job.population_label)
    seed = "" if job.example is not None or not seeded else f"; seed {prov.get('seed')}"
    con.print(f"patients: {job.population_label}{seed}")
    con.print(f"solver: {backend.get('backend', '?')} (rtol {backend.get('rtol', '?')}); output: "
              f"{prov.get('output_times', '')}")
    if prov.get("dask"):
        size = int(prov.get("chunk_size") or result.n_patients)
        chunks = -(-result.n_patients // size)
        con.print(f"{chunks} chunk(s) of up to {size} patients run on Dask ({escape(str(prov['dask']))})")
    if job.drug is not None:
        con.print(f"dosing rules: {job.rules_text()[len('dosing rules '):]}")
        for label in job.rules_in_force():
            con.print(f"  - {escape(label)}")
    con.print(c.summary_table(result))
    counted = result.decision_counts()
    if counted is not None:
        con.print(c.decisions_table(counted, title=f"Dosing decisions over {result.n_patients} patient(s): "
                                                            "courses by action and rule"))
    if disease is not None:
        dres, dplan = disease
        if dres is not None:
            dz.show(con, dres, dplan, prov.get("seed"))
        else:
            con.print("disease: not simulated, as some patients could not be solved (see the solve status).")
    con.print(c.status_line(result))
    for line in written:
        con.print(f"wrote {line}")
    con.print(f"[bold]{c.DISCLAIMER}[/bold]")


def _warn_failures(result: Any) -> None:
    if not result.all_ok:
        import numpy as np

        bad = int(np.sum(result.status != 0))
        c.err_console().print(f"warning: {bad} of {result.n_patients} patient(s) could not be solved; their values are "
                              "missing (NaN), see the solve status above.")
        raise SystemExit(1)
