"""An example request: the three drugs side by side under their label regimens and dosing rules, or a
built-in scenario (mitox-2y) end to end."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import OptionError
from .base import (
    DEFAULT_SEED,
    MAX_SEED,
    PLOT_SUFFIXES,
    Request,
    Spelling,
    output_folder,
    output_path,
    quote,
    whole_number,
    writable,
)

__all__ = ["ExampleRequest", "ScenarioJob", "DrugsSideBySideJob", "DRUGS", "DRUGS_N", "DRUGS_UNTIL", "DRUGS_FIGURE",
           "SCENARIO_N"]

#: the side-by-side comparison: these drugs, their label regimens with rules, over 2 years
DRUGS = ("mitoxantrone", "cyclophosphamide", "cladribine")
DRUGS_N = 100
DRUGS_UNTIL = "2 years"
DRUGS_FIGURE = "mschemo_example.png"
#: virtual patients of a built-in scenario when none are asked for
SCENARIO_N = 200
#: the most virtual patients an example simulates (more: 'mschemo simulate --example NAME --n N')
MAX_N = 100_000


class ExampleRequest(Request):
    """A built-in example, as asked: NAME (a scenario) or none (the three drugs side by side)."""

    name: str | None = None
    n: str | int | None = None
    seed: str | int | None = None
    outdir: str | None = None
    plot: str | None = None

    def resolve(self, sp: Spelling) -> ScenarioJob | DrugsSideBySideJob:
        n = whole_number(self.n, sp("n"), 1, str(DRUGS_N), MAX_N)
        seed = whole_number(self.seed, sp("seed"), 0, str(DEFAULT_SEED), MAX_SEED)
        folder = output_folder(self.outdir, sp("outdir"), "results") if self.outdir is not None else Path(".")
        plot = output_path(self.plot, sp("plot"), PLOT_SUFFIXES)
        if self.name is not None:
            from ...examples import EXAMPLES

            key = self.name.strip().lower().replace("_", "-")
            if key not in EXAMPLES:
                raise OptionError(f"there is no built-in example named {quote(self.name, 40)}; use "
                                  f"{', '.join(EXAMPLES)}, or leave NAME out for the three drugs side by side.")
            table = writable(folder / f"{key}.csv", sp("outdir"), "results")
            return ScenarioJob(key, SCENARIO_N if n is None else n, seed, folder,
                               plot or writable(folder / f"{key}.png", sp("outdir"), "results"), table)
        return DrugsSideBySideJob(DRUGS_N if n is None else n, DEFAULT_SEED if seed is None else seed,
                                  plot or writable(folder / DRUGS_FIGURE, sp("outdir"), "results"))


@dataclass
class ScenarioJob:
    """A built-in scenario: its model, doses and patients (seed: the scenario's own unless asked)."""

    name: str
    n: int
    seed: int | None
    folder: Path
    plot: Path
    table: Path

    def scenario(self) -> Any:
        from ...examples import load_example

        return load_example(self.name, n=self.n, seed=self.seed)

    def run(self, scenario: Any, progress: Any = False, chunk_size: int = 10_000) -> Any:
        from ...simulation import simulate

        return simulate(scenario.model, scenario.regimen, scenario.population, output=scenario.output,
                        seed=scenario.seed, progress=progress, throw=False, chunk_size=chunk_size)


@dataclass
class DrugsSideBySideJob:
    """The three drugs' label regimens with their dosing rules, in the same number of patients."""

    n: int
    seed: int
    plot: Path

    def drugs(self) -> dict[str, Any]:
        from ...drugs import load_drug

        return {name: load_drug(name) for name in DRUGS}

    def run(self, drug: Any, progress: Any = False) -> Any:
        from ...output import OutputTimes
        from ...simulation import simulate
        from ...units import parse_duration

        output = OutputTimes(every=1.0, until=parse_duration(DRUGS_UNTIL, "the example's window"))
        return simulate(drug, None, self.n, seed=self.seed, output=output, progress=progress)
