"""``mschemo example``: the built-in mitox-2y scenario, end to end (summary, plot, per-patient table)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import OptionError
from . import _common as c

EXAMPLE = "mitox-2y"
DEFAULT_N = 200
DEFAULT_SEED = 20240601


def example_command(
    n: Annotated[str | None, typer.Option("--n", metavar="INTEGER",
                                             help=f"Number of virtual patients \\[default: {DEFAULT_N}].")] = None,
    seed: Annotated[str | None, typer.Option("--seed", metavar="INTEGER",
                                                help=f"Seed of the patients \\[default: {DEFAULT_SEED}].")] = None,
    outdir: Annotated[str | None, typer.Option("--outdir", metavar="FOLDER",
                                                  help="Where to write mitox-2y.png and mitox-2y.csv "
                                                       "\\[default: current folder].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no tables.")] = False,
) -> None:
    """Run the built-in mitox-2y example: 12 mg/m2 over 30 min every 91 days x 8 in virtual patients.

    Prints the white-cell summary and the per-patient first nadirs, and writes mitox-2y.png (counts
    over time) and mitox-2y.csv (per patient: id, bsa_m2, dose_mg, nadir_1..nadir_8, first_nadir_day).
    """
    n_val = c.whole_number(n, "--n", 1, str(DEFAULT_N))
    seed_val = c.whole_number(seed, "--seed", 0, str(DEFAULT_SEED))
    folder = Path(outdir) if outdir is not None else Path(".")
    if outdir is not None and not outdir.strip():
        raise OptionError("--outdir is empty; give a folder, e.g. --outdir results.")
    if folder.exists() and not folder.is_dir():
        raise OptionError(f"--outdir '{outdir}' is a file, not a folder; give a folder, e.g. --outdir results.")

    from .. import simulate
    from ..examples import load_example
    from .simulate import write_peer_table

    ex = load_example(EXAMPLE, n=DEFAULT_N if n_val is None else n_val,
                      seed=DEFAULT_SEED if seed_val is None else seed_val)
    total = len(ex.population)
    show = not quiet and total >= c.PROGRESS_MIN_PATIENTS
    if not quiet:
        c.err_console().print(f"simulating {total} virtual patients for 2 years (the first run on a machine also "
                              "compiles the solver, about half a minute)")
    with c.progress_bar(total, show) as progress:
        res = simulate(ex.model, ex.regimen, ex.population, output=ex.output, seed=ex.seed, progress=progress,
                       throw=False, chunk_size=c.chunk_size_for(total, show))
    peers = ex.peer_table(res)
    csv_path, png_path = folder / f"{EXAMPLE}.csv", folder / f"{EXAMPLE}.png"
    from ..plotting import save_figure

    with c.staged_outputs() as stage:
        write_peer_table(peers, stage(csv_path))
        save_figure(res.plot(), stage(png_path))
    if not quiet:
        _show(res, ex, peers, [f"{c.fmt_path(png_path)} (plot)",
                               f"{c.fmt_path(csv_path)} (per-patient nadirs, {len(peers)} rows)"])
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
