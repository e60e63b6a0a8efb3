"""``mschemo example``: the three drugs side by side under their label regimens and dosing rules (one
figure, a summary per drug); ``mschemo example mitox-2y``: the built-in benchmark scenario, end to end
(summary, plot, per-patient table)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

import mschemo as ms

from ..requests.catalogue import regimen_text
from ..requests.example import (
    DRUGS_FIGURE,
    DRUGS_N,
    DRUGS_UNTIL,
    SCENARIO_N,
    DrugsSideBySideJob,
    ExampleRequest,
    ScenarioJob,
)
from . import _common as c

EXAMPLE = "mitox-2y"


def example_command(
    name: Annotated[str | None, typer.Argument(metavar="NAME",
                                                  help=f"A built-in scenario ({EXAMPLE}); leave it out for the three "
                                                       "drugs side by side.")] = None,
    n: Annotated[str | None, typer.Option("--n", metavar="INTEGER",
                                             help=f"Number of virtual patients \\[default: {DRUGS_N} per drug; "
                                                  f"{EXAMPLE}: {SCENARIO_N}].")] = None,
    seed: c.Seed = None,
    outdir: Annotated[str | None, typer.Option("--outdir", metavar="FOLDER",
                                                  help=f"Where to write {DRUGS_FIGURE} ({EXAMPLE}: {EXAMPLE}.png and "
                                                       f"{EXAMPLE}.csv); a new folder is created (a note says so) "
                                                       "\\[default: current folder].")] = None,
    plot: Annotated[str | None, typer.Option("--plot", metavar="FILE.png",
                                                help=f"Write the figure here instead (.png, .pdf or .svg) "
                                                     f"\\[default: {DRUGS_FIGURE} in --outdir].")] = None,
    quiet: c.Quiet = False,
) -> None:
    """Mitoxantrone, cyclophosphamide and cladribine side by side, or a built-in scenario.

    Without NAME: simulates each drug's label regimen with its dosing rules in the same virtual
    patients (100 by default) for 2 years, prints a summary per drug (first nadir, share with CTCAE
    grade >= 3, dosing decisions) and writes one figure, mschemo_example.png: a column per drug, a
    row per count (WBC, ANC, ALC), median with 5-95 % band, grade-3 limit, dose marks.

    'mschemo example mitox-2y': the benchmark scenario, 12 mg/m2 over 30 min every 91 days x 8;
    prints the white-cell summary and the per-patient first nadirs, and writes mitox-2y.png (counts
    over time) and mitox-2y.csv (per patient: id, bsa_m2, dose_mg, nadir_1..nadir_8, first_nadir_day).
    """
    job = ExampleRequest(name=name, n=n, seed=seed, outdir=outdir, plot=plot).resolve(c.CLI)
    if isinstance(job, ScenarioJob):
        _scenario(job, quiet)
    else:
        _drugs_side_by_side(job, quiet)


def _scenario(job: ScenarioJob, quiet: bool) -> None:
    """The built-in scenario (mitox-2y): summary, plot and per-patient nadir table."""
    from .simulate import write_peer_table

    ex = job.scenario()
    total = len(ex.population)
    show = not quiet and total >= c.PROGRESS_MIN_PATIENTS
    if not quiet:
        c.err_console().print(f"simulating {total} virtual patients for 2 years (the first run on a machine also "
                              "compiles the solver, about 10 seconds)")
    with c.progress_bar(total, show) as progress:
        res = job.run(ex, progress, chunk_size=c.chunk_size_for(total, show))
    peers = ex.peer_table(res)
    with c.staged_outputs(quiet) as stage:
        write_peer_table(peers, stage(job.table))
        ms.save_figure(res.plot(), stage(job.plot))
    if not quiet:
        _show(res, ex, peers, [f"{c.fmt_path(job.plot)} (plot)",
                               f"{c.fmt_path(job.table)} (per-patient nadirs, {len(peers)} rows)"])
    if not res.all_ok:
        c.err_console().print("warning: some patients could not be solved; see the solve status above.")
        raise SystemExit(1)


def _show(res: Any, ex: Any, peers: Any, written: list[str]) -> None:
    import numpy as np
    import pandas as pd

    con = c.console()
    con.print(f"[bold]{ex.name}[/bold]: {ex.model.title}")
    con.print(f"doses: {ex.regimen.describe()} (dose in mg = 12 mg/m2 x body-surface area)")
    con.print(f"patients: {len(ex.population)} virtual patients (seed {ex.seed}); solver: "
              f"{res.provenance['backend'].get('backend')}; output: daily for 2 years")
    con.print(c.summary_table(res))

    base = res.column("wbc")[:, 0]
    first = peers["nadir_1"].to_numpy()
    depth = 100.0 * (1.0 - first / base)
    qs = [0, 5, 50, 95, 100]
    rows = [
        ("dose (mg)", np.percentile(peers["dose_mg"], qs), "{:.1f}"),
        ("baseline WBC (10^9/L)", np.percentile(base, qs), "{:.2f}"),
        ("first nadir WBC (10^9/L)", np.percentile(first, qs), "{:.2f}"),
        ("first nadir, % below baseline", np.percentile(depth, qs), "{:.1f}"),
        ("first nadir day", np.percentile(peers["first_nadir_day"], qs), "{:.0f}"),
    ]
    df = pd.DataFrame([[name] + [fmt.format(v) for v in vals] for name, vals, fmt in rows],
                      columns=["per patient", "min", "5 %", "median", "95 %", "max"])
    con.print(c.frame_table(df, title=f"First nadir after dose 1, over {len(peers)} patients"))
    con.print(c.status_line(res))
    for line in written:
        con.print(f"wrote {line}")
    con.print(f"[bold]{c.DISCLAIMER}[/bold]")


# -- the three drugs side by side ---------------------------------------------------------------
def _drugs_side_by_side(job: DrugsSideBySideJob, quiet: bool) -> None:
    drugs = job.drugs()
    n, seed = job.n, job.seed
    if not quiet:
        c.err_console().print(f"simulating {n} virtual patients per drug for {DRUGS_UNTIL} under each label regimen "
                              "with its dosing rules (the first run on a machine also compiles the solver, about 10 "
                              "seconds)")
    results = {}
    show = not quiet and n >= c.PROGRESS_MIN_PATIENTS
    for name, drug in drugs.items():
        with c.progress_bar(n, show, label=f"{name}") as progress:
            results[name] = job.run(drug, progress)
    subtitles = {name: _regimen_line(drug) for name, drug in drugs.items()}
    fig = ms.plot_drugs(results, subtitles, title=f"Label regimens with their dosing rules: {n} virtual patients per "
                                                  f"drug (seed {seed}), {DRUGS_UNTIL}")
    with c.staged_outputs(quiet) as stage:
        ms.save_figure(fig, stage(job.plot))
    if not quiet:
        _show_drugs(results, drugs, n, seed, job.plot)
    if not all(r.all_ok for r in results.values()):
        c.err_console().print("warning: some patients could not be solved; see the solve status above.")
        raise SystemExit(1)


def _regimen_line(drug: Any) -> str:
    if regimen_text(drug) != drug.default_regimen:
        return "label tablets: 1.75 mg/kg a year by weight band, 2 years"
    return drug.default_regimen


def _show_drugs(results: dict[str, Any], drugs: dict[str, Any], n: int, seed: int, png_path: Path) -> None:
    import pandas as pd

    con = c.console()
    con.print(f"[bold]Three drugs side by side[/bold]: each drug's label regimen with its dosing rules, {n} virtual "
              f"patients (seed {seed}), daily for {DRUGS_UNTIL}")
    for name, drug in drugs.items():
        con.print(f"  {name}: {_regimen_line(drug)}")
    rows: dict[str, list[str]] = {}
    for name, res in results.items():
        summ = res.summary().set_index("output")
        col = []
        for out in ("wbc", "anc", "alc"):
            col.append(summ.loc[out, "first_nadir_1e9_per_L"] if out in summ.index else "-")
        for out in ("wbc", "anc", "alc"):
            col.append(str(summ.loc[out, 'grade_3_or_worse_pct']) if out in summ.index else "-")
        counts = c.decision_counts(res.decisions)
        changed = counts["reduced"] + counts["increased"]
        col.append(str(counts["given"] + changed))
        col.append(str(changed))
        for action in ("delayed", "withheld", "stopped"):
            col.append(str(counts[action]))
        rows[name] = col
    labels = ["WBC first nadir (10^9/L)", "ANC first nadir (10^9/L)", "ALC first nadir (10^9/L)",
              "WBC grade >= 3 (% of patients)", "ANC grade >= 3 (% of patients)", "ALC grade >= 3 (% of patients)",
              "courses given", "  of which dose changed (titration)", "course delays",
              "courses withheld", "treatment stopped (patients)"]
    df = pd.DataFrame({"": labels, **rows})
    con.print(c.frame_table(df, title="Per drug: median (5-95 %) over patients; CTCAE v5.0 grades; dosing decisions"))
    for name, res in results.items():
        con.print(f"{name}: {c.status_line(res)}")
    con.print(f"wrote {c.fmt_path(png_path)} (figure: WBC, ANC, ALC per drug)")
    con.print(f"[bold]{c.DISCLAIMER}[/bold]")
