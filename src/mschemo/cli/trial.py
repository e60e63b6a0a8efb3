"""``mschemo trial``: an in-silico trial from a spec file (or a built-in example) to an outcome
table, an HTML report and Parquet files of every patient."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import OptionError
from . import _common as c

_WHAT = "Trial"
_RUN = "Running"


def trial_command(
    spec: Annotated[str | None, typer.Argument(metavar="SPEC", show_default=False,
                                               help="The trial spec (.toml, .yaml or .yml).")] = None,
    example: Annotated[str | None, typer.Option("--example", metavar="NAME", rich_help_panel=_WHAT,
                                                help="A built-in example trial instead of a spec: clarity, "
                                                     "clarity_extension, cyclophosphamide, edan1997, edan2011 or "
                                                     "mims.")] = None,
    n_per_arm: Annotated[str, typer.Option("--n-per-arm", metavar="INTEGER", rich_help_panel=_WHAT,
                                           help="Patients per arm (an arm of ratio 2 gets twice as many).")] = "200",
    seed: Annotated[str | None, typer.Option("--seed", metavar="INTEGER", rich_help_panel=_WHAT,
                                             help="Randomisation and patient seed \\[default: the spec's].")] = None,
    out: Annotated[str | None, typer.Option("--out", metavar="FOLDER", rich_help_panel=_RUN,
                                            help="Folder for patients.parquet, visits.parquet and report.html "
                                                 "\\[default: trial_<spec name>].")] = None,
    report: Annotated[str | None, typer.Option("--report", metavar="FILE.html", rich_help_panel=_RUN,
                                               help="Where to write the HTML report \\[default: FOLDER/report.html].")] = None,
    chunk_size: Annotated[str, typer.Option("--chunk-size", metavar="INTEGER", rich_help_panel=_RUN,
                                            help="Patients simulated together (memory is bounded by it).")] = "1000",
    dask: Annotated[str | None, typer.Option("--dask", metavar="ADDRESS", rich_help_panel=_RUN,
                                             help="Run the chunks on a Dask cluster: a scheduler address "
                                                  "(tcp://host:8786) or 'local'. Same results as without it.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No tables; errors only.")] = False,
) -> None:
    """Run an in-silico trial: randomised arms, visits, outcomes (relapse rate ratio by negative
    binomial regression, Kaplan-Meier and Cox for first relapse and confirmed disability progression,
    toxicity, dosing), an HTML report and Parquet files of every patient and visit.

    Research and education only, not a prescription.
    """
    from ..trials import TrialSpec, example_trials, load_trial_example

    if (spec is None) == (example is None):
        raise OptionError("give a trial spec file or --example NAME (one of "
                          f"{', '.join(example_trials())}), not both and not neither.")
    n = c.whole_number(n_per_arm, "--n-per-arm", 1, "200")
    size = c.whole_number(chunk_size, "--chunk-size", 1, "1000")
    seed_used = c.whole_number(seed, "--seed", 0, "1")
    if dask is not None and not dask.strip():
        raise OptionError("--dask is empty; give a scheduler address such as tcp://host:8786, or 'local'.")
    if example is not None:
        trial_spec = load_trial_example(example.strip().lower())
        label = f"example '{example}'"
    else:
        path = c.input_file(spec, "SPEC", (".toml", ".yaml", ".yml"))
        trial_spec = TrialSpec.from_file(path)
        label = str(path)
    folder = Path(out) if out is not None else Path(f"trial_{_slug(trial_spec.name if spec is None else Path(spec).stem)}")
    if folder.exists() and not folder.is_dir():
        raise OptionError(f"--out '{folder}' is a file; give a folder for the trial's files.")
    report_path = c.output_path(report, "--report", (".html",)) if report is not None else None
    _run(trial_spec, label, n, seed_used, size, dask, folder, report_path, quiet)


def _slug(text: str) -> str:
    import re
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "trial"


def _run(spec, label: str, n: int, seed: int | None, size: int, dask: str | None, folder: Path,
         report_path: Path | None, quiet: bool) -> None:
    from ..trials import run_trial

    total = n * sum(a.ratio for a in spec.arms)
    written: list[str] = []
    with c.staged_outputs() as stage:
        tmp_folder = stage(folder, folder=True)
        with c.progress_bar(total, enabled=not quiet and total >= c.PROGRESS_MIN_PATIENTS, label="trial") as bar:
            result = run_trial(spec, n, seed=seed, chunk_size=size, out=tmp_folder, dask=dask, progress=bar)
        if report_path is None:
            result.report(tmp_folder / "report.html")
            written.append(f"{c.fmt_path(folder)}/ (patients.parquet, visits.parquet, report.html)")
        else:
            result.report(stage(report_path))
            written.append(f"{c.fmt_path(folder)}/ (patients.parquet, visits.parquet)")
            written.append(c.fmt_path(report_path))
    if quiet:
        return
    _show(result, label, written)


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
