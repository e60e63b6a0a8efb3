"""Virtual and real patients: covariates, body-surface area and inter-individual variability.

A :class:`PopulationSpec` describes covariate distributions; :meth:`PopulationSpec.sample` draws
``n`` patients, patient ``i`` from its own random stream (child ``i`` of one SeedSequence per run),
so a seeded population is the same however it is chunked. A :class:`Population` is a table of
patients (id, covariates, bsa_m2 and etas or individual parameters); :meth:`Population.from_csv`
reads real patients.

Individual parameters: P_i = P_typ * (covariate effects) * exp(eta_i), eta_i ~ N(0, Omega).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import tomllib

from ._internal.rng import patient_rng
from .errors import PopulationError

if TYPE_CHECKING:  # pragma: no cover
    from .models.chain import ChainedModel

__all__ = ["Covariate", "PopulationSpec", "Population", "body_surface_area", "BSA_FORMULAS"]

BSA_FORMULAS = ("mosteller", "dubois")
NUMERIC_COLUMNS = ("height_cm", "weight_kg", "bsa_m2", "age_y")
#: patient-table columns that hold text: sex (F/M), the MS course (RRMS/SPMS/PPMS), a disease-modifying therapy
TEXT_COLUMNS = ("id", "sex", "ms_course", "dmt")
DISTRIBUTIONS = ("normal", "lognormal", "uniform", "categorical", "fixed")


def body_surface_area(height_cm: np.ndarray, weight_kg: np.ndarray, formula: str = "mosteller") -> np.ndarray:
    """Body-surface area (m2). Mosteller (N Engl J Med 1987;317:1098): sqrt(H*W/3600);
    DuBois & DuBois (Arch Intern Med 1916;17:863): 0.007184 * W^0.425 * H^0.725.

    >>> round(float(body_surface_area(170.0, 70.0)), 4)
    1.8257
    """
    h = np.asarray(height_cm, dtype=float)
    w = np.asarray(weight_kg, dtype=float)
    if formula == "mosteller":
        return np.sqrt(h * w / 3600.0)
    if formula == "dubois":
        return 0.007184 * w**0.425 * h**0.725
    raise PopulationError(f"BSA formula {formula!r} is unknown; use 'mosteller' (default) or 'dubois'.")


@dataclass(frozen=True)
class Covariate:
    """One covariate's distribution: normal(mean, sd), lognormal(median, cv), uniform(low, high),
    categorical(values, p) or fixed(value); optional truncation bounds (lower, upper) by redrawing."""

    name: str
    distribution: str
    params: Mapping[str, Any]
    lower: float = -math.inf
    upper: float = math.inf

    def __post_init__(self) -> None:
        where = f"covariate '{self.name}'"
        if self.distribution not in DISTRIBUTIONS:
            raise PopulationError(f"{where} has distribution {self.distribution!r}; use one of {', '.join(DISTRIBUTIONS)}.")
        need = {"normal": ("mean", "sd"), "lognormal": ("median", "cv"), "uniform": ("low", "high"),
                "categorical": ("values", "p"), "fixed": ("value",)}[self.distribution]
        missing = [k for k in need if k not in self.params]
        if missing:
            raise PopulationError(f"{where} ({self.distribution}) lacks {', '.join(missing)}; add them to its table.")
        if self.distribution == "categorical":
            values, p = list(self.params["values"]), np.asarray(self.params["p"], dtype=float)
            if len(values) != len(p) or len(values) == 0 or np.any(p < 0) or not math.isclose(p.sum(), 1.0, abs_tol=1e-9):
                raise PopulationError(f"{where} has values {values} with probabilities {p.tolist()}; give one probability per value, summing to 1.")
        else:
            for k in need:
                v = self.params[k]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise PopulationError(f"{where} has {k} = {v!r}; give a finite number.")
            if self.distribution == "normal" and self.params["sd"] < 0:
                raise PopulationError(f"{where} has sd = {self.params['sd']}; a standard deviation must be >= 0.")
            if self.distribution == "lognormal" and (self.params["median"] <= 0 or self.params["cv"] < 0):
                raise PopulationError(f"{where} has median {self.params['median']} and cv {self.params['cv']}; a log-normal needs median > 0 and cv >= 0.")
            if self.distribution == "uniform" and self.params["high"] < self.params["low"]:
                raise PopulationError(f"{where} has low {self.params['low']} above high {self.params['high']}; swap them.")
        if self.lower >= self.upper:
            raise PopulationError(f"{where} has lower bound {self.lower} >= upper bound {self.upper}; fix the bounds.")

    def draw(self, rng: np.random.Generator) -> Any:
        """One value (redrawn, at most 1000 times, until inside [lower, upper])."""
        d, p = self.distribution, self.params
        for _ in range(1000):
            if d == "normal":
                x = rng.normal(p["mean"], p["sd"])
            elif d == "lognormal":
                x = p["median"] * math.exp(rng.normal(0.0, math.sqrt(math.log1p(p["cv"] ** 2))))
            elif d == "uniform":
                x = rng.uniform(p["low"], p["high"])
            elif d == "categorical":
                return list(p["values"])[int(rng.choice(len(p["p"]), p=np.asarray(p["p"], dtype=float)))]
            else:
                return p["value"]
            if self.lower <= x <= self.upper:
                return float(x)
        raise PopulationError(f"covariate '{self.name}' almost never falls inside [{self.lower}, {self.upper}]; widen the bounds.")


DEFAULT_COVARIATES = (
    # assumption: an adult MS cohort (mean height 168 cm, median weight 72 kg, CV 20 %), as in the mitox-2y workload;
    # female share 70 % (MS is about 2-3 times as common in women); age 38 +/- 10 years, 18-70.
    Covariate("height_cm", "normal", {"mean": 168.0, "sd": 9.0}, lower=130.0, upper=210.0),
    Covariate("weight_kg", "lognormal", {"median": 72.0, "cv": 0.20}, lower=35.0, upper=200.0),
    Covariate("sex", "categorical", {"values": ["F", "M"], "p": [0.7, 0.3]}),
    Covariate("age_y", "normal", {"mean": 38.0, "sd": 10.0}, lower=18.0, upper=70.0),
)


@dataclass(frozen=True)
class PopulationSpec:
    """Covariate distributions, BSA formula and IIV scaling: a recipe for virtual patients."""

    covariates: tuple[Covariate, ...] = DEFAULT_COVARIATES
    bsa_formula: str = "mosteller"
    iiv: bool = True
    name: str = "default adult MS cohort"

    def __post_init__(self) -> None:
        if self.bsa_formula not in BSA_FORMULAS:
            raise PopulationError(f"bsa_formula {self.bsa_formula!r} is unknown; use 'mosteller' or 'dubois'.")
        names = [c.name for c in self.covariates]
        if len(set(names)) != len(names):
            raise PopulationError(f"covariate names repeat in {names}; give each covariate once.")

    @classmethod
    def from_file(cls, path: str | Path) -> PopulationSpec:
        """Read a TOML spec: ``[covariates.NAME] distribution = "normal", mean = .., sd = ..``,
        optional ``bsa_formula``, ``iiv`` (true/false) and ``name`` at the top."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PopulationError(f"population file '{path}' does not exist; check the path.") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise PopulationError(f"population file '{path}' is not valid TOML ({exc}); fix the syntax.") from None
        covs = []
        for name, entry in (data.get("covariates") or {}).items():
            if not isinstance(entry, Mapping) or "distribution" not in entry:
                raise PopulationError(f"covariate '{name}' in {path} has no distribution; add distribution = \"normal\" (or lognormal, uniform, categorical, fixed).")
            params = {k: v for k, v in entry.items() if k not in ("distribution", "lower", "upper")}
            covs.append(Covariate(name, str(entry["distribution"]), params, float(entry.get("lower", -math.inf)),
                                  float(entry.get("upper", math.inf))))
        unknown = set(data) - {"covariates", "bsa_formula", "iiv", "name"}
        if unknown:
            raise PopulationError(f"population file '{path}' has unknown table(s) {sorted(unknown)}; use covariates, bsa_formula, iiv and name.")
        if not covs:
            raise PopulationError(f"population file '{path}' defines no covariates; add [covariates.height_cm] and [covariates.weight_kg].")
        return cls(tuple(covs), str(data.get("bsa_formula", "mosteller")), bool(data.get("iiv", True)),
                   str(data.get("name", path.stem)))

    def sample(self, n: int, seed: int, model: ChainedModel | None = None, *, start: int = 0) -> Population:
        """Draw patients ``start .. start+n-1`` (ids start+1 ..). Patient i uses its own stream, so
        ``sample(10, s)`` equals ``sample(3, s)`` followed by ``sample(7, s, start=3)``."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise PopulationError(f"number of patients n = {n!r}; give a whole number >= 1.")
        etas_names: list[str] = []
        chol = np.zeros((0, 0))
        if model is not None and self.iiv and model.parameter_set is not None:
            etas_names = [nm for nm in model.parameter_set.iiv_names if nm in model.parameters]
            omega = model.parameter_set.omega_matrix()
            keep = [model.parameter_set.iiv_names.index(nm) for nm in etas_names]
            chol = np.linalg.cholesky(omega[np.ix_(keep, keep)]) if keep else chol
        rows = []
        for i in range(start, start + int(n)):
            rng = patient_rng(seed, i)
            row: dict[str, Any] = {"id": i + 1}
            for c in self.covariates:
                row[c.name] = c.draw(rng)
            if etas_names:
                eta = chol @ rng.standard_normal(len(etas_names))
                row.update({f"ETA_{nm}": float(e) for nm, e in zip(etas_names, eta)})
            rows.append(row)
        return Population(pd.DataFrame(rows), bsa_formula=self.bsa_formula, description=f"{self.name}, seed {seed}")


@dataclass(frozen=True, eq=False)
class Population:
    """A table of patients: ``id``, covariates (units in the names: height_cm, weight_kg, age_y),
    ``bsa_m2`` (computed when absent), ``ETA_<P>`` random effects and/or individual parameter
    columns named as the model's parameters (they override typical values and etas)."""

    table: pd.DataFrame
    bsa_formula: str = "mosteller"
    description: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = self.table
        if "id" not in t.columns:
            raise PopulationError("the patient table has no 'id' column; add one id per patient.")
        if len(t) == 0:
            raise PopulationError("the patient table has no rows; give at least one patient.")
        if t["id"].duplicated().any():
            dup = t["id"][t["id"].duplicated()].tolist()[:5]
            raise PopulationError(f"patient ids {dup} appear more than once in the 'id' column; make each id unique.")
        for col in t.columns:
            if col in NUMERIC_COLUMNS and not pd.api.types.is_numeric_dtype(t[col]):
                raise PopulationError(f"column '{col}' holds text ({t[col].iloc[0]!r}, ...); give numbers, with the unit in the column name.")
            if col == "id" or not pd.api.types.is_numeric_dtype(t[col]):
                continue
            bad = ~np.isfinite(t[col].to_numpy(dtype=float))
            if bad.any():
                rows = (np.flatnonzero(bad) + 1).tolist()
                more = ", ..." if len(rows) > 3 else ""
                raise PopulationError(f"column '{col}' has {int(bad.sum())} empty or non-numeric cell(s) (patient rows {', '.join(map(str, rows[:3]))}{more}); fill them or drop those rows.")
        for col, lo, hi in (("height_cm", 40.0, 250.0), ("weight_kg", 2.0, 400.0)):
            if col in t.columns:
                v = t[col].to_numpy(dtype=float)
                bad = (v < lo) | (v > hi)
                if bad.any():
                    k = int(np.flatnonzero(bad)[0])
                    raise PopulationError(f"column '{col}' has {v[k]:g} for patient {t['id'].iloc[k]}, outside {lo:g}-{hi:g}; check the unit ({col.split('_')[1]}).")
        if "bsa_m2" not in t.columns and {"height_cm", "weight_kg"} <= set(t.columns):
            t = t.copy()
            t["bsa_m2"] = body_surface_area(t["height_cm"].to_numpy(float), t["weight_kg"].to_numpy(float), self.bsa_formula)
            object.__setattr__(self, "table", t.reset_index(drop=True))

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_csv(cls, path: str | Path, *, bsa_formula: str = "mosteller") -> Population:
        """Real (or pre-made) patients from a CSV with an ``id`` column and covariates
        (``height_cm``, ``weight_kg``, ...); optional ``ETA_<P>`` or parameter columns."""
        path = Path(path)
        if not path.exists():
            raise PopulationError(f"population file '{path}' does not exist; check the path.")
        try:
            t = pd.read_csv(path, comment="#")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise PopulationError(f"population file '{path}' is not a readable CSV ({str(exc).splitlines()[0]}); save it as comma-separated text with a header row.") from None
        t.columns = [str(c).strip() for c in t.columns]
        if "id" not in t.columns and "ID" in t.columns:
            t = t.rename(columns={"ID": "id"})
        if "id" not in t.columns:
            raise PopulationError(f"population file '{path}' has no 'id' column; add one id per patient (columns found: {', '.join(t.columns[:8])}).")
        for col in t.columns:
            if col in TEXT_COLUMNS or pd.api.types.is_numeric_dtype(t[col]):
                continue
            num = pd.to_numeric(t[col], errors="coerce")
            bad = num.isna() & t[col].notna()
            if bad.any():
                k = int(np.flatnonzero(bad.to_numpy())[0])
                raise PopulationError(f"column '{col}' in {path.name} has {t[col].iloc[k]!r} on line {k + 2}; give a number (units go in the column name, e.g. weight_kg).")
            t[col] = num
        try:
            return cls(t, bsa_formula=bsa_formula, description=f"patients from {path.name}")
        except PopulationError as exc:
            raise PopulationError(f"{path.name}: {exc}") from None

    @classmethod
    def typical(cls, n: int = 1, **covariates: float) -> Population:
        """``n`` identical typical patients (170 cm, 70 kg unless given)."""
        cov = {"height_cm": 170.0, "weight_kg": 70.0} | covariates
        return cls(pd.DataFrame({"id": np.arange(1, n + 1), **{k: np.full(n, float(v)) for k, v in cov.items()}}),
                   description="typical patient(s)")

    # -- views --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.table)

    @property
    def ids(self) -> np.ndarray:
        return self.table["id"].to_numpy()

    def subset(self, start: int, stop: int) -> Population:
        """Patients at positions start..stop-1 (a chunk)."""
        return Population(self.table.iloc[start:stop].reset_index(drop=True), self.bsa_formula, self.description, self.meta)

    def covariate(self, name: str) -> np.ndarray:
        if name not in self.table.columns:
            raise PopulationError(f"the patients have no '{name}' column, which this step needs; add it to the population.")
        return self.table[name].to_numpy(dtype=float)

    def individual_parameters(self, model: ChainedModel) -> np.ndarray:
        """(n_patients, n_parameters) in model.parameters order, internal units."""
        ps = model.parameter_set
        t = self.table
        out = np.empty((len(t), len(model.parameters)))
        for j, name in enumerate(model.parameters):
            if name in t.columns:
                out[:, j] = t[name].to_numpy(dtype=float)
                continue
            if ps is None:
                raise PopulationError(f"parameter '{name}' is neither a column of the patient table nor in a parameter file; add one.")
            p = ps[name]
            val = np.full(len(t), p.value)
            for cov in p.covariates:
                val = val * cov.factor(self.covariate(cov.name))
            eta_col = f"ETA_{name}"
            if eta_col in t.columns:
                val = val * np.exp(t[eta_col].to_numpy(dtype=float))
            out[:, j] = val
        bad = ~np.isfinite(out)
        if bad.any():
            i, j = map(int, np.argwhere(bad)[0])
            raise PopulationError(f"parameter '{model.parameters[j]}' of patient {t['id'].iloc[i]} is not finite; check that patient's covariates and etas.")
        return out

    def to_pandas(self) -> pd.DataFrame:
        return self.table.copy()
