"""``mschemo trial``: an in-silico trial from a spec file (or a built-in example) to an outcome
table, an HTML report and Parquet files of every patient."""

from __future__ import annotations

from typing import Annotated

import typer

import mschemo as ms

from ..requests import DEFAULT_N_PER_ARM, TrialRequest
from . import _common as c

_WHAT = "Trial"
_RUN = "Running"


def trial_command(
    spec: Annotated[str | None, typer.Argument(metavar="SPEC", show_default=False,
                                               help="The trial spec (.toml, .yaml or .yml).")] = None,
    example: Annotated[str | None, typer.Option("--example", metavar="NAME", rich_help_panel=_WHAT,
                                                help="A built-in example instead of your own input: a trial (clarity, "
                                                     "clarity_extension, cyclophosphamide, edan1997, edan2011 or "
                                                     "mims).")] = None,
    n_per_arm: Annotated[str | None, typer.Option("--n-per-arm", metavar="INTEGER", rich_help_panel=_WHAT,
                                                  help="Patients per arm (an arm of ratio 2 gets twice as many) "
                                                       f"\\[default: {DEFAULT_N_PER_ARM}].")] = None,
    seed: c.Seed = None,
    outdir: Annotated[str | None, typer.Option("--outdir", metavar="FOLDER", rich_help_panel=_RUN,
                                               help="Folder for patients.parquet, visits.parquet and report.html; a new "
                                                    "folder is created (a note says so) \\[default: trial_ and the "
                                                    "spec's name].")] = None,
    out: Annotated[str | None, typer.Option("--out", metavar="FOLDER", hidden=True,
                                            help="Old spelling of --outdir.")] = None,
    report: Annotated[str | None, typer.Option("--report", metavar="FILE.html", rich_help_panel=_RUN,
                                               help="Where to write the HTML report \\[default: FOLDER/report.html].")] = None,
    chunk_size: Annotated[str | None, typer.Option("--chunk-size", metavar="INTEGER", rich_help_panel=_RUN,
                                                   help="Patients simulated together (memory is bounded by it) "
                                                        "\\[default: 1000].")] = None,
    dask: Annotated[str | None, c.dask_option(_RUN)] = None,
    workers: Annotated[str | None, typer.Option("--workers", metavar="INTEGER", rich_help_panel=_RUN,
                                                help="Processes on this machine that run the chunks (same results "
                                                     "with any number) \\[default: one per core].")] = None,
    quiet: c.Quiet = False,
) -> None:
    """Run an in-silico trial: randomised arms, visits, outcomes, an HTML report and Parquet files.

    Outcomes: the relapse rate ratio by negative binomial regression, Kaplan-Meier and Cox for the
    first relapse and confirmed disability progression, toxicity and dosing, for every patient and
    visit.

    Examples:

      mschemo trial --example mims --n-per-arm 50 --seed 1 --outdir mims_trial

      mschemo trial my_trial.toml --n-per-arm 500 --dask local

    Research and education only, not a prescription.
    """
    if out is not None:
        if outdir is not None:
            raise ms.OptionError("--out is the old spelling of --outdir for a trial's folder; give one of them.")
        c.deprecated("--out FOLDER", "--outdir FOLDER")
        outdir = out
    request = TrialRequest(spec=spec, example=example, n_per_arm=n_per_arm, seed=seed, out=outdir, report=report,
                           chunk_size=chunk_size, dask=dask, workers=workers)
    run_trial_request(request, quiet)


def run_trial_request(request: TrialRequest, quiet: bool = False) -> None:
    job = request.resolve(c.CLI)
    written: list[str] = []
    with c.staged_outputs(quiet) as stage:
        tmp_folder = stage(job.folder, folder=True)
        enabled = not quiet and job.total >= c.PROGRESS_MIN_PATIENTS
        with c.progress_bar(job.total, enabled=enabled, label="trial") as bar:
            result = job.run(tmp_folder, bar)
        if job.report is None:
            result.report(tmp_folder / "report.html")
            written.append(f"{c.fmt_path(job.folder)}/ (patients.parquet, visits.parquet, report.html)")
        else:
            result.report(stage(job.report))
            written.append(f"{c.fmt_path(job.folder)}/ (patients.parquet, visits.parquet)")
            written.append(c.fmt_path(job.report))
    if quiet:
        return
    _show(result, job.label, written)


def _show(result, label: str, written: list[str]) -> None:
    con = c.console()
    spec = result.spec
    counts = result.patients.groupby("arm", observed=True).size()
    con.print(f"[bold]{spec.name}[/bold] ({label})")
    con.print(f"{len(result.patients)} patients over {spec.duration}: "
              + ", ".join(f"{arm} {k}" for arm, k in counts.items())
              + f"; seed {result.seed}; effects against '{spec.reference_arm}'")
    scr = result.screening()
    con.print(f"screened {int(scr['candidates'])} candidates: {100 * scr['share_out_criteria']:.1f} % out by the "
              f"eligibility criteria, {100 * scr['share_out_labs']:.1f} % by the screening labs")
    table = result.outcomes()
    wide = table.pivot_table(index="outcome", columns="arm", values="text", aggfunc="first", sort=False, observed=True)
    wide = wide.reindex(columns=[a.name for a in spec.arms]).reset_index()
    con.print(c.frame_table(wide, title="Outcomes (estimate and 95 % CI)"))
    for line in written:
        con.print(f"wrote {line}")
    con.print(f"reproduce: spec sha256 {result.provenance['spec_sha256'][:16]}..., seed {result.seed}, "
              f"mschemo {result.provenance['mschemo_version']}")
    con.print(f"[bold]{c.DISCLAIMER}[/bold]")
