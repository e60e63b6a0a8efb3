"""Helpers shared by the commands: option checks, consoles, tables, progress and staged writes.

This module must stay light: it is imported by ``mschemo --help``, so numpy, pandas, SciPy,
numba and matplotlib are imported inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import mschemo as ms

from ..requests import CLI, PLOT_SUFFIXES, TABLE_SUFFIXES  # noqa: F401 - the CLI's spelling and file suffixes
from ..requests.base import DEFAULT_SEED, bounded, made_folder, settled, temp_sibling

DISCLAIMER = ms.DISCLAIMER   # the one disclaimer text, shown wherever a dose is

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from rich.console import Console

#: runs with at least this many patients show a progress bar (unless --quiet)
PROGRESS_MIN_PATIENTS = 200

# -- options that mean the same in every command ------------------------------------------------
Seed = Annotated[str | None, typer.Option(
    "--seed", metavar="INTEGER",
    help=f"Seed of the run's random draws: the same seed gives the same result \\[default: {DEFAULT_SEED}, or the "
         "example's or trial spec's own; the seed used is printed].")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no tables; errors only.")]


def dask_option(panel: str) -> Any:
    """``--dask ADDRESS``, worded alike in every command that runs chunks of patients (shown in ``panel``)."""
    return typer.Option("--dask", metavar="ADDRESS", rich_help_panel=panel,
                        help="Run the chunks on a Dask cluster: a scheduler address (tcp://host:8786) or 'local'. "
                             "Same results as without it.")


# -- consoles ---------------------------------------------------------------------------------
#: the width text is written at when the output is not a terminal (a pipe or a file): wide enough
#: that no table cell and no line is wrapped
PIPE_WIDTH = 10_000


def interactive() -> bool:
    """Whether standard output is a terminal (tables fit its width) or a pipe or file (plain text)."""
    import sys

    return sys.stdout.isatty()


def console() -> Console:
    """The console for results: at the terminal's width, or, when piped, plain text without colour
    and without wrapping (tables as aligned columns, one line per row)."""
    from rich.console import Console

    if interactive():
        return Console(highlight=False)
    return Console(highlight=False, width=PIPE_WIDTH, no_color=True, color_system=None, soft_wrap=True)


def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


# -- messages ---------------------------------------------------------------------------------
def deprecated(old: str, new: str) -> None:
    """One line on stderr: an old spelling still works this release."""
    note(f"{old} is deprecated and will be removed in the next release; use {new}.")


def note(text: str) -> None:
    """One line on stderr, never wrapped: 'note: ...'."""
    import sys

    sys.stderr.write(f"note: {text}\n")
    sys.stderr.flush()


def one_sentence(message: str) -> str:
    """A message as one line of bounded length (its middle cut when long) that ends with a full stop."""
    import re

    text = " ".join(str(message).split())
    text = re.sub(r"\bnp\.(?:u?int|float|str_|bool_?)\d*\((.*?)\)", r"\1", text)  # np.int64(2) -> 2
    text = bounded(text)
    if not text:
        return "something in the input is wrong."
    if text[-1] not in ".!?":
        text += "."
    elif text[-1] != ".":
        text = text[:-1] + "."
    return text


# -- staged writes ----------------------------------------------------------------------------
@contextlib.contextmanager
def staged_outputs(quiet: bool = False) -> Iterator[Callable[..., Path]]:
    """Write every output to a temporary file; rename them all only when the block succeeds.

    ``stage(target)`` returns a temporary path beside the target, with the target's suffix (copies a
    killed run left there are swept, see ``mschemo._internal.files``);
    ``stage(folder, folder=True)`` a temporary folder beside it, whose files are moved into
    ``folder``. A folder that does not exist yet is created, and a note on stderr says so (not when
    ``quiet``: errors only). On any
    error every temporary file and folder, and every folder created for them, is removed and no
    target is touched (no partial output).
    """
    import shutil

    staged: list[tuple[Path, Path, bool]] = []
    created: list[Path] = []

    def make(folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for f in reversed(missing):
            f.mkdir()
            made_folder(f)
            created.append(f)

    def stage(target: Path, folder: bool = False) -> Path:
        target = Path(target)
        make(target.parent)
        tmp = temp_sibling(target, folder=folder)
        staged.append((tmp, target, folder))
        return tmp

    try:
        yield stage
    except BaseException:
        for tmp, _, folder in staged:
            if folder:
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            settled(tmp)
        for f in reversed(created):
            with contextlib.suppress(OSError):
                f.rmdir()
            settled(f)
        raise
    mask = os.umask(0)   # temporary files are private (0600); results get the usual permissions
    os.umask(mask)
    for tmp, target, folder in staged:
        if folder:
            with contextlib.suppress(OSError):
                os.chmod(tmp, 0o777 & ~mask)
            if not target.exists():
                os.replace(tmp, target)
                settled(tmp)
                created.append(target)
                continue
            for item in sorted(tmp.iterdir()):
                os.replace(item, target / item.name)
            os.rmdir(tmp)
            settled(tmp)
            continue
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)
        settled(tmp)
    for f in created:
        settled(f)
        if not quiet:
            note(f"created the folder {fmt_path(f)}/ for the outputs.")


# -- progress ---------------------------------------------------------------------------------
@contextlib.contextmanager
def progress_bar(total: int, enabled: bool, label: str = "simulating") -> Iterator[Callable[[int, int], None] | bool]:
    """A Rich progress bar on stderr; yields a callback(done, total) for simulate(progress=...). When
    stderr is not a terminal (piped, a log file), a plain line at every tenth of the run instead."""
    if not enabled:
        yield False
        return
    if not err_console().is_terminal:
        yield _progress_lines(total, label)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("patients"), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=err_console(), transient=True)
    task = bar.add_task(label, total=total)
    with bar:
        yield lambda done, tot: bar.update(task, completed=done)


def _progress_lines(total: int, label: str) -> Callable[[int, int], None]:
    """A callback(done, total) that writes 'label: done/total patients (p %), s' to stderr at each new
    tenth of the run (and at its end)."""
    import time

    start, shown = time.perf_counter(), [-1]

    def update(done: int, tot: int) -> None:
        tenth = 10 * done // max(1, tot)
        if done < 0 or tenth <= shown[0]:
            return
        shown[0] = tenth
        sys.stderr.write(f"{label}: {done}/{tot} patients ({100 * done // max(1, tot)} %), "
                         f"{time.perf_counter() - start:.0f} s\n")
        sys.stderr.flush()

    return update


def chunk_size_for(n: int, progress: bool) -> int:
    """Patients per chunk: the engine's default, or about 20 chunks (the steps of the progress bar, or the
    tasks of a run on Dask)."""
    if not progress:
        return 10_000
    return int(min(10_000, max(50, math.ceil(n / 20))))


# -- tables -----------------------------------------------------------------------------------
_SUMMARY_ROWS = {
    "baseline_1e9_per_L": "baseline (10^9/L)",
    "patients_dosed": "patients given a dose (the nadirs are theirs)",
    "first_nadir_1e9_per_L": "first nadir (10^9/L)",
    "first_nadir_day": "day of first nadir",
    "lowest_nadir_1e9_per_L": "lowest nadir (10^9/L)",
    "grade_3_or_worse_pct": "CTCAE grade >= 3 (% of patients)",
}
OUTPUT_NAMES = {"wbc": "WBC", "anc": "ANC", "alc": "ALC"}


def table(title: str | None = None, caption: str | None = None) -> Any:
    """A Rich table in the project's style; when piped, without box lines (plain aligned columns)."""
    from rich import box
    from rich.table import Table

    return Table(title=title, caption=caption, title_justify="left", caption_justify="left",
                 box=box.SIMPLE_HEAD if interactive() else None)


def add_column(t: Any, header: str, *, text: bool = False, cells: Any = (), **kw: Any) -> None:
    """A column: a number or a short label never wraps (a number is never split); a text column wraps
    at spaces only, never inside a word (it is at least as wide as the longest word of ``cells``)."""
    if text:
        longest = max((len(w) for cell in cells for w in str(cell).split()), default=0)
        t.add_column(header, overflow="fold", min_width=max(longest, kw.pop("min_width", 0) or 0) or None, **kw)
    else:
        t.add_column(header, no_wrap=True, **kw)


def frame_table(df: pd.DataFrame, title: str | None = None, headers: dict[str, str] | None = None,
                caption: str | None = None) -> Any:
    """A Rich table of a DataFrame (all cells as text): the first column left-aligned, the others
    right-aligned; a cell wraps at spaces only, so a number or a name is never split."""
    headers = headers or {}
    t = table(title, caption)
    cells = {col: [_cell(v) for v in df[col]] for col in df.columns}
    for j, col in enumerate(df.columns):
        add_column(t, headers.get(col, str(col)), text=True, cells=cells[col], justify="left" if j == 0 else "right")
    for k in range(len(df)):
        t.add_row(*[cells[col][k] for col in df.columns])
    return t


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else ""
    return str(v)


def summary_table(result: Any) -> Any:
    """res.summary() as a Rich table, one column per count output: median (5-95 %) over patients."""
    df = result.summary()
    t = table(f"White-cell counts, median (5-95 %) over {result.n_patients} patient(s)")
    add_column(t, "", text=True)
    out: str        # the outputs' names ("wbc", "anc", "alc")
    for out in df["output"]:
        add_column(t, OUTPUT_NAMES.get(out, out), justify="right")
    for col, label in _SUMMARY_ROWS.items():
        if col in df.columns:
            t.add_row(label, *[str(v) for v in df[col]])
    return t


def status_line(result: Any) -> str:
    """'solve status: 200 ok' (or the counts of each failure)."""
    counts = result.status_table()["status"].value_counts()
    parts = [f"{int(k)} {name}" for name, k in sorted(counts.items(), key=lambda kv: (kv[0] != "ok", kv[0]))]
    return "solve status: " + ", ".join(parts)


def fmt_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


# -- dosing decisions -------------------------------------------------------------------------
def action_order() -> tuple[str, ...]:
    """Decision actions in the order they are shown (given, reduced, increased, delayed, withheld, stopped)."""
    return tuple(ms.dosing.RECORDED.values())


def decision_counts(decisions: pd.DataFrame) -> dict[str, int]:
    """Number of course decisions per action (every action, zeros included)."""
    counts = decisions["action"].value_counts()
    return {a: int(counts.get(a, 0)) for a in action_order()}


def decisions_table(counted: pd.DataFrame | None, title: str = "Dosing decisions") -> Any:
    """A Rich table of the decisions counted by action and rule (``result.decision_counts()``: action,
    rule, courses, patients)."""
    from rich.markup import escape

    t = table(title)
    add_column(t, "action")
    add_column(t, "rule", text=True, cells=() if counted is None else counted["rule"].astype(str))
    add_column(t, "courses", justify="right")
    add_column(t, "patients", justify="right")
    if counted is None or counted.empty:
        t.add_row("-", "no course was planned", "0", "0")
        return t
    rank = {a: k for k, a in enumerate(action_order())}
    rows = sorted(zip(counted["action"].astype(str), counted["rule"].astype(str),
                      counted["courses"].tolist(),
                      counted["patients"].tolist()),
                  key=lambda row: (rank.get(row[0], len(rank)), row[1]))
    for action, rule, courses, patients in rows:
        t.add_row(action, escape(rule) if rule else "-", str(courses), str(patients))
    return t
