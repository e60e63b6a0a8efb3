"""The drug library: a drug is one parameter file with a ``[model]`` and a ``[drug]`` table.

``[drug]`` holds the name and title, the route, the label's default regimen (with its source),
other published regimens, the dosing rules (``[[drug.rules]]``, see :mod:`mschemo.dosing.rules`), how doses
group into courses (``[drug.schedule]``) and covariates the drug needs in virtual patients
(``[drug.covariates.NAME]``, e.g. LVEF for mitoxantrone, creatinine clearance for cladribine).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..dosing import DosingRules, NadirTitration, courses_of, read_rules
from ..errors import ModelError, OptionError, ParameterError, RegimenError
from ..models.chain import ChainedModel
from ..models.library import load_model
from ..params import Source, parameter_files, read_source, read_toml
from ..population import Covariate, Population, PopulationSpec
from ..regimen import Regimen
from ..units import parse_dose, parse_duration

__all__ = ["Drug", "DoseGrid", "load_drug", "available_drugs", "LABEL_PLANS"]


def _cladribine_label(population: Population) -> list[list]:
    from .cladribine import label_courses

    return [label_courses(w) for w in population.covariate("weight_kg")]


# regimens that are built per patient rather than written as text
LABEL_PLANS: dict[str, Callable[[Population], Sequence[Sequence[Any]]]] = {"label tablets": _cladribine_label}


@dataclass(frozen=True)
class PublishedRegimen:
    """A regimen from the literature: what it was (``text``), how to simulate it (``regimen``; empty
    where the published schedule cannot be written as one regimen)."""

    text: str
    regimen: str
    source: Source


@dataclass(frozen=True)
class DoseGrid:
    """How candidate doses are laid out when the next course is planned (``[drug.planning]``):
    from ``minimum`` up to the label dose in steps of ``step`` (in ``unit``; None: half the label
    dose, and a tenth of it); ``course_window_d``: doses within this many days of a course's first
    dose belong to that course in a patient's record (0: each dose is a course)."""

    minimum: float | None = None
    step: float | None = None
    unit: str = ""
    course_window_d: float = 0.0
    source: Source | None = None


def _dose_grid(table: Mapping[str, Any], where: str) -> DoseGrid:
    if not table:
        return DoseGrid()
    pw = f"[drug.planning] of {where}"
    minimum = parse_dose(str(table["minimum_dose"]), f"minimum_dose of {pw}") if "minimum_dose" in table else None
    step = parse_dose(str(table["dose_step"]), f"dose_step of {pw}") if "dose_step" in table else None
    units = {x[1] for x in (minimum, step) if x}
    if len(units) > 1:
        raise ParameterError(f"{pw} mixes dose units {sorted(units)}; write minimum_dose and dose_step in one unit.")
    window = parse_duration(table["course_window"], f"course_window of {pw}") if "course_window" in table else 0.0
    return DoseGrid(minimum[0] if minimum else None, step[0] if step else None, units.pop() if units else "", window,
                    read_source(table, pw))


@dataclass(frozen=True)
class Drug:
    """A drug as data: its model (PK -> counts), label regimen, dosing rules, the covariates its rules
    read and the candidate doses for planning. Simulate it with ``mschemo.simulate(drug, ...)``."""

    name: str
    title: str
    route: str
    model: ChainedModel
    default_regimen: str
    regimen_source: Source
    rules: DosingRules
    covariates: tuple[Covariate, ...] = ()
    covariate_sources: tuple[Source, ...] = ()
    regimens: tuple[PublishedRegimen, ...] = ()
    planning: DoseGrid = DoseGrid()
    raw: Mapping[str, Any] | None = None

    def plan(self, regimen: str | Regimen | Callable | None = None) -> Regimen | Callable[[Population], Sequence[Sequence[Any]]]:
        """The planned doses: the label's (``None``), a text, a Regimen, or a function giving each
        patient's courses (as :func:`mschemo.simulate` takes with rules)."""
        if regimen is None:
            regimen = self.default_regimen
        if isinstance(regimen, Regimen) or callable(regimen):
            return regimen
        key = regimen.strip().lower()
        if key in LABEL_PLANS:
            if key != self.default_regimen.strip().lower():
                raise RegimenError(f"regimen {regimen!r} is another drug's label schedule, not {self.name}'s; "
                                   "write the doses out, e.g. '12 mg/m2 over 30 min every 3 months x 8'.")
            return LABEL_PLANS[key]
        return Regimen.parse(regimen)

    def regimen_warnings(self, regimen: Any, rules: DosingRules) -> list[str]:
        """What a clinician would question in a planned ``regimen`` of this drug under ``rules`` (each a
        sentence; none for the label's own plan): an IV drug given with no infusion time, and, with no
        dosing rule in force, a course larger than any the label (or its titration) gives."""
        if not isinstance(regimen, Regimen):
            return []
        out = []
        bolus = [d for d in regimen.doses if d.evid != 3 and d.amount > 0 and not d.is_infusion]
        if self.route == "iv" and bolus:
            d = bolus[0]
            out.append(f"{self.name} is an IV infusion on its label, but the regimen gives {d.amount:g} {d.unit} on day "
                       f"{d.time_d:g} with no infusion time (an instant bolus, whose concentration peak is far "
                       f"higher); add one, e.g. '{d.amount:g} {d.unit} over 30 min'.")
        label = self.plan(None)
        if not rules.in_force() and isinstance(label, Regimen):
            window = self.rules.course_window_d
            top: dict[str, float] = {}
            for c in courses_of(label, window):
                top[c.unit] = max(top.get(c.unit, 0.0), c.amount)
            for r in self.rules.rules:
                if isinstance(r, NadirTitration) and math.isfinite(r.maximum_dose):
                    top[r.unit] = max(top.get(r.unit, 0.0), r.maximum_dose)
            try:
                planned = courses_of(regimen, window)
            except RegimenError:
                planned = []
            high = [c for c in planned if c.unit in top and c.amount > top[c.unit] * (1.0 + 1e-9)]
            if high:
                c = high[0]
                out.append(f"the course on day {c.start_d:g} gives {c.amount:g} {c.unit}, above the largest course the "
                           f"{self.name} label gives ({top[c.unit]:g} {c.unit}), and no dosing rule is on to check it; "
                           "leave the rules on or check the dose.")
        return out

    def population_spec(self, base: PopulationSpec | None = None) -> PopulationSpec:
        """The cohort for this drug: ``base`` with the drug's covariates added where it lacks them.
        Without ``base``, the default adult cohort, in which the drug's covariates also replace
        those of the same name (e.g. cladribine's label covers patients from 40 kg)."""
        own = {c.name: c for c in self.covariates}
        if base is None:
            base = PopulationSpec()
            covs = tuple(own.pop(c.name, c) for c in base.covariates)
        else:
            covs = base.covariates
            for c in covs:
                own.pop(c.name, None)
        return PopulationSpec(covs + tuple(own.values()), base.bsa_formula, base.iiv, base.name)

    def complete(self, population: Population, seed: int = 0, start: int = 0) -> Population:
        """A patient table with this drug's covariates filled in where a column is missing, drawn
        from the drug's distributions, patient i from its own stream (root ``seed`` + 7919, child i:
        apart from the streams that drew the cohort itself). ``start``: the run-wide index of the
        table's first patient (a chunk of a larger run)."""
        from .._internal.rng import patient_streams

        missing = [c for c in self.covariates if c.name not in population.table.columns]
        if not missing:
            return population
        table = population.table.copy()
        for c in missing:
            table[c.name] = [c.draw(rng) for rng in patient_streams(seed + 7919, range(start, start + len(table)))]
        return Population(table, population.bsa_formula, population.description, population.meta)


def _covariates(table: Mapping[str, Any], where: str) -> tuple[tuple[Covariate, ...], tuple[Source, ...]]:
    covs, sources = [], []
    for name, entry in (table or {}).items():
        cw = f"covariate '{name}' of {where}"
        if not isinstance(entry, Mapping) or "distribution" not in entry:
            raise ParameterError(f"{cw} has no distribution; add distribution = \"normal\" (or lognormal, uniform, categorical, fixed).")
        sources.append(read_source(entry, cw))
        params = {k: v for k, v in entry.items() if k not in ("distribution", "lower", "upper", "source", "assumption")}
        covs.append(Covariate(name, str(entry["distribution"]), params, float(entry.get("lower", -math.inf)),
                              float(entry.get("upper", math.inf))))
    return tuple(covs), tuple(sources)


def available_drugs() -> list[str]:
    """Names of the built-in files that define a ``[drug]`` table."""
    out = []
    for path in parameter_files():
        data, _ = read_toml(path, copy=False)
        if "drug" in data and "model" in data:
            out.append(str(data["drug"].get("name", path.stem)))
    return sorted(out)


def load_drug(name_or_path: str | Path) -> Drug:
    """A drug by name ("mitoxantrone", "cyclophosphamide", "cladribine") or path to a drug file.

    >>> load_drug("mitoxantrone").default_regimen
    '12 mg/m2 over 30 min every 3 months x 8'
    """
    key = str(name_or_path).strip()
    if not Path(key).suffix and key.lower().replace("_", "-") not in available_drugs():
        raise OptionError(f"there is no built-in drug named '{name_or_path}'; use one of {', '.join(available_drugs())}.")
    model = load_model(key.lower() if not Path(key).suffix else key)
    raw = model.parameter_set.raw if model.parameter_set is not None else {}
    table = raw.get("drug")
    if not isinstance(table, Mapping):
        raise ModelError(f"'{name_or_path}' has no [drug] table, so it is a model, not a drug; add [drug] with name and default_regimen.")
    assert model.parameter_set is not None  # without one raw is {}, so there is no [drug] table (refused above)
    where = f"the [drug] table of {model.parameter_set.path}"
    for key_ in ("name", "title", "default_regimen"):
        if not isinstance(table.get(key_), str):
            raise ParameterError(f"{where} has no {key_}; add {key_} = \"...\".")
    reg_src = read_source({k[len("regimen_"):]: v for k, v in table.items() if k in ("regimen_source", "regimen_assumption")},
                           f"the default regimen of {where}")
    covs, cov_sources = _covariates(table.get("covariates", {}), where)
    regimens = tuple(PublishedRegimen(str(r["text"]), str(r.get("regimen", "")),
                                      read_source(r, f"regimen '{r.get('text')}' of {where}"))
                     for r in table.get("regimens", []))
    return Drug(name=table["name"], title=table["title"], route=str(table.get("route", "iv")), model=model,
                default_regimen=table["default_regimen"], regimen_source=reg_src, rules=read_rules(table, where),
                covariates=covs, covariate_sources=cov_sources, regimens=regimens,
                planning=_dose_grid(table.get("planning", {}), where), raw=table)
