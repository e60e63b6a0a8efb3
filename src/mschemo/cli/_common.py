"""Helpers shared by the commands: option checks, consoles, tables, progress and staged writes.

This module must stay light: it is imported by ``mschemo --help``, so numpy, pandas, SciPy,
numba and matplotlib are imported inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import DISCLAIMER as DISCLAIMER  # the one disclaimer text, shown wherever a dose is
from ..errors import OptionError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from rich.console import Console

TABLE_SUFFIXES = (".csv", ".parquet")
PLOT_SUFFIXES = (".png", ".pdf", ".svg")
#: runs with at least this many patients show a progress bar (unless --quiet)
PROGRESS_MIN_PATIENTS = 200


# -- consoles ---------------------------------------------------------------------------------
def console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


# -- option checks ----------------------------------------------------------------------------
def whole_number(text: str | None, option: str, minimum: int, example: str) -> int | None:
    """An option's text as an int >= minimum (None stays None)."""
    if text is None:
        return None
    s = text.strip()
    try:
        value = int(s)
    except ValueError:
        try:
            f = float(s)
        except ValueError:
            f = math.nan
        if math.isfinite(f) and f == int(f):
            value = int(f)
        else:
            raise OptionError(f"{option} '{text}' is not a whole number; give e.g. {option} {example}.") from None
    if value < minimum:
        raise OptionError(f"{option} {value} is below {minimum}; give a whole number >= {minimum}, e.g. {option} {example}.")
    return value


def choice(text: str | None, option: str, choices: tuple[str, ...]) -> str | None:
    """An option's text as one of ``choices`` (case-insensitive)."""
    if text is None:
        return None
    key = text.strip().lower()
    if key not in choices:
        raise OptionError(f"{option} '{text}' is not one of {', '.join(choices)}; give e.g. {option} {choices[0]}.")
    return key


def output_path(text: str | None, option: str, suffixes: tuple[str, ...]) -> Path | None:
    """An output file path with one of ``suffixes``, not an existing folder."""
    if text is None:
        return None
    if not text.strip():
        raise OptionError(f"{option} is empty; give a file name ending in {' or '.join(suffixes)}.")
    path = Path(text)
    if path.is_dir():
        raise OptionError(f"{option} '{text}' is a folder; give a file name ending in {' or '.join(suffixes)}.")
    if path.suffix.lower() not in suffixes:
        raise OptionError(f"{option} '{text}' has suffix '{path.suffix or '(none)'}'; give a file name ending in "
                          f"{' or '.join(suffixes)}.")
    return path


def input_file(text: str, option: str, suffixes: tuple[str, ...] | None = None) -> Path:
    """An existing input file (optionally with one of ``suffixes``)."""
    if not text.strip():
        raise OptionError(f"{option} is empty; give the path of a file.")
    path = Path(text)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise OptionError(f"{option} '{text}' has suffix '{path.suffix or '(none)'}'; give a {' or '.join(suffixes)} file.")
    if not path.exists():
        raise OptionError(f"{option} file '{text}' does not exist; check the path.")
    if not path.is_file():
        raise OptionError(f"{option} '{text}' is not a file; give the path of a file.")
    return path


def one_sentence(message: str) -> str:
    """A message as one line that ends with a full stop."""
    import re

    text = " ".join(str(message).split())
    text = re.sub(r"\bnp\.(?:u?int|float|str_|bool_?)\d*\((.*?)\)", r"\1", text)  # np.int64(2) -> 2
    if not text:
        return "something in the input is wrong."
    if text[-1] not in ".!?":
        text += "."
    elif text[-1] != ".":
        text = text[:-1] + "."
    return text


# -- staged writes ----------------------------------------------------------------------------
@contextlib.contextmanager
def staged_outputs() -> Iterator[Callable[..., Path]]:
    """Write every output to a temporary file; rename them all only when the block succeeds.

    ``stage(target)`` returns a temporary path beside the target, with the target's suffix;
    ``stage(folder, folder=True)`` a temporary folder beside it, whose files are moved into
    ``folder`` (created if needed). On any error every temporary file and folder is removed and
    no target is touched (no partial output).
    """
    import shutil

    staged: list[tuple[Path, Path, bool]] = []

    def stage(target: Path, folder: bool = False) -> Path:
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if folder:
            tmp = tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent)
        else:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix or ".tmp", dir=target.parent)
            os.close(fd)
        staged.append((Path(tmp), target, folder))
        return Path(tmp)

    try:
        yield stage
    except BaseException:
        for tmp, _, folder in staged:
            if folder:
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        raise
    mask = os.umask(0)   # temporary files are private (0600); results get the usual permissions
    os.umask(mask)
    for tmp, target, folder in staged:
        if folder:
            with contextlib.suppress(OSError):
                os.chmod(tmp, 0o777 & ~mask)
            if not target.exists():
                os.replace(tmp, target)
                continue
            for item in sorted(tmp.iterdir()):
                os.replace(item, target / item.name)
            os.rmdir(tmp)
            continue
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)


# -- progress ---------------------------------------------------------------------------------
@contextlib.contextmanager
def progress_bar(total: int, enabled: bool, label: str = "simulating") -> Iterator[Callable[[int, int], None] | bool]:
    """A Rich progress bar on stderr; yields a callback(done, total) for simulate(progress=...)."""
    if not enabled:
        yield False
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


def chunk_size_for(n: int, progress: bool) -> int:
    """Patients per chunk: the engine's default, or about 20 steps of the progress bar."""
    if not progress:
        return 10_000
    return int(min(10_000, max(50, math.ceil(n / 20))))


# -- tables -----------------------------------------------------------------------------------
_SUMMARY_ROWS = {
    "baseline_1e9_per_L": "baseline (10^9/L)",
    "first_nadir_1e9_per_L": "first nadir (10^9/L)",
    "first_nadir_day": "day of first nadir",
    "lowest_nadir_1e9_per_L": "lowest nadir (10^9/L)",
    "grade_3_or_worse_pct": "CTCAE grade >= 3 (% of patients)",
}
OUTPUT_NAMES = {"wbc": "WBC", "anc": "ANC", "alc": "ALC"}


def frame_table(df: pd.DataFrame, title: str | None = None, headers: dict[str, str] | None = None,
                caption: str | None = None) -> Any:
    """A Rich table of a DataFrame (all cells as text)."""
    from rich.table import Table

    headers = headers or {}
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    for j, col in enumerate(df.columns):
        table.add_column(headers.get(col, str(col)), justify="left" if j == 0 else "right", overflow="fold")
    for row in df.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    return table


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else ""
    return str(v)


def summary_table(result: Any) -> Any:
    """res.summary() as a Rich table, one column per count output: median (5-95 %) over patients."""
    from rich.table import Table

    df = result.summary()
    table = Table(title=f"White-cell counts, median (5-95 %) over {result.n_patients} patient(s)",
                  title_justify="left")
    table.add_column("")
    for out in df["output"]:
        table.add_column(OUTPUT_NAMES.get(out, out), justify="right")
    for col, label in _SUMMARY_ROWS.items():
        if col in df.columns:
            table.add_row(label, *[str(v) for v in df[col]])
    return table


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
#: decision actions in the order they are shown
ACTION_ORDER = ("given", "reduced", "increased", "delayed", "withheld", "stopped")


def decision_counts(decisions: pd.DataFrame) -> dict[str, int]:
    """Number of course decisions per action (every action in ACTION_ORDER, zeros included)."""
    counts = decisions["action"].value_counts()
    return {a: int(counts.get(a, 0)) for a in ACTION_ORDER}


def decisions_table(decisions: pd.DataFrame, title: str = "Dosing decisions") -> Any:
    """A Rich table of the decisions counted by action and rule: courses and patients."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("action")
    table.add_column("rule")
    table.add_column("courses", justify="right")
    table.add_column("patients", justify="right")
    if decisions is None or decisions.empty:
        table.add_row("-", "no course was planned", "0", "0")
        return table
    rank = {a: k for k, a in enumerate(ACTION_ORDER)}
    df = decisions.assign(rule=decisions["rule"].fillna("").astype(str))
    groups = df.groupby(["action", "rule"], sort=False)
    rows = sorted(((a, r, len(g), g["id"].nunique()) for (a, r), g in groups),
                  key=lambda row: (rank.get(row[0], len(rank)), row[1]))
    for action, rule, courses, patients in rows:
        table.add_row(action, escape(rule) if rule else "-", str(courses), str(patients))
    return table
