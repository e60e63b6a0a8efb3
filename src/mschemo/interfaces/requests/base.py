"""What every request shares: how the asking interface spells its fields, and the checks of one
field's text (a whole number, a choice, a file to read or write, a duration).

A request holds what a person asked for, as text, the way they typed it. Its ``resolve`` checks
every field before anything heavy runs and raises :class:`mschemo.errors.OptionError` with one
sentence that names the field as the interface shows it: ``--n`` on the command line, ``n`` in the
web API (:class:`Spelling`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, overload

from pydantic import BaseModel, ConfigDict

from ..._internal.files import made_folder, remove_unsettled, settled, temp_sibling, writable_problem
from ..._internal.text import bounded, quote
from ...errors import OptionError

if TYPE_CHECKING:
    from ...population import Population, PopulationSpec

__all__ = ["Request", "Spelling", "CLI", "API", "whole_number", "number", "choice", "output_path", "input_file",
           "output_folder", "writable", "duration_days", "patients_from_file", "dask_address", "TABLE_SUFFIXES",
           "PLOT_SUFFIXES", "DEFAULT_SEED", "MAX_SEED", "MAX_PATIENTS", "MAX_PROCESSES", "bounded", "quote",
           "temp_sibling", "settled", "made_folder", "remove_unsettled"]

TABLE_SUFFIXES = (".csv", ".parquet")
#: the seed of an interface's run when none is given and the input names none (an example's or a trial
#: spec's own seed comes first): the same command gives the same result; the seed is always shown
DEFAULT_SEED = 1
PLOT_SUFFIXES = (".png", ".pdf", ".svg")
#: the largest seed (a trial spec's bound too)
MAX_SEED = 2**63 - 1
#: the most patients one run may ask for (a streamed run on a cluster included); more is a typing slip
MAX_PATIENTS = 100_000_000
#: the most threads or worker processes one run may ask for
MAX_PROCESSES = 1024


@dataclass(frozen=True)
class Spelling:
    """How an interface names a request's fields: the command line writes ``--cap-region``, the web
    API ``cap_region``. ``names`` holds the exceptions (a flag that is not the field's name)."""

    style: str = "api"
    names: dict[str, str] = field(default_factory=dict)

    def __call__(self, name: str) -> str:
        if name in self.names:
            return self.names[name]
        return f"--{name.replace('_', '-')}" if self.style == "cli" else name

    def with_flags(self, **flags: str) -> Spelling:
        """The command line's spelling with some fields flagged otherwise in one command (timeline's
        ``patient`` is ``--patient``, not personalise's PATIENT); the web API's is unchanged."""
        return Spelling(self.style, {**self.names, **flags}) if self.cli else self

    def eg(self, name: str, example: str) -> str:
        """How a person would give ``example`` for ``name``: "--n 100" or "n = 100"."""
        return f"{self(name)} {example}" if self.style == "cli" else f"{self(name)} = {example}"

    @property
    def cli(self) -> bool:
        return self.style == "cli"


#: the command line's spelling (flags); arguments and options named otherwise are listed
CLI = Spelling("cli", {"options": "--option", "no_rules": "--no-rules", "spec": "SPEC", "patient": "PATIENT"})
#: the web API's spelling (JSON field names)
API = Spelling("api")


class Request(BaseModel):
    """A request as asked: text fields, checked and resolved by ``resolve(spelling)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# -- checks of one field --------------------------------------------------------------------------
@overload
def whole_number(text: str | int, option: str, minimum: int, example: str, maximum: int | None = None) -> int: ...
@overload
def whole_number(text: None, option: str, minimum: int, example: str, maximum: int | None = None) -> None: ...
@overload
def whole_number(text: str | int | None, option: str, minimum: int, example: str,
                 maximum: int | None = None) -> int | None: ...
def whole_number(text: str | int | None, option: str, minimum: int, example: str,
                 maximum: int | None = None) -> int | None:
    """A field's text as an int from ``minimum`` to ``maximum`` (None stays None)."""
    if text is None:
        return None
    s = str(text).strip()
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
            raise OptionError(f"{option} {quote(text, 40)} is not a whole number; give e.g. {option} {example}.") from None
    shown = str(value) if len(str(value)) <= 20 else quote(text, 40)
    if value < minimum:
        raise OptionError(f"{option} {shown} is below {minimum}; give a whole number >= {minimum}, e.g. "
                          f"{option} {example}.")
    if maximum is not None and value > maximum:
        raise OptionError(f"{option} {shown} is more than {maximum:,}; give a whole number up to {maximum:,}, "
                          f"e.g. {option} {example}.")
    return value


@overload
def number(text: str | float, option: str, example: str) -> float: ...
@overload
def number(text: None, option: str, example: str) -> None: ...
@overload
def number(text: str | float | None, option: str, example: str) -> float | None: ...
def number(text: str | float | None, option: str, example: str) -> float | None:
    """A field's text as a finite number (None stays None)."""
    if text is None:
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        raise OptionError(f"{option} {quote(text, 40)} is not a number; give e.g. {option} {example}.") from None
    if not math.isfinite(value):
        raise OptionError(f"{option} {quote(text, 40)} is not a finite number; give e.g. {option} {example}.")
    return value


@overload
def choice(text: str, option: str, choices: tuple[str, ...]) -> str: ...
@overload
def choice(text: None, option: str, choices: tuple[str, ...]) -> None: ...
@overload
def choice(text: str | None, option: str, choices: tuple[str, ...]) -> str | None: ...
def choice(text: str | None, option: str, choices: tuple[str, ...]) -> str | None:
    """A field's text as one of ``choices`` (case-insensitive)."""
    if text is None:
        return None
    key = str(text).strip().lower()
    if key not in choices:
        raise OptionError(f"{option} {quote(text, 40)} is not one of {', '.join(choices)}; give e.g. {option} "
                          f"{choices[0]}.")
    return key


def writable(path: Path, option: str, example: str) -> Path:
    """``path`` (a file or folder to write), unless it cannot be written: a name too long, a parent that
    is a file, a folder that does not accept new files (checked before anything runs)."""
    problem = writable_problem(path)
    if problem is not None:
        raise OptionError(f"{option} {quote(path, 40)} cannot be written: {problem}; give a path in a folder you can "
                          f"write to, e.g. {option} {example}.")
    return path


def _kind(path: Path) -> str | None:
    """What is at ``path``: "file", "folder", "other" or None (nothing, or a path too long to look up)."""
    try:
        if not path.exists():
            return None
        return "folder" if path.is_dir() else "file" if path.is_file() else "other"
    except OSError:
        return None


@overload
def output_path(text: str, option: str, suffixes: tuple[str, ...]) -> Path: ...
@overload
def output_path(text: None, option: str, suffixes: tuple[str, ...]) -> None: ...
@overload
def output_path(text: str | None, option: str, suffixes: tuple[str, ...]) -> Path | None: ...
def output_path(text: str | None, option: str, suffixes: tuple[str, ...]) -> Path | None:
    """An output file path with one of ``suffixes``, not an existing folder, that can be written (a missing
    folder is created when the file is written, and the interface says so)."""
    if text is None:
        return None
    if not text.strip():
        raise OptionError(f"{option} is empty; give a file name ending in {' or '.join(suffixes)}.")
    path = Path(text)
    if _kind(path) == "folder":
        raise OptionError(f"{option} {quote(text, 40)} is a folder; give a file name ending in {' or '.join(suffixes)}.")
    if path.suffix.lower() not in suffixes:
        raise OptionError(f"{option} {quote(text, 40)} has suffix {quote(path.suffix or '(none)', 20)}; give a file name "
                          f"ending in {' or '.join(suffixes)}.")
    return writable(path, option, f"results/out{suffixes[0]}")


@overload
def output_folder(text: str, option: str, example: str) -> Path: ...
@overload
def output_folder(text: None, option: str, example: str) -> None: ...
@overload
def output_folder(text: str | None, option: str, example: str) -> Path | None: ...
def output_folder(text: str | None, option: str, example: str) -> Path | None:
    """A folder to write into: created when missing (the interface says so), not an existing file, and
    one that can be written."""
    if text is None:
        return None
    if not text.strip():
        raise OptionError(f"{option} is empty; give a folder, e.g. {option} {example}.")
    path = Path(text)
    if _kind(path) not in (None, "folder"):
        raise OptionError(f"{option} {quote(text, 40)} is a file, not a folder; give a folder, e.g. {option} {example}.")
    if path.suffix.lower() in (".csv", ".parquet", ".png", ".pdf", ".svg", ".html"):
        raise OptionError(f"{option} {quote(text, 40)} looks like a file name; give a folder (the files are written "
                          f"into it), e.g. {option} {example}.")
    return writable(path, option, example)


def input_file(text: str, option: str, suffixes: tuple[str, ...] | None = None) -> Path:
    """An existing input file (optionally with one of ``suffixes``)."""
    if not text.strip():
        raise OptionError(f"{option} is empty; give the path of a file.")
    path = Path(text)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise OptionError(f"{option} {quote(text, 40)} has suffix {quote(path.suffix or '(none)', 20)}; give a "
                          f"{' or '.join(suffixes)} file.")
    kind = _kind(path)
    if kind is None:
        raise OptionError(f"{option} file {quote(text, 40)} does not exist; check the path.")
    if kind != "file":
        raise OptionError(f"{option} {quote(text, 40)} is not a file; give the path of a file.")
    return path


def dask_address(text: str | None, option: str) -> str | None:
    """A Dask scheduler address or 'local', stripped (None stays None: run here); it is tried when the run starts."""
    if text is None:
        return None
    if not text.strip():
        raise OptionError(f"{option} is empty; give a scheduler address such as tcp://host:8786, or 'local'.")
    return text.strip()


@overload
def duration_days(text: str, option: str, example: str = ...) -> float: ...
@overload
def duration_days(text: None, option: str, example: str = ...) -> None: ...
@overload
def duration_days(text: str | None, option: str, example: str = ...) -> float | None: ...
def duration_days(text: str | None, option: str, example: str = "'2 years'") -> float | None:
    """A positive duration from its text, in days (None stays None)."""
    if text is None:
        return None
    from ...units import parse_duration

    days = parse_duration(text, option)
    if not math.isfinite(days) or days <= 0:
        raise OptionError(f"{option} {quote(text, 40)} is not after day 0; give a later end, e.g. {option} {example}.")
    return days


def patients_from_file(text: str, n: int | None, sp: Spelling, default_n: int
                       ) -> tuple[Population | PopulationSpec, int | None, str]:
    """Patients named by a file: a table of real patients (.csv; ``n`` does not apply) or a cohort
    spec (.toml) to draw ``n`` from. Returns (Population or PopulationSpec, n to draw or None, label)."""
    from ...population import Population, PopulationSpec

    path = input_file(text, sp("population"), (".csv", ".toml"))
    if path.suffix.lower() == ".csv":
        if n is not None:
            raise OptionError(f"{sp('n')} does not apply to a patient table ({quote(path.name, 40)} gives the patients); "
                              f"leave {sp('n')} out.")
        pop = Population.from_csv(path)
        return pop, None, pop.description
    spec = PopulationSpec.from_file(path)
    n_used = default_n if n is None else n
    return spec, n_used, f"{n_used} virtual patients from {path.name} ({spec.name[:60]})"
