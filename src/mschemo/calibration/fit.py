"""Fit a drug's effect parameters to its published targets on a seeded virtual population.

The population (covariates and random effects) is drawn once from the seed; the objective is the
sum of squared misfits of the targets (see :mod:`.targets`), so it is a deterministic function of
the parameters and Nelder-Mead on log parameters finds the same optimum on every run.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..drugs import load_drug
from ..output import OutputTimes
from ..params import ParameterSet
from ..simulation import simulate
from .targets import FITTED, TARGETS, Scenario, scenarios_for

__all__ = ["Evaluation", "evaluate", "calibrate", "write_calibration", "set_calibrated", "write_calibrated", "virtual_population"]


@dataclass(frozen=True)
class Evaluation:
    values: dict[str, float]              # fitted parameter -> value (file units)
    simulated: dict[str, float]           # target name -> simulated statistic
    misfits: dict[str, float]             # target name -> signed misfit (units of scale)

    @property
    def objective(self) -> float:
        return float(sum(m * m for m in self.misfits.values()))


def virtual_population(drug_name: str, n: int, seed: int):
    """The calibration cohort: the default adult MS cohort plus the drug's covariates, with IIV."""
    drug = load_drug(drug_name)
    return drug.population_spec().sample(n, seed, drug.model)


OMEGA = "omega:"   # a fitted name "omega:P" is the SD of P's random effect, not P's typical value


def _with_values(ps: ParameterSet, values: dict[str, float]) -> ParameterSet:
    from ..units import convert

    params = dict(ps.parameters)
    for name, v in values.items():
        if name.startswith(OMEGA):
            params[name[len(OMEGA):]] = replace(params[name[len(OMEGA):]], omega=v)
            continue
        p = params[name]
        params[name] = replace(p, value=convert(v, p.file_unit)[0], file_value=v)
    return replace(ps, parameters=params)


def _start_value(ps: ParameterSet, name: str) -> float:
    return ps[name[len(OMEGA):]].omega if name.startswith(OMEGA) else ps[name].file_value


def _scaled_etas(population, ps: ParameterSet, values: dict[str, float]):
    """The cohort with the random effects of refitted omegas rescaled (same draws, new SD)."""
    from ..population import Population

    omegas = {k[len(OMEGA):]: v for k, v in values.items() if k.startswith(OMEGA)}
    if not omegas:
        return population
    table = population.table.copy()
    for name, omega in omegas.items():
        col = f"ETA_{name}"
        if col in table.columns and ps[name].omega > 0:
            table[col] = table[col] * (omega / ps[name].omega)
    return Population(table, population.bsa_formula, population.description, population.meta)


def _run(drug, scenario: Scenario, population, model):
    if scenario.regimen.strip().lower() == "label tablets":
        return simulate(model, drug.plan("label tablets"), population, rules=drug.rules.without(),
                        output=OutputTimes(every=1.0, until=scenario.until_d))
    return simulate(model, scenario.regimen, population, output=OutputTimes(every=1.0, until=scenario.until_d))


def evaluate(drug_name: str, values: dict[str, float], population) -> Evaluation:
    """Targets of ``drug_name`` simulated with the fitted parameters set to ``values`` (file units)."""
    drug = load_drug(drug_name)
    ps = drug.model.parameter_set
    assert ps is not None  # a drug's model is read from its drug file, with its parameters
    model = drug.model.with_parameters(_with_values(ps, values))
    population = _scaled_etas(population, ps, values)
    results = {s.name: _run(drug, s, population, model) for s in scenarios_for(drug_name)}
    simulated = {t.name: float(t.statistic(results[t.scenario])) for t in TARGETS[drug_name]}
    misfits = {t.name: t.misfit(simulated[t.name]) for t in TARGETS[drug_name]}
    return Evaluation(dict(values), simulated, misfits)


def calibrate(drug_name: str, *, n: int = 1000, seed: int = 20261125, max_evaluations: int = 300,
              log=print) -> tuple[Evaluation, Evaluation, int]:
    """(evaluation at the file's values, evaluation at the optimum, number of objective evaluations)."""
    from scipy.optimize import minimize

    drug = load_drug(drug_name)
    ps = drug.model.parameter_set
    assert ps is not None  # as in evaluate()
    names = list(FITTED[drug_name])
    bounds = np.log([FITTED[drug_name][k] for k in names])
    x0 = np.log([_start_value(ps, k) for k in names])
    population = virtual_population(drug_name, n, seed)
    count = [0]
    best: dict = {}

    def objective(x: np.ndarray) -> float:
        x = np.clip(x, bounds[:, 0], bounds[:, 1])
        values = {k: float(np.exp(v)) for k, v in zip(names, x)}
        ev = evaluate(drug_name, values, population)
        count[0] += 1
        if not best or ev.objective < best["ev"].objective:
            best["ev"] = ev
            log(f"  {count[0]:4d}  objective {ev.objective:10.4f}  " +
                "  ".join(f"{k}={v:.4g}" for k, v in values.items()))
        return ev.objective

    start = evaluate(drug_name, {k: float(np.exp(v)) for k, v in zip(names, x0)}, population)
    log(f"start: objective {start.objective:.4f}")
    minimize(objective, x0, method="Nelder-Mead",
             options={"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-4, "initial_simplex": _simplex(x0)})
    return start, best["ev"], count[0]


def _simplex(x0: np.ndarray) -> np.ndarray:
    """A starting simplex of +30 % steps (log scale) around the file's values."""
    s = np.tile(x0, (x0.size + 1, 1))
    for i in range(x0.size):
        s[i + 1, i] += math.log(1.3)
    return s


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def set_calibrated(text: str, name: str, value: float, why: str, *, where: str = "the file") -> str:
    """A parameter file's text with ``[parameters.NAME]``'s value replaced and its source or
    assumption replaced by ``assumption = why`` (how it was calibrated)."""
    block = re.search(rf"^\[parameters\.{re.escape(name)}\]\n(.*?)(?=^\[|\Z)", text, flags=re.S | re.M)
    if block is None:
        raise KeyError(f"{name} has no [parameters.{name}] table in {where}")
    body = re.sub(r"^value = .*$", f"value = {_fmt(value)}", block.group(1), count=1, flags=re.M)
    quoted = json.dumps(why, ensure_ascii=False)          # a valid TOML basic string
    body = re.sub(r"^(assumption|source) = .*$", lambda m: f"assumption = {quoted}", body, count=1, flags=re.M)
    return text[:block.start(1)] + body + text[block.end(1):]


def write_calibrated(path: Path, values: dict[str, float], why: str) -> Path:
    """Write calibrated values (4 significant digits) with the same calibration note into a
    parameter file (see :func:`set_calibrated`)."""
    text = path.read_text(encoding="utf-8")
    for name, value in values.items():
        text = set_calibrated(text, name, float(f"{value:.4g}"), why, where=str(path))
    path.write_text(text, encoding="utf-8")
    return path


def write_calibration(drug_name: str, start: Evaluation, fit: Evaluation, *, n: int, seed: int,
                      evaluations: int, path: Path | None = None) -> Path:
    """Write the fitted values into the drug file (value and a calibrated-by note) and replace its
    ``[calibration]`` table with the targets, the published and simulated values and the misfits."""
    from datetime import date

    drug = load_drug(drug_name)
    if not path:
        assert drug.model.parameter_set is not None  # as in evaluate()
        path = Path(drug.model.parameter_set.path)
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    why = (f"calibrated by calibration/calibrate.py (seed {seed}, {n} virtual patients) to the published "
           "targets in [calibration] of this file")
    for name, value in fit.values.items():
        if not name.startswith(OMEGA):
            text = set_calibrated(text, name, value, why, where=str(path))
            continue
        pname = name[len(OMEGA):]
        block = re.search(rf"^\[parameters\.{re.escape(pname)}\]\n(.*?)(?=^\[|\Z)", text, flags=re.S | re.M)
        if block is None:
            raise KeyError(f"{pname} has no [parameters.{pname}] table in {path}")
        body = re.sub(r"^iiv = .*$", f'iiv = {{ omega = {_fmt(value)}, assumption = "{why}" }}', block.group(1),
                      count=1, flags=re.M)
        text = text[:block.start(1)] + body + text[block.end(1):]
    marker = "# --- calibration: written by calibration/calibrate.py; do not edit by hand ---"
    if marker in text:
        text = text[:text.index(marker)].rstrip() + "\n"
    lines = ["", marker, "[calibration]", 'script = "calibration/calibrate.py"', f'date = "{date.today().isoformat()}"',
             f"seed = {seed}", f"n_patients = {n}",
             f'method = "Nelder-Mead on log parameters, {evaluations} objective evaluations; objective = sum of '
             'squared misfits, misfit = (simulated - published) / scale (0 inside a one-sided bound)"',
             f"objective_start = {_fmt(start.objective)}", f"objective_fitted = {_fmt(fit.objective)}", "",
             "[calibration.fitted]"]
    for name, value in fit.values.items():
        lines.append(f"{name.replace(OMEGA, 'omega_')} = {{ start = {_fmt(start.values[name])}, fitted = {_fmt(value)}, "
                     f"lower = {_fmt(FITTED[drug_name][name][0])}, upper = {_fmt(FITTED[drug_name][name][1])} }}")
    for t in TARGETS[drug_name]:
        esc = lambda s: s.replace("\\", "\\\\").replace('"', '\\"')  # noqa: E731
        lines += ["", "[[calibration.targets]]", f'name = "{t.name}"', f'description = "{esc(t.description)}"',
                  f'scenario = "{esc(t.scenario)}"', f'kind = "{t.kind}"', f"published = {_fmt(t.published)}",
                  f"simulated = {_fmt(fit.simulated[t.name])}",
                  *([f"bound = {_fmt(t.bound)}"] if t.bound is not None and t.kind != "point" else []), f'unit = "{t.unit}"', f"scale = {_fmt(t.scale)}",
                  f"misfit = {_fmt(fit.misfits[t.name])}", f'source = "{esc(t.source)}"', f'note = "{esc(t.note)}"']
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
