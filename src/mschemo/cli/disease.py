"""The disease model on the command line: options shared by ``simulate`` and ``timeline``, their
checks, the run (after the counts, or without chemotherapy) and the tables on screen.

Light at import (``mschemo --help``): the disease package, numpy and pandas are imported by the
functions that need them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import OptionError
from . import _common as c

PANEL = "Disease model (relapses, symptoms, EDSS)"
#: the disease window without chemotherapy when neither --until nor --disease-until is given
UNTREATED_UNTIL = "2 years"
YEAR_D = 365.25
MONTH_D = YEAR_D / 12.0

# -- the options (one definition for every command that has them) ------------------------------
DiseaseUntil = Annotated[str | None, typer.Option(
    "--disease-until", metavar="DURATION", rich_help_panel=PANEL,
    help="End of the disease window, e.g. '10 years'; past the counts, each patient's lymphocytes are held at "
         "their last value \\[default: the simulation window].")]
Steroids = Annotated[bool, typer.Option(
    "--steroids", rich_help_panel=PANEL, help="Treat every relapse with corticosteroids (faster recovery).")]
PlasmaExchange = Annotated[bool, typer.Option(
    "--plasma-exchange", rich_help_panel=PANEL,
    help="Plasma exchange for severe relapses that steroids do not help.")]
Symptomatic = Annotated[list[str] | None, typer.Option(
    "--symptomatic", metavar="NAME", rich_help_panel=PANEL,
    help="A symptomatic medication for every patient, e.g. fampridine, baclofen or modafinil (repeatable).")]
Rehabilitation = Annotated[bool, typer.Option(
    "--rehabilitation", rich_help_panel=PANEL, help="Multidisciplinary rehabilitation for every patient.")]
Exercise = Annotated[bool, typer.Option(
    "--exercise", rich_help_panel=PANEL, help="Exercise training for every patient (acts on fatigue).")]
Diet = Annotated[bool, typer.Option("--diet", rich_help_panel=PANEL, help="A dietary intervention for every patient.")]
Dmt = Annotated[str | None, typer.Option(
    "--dmt", metavar="NAME", rich_help_panel=PANEL,
    help="A disease-modifying therapy for every patient, e.g. natalizumab (sets the 'dmt' column when the "
         "patients have none).")]


@dataclass
class DiseaseOptions:
    """The disease options as given on the command line (text, not yet checked)."""

    until: str | None = None
    steroids: bool = False
    plasma_exchange: bool = False
    symptomatic: tuple[str, ...] = ()
    rehabilitation: bool = False
    exercise: bool = False
    diet: bool = False
    dmt: str | None = None
    out: str | None = None

    def given(self) -> list[str]:
        """The options given, as written (for messages)."""
        flags = (("--disease-until", self.until is not None), ("--steroids", self.steroids),
                 ("--plasma-exchange", self.plasma_exchange), ("--symptomatic", bool(self.symptomatic)),
                 ("--rehabilitation", self.rehabilitation), ("--exercise", self.exercise), ("--diet", self.diet),
                 ("--dmt", self.dmt is not None), ("--disease-out", self.out is not None))
        return [name for name, on in flags if on]


@dataclass
class DiseasePlan:
    """Checked disease options: the window, the treatments, the DMT and the output folder."""

    until_d: float | None
    treatments: Any
    dmt: str | None = None
    out_dir: Path | None = None
    labels: list[str] = field(default_factory=list)


# -- checks -------------------------------------------------------------------------------------
def output_folder(text: str | None, option: str = "--disease-out") -> Path | None:
    """A folder for the disease tables (created if needed; not an existing file)."""
    if text is None:
        return None
    if not text.strip():
        raise OptionError(f"{option} is empty; give a folder, e.g. {option} disease.")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise OptionError(f"{option} '{text}' is a file, not a folder; give a folder, e.g. {option} disease.")
    if path.suffix.lower() in (".csv", ".parquet", ".png", ".pdf", ".svg"):
        raise OptionError(f"{option} '{text}' looks like a file name; give a folder (the tables are written into "
                          f"it as disease_*.parquet), e.g. {option} disease.")
    return path


def window_days(text: str | None, option: str) -> float | None:
    """A disease window from its text (days; None stays None)."""
    if text is None:
        return None
    from ..units import parse_duration

    days = parse_duration(text, option)
    if not math.isfinite(days) or days <= 0:
        raise OptionError(f"{option} '{text}' is not after day 0; give a later end, e.g. {option} '10 years'.")
    return days


def check_dmt(name: str | None) -> str | None:
    """The --dmt name, checked against the relapse-rate ratios of the disease model."""
    if name is None:
        return None
    import numpy as np

    from ..disease.relapses import RelapseModel
    from ..errors import PopulationError

    key = name.strip()
    if not key:
        raise OptionError("--dmt is empty; give a therapy, e.g. --dmt natalizumab.")
    model = RelapseModel.load()
    try:
        model.dmt_factor(np.array([key], dtype=object))
    except PopulationError:
        known = ", ".join(sorted(model.dmt_rate_ratios or {}))
        raise OptionError(f"--dmt '{name}' is not a disease-modifying therapy with a known relapse-rate ratio; use one "
                          f"of none, {known}.") from None
    return key


def plan(opts: DiseaseOptions) -> DiseasePlan:
    """Check every disease option (before anything is simulated)."""
    until_d = window_days(opts.until, "--disease-until")
    out_dir = output_folder(opts.out)
    dmt = check_dmt(opts.dmt)
    from ..disease import Treatments

    treatments = Treatments.of(steroids=opts.steroids, plasma_exchange=opts.plasma_exchange,
                               medications=tuple(opts.symptomatic), rehabilitation=opts.rehabilitation,
                               exercise=opts.exercise, diet=opts.diet)   # checks the medication names
    labels = []
    if opts.steroids:
        labels.append("steroids for relapses")
    if opts.plasma_exchange:
        labels.append("plasma exchange for severe steroid-refractory relapses")
    for name in dict.fromkeys(treatments.symptomatic.medications):
        labels.append(name.replace("_", " "))
    for flag, text in ((opts.rehabilitation, "rehabilitation"), (opts.exercise, "exercise"), (opts.diet, "diet")):
        if flag:
            labels.append(text)
    return DiseasePlan(until_d, treatments, dmt, out_dir, labels)


def check_population(population: Any, dmt: str | None, where: str) -> None:
    """--dmt sets a column; a population that has one already gives each patient's therapy."""
    if dmt is None:
        return
    table = getattr(population, "table", None)
    covariates = getattr(population, "covariates", ())
    if (table is not None and "dmt" in table.columns) or any(getattr(cv, "name", "") == "dmt" for cv in covariates):
        raise OptionError(f"--dmt sets every patient's therapy, but {where} already gives each patient a 'dmt'; "
                          "leave --dmt out or remove that column.")


# -- running --------------------------------------------------------------------------------------
def with_dmt(table: Any, dmt: str | None) -> Any:
    """The patient table with a ``dmt`` column for every patient (unchanged without --dmt)."""
    if dmt is None or "dmt" in table.columns:
        return table
    return table.assign(dmt=dmt)


def attach(result: Any, dplan: DiseasePlan) -> Any:
    """The disease of a count result's patients (``result.disease``), linked to their lymphocytes."""
    from ..disease import attach_disease

    if dplan.dmt is not None:
        result.patients = with_dmt(result.patients, dplan.dmt)
    return attach_disease(result, dplan.treatments, until=dplan.until_d)


def untreated_population(population: str | None, n: int | None, seed: int | None, default_n: int
                         ) -> tuple[Any, int, str]:
    """Patients without chemotherapy: a patient table, a spec or the default cohort; (population,
    seed used, label)."""
    from .._internal.rng import root_seed
    from ..population import Population, PopulationSpec

    seed_used = root_seed(seed)
    if population is not None:
        path = c.input_file(population, "--population", (".csv", ".toml"))
        if path.suffix.lower() == ".csv":
            if n is not None:
                raise OptionError(f"--n does not apply to a patient table ('{path.name}' gives the patients); "
                                  "leave --n out.")
            pop = Population.from_csv(path)
            return pop, seed_used, pop.description
        spec = PopulationSpec.from_file(path)
        n_used = default_n if n is None else n
        return spec.sample(n_used, seed_used), seed_used, f"{n_used} virtual patients from {path.name} ({spec.name})"
    spec = PopulationSpec()
    n_used = default_n if n is None else n
    return spec.sample(n_used, seed_used), seed_used, f"{n_used} virtual patients ({spec.name})"


def untreated(population: Any, seed: int, until_d: float, dplan: DiseasePlan) -> Any:
    """The disease of ``population`` without chemotherapy (no counts, no immune link)."""
    from ..disease import simulate_disease
    from ..population import Population

    if dplan.dmt is not None:
        population = Population(with_dmt(population.table, dplan.dmt), population.bsa_formula,
                                population.description, population.meta)
    return simulate_disease(population, until_d, seed, treatments=dplan.treatments)


def write(disease: Any, folder: Path, stage) -> str:
    """The disease tables into a staged folder (renamed into place with the other outputs)."""
    tmp = stage(folder, folder=True)
    disease.write(tmp)
    names = sorted(p.name for p in Path(tmp).iterdir())
    return f"{c.fmt_path(folder)}/ (disease tables: {', '.join(names)})"


# -- on screen ----------------------------------------------------------------------------------
def window_text(days: float) -> str:
    """A window as people write it: '10 years', '18 months', '90 days'."""
    if days >= YEAR_D - 0.5 and abs(days / YEAR_D - round(days / YEAR_D)) < 0.02:
        y = round(days / YEAR_D)
        return f"{y} year{'s' if y != 1 else ''}"
    if days >= 2 * MONTH_D - 0.5:
        m = days / MONTH_D
        return f"{m:.3g} months"
    return f"{days:.3g} days"


def _value(value: float, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if unit == "share":
        return f"{100.0 * value:.1f} %"
    if unit == "share of points":
        return f"{100.0 * value:.0f} % of the EDSS points gained"
    if unit == "1/year":
        return f"{value:.3g} per patient-year"
    if unit == "EDSS":
        return f"{value:+.2f} points"
    return f"{value:.4g} {unit}".strip()


def summary_table(disease: Any) -> Any:
    """DiseaseResult.summary() as a Rich table (shares in %)."""
    from rich.table import Table

    df = disease.summary()
    table = Table(title=f"Disease over {window_text(disease.until_d)}, {disease.n_patients} patient(s): relapses, "
                        "disability (EDSS), symptoms", title_justify="left")
    table.add_column("")
    table.add_column("value", justify="right")
    for row in df.itertuples(index=False):
        table.add_row(str(row.quantity), _value(float(row.value), str(row.unit)))
    return table


def header_lines(disease: Any, dplan: DiseasePlan, seed: Any, linked_possible: bool = True) -> list[str]:
    """What the disease run did: window, seed, the immune link, the treatments."""
    prov = disease.provenance or {}
    if prov.get("alc_link"):
        link = ("relapse rate follows each patient's immune memory compartment, which the drug's lymphocyte kill "
                "depletes and which reconstitutes over years")
    elif linked_possible:
        link = "relapse rate not linked: this model has no lymphocyte model"
    else:
        link = "no chemotherapy"
    lines = [f"disease: relapses, symptoms and EDSS over {window_text(disease.until_d)} "
             f"(every {prov.get('every_d', 7.0):g} days), seed {seed}; {link}"]
    other = list(dplan.labels)
    if dplan.dmt is not None:
        other.insert(0, f"disease-modifying therapy {dplan.dmt}")
    lines.append("other treatments: " + (", ".join(other) if other else "none"))
    return lines


def show(con: Any, disease: Any, dplan: DiseasePlan, seed: Any, linked_possible: bool = True) -> None:
    from rich.markup import escape

    for line in header_lines(disease, dplan, seed, linked_possible):
        con.print(escape(line))
    con.print(summary_table(disease))


def relapse_table(relapses: Any, title: str) -> Any:
    """One patient's relapses as a Rich table."""
    import pandas as pd

    if len(relapses) == 0:
        df = pd.DataFrame({"relapse": ["-"], "onset": ["no relapse in the window"]})
        return c.frame_table(df, title=title)
    rows = []
    for r in relapses.sort_values("day", kind="stable").itertuples(index=False):
        d = r._asdict()
        treat = [t for t, key in (("steroids", "steroids"), ("plasma exchange", "plasma_exchange")) if d.get(key)]
        rows.append({"relapse": str(d.get("relapse", "")), "onset": day_text(float(d["day"])),
                     "site": str(d.get("site", "") or "").replace("_", " "),
                     "symptoms": ", ".join(s.replace("_", " ") for s in str(d.get("symptoms", "") or "").split(";") if s)
                     or "-",
                     "EDSS rise": _num(d.get("edss_rise")), "recovery (days)": _num(d.get("recovery_d"), "{:.0f}"),
                     "residual EDSS": _num(d.get("edss_residual")), "treated with": ", ".join(treat) or "-"})
    return c.frame_table(pd.DataFrame(rows), title=title)


def event_table(events: Any, title: str) -> Any:
    """One patient's dated events (relapses, SPMS, EDSS milestones) as a Rich table."""
    import pandas as pd

    if len(events) == 0:
        return c.frame_table(pd.DataFrame({"when": ["-"], "event": ["no event in the window"]}), title=title)
    names = {"relapse": "relapse", "spms": "secondary progression"}
    rows = [{"when": day_text(float(e.day)), "day": f"{float(e.day):.0f}",
             "event": names.get(str(e.event), str(e.event).replace("edss_", "sustained EDSS ")),
             "detail": str(e.detail).replace("_", " ").replace(";", ", ").rstrip().rstrip(":")}
            for e in events.itertuples(index=False)]
    return c.frame_table(pd.DataFrame(rows), title=title)


def day_text(day: float) -> str:
    """A day as 'month 7.2' (first 3 years) or 'year 4.3'."""
    if day < 3 * YEAR_D:
        return f"month {day / MONTH_D:.1f}"
    return f"year {day / YEAR_D:.1f}"


def _num(v: Any, fmt: str = "{:g}") -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-"
    return fmt.format(f) if math.isfinite(f) else "-"
