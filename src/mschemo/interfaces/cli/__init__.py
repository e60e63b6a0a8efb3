"""The command line: ``mschemo simulate | timeline | trial | example | drugs`` (Typer + Rich).

Bad input (any :class:`mschemo.errors.InputError`, or an option Typer cannot read) ends with one
sentence on stderr, ``error: ...``, exit code 2, no traceback and no output file. A fit that does
not converge (:class:`mschemo.errors.ConvergenceError`, from ``personalise``) ends the same way, but
its message keeps its lines: the sentence, then the numbered causes and fixes. Any other exception
is a bug and keeps its traceback.

Only Typer and this package's light modules are imported here, so ``mschemo --help`` loads
neither numba, SciPy, pandas nor matplotlib; the commands import them when they run.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import Annotated

import typer

import mschemo as ms

from ..._internal.processes import kill
from ..requests.base import quote, remove_unsettled
from ._common import one_sentence
from ._help import no_type_placeholders
from .drugs import drugs_command
from .example import example_command
from .personalise import personalise_command
from .serve import serve_command
from .simulate import simulate_command
from .timeline import timeline_command
from .trial import trial_command

__all__ = ["app", "main", "run"]

app = typer.Typer(
    name="mschemo",
    help="Simulate chemotherapy for multiple sclerosis: dose -> drug concentration -> white-cell counts "
         "(nadirs, CTCAE grades) -> relapses, symptoms and disability (EDSS). Research and education only, not a "
         "prescription.\n\n"
         "Start with 'mschemo example'.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


no_type_placeholders()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mschemo {ms.__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
) -> None:
    """mschemo: dose -> concentration -> white-cell counts. Research and education only."""


#: each command's one-line summary in 'mschemo --help' (a whole sentence, whatever the terminal's width)
SUMMARIES = {
    "simulate": "Simulate doses in virtual or real patients: counts, nadirs, CTCAE grades and the disease.",
    "timeline": "One patient's doses, counts, relapses, symptoms and EDSS on one time axis.",
    "trial": "Run an in-silico trial: arms, visits, outcomes, an HTML report and Parquet files.",
    "example": "The three drugs side by side, or a built-in scenario.",
    "drugs": "List the built-in drugs and models, their rules and sources.",
    "personalise": "A patient's next dose from their own blood counts (Bayesian).",
    "serve": "Start the web app: explainer, dose planner, give-or-hold checklist, trial runner.",
}
for _name, _command in (("simulate", simulate_command), ("timeline", timeline_command), ("trial", trial_command),
                        ("example", example_command), ("drugs", drugs_command), ("personalise", personalise_command),
                        ("serve", serve_command)):
    app.command(_name, short_help=SUMMARIES[_name])(_command)


def _click():
    """The Click that Typer runs on (recent Typer versions vendor it as typer._click)."""
    try:
        from typer import _click as click
    except ImportError:      # an older Typer runs on Click itself (its typer.core.click)
        import click
    return click


COMMANDS = ("simulate", "timeline", "trial", "example", "drugs", "personalise")
#: options that one command has and another spells otherwise: (command, option) -> what to give instead
#: (looked up with the command line's first word, None when there is none)
HINTS: dict[tuple[str | None, str], str] = {
    ("trial", "--n"): "a trial takes patients per arm: give --n-per-arm N (an arm of ratio 2 gets 2 N).",
    ("simulate", "--n-per-arm"): "a simulation takes the number of patients: give --n N.",
    ("simulate", "--outdir"): "--out writes the results table (a file); the disease tables go to --disease-outdir.",
    ("example", "--out"): "an example writes its files into a folder: give --outdir FOLDER.",
    ("personalise", "--n"): "a plan is for one patient; --draws sets the posterior draws.",
}


def _usage_message(exc: Exception, args: Sequence[str]) -> str:
    """One sentence for an option or command Typer/Click could not read."""
    import difflib
    import re

    click = _click()
    command = next((a for a in args if not a.startswith("-")), None)
    helper = f"'mschemo {command} --help'" if command in COMMANDS else "'mschemo --help'"
    if isinstance(exc, click.exceptions.NoSuchOption):
        known = HINTS.get((command, exc.option_name))
        if known:
            return f"there is no option {quote(exc.option_name, 40)} in 'mschemo {command}'; {known}"
        hint = f" (did you mean {', '.join(exc.possibilities)}?)" if exc.possibilities else ""
        return f"there is no option {quote(exc.option_name, 40)}{hint}; see {helper} for the options."
    msg = " ".join((exc.format_message() if isinstance(exc, click.ClickException) else str(exc)).split())
    m = re.match(r"No such command '([^']*)'", msg)
    if m:
        close = difflib.get_close_matches(m.group(1), COMMANDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"there is no command {quote(m.group(1), 40)}{hint}; the commands are {', '.join(COMMANDS)}."
    msg = msg.rstrip(".")
    msg = msg[:1].lower() + msg[1:]
    if "unexpected extra argument" in msg:
        return f"{msg}; put quotes around text with spaces, e.g. --regimen '12 mg/m2 every 3 months x 8'."
    return f"{msg}; see {helper}."


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: sys.argv[1:]) and return the exit code."""
    click = _click()
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with warnings.catch_warnings():
            shown = warnings.showwarning
            warnings.showwarning = lambda message, category, *a, **k: (   # noqa: E731
                _warning(str(message)) if issubclass(category, ms.MschemoWarning) else shown(message, category, *a, **k))
            rv = command.main(args=args, prog_name="mschemo", standalone_mode=False)
    except ms.InputError as exc:
        _error(str(exc))
        return 2
    except ms.ConvergenceError as exc:
        _error_lines(str(exc))
        return 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted.\n")
        return 130
    except Exception as exc:
        no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
        if no_args and isinstance(exc, no_args):
            ctx = getattr(exc, "ctx", None)
            click.echo(ctx.get_help() if ctx is not None else "")
            return 0
        if isinstance(exc, click.exceptions.UsageError):
            _error(_usage_message(exc, args))
            return 2
        if isinstance(exc, (typer.Abort, getattr(click, "Abort", typer.Abort))):
            sys.stderr.write("aborted.\n")
            return 1
        raise
    return rv if isinstance(rv, int) else 0


def _warning(message: str) -> None:
    """mschemo's own warnings as one line, 'warning: ...' (not Python's file and line)."""
    sys.stderr.write(f"warning: {one_sentence(message)}\n")
    sys.stderr.flush()


def _error(message: str) -> None:
    sys.stderr.write(f"error: {one_sentence(message)}\n")
    sys.stderr.flush()


def _error_lines(message: str) -> None:
    """A message of several lines (a sentence, then a numbered checklist) as it is, after 'error: '."""
    first, _, rest = str(message).strip().partition("\n")
    sys.stderr.write(f"error: {one_sentence(first)}\n" + (f"{rest}\n" if rest else ""))
    sys.stderr.flush()


def _stop_on_sigterm() -> None:
    """SIGTERM (a killed job, a timeout) ends the run at once, from the handler: one line on stderr, the
    run's temporary copies removed, its worker processes (local or of a Dask cluster it started) killed,
    exit code 143. Unwinding the run instead, as Ctrl+C does, could be held up or swallowed wherever
    the signal lands (inside a library's lock, a worker pool's bookkeeping, a thread's cleanup)."""
    import signal

    signal.signal(signal.SIGTERM, _end_stopped_run)


def _end_stopped_run(signum: int, frame: object) -> None:
    """The SIGTERM handler (see :func:`_stop_on_sigterm`). It imports nothing new: the signal may come
    while the run imports a module."""
    import contextlib
    import os

    with contextlib.suppress(Exception):   # e.g. a reentrant write: the signal came while a line was written
        sys.stderr.write("error: stopped by SIGTERM; the unfinished outputs were removed.\n")
        sys.stderr.flush()
    with contextlib.suppress(OSError):     # what other threads write while the files go is not the run's end
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
    with contextlib.suppress(Exception):
        remove_unsettled()
        multiprocessing = sys.modules.get("multiprocessing")    # not loaded: no worker was started
        if multiprocessing is not None:
            kill(multiprocessing.active_children())
    os._exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: ``mschemo ...``."""
    _stop_on_sigterm()
    sys.exit(run(argv))
