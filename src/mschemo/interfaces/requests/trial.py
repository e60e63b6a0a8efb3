"""A trial request: a spec file or a built-in example, patients per arm, seed, where to write."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import OptionError
from .base import (
    MAX_PATIENTS,
    MAX_PROCESSES,
    MAX_SEED,
    Request,
    Spelling,
    choice,
    dask_address,
    input_file,
    output_folder,
    output_path,
    quote,
    whole_number,
    writable,
)

__all__ = ["TrialRequest", "TrialJob", "DEFAULT_N_PER_ARM", "default_folder"]

#: patients per arm when none are asked for
DEFAULT_N_PER_ARM = 200
#: the most patients per arm, and per chunk, one trial may ask for
MAX_N_PER_ARM = 10_000_000


class TrialRequest(Request):
    """An in-silico trial, as asked."""

    spec: str | None = None
    spec_text: str | None = None
    spec_format: str = "toml"
    example: str | None = None
    n_per_arm: str | int | None = None
    seed: str | int | None = None
    out: str | None = None
    report: str | None = None
    chunk_size: str | int | None = None
    dask: str | None = None
    workers: str | int | None = None

    def resolve(self, sp: Spelling) -> TrialJob:
        from ...trials import TrialSpec, example_trials, load_trial_example

        if sum(x is not None for x in (self.spec, self.spec_text, self.example)) != 1:
            what = "a trial spec file" if sp.cli else f"{sp('spec_text')} (a spec's TOML or YAML text)"
            raise OptionError(f"give {what} or {sp.eg('example', 'NAME')} (one of {', '.join(example_trials())}), "
                              "not both and not neither.")
        n = whole_number(DEFAULT_N_PER_ARM if self.n_per_arm is None else self.n_per_arm, sp("n_per_arm"), 1, "200",
                         MAX_N_PER_ARM)
        size = whole_number(1000 if self.chunk_size is None else self.chunk_size, sp("chunk_size"), 1, "1000",
                            MAX_N_PER_ARM)
        seed = whole_number(self.seed, sp("seed"), 0, "1", MAX_SEED)
        dask = dask_address(self.dask, sp("dask"))
        workers = whole_number(self.workers, sp("workers"), 1, "2", MAX_PROCESSES) if self.workers is not None else None
        sp = sp.with_flags(out="--outdir")          # --out is the old spelling of a trial's folder
        folder = output_folder(self.out, sp("out"), "my_trial")
        report = output_path(self.report, sp("report"), (".html",))
        if workers is not None and dask is not None:
            raise OptionError(f"{sp('workers')} sets the processes on this machine and {sp('dask')} runs the chunks on a "
                              f"cluster; give one of them.")
        if self.spec_text is not None:
            fmt = choice(self.spec_format, sp("spec_format"), ("toml", "yaml"))
            if not self.spec_text.strip():
                raise OptionError(f"{sp('spec_text')} is empty; give a trial spec (name = ... and [[arms]]).")
            spec = TrialSpec.from_text(self.spec_text, fmt, f"{sp('spec_text')}")
            label = spec.name
        elif self.example is not None:
            spec = load_trial_example(self.example.strip().lower())
            label = f"example '{self.example}'"
        else:
            assert self.spec is not None        # exactly one of the three is given (checked above)
            path = input_file(self.spec, sp("spec"), (".toml", ".yaml", ".yml"))
            spec = TrialSpec.from_file(path)
            label = str(path)
        total = n * sum(a.ratio for a in spec.arms)
        if total > MAX_PATIENTS:
            raise OptionError(f"{sp('n_per_arm')} {n:,} gives {total:,} patients in all, more than {MAX_PATIENTS:,}; give "
                              f"fewer, e.g. {sp.eg('n_per_arm', '200')}.")
        if folder is None:   # the command line's default (the web app writes each job into a folder of its own)
            folder = default_folder(spec.name if self.spec is None else Path(self.spec).stem)
            if sp.cli:
                if folder.exists() and not folder.is_dir():
                    raise OptionError(f"the trial's folder {quote(folder, 40)} is a file; give another with "
                                      f"{sp.eg('out', 'FOLDER')}.")
                writable(folder, sp("out"), "my_trial")
        return TrialJob(spec, label, n, seed, size, dask, folder, report, workers)


def default_folder(name: str) -> Path:
    """trial_<name> with the name's words joined by '_' (whole: words are not cut)."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "trial"
    return Path(f"trial_{slug}")


@dataclass
class TrialJob:
    """A checked trial: the spec, patients per arm, seed (None: the spec's), chunk size, Dask, outputs,
    local worker processes (None: one per core)."""

    spec: Any
    label: str
    n_per_arm: int
    seed: int | None
    chunk_size: int
    dask: str | None
    folder: Path
    report: Path | None
    workers: int | None = None

    @property
    def total(self) -> int:
        return self.n_per_arm * sum(a.ratio for a in self.spec.arms)

    def run(self, out: Path, progress: Any = False) -> Any:
        """Run the trial, writing its Parquet files into ``out``."""
        from ...trials import run_trial

        return run_trial(self.spec, self.n_per_arm, seed=self.seed, chunk_size=self.chunk_size, out=out,
                         dask=self.dask, workers=self.workers, progress=progress)
