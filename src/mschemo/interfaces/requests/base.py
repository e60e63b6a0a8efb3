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

from pydantic import BaseModel, ConfigDict

from ...errors import OptionError

__all__ = ["Request", "Spelling", "CLI", "API", "whole_number", "number", "choice", "output_path", "input_file",
           "output_folder", "duration_days", "patients_from_file", "dask_address", "TABLE_SUFFIXES", "PLOT_SUFFIXES",
           "DEFAULT_SEED"]

TABLE_SUFFIXES = (".csv", ".parquet")
#: the seed of an interface's run when none is given and the input names none (an example's or a trial
#: spec's own seed comes first): the same command gives the same result; the seed is always shown
DEFAULT_SEED = 1
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


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
def whole_number(text: str | int | None, option: str, minimum: int, example: str) -> int | None:
    """A field's text as an int >= minimum (None stays None)."""
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
            raise OptionError(f"{option} '{text}' is not a whole number; give e.g. {option} {example}.") from None
    if value < minimum:
        raise OptionError(f"{option} {value} is below {minimum}; give a whole number >= {minimum}, e.g. {option} {example}.")
    return value


def number(text: str | float | None, option: str, example: str) -> float | None:
    """A field's text as a finite number (None stays None)."""
    if text is None:
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        raise OptionError(f"{option} '{text}' is not a number; give e.g. {option} {example}.") from None
    if not math.isfinite(value):
        raise OptionError(f"{option} '{text}' is not a finite number; give e.g. {option} {example}.")
    return value


def choice(text: str | None, option: str, choices: tuple[str, ...]) -> str | None:
    """A field's text as one of ``choices`` (case-insensitive)."""
    if text is None:
        return None
    key = str(text).strip().lower()
    if key not in choices:
        raise OptionError(f"{option} '{text}' is not one of {', '.join(choices)}; give e.g. {option} {choices[0]}.")
    return key


def output_path(text: str | None, option: str, suffixes: tuple[str, ...]) -> Path | None:
    """An output file path with one of ``suffixes``, not an existing folder (a missing folder is created
    when the file is written, and the interface says so)."""
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


def output_folder(text: str | None, option: str, example: str) -> Path | None:
    """A folder to write into: created when missing (the interface says so), not an existing file."""
    if text is None:
        return None
    if not text.strip():
        raise OptionError(f"{option} is empty; give a folder, e.g. {option} {example}.")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise OptionError(f"{option} '{text}' is a file, not a folder; give a folder, e.g. {option} {example}.")
    if path.suffix.lower() in (".csv", ".parquet", ".png", ".pdf", ".svg", ".html"):
        raise OptionError(f"{option} '{text}' looks like a file name; give a folder (the files are written into it), "
                          f"e.g. {option} {example}.")
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


def dask_address(text: str | None, option: str) -> str | None:
    """A Dask scheduler address or 'local', stripped (None stays None: run here); it is tried when the run starts."""
    if text is None:
        return None
    if not text.strip():
        raise OptionError(f"{option} is empty; give a scheduler address such as tcp://host:8786, or 'local'.")
    return text.strip()


def duration_days(text: str | None, option: str, example: str = "'2 years'") -> float | None:
    """A positive duration from its text, in days (None stays None)."""
    if text is None:
        return None
    from ...units import parse_duration

    days = parse_duration(text, option)
    if not math.isfinite(days) or days <= 0:
        raise OptionError(f"{option} '{text}' is not after day 0; give a later end, e.g. {option} {example}.")
    return days


def patients_from_file(text: str, n: int | None, sp: Spelling, default_n: int) -> tuple[object, int | None, str]:
    """Patients named by a file: a table of real patients (.csv; ``n`` does not apply) or a cohort
    spec (.toml) to draw ``n`` from. Returns (Population or PopulationSpec, n to draw or None, label)."""
    from ...population import Population, PopulationSpec

    path = input_file(text, sp("population"), (".csv", ".toml"))
    if path.suffix.lower() == ".csv":
        if n is not None:
            raise OptionError(f"{sp('n')} does not apply to a patient table ('{path.name}' gives the patients); "
                              f"leave {sp('n')} out.")
        pop = Population.from_csv(path)
        return pop, None, pop.description
    spec = PopulationSpec.from_file(path)
    n_used = default_n if n is None else n
    return spec, n_used, f"{n_used} virtual patients from {path.name} ({spec.name})"
