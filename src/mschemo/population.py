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
from numpy.typing import ArrayLike

from ._internal.rng import patient_streams
from ._internal.structured import DataTextError, load_data
from ._internal.text import listing, quote, shown
from .errors import PopulationError

if TYPE_CHECKING:  # pragma: no cover
    from .models.chain import ChainedModel

__all__ = ["Covariate", "PopulationSpec", "Population", "body_surface_area", "BSA_FORMULAS", "RANGES", "CATEGORIES",
           "MS_COURSES"]

BSA_FORMULAS = ("mosteller", "dubois")
NUMERIC_COLUMNS = ("height_cm", "weight_kg", "bsa_m2", "age_y")
#: patient-table columns that hold text: sex (F/M), the MS course (RRMS/SPMS/PPMS), a disease-modifying therapy
TEXT_COLUMNS = ("id", "sex", "ms_course", "dmt")
DISTRIBUTIONS = ("normal", "lognormal", "uniform", "categorical", "fixed")
#: the MS courses a patient may have at entry
MS_COURSES = ("RRMS", "SPMS", "PPMS")
#: the plausible range of a numeric covariate (a patient table's column or a spec's draws) and the fix
#: a value outside it gets
RANGES: dict[str, tuple[float, float, str]] = {
    "height_cm": (40.0, 250.0, "check the unit (cm)"),
    "weight_kg": (2.0, 400.0, "check the unit (kg)"),
    "bsa_m2": (0.1, 6.0, "check the unit (m2)"),
    "age_y": (0.0, 120.0, "check the unit (years)"),
    "edss": (0.0, 9.5, "give an EDSS from 0 to 9.5"),
    "ms_duration_y": (0.0, 100.0, "check the unit (years)"),
}
#: the largest random effect (ETA_<P>, log scale: a factor of e^10, about 22,000) a patient table may give
MAX_ETA = 10.0
#: the values a text covariate may take (compared in upper case; "female" and "male" are read as F and M)
CATEGORIES: dict[str, tuple[str, ...]] = {"sex": ("F", "M"), "ms_course": MS_COURSES}
_CATEGORY_WORDS = {"FEMALE": "F", "MALE": "M"}


def _category(value: object) -> str:
    """A text covariate's value as :data:`CATEGORIES` lists it."""
    key = str(value).strip().upper()
    return _CATEGORY_WORDS.get(key, key)


def body_surface_area(height_cm: ArrayLike, weight_kg: ArrayLike, formula: str = "mosteller") -> np.ndarray:
    """Body-surface area (m2). Mosteller (N Engl J Med 1987;317:1098): sqrt(H*W/3600);
    DuBois & DuBois (Arch Intern Med 1916;17:863): 0.007184 * W^0.425 * H^0.725.

    >>> round(float(body_surface_area(170.0, 70.0)), 4)
    1.8181
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
        where = f"covariate {quote(self.name)}"
        if self.distribution not in DISTRIBUTIONS:
            raise PopulationError(f"{where} has distribution {quote(self.distribution)}; use one of "
                                  f"{', '.join(DISTRIBUTIONS)}.")
        need = {"normal": ("mean", "sd"), "lognormal": ("median", "cv"), "uniform": ("low", "high"),
                "categorical": ("values", "p"), "fixed": ("value",)}[self.distribution]
        missing = [k for k in need if k not in self.params]
        if missing:
            raise PopulationError(f"{where} ({self.distribution}) lacks {', '.join(missing)}; add them to its table.")
        for bound in (self.lower, self.upper):
            if isinstance(bound, bool) or not isinstance(bound, (int, float)) or math.isnan(bound):
                raise PopulationError(f"{where} has the bound {shown(bound)}; give lower and upper as numbers.")
        if self.distribution == "categorical":
            values, p = self.params["values"], self.params["p"]
            if not isinstance(values, (list, tuple)) or not isinstance(p, (list, tuple)) or \
                    any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in p):
                raise PopulationError(f"{where} has values = {shown(values)} and p = {shown(p)}; give two "
                                      "lists, e.g. values = [\"F\", \"M\"] and p = [0.7, 0.3].")
            p = np.asarray(p, dtype=float)
            if len(values) != len(p) or len(values) == 0 or np.any(~(p >= 0)) or not math.isclose(p.sum(), 1.0, abs_tol=1e-9):
                raise PopulationError(f"{where} has values {shown(list(values))} with probabilities "
                                      f"{quote(p.tolist())}; give one probability per value, summing to 1.")
        else:
            for k in need:
                v = self.params[k]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise PopulationError(f"{where} has {k} = {shown(v)}; give a finite number.")
            if self.distribution == "normal" and self.params["sd"] < 0:
                raise PopulationError(f"{where} has sd = {self.params['sd']}; a standard deviation must be >= 0.")
            if self.distribution == "lognormal" and (self.params["median"] <= 0 or self.params["cv"] < 0):
                raise PopulationError(f"{where} has median {self.params['median']} and cv {self.params['cv']}; a log-normal needs median > 0 and cv >= 0.")
            if self.distribution == "uniform" and self.params["high"] < self.params["low"]:
                raise PopulationError(f"{where} has low {self.params['low']} above high {self.params['high']}; swap them.")
        if self.lower >= self.upper:
            raise PopulationError(f"{where} has lower bound {self.lower} >= upper bound {self.upper}; fix the bounds.")
        self._check_plausible(where)

    def _check_plausible(self, where: str) -> None:
        """A covariate with a plausible range (:data:`RANGES`) or set of values (:data:`CATEGORIES`) can draw
        inside it: its fixed value, uniform range, centre and bounds are checked."""
        d, p = self.distribution, self.params
        if self.name in CATEGORIES:
            allowed = CATEGORIES[self.name]
            given = [p["value"]] if d == "fixed" else list(p["values"]) if d == "categorical" else None
            bad = [v for v in given or () if _category(v) not in allowed]
            if given is None or bad:
                what = quote(bad[0]) if bad else f"a {d} distribution"
                raise PopulationError(f"{where} has {what}; give a categorical or fixed covariate of "
                                      f"{', '.join(allowed)}.")
            return
        if self.name not in RANGES or d == "categorical":
            return
        lo, hi, _ = RANGES[self.name]
        keys = ("low", "high") if d == "uniform" else ({"normal": "mean", "lognormal": "median", "fixed": "value"}[d],)
        checks = [(k, p[k]) for k in keys]
        checks += [(k, v) for k, v in (("lower", self.lower), ("upper", self.upper)) if math.isfinite(v)]
        for key, value in checks:
            if not lo <= value <= hi:
                raise PopulationError(f"{where} has {key} = {value:g}, outside {lo:g}-{hi:g}; give a value inside that "
                                      "range.")

    def _bounds(self) -> tuple[float, float]:
        """[lower, upper] within the plausible range of this covariate."""
        lo, hi, _ = RANGES.get(self.name, (-math.inf, math.inf, ""))
        return max(self.lower, lo), min(self.upper, hi)

    def draw(self, rng: np.random.Generator) -> Any:
        """One value (redrawn, at most 1000 times, until inside [lower, upper] and the plausible range)."""
        d, p = self.distribution, self.params
        lower, upper = self._bounds()
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
            if lower <= x <= upper:
                return float(x)
        raise PopulationError(f"covariate {quote(self.name)} almost never falls inside [{lower:g}, {upper:g}]; widen the "
                              "bounds or move its centre.")


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
            raise PopulationError(f"bsa_formula {quote(self.bsa_formula)} is unknown; use 'mosteller' or 'dubois'.")
        names = [c.name for c in self.covariates]
        if len(set(names)) != len(names):
            raise PopulationError(f"covariate names repeat in {listing(names)}; give each covariate once.")

    @classmethod
    def from_file(cls, path: str | Path) -> PopulationSpec:
        """Read a TOML spec: ``[covariates.NAME] distribution = "normal", mean = .., sd = ..``,
        optional ``bsa_formula``, ``iiv`` (true/false) and ``name`` at the top."""
        path = Path(path)
        where = f"population file {quote(path)}"
        try:
            data = load_data(path.read_text(encoding="utf-8"), "toml")
        except FileNotFoundError:
            raise PopulationError(f"{where} does not exist; check the path.") from None
        except (OSError, UnicodeDecodeError):
            raise PopulationError(f"{where} cannot be read as UTF-8 text; save it as a TOML text file.") from None
        except DataTextError as exc:
            raise PopulationError(f"{where} {exc.reason}; {exc.fix}.") from None
        unknown = set(data) - {"covariates", "bsa_formula", "iiv", "name"}
        if unknown:
            raise PopulationError(f"{where} has unknown table(s) {listing(sorted(unknown))}; use covariates, "
                                  "bsa_formula, iiv and name.")
        table = data.get("covariates") or {}
        if not isinstance(table, Mapping):
            raise PopulationError(f"{where} has covariates = {shown(table)}; write one table per covariate, e.g. "
                                  "[covariates.height_cm] with distribution = \"normal\", mean and sd.")
        for key, kind in (("name", str), ("bsa_formula", str), ("iiv", bool)):
            if key in data and not isinstance(data[key], kind):
                raise PopulationError(f"{where} has {key} = {shown(data[key])}; give "
                                      f"{'true or false' if kind is bool else 'text in quotes'}.")
        covs = []
        for name, entry in table.items():
            if not isinstance(entry, Mapping) or "distribution" not in entry:
                raise PopulationError(f"covariate {quote(name)} in {where} has no distribution; add distribution = "
                                      "\"normal\" (or lognormal, uniform, categorical, fixed).")
            params = {k: v for k, v in entry.items() if k not in ("distribution", "lower", "upper")}
            covs.append(Covariate(name, str(entry["distribution"]), params, entry.get("lower", -math.inf),
                                  entry.get("upper", math.inf)))
        if not covs:
            raise PopulationError(f"{where} defines no covariates; add [covariates.height_cm] and [covariates.weight_kg].")
        return cls(tuple(covs), data.get("bsa_formula", "mosteller"), data.get("iiv", True), data.get("name", path.stem))

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
        for i, rng in enumerate(patient_streams(seed, range(start, start + int(n))), start):
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
            dup = t["id"][t["id"].duplicated()].tolist()
            raise PopulationError(f"patient ids {listing(dup, most=5)} appear more than once in the 'id' column; make "
                                  "each id unique.")
        for col in t.columns:
            if col in NUMERIC_COLUMNS and not pd.api.types.is_numeric_dtype(t[col]):
                raise PopulationError(f"column {quote(col)} holds text ({quote(t[col].iloc[0])}, ...); give numbers, with "
                                      "the unit in the column name.")
            if col == "id" or not pd.api.types.is_numeric_dtype(t[col]):
                continue
            bad = ~np.isfinite(t[col].to_numpy(dtype=float))
            if bad.any():
                rows = (np.flatnonzero(bad) + 1).tolist()
                more = ", ..." if len(rows) > 3 else ""
                raise PopulationError(f"column {quote(col)} has {int(bad.sum())} empty or non-numeric cell(s) (patient rows "
                                      f"{', '.join(map(str, rows[:3]))}{more}); fill them or drop those rows.")
        for col, (lo, hi, fix) in RANGES.items():
            if col in t.columns and pd.api.types.is_numeric_dtype(t[col]):
                v = t[col].to_numpy(dtype=float)
                bad = (v < lo) | (v > hi)
                if bad.any():
                    k = int(np.flatnonzero(bad)[0])
                    raise PopulationError(f"column '{col}' has {v[k]:g} for patient {shown(t['id'].iloc[k], 30)}, outside "
                                          f"{lo:g}-{hi:g}; {fix}.")
        for col in (c for c in t.columns if str(c).startswith("ETA_") and pd.api.types.is_numeric_dtype(t[c])):
            v = t[col].to_numpy(dtype=float)
            if np.any(np.abs(v) > MAX_ETA):
                k = int(np.argmax(np.abs(v) > MAX_ETA))
                raise PopulationError(f"column {quote(col, 30)} has {v[k]:.4g} for patient {shown(t['id'].iloc[k], 30)}; a "
                                      f"random effect (log scale) lies within +-{MAX_ETA:g}, so check the column.")
        for col, allowed in CATEGORIES.items():
            if col in t.columns:
                given = t[col][t[col].notna()]
                accepted = set(allowed) | {word for word, value in _CATEGORY_WORDS.items() if value in allowed}
                bad = ~given.astype(str).str.strip().str.upper().isin(accepted)
                if bad.any():
                    k = int(np.flatnonzero(bad.to_numpy())[0])
                    raise PopulationError(f"column '{col}' has {quote(given.iloc[k], 30)} for patient "
                                          f"{shown(t['id'][given.index[k]], 30)}; use one of {', '.join(allowed)}.")
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
            raise PopulationError(f"population file {quote(path)} does not exist; check the path.")
        try:
            t = pd.read_csv(path, comment="#")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise PopulationError(f"population file {quote(path)} is not a readable CSV ({first[:80]}); save it as "
                                  "comma-separated text with a header row.") from None
        t.columns = [str(c).strip() for c in t.columns]
        if "id" not in t.columns and "ID" in t.columns:
            t = t.rename(columns={"ID": "id"})
        if "id" not in t.columns:
            raise PopulationError(f"population file {quote(path)} has no 'id' column; add one id per patient (columns "
                                  f"found: {listing(t.columns)}).")
        for col in t.columns:
            if col in TEXT_COLUMNS or pd.api.types.is_numeric_dtype(t[col]):
                continue
            num = pd.to_numeric(t[col], errors="coerce")
            bad = num.isna() & t[col].notna()
            if bad.any():
                k = int(np.flatnonzero(bad.to_numpy())[0])
                raise PopulationError(f"column {quote(col)} in {quote(path.name)} has {quote(t[col].iloc[k])} on line {k + 2}; "
                                      "give a number (units go in the column name, e.g. weight_kg).")
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
