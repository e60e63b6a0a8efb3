"""A personalise request: one patient's file (or a built-in example), the wanted date, target and risk
limit; resolved into the patient's posterior and the recommendation."""

from __future__ import annotations

import datetime as dt
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
    choice,
    input_file,
    number,
    output_path,
    quote,
    whole_number,
)

__all__ = ["PersonaliseRequest", "PersonaliseJob", "EXAMPLE_PATIENTS", "example_patient_text"]

#: the built-in example patients (estimation/examples)
EXAMPLE_PATIENTS = {"cyclophosphamide": "cyclophosphamide.csv", "mitoxantrone": "mitoxantrone.csv",
                    "cladribine": "cladribine.json"}
KINDS = ("wbc", "anc", "alc")
#: the most posterior draws per candidate dose and samples of the posterior one request may ask for
MAX_DRAWS, MAX_SAMPLES = 20_000, 20_000
#: the latest wanted date of the next dose: this many days after the patient's last dose (a plan is for the
#: next course, not for years ahead)
MAX_AHEAD_D = 730


def example_patient_text(name: str, sp: Spelling) -> tuple[str, str]:
    """A built-in example patient's file: (its text, "csv" or "json")."""
    key = choice(name, sp("example"), tuple(EXAMPLE_PATIENTS))
    from ... import estimation

    path = Path(estimation.__file__).resolve().parent / "examples" / EXAMPLE_PATIENTS[key]
    return path.read_text(encoding="utf-8"), path.suffix.lstrip(".")
REGIONS = ("us", "eu")


class PersonaliseRequest(Request):
    """The next dose of one patient, as asked."""

    patient: str | None = None
    patient_text: str | None = None
    patient_format: str = "csv"
    example: str | None = None
    on: str | None = None
    target_nadir: str | None = None
    target_low: str | float | None = None
    target_high: str | float | None = None
    target_kind: str | None = None
    max_risk: str | float = "0.10"
    risk_grade: str | int = "3"
    cap_region: str | None = None
    samples: str | int | None = None
    draws: str | int = "300"
    seed: str | int | None = None
    plot: str | None = None
    sheet: str | None = None

    def resolve(self, sp: Spelling) -> PersonaliseJob:
        given = [x is not None for x in (self.patient, self.patient_text, self.example)]
        if sum(given) != 1:
            what = "a patient file (PATIENT.csv or PATIENT.json)" if sp.cli else f"{sp('patient_text')} (a patient file's text)"
            raise OptionError(f"give {what} or {sp.eg('example', 'NAME')} (one of {', '.join(EXAMPLE_PATIENTS)}), not "
                              "both and not neither.")
        text = None
        if self.patient_text is not None:
            fmt = choice(self.patient_format, sp("patient_format"), ("csv", "json"))
            if not self.patient_text.strip():
                raise OptionError(f"{sp('patient_text')} is empty; give the text of a patient file (the header "
                                  "'record,date,value,unit,duration' and the drug, doses and counts).")
            path, label, text = None, "the uploaded patient", (self.patient_text, fmt)
        elif self.example is not None:
            name = choice(self.example, sp("example"), tuple(EXAMPLE_PATIENTS))
            from ... import estimation

            path = Path(estimation.__file__).resolve().parent / "examples" / EXAMPLE_PATIENTS[name]
            label = f"example '{name}'"
        else:
            assert self.patient is not None     # exactly one of the three is given (checked above)
            path = input_file(self.patient, sp("patient"), (".csv", ".json"))
            label = str(self.patient)
        on = None
        if self.on is not None:
            try:
                on = dt.date.fromisoformat(self.on.strip())
            except ValueError:
                raise OptionError(f"{sp('on')} {quote(self.on, 40)} is not a date; write YYYY-MM-DD, e.g. "
                                  f"{sp.eg('on', '2026-03-31')}.") from None
        target = self._target(sp)
        risk = number(self.max_risk, sp("max_risk"), "0.10")
        if not 0 <= risk <= 1:
            raise OptionError(f"{sp('max_risk')} {risk:g} is not a probability; give a number from 0 to 1, e.g. "
                              f"{sp.eg('max_risk', '0.10')}.")
        grade = int(choice(str(self.risk_grade), sp("risk_grade"), ("3", "4")))
        region = choice(self.cap_region, sp("cap_region"), REGIONS)
        samples = whole_number(self.samples, sp("samples"), 100, "1000", MAX_SAMPLES)
        draws = whole_number(self.draws, sp("draws"), 20, "300", MAX_DRAWS)
        seed = whole_number(self.seed, sp("seed"), 0, "1", MAX_SEED)
        seed = DEFAULT_SEED if seed is None else seed
        plot = output_path(self.plot, sp("plot"), PLOT_SUFFIXES)
        sheet = output_path(self.sheet, sp("sheet"), (".html",))
        if plot is not None and sheet is not None and plot.resolve() == sheet.resolve():
            raise OptionError(f"{sp('plot')} and {sp('sheet')} name the same file; give two file names.")
        return PersonaliseJob(path, label, on, target, risk, grade, region, samples, draws, seed, plot, sheet, sp, text)

    def _target(self, sp: Spelling) -> Any:
        from ...planning import NadirTarget

        kind = choice(self.target_kind, sp("target_kind"), KINDS)
        low, high = self.target_low, self.target_high
        if self.target_nadir is not None:
            if low is not None or high is not None:
                raise OptionError(f"{sp('target_nadir')} and {sp('target_low')}/{sp('target_high')} both give the "
                                  "target; use one of them.")
            parts = self.target_nadir.replace(" ", "").replace("–", "-").split("-")
            if len(parts) != 2 or not all(parts):
                raise OptionError(f"{sp('target_nadir')} {quote(self.target_nadir, 40)} is not a range; write LOW-HIGH in "
                                  f"10^9/L, e.g. {sp.eg('target_nadir', '1.5-2.0')}.")
            low, high = parts
        if (low is None) != (high is None):
            which = sp("target_high") if high is None else sp("target_low")
            raise OptionError(f"the target range needs both ends; add {which} (e.g. {sp.eg('target_low', '1.5')} "
                              f"{sp.eg('target_high', '2.0')}).")
        if low is None:
            if kind is not None:
                raise OptionError(f"{sp('target_kind')} needs a range; add {sp('target_low')} and {sp('target_high')} "
                                  "(e.g. 1.5 and 2.0).")
            return None
        assert high is not None     # both ends or neither (checked above)
        lo = number(low, sp("target_low"), "1.5")
        hi = number(high, sp("target_high"), "2.0")
        if lo <= 0 or hi <= lo:
            raise OptionError(f"the target range {lo:g}-{hi:g} x10^9/L is empty or not positive; give 0 < low < high, "
                              f"e.g. {sp.eg('target_low', '1.5')} {sp.eg('target_high', '2.0')}.")
        return NadirTarget(kind or "wbc", lo, hi)


@dataclass
class PersonaliseJob:
    """A checked personalise request: the patient file and the plan's settings."""

    path: Path | None
    label: str
    on: dt.date | None
    target: Any
    max_risk: float
    risk_grade: int
    region: str | None
    samples: int | None
    draws: int
    seed: int
    plot: Path | None
    sheet: Path | None
    sp: Spelling
    text: tuple[str, str] | None = None   # (the patient file's text, "csv" or "json"), read in memory

    def read(self) -> Any:
        """The patient's record (checked)."""
        from ...estimation.patient import patient_from_text, read_patient

        if self.text is not None:
            return patient_from_text(self.text[0], self.text[1], f"patient.{self.text[1]}")
        assert self.path is not None    # a patient file's path when no text is held
        return read_patient(self.path)

    def run(self) -> Any:
        """Read the patient, estimate the posterior, recommend the next dose: a DosePlan."""
        from ...drugs import load_drug
        from ...estimation.map import estimate_map, sample_posterior
        from ...planning import recommend_dose

        record = self.read()
        self._check_on(record)
        if self.region is not None and not load_drug(record.drug).rules.regions:
            raise OptionError(f"{self.sp('cap_region')} applies to drugs with a lifetime cap; {record.drug} has none, "
                              "so leave it out.")
        post = estimate_map(record.drug, record)
        if self.samples is not None:
            post = sample_posterior(post, self.samples, seed=self.seed)
        return recommend_dose(post, target=self.target, max_risk_grade3=self.max_risk, on=self.on, n_draws=self.draws,
                              seed=self.seed, region=self.region, risk_grade=self.risk_grade)

    def _check_on(self, record: Any) -> None:
        """The wanted date, if given, is after the patient's last dose and at most :data:`MAX_AHEAD_D` days after."""
        if self.on is None:
            return
        last = record.date_of(float(record.doses["day"].max()))
        if self.on <= last:
            raise OptionError(f"{self.sp('on')} {self.on} is not after the last dose ({last}); give a later date.")
        if (self.on - last).days > MAX_AHEAD_D:
            raise OptionError(f"{self.sp('on')} {self.on} is {(self.on - last).days:,} days after the last dose ({last}); "
                              f"a plan is for the next course, so give a date within {MAX_AHEAD_D} days of it.")
