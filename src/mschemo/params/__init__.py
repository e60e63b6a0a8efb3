"""Parameters as data: TOML files with value, unit, description, variability and source.

Each parameter in a file is a table::

    [parameters.CL]
    value = 20.0
    unit = "L/h"                      # converted to internal units (days, mg, L) on load
    description = "clearance"
    iiv = { omega = 0.30, assumption = "illustrative benchmark value" }   # log-normal SD of eta
    source = { author = "Friberg LE et al.", year = 2002, journal = "J Clin Oncol 20:4713", table = "Table 3" }
    # or, where no source exists:
    assumption = "why this value was chosen"

The loader refuses a parameter (or an IIV entry) with neither a ``source`` nor an
``assumption``. ``iiv`` takes ``omega`` (SD of a normal eta, P_i = P * exp(eta)) or ``cv``
(coefficient of variation, converted with omega = sqrt(ln(1 + cv^2))). Correlations between etas go
in a ``[correlations]`` table: ``"CL,V1" = { value = 0.5, source = {...} }``.
Covariate effects: ``covariates = [{ name = "weight_kg", kind = "power", reference = 70,
exponent = 0.75, source = {...} }]`` (kinds: power, linear, exponential).
"""

from __future__ import annotations

import copy as _copy
import functools
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._internal.structured import DataTextError, load_data
from .._internal.text import quote
from ..errors import InputError, ParameterError

__all__ = ["Source", "CovariateEffect", "Parameter", "ParameterSet", "load_parameters", "parameter_files",
           "PARAMS_DIR", "read_toml", "read_source"]

PARAMS_DIR = Path(__file__).parent
_SOURCE_KEYS = ("author", "year", "journal", "table")
COVARIATE_KINDS = ("power", "linear", "exponential")


@dataclass(frozen=True)
class Source:
    """Where a number comes from: a publication, or an assumption with its reason."""

    author: str = ""
    year: int | None = None
    journal: str = ""
    table: str = ""
    assumption: str = ""
    note: str = ""

    @property
    def is_assumption(self) -> bool:
        return bool(self.assumption)

    def __str__(self) -> str:
        if self.assumption:
            return f"assumption: {self.assumption}"
        s = f"{self.author} {self.year}, {self.journal}, {self.table}"
        return f"{s} ({self.note})" if self.note else s


def read_source(entry: Mapping[str, Any], where: str) -> Source:
    src = entry.get("source")
    assumption = entry.get("assumption")
    if src is None and not assumption:
        raise ParameterError(f"{where} has neither 'source' nor 'assumption'; add source = {{ author, year, journal, table }} "
                             "or assumption = \"<reason>\".")
    if assumption is not None and (not isinstance(assumption, str) or not assumption.strip()):
        raise ParameterError(f"{where} has an empty 'assumption'; write the reason for the value.")
    if src is not None:
        if not isinstance(src, Mapping):
            raise ParameterError(f"{where} has source {src!r}; write it as a table source = {{ author, year, journal, table }}.")
        missing = [k for k in _SOURCE_KEYS if not src.get(k)]
        if missing:
            raise ParameterError(f"{where} has a source without {', '.join(missing)}; give author, year, journal and table.")
        return Source(author=str(src["author"]), year=int(src["year"]), journal=str(src["journal"]),
                      table=str(src["table"]), note=str(src.get("note", "")), assumption=str(assumption or ""))
    return Source(assumption=str(assumption).strip())


@dataclass(frozen=True)
class CovariateEffect:
    """P_typ(cov) = P_typ * f(cov): power (cov/ref)^exponent, linear 1 + slope*(cov-ref), exponential exp(slope*(cov-ref))."""

    name: str
    kind: str
    reference: float
    coefficient: float
    source: Source

    def factor(self, values: ArrayLike) -> np.ndarray:
        x = np.asarray(values, dtype=float)
        if self.kind == "power":
            return (x / self.reference) ** self.coefficient
        if self.kind == "linear":
            return 1.0 + self.coefficient * (x - self.reference)
        return np.exp(self.coefficient * (x - self.reference))


@dataclass(frozen=True)
class Parameter:
    """One model parameter in internal units, with its provenance."""

    name: str
    value: float
    unit: str
    description: str
    source: Source
    omega: float = 0.0
    iiv_source: Source | None = None
    covariates: tuple[CovariateEffect, ...] = ()
    file_unit: str = ""
    file_value: float = math.nan
    lower: float = -math.inf
    upper: float = math.inf


@dataclass(frozen=True)
class ParameterSet:
    """The parameters of one file, in file order, with the omega (eta covariance) matrix."""

    name: str
    path: str
    sha256: str
    parameters: dict[str, Parameter]
    correlations: dict[tuple[str, str], float] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Parameter:
        return self.parameters[key]

    def __contains__(self, key: object) -> bool:
        return key in self.parameters

    def values(self) -> dict[str, float]:
        """Typical values in internal units."""
        return {k: p.value for k, p in self.parameters.items()}

    @property
    def iiv_names(self) -> list[str]:
        """Names of parameters with inter-individual variability (omega > 0), in file order."""
        return [k for k, p in self.parameters.items() if p.omega > 0]

    def omega_matrix(self) -> np.ndarray:
        """Covariance of the etas of :attr:`iiv_names` (SDs on the diagonal, correlations off it)."""
        names = self.iiv_names
        sd = np.array([self.parameters[n].omega for n in names])
        corr = np.eye(len(names))
        for (a, b), r in self.correlations.items():
            i, j = names.index(a), names.index(b)
            corr[i, j] = corr[j, i] = r
        return corr * np.outer(sd, sd)

    def table(self) -> list[dict[str, Any]]:
        """One row per parameter: name, value, unit (as in the file), IIV and source (for listings)."""
        rows = []
        for p in self.parameters.values():
            rows.append({"parameter": p.name, "value": p.file_value, "unit": p.file_unit, "description": p.description,
                         "iiv_omega": p.omega, "source": str(p.source),
                         "iiv_source": str(p.iiv_source) if p.iiv_source else ""})
        return rows


@functools.lru_cache(maxsize=256)
def _loads(text: str) -> dict[str, Any]:
    """Parsed TOML, kept by its text: a file read again (every load_drug) is not parsed again; callers
    get a deep copy, so a change to one does not reach the next."""
    return load_data(text, "toml")


def read_toml(path: Path, copy: bool = True) -> tuple[dict[str, Any], str]:
    """A TOML file's content and the sha256 of its bytes. ``copy=False`` gives the kept content
    itself, for callers that only look at it (listing the built-in drugs) and never change it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ParameterError(f"parameter file '{path}' does not exist; check the path or use a built-in name.") from None
    except OSError as exc:
        raise ParameterError(f"parameter file {quote(path)} cannot be read ({exc.strerror}); give a TOML file.") from None
    try:
        content = _loads(data.decode("utf-8"))
        return (_copy.deepcopy(content) if copy else content), hashlib.sha256(data).hexdigest()
    except UnicodeDecodeError:
        raise ParameterError(f"parameter file {quote(path)} is not UTF-8 text; save it as a TOML text file.") from None
    except DataTextError as exc:
        raise ParameterError(f"parameter file {quote(path)} {exc.reason}; {exc.fix}.") from None


def _number(entry: Mapping[str, Any], key: str, where: str) -> float:
    v = entry.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ParameterError(f"{where} has {key} = {v!r}; give a finite number.")
    return float(v)


def _parse_parameter(name: str, entry: Mapping[str, Any], file: str) -> Parameter:
    from ..units import convert

    where = f"parameter '{name}' in {file}"
    if not isinstance(entry, Mapping):
        raise ParameterError(f"{where} is {entry!r}; write it as a table with value, unit, description and source.")
    value = _number(entry, "value", where)
    unit = entry.get("unit")
    if not isinstance(unit, str):
        raise ParameterError(f"{where} has no unit; add unit = \"...\" (use \"1\" for a dimensionless number).")
    desc = entry.get("description")
    if not isinstance(desc, str) or not desc.strip():
        raise ParameterError(f"{where} has no description; add description = \"what it is\".")
    source = read_source(entry, where)
    try:
        internal, internal_unit = convert(value, unit, field=f"{where}")
    except InputError as exc:
        raise ParameterError(str(exc)) from None
    omega, iiv_source = 0.0, None
    iiv = entry.get("iiv")
    if iiv is not None:
        if not isinstance(iiv, Mapping):
            raise ParameterError(f"{where} has iiv = {iiv!r}; write iiv = {{ omega = 0.3, source = ... }} or {{ cv = 0.3, ... }}.")
        if ("omega" in iiv) == ("cv" in iiv):
            raise ParameterError(f"{where} has an iiv table with {'both' if 'omega' in iiv else 'neither'} omega and cv; give exactly one.")
        if "omega" in iiv:
            omega = _number(iiv, "omega", f"the iiv of {where}")
        else:
            cv = _number(iiv, "cv", f"the iiv of {where}")
            omega = math.sqrt(math.log1p(cv * cv)) if cv > 0 else -1.0
        if omega < 0:
            raise ParameterError(f"{where} has a negative IIV; give omega or cv >= 0.")
        iiv_source = read_source(iiv, f"the iiv of {where}")
    covs = []
    for k, c in enumerate(entry.get("covariates", [])):
        cw = f"covariate effect {k + 1} of {where}"
        if not isinstance(c, Mapping) or c.get("kind") not in COVARIATE_KINDS or not isinstance(c.get("name"), str):
            raise ParameterError(f"{cw} is {c!r}; write {{ name = \"weight_kg\", kind = \"power\", reference = 70, exponent = 0.75, source = ... }}.")
        coef_key = "exponent" if c["kind"] == "power" else "slope"
        covs.append(CovariateEffect(c["name"], c["kind"], _number(c, "reference", cw), _number(c, coef_key, cw),
                                    read_source(c, cw)))
    lower = float(entry.get("lower", -math.inf))
    upper = float(entry.get("upper", math.inf))
    if not lower <= value <= upper:
        raise ParameterError(f"{where} has value {value:g}, outside its bounds [{lower:g}, {upper:g}]; fix the value or the bounds.")
    return Parameter(name=name, value=internal, unit=internal_unit, description=desc.strip(), source=source,
                     omega=omega, iiv_source=iiv_source, covariates=tuple(covs), file_unit=unit, file_value=value,
                     lower=convert(lower, unit)[0] if math.isfinite(lower) else lower,
                     upper=convert(upper, unit)[0] if math.isfinite(upper) else upper)


def parameter_set_from_dict(name: str, data: Mapping[str, Any], path: str = "<memory>", sha256: str = "") -> ParameterSet:
    """Build a ParameterSet from the content of a parameter file."""
    params_raw = data.get("parameters")
    if not isinstance(params_raw, Mapping) or not params_raw:
        raise ParameterError(f"parameter file {path} has no [parameters.NAME] tables; add at least one parameter.")
    params = {k: _parse_parameter(k, v, path) for k, v in params_raw.items()}
    correlations: dict[tuple[str, str], float] = {}
    for key, entry in (data.get("correlations") or {}).items():
        where = f"correlation '{key}' in {path}"
        pair = tuple(s.strip() for s in key.split(","))
        if len(pair) != 2 or any(p not in params or params[p].omega <= 0 for p in pair):
            raise ParameterError(f"{where} must name two parameters with IIV, as \"CL,V1\"; check the names.")
        if not isinstance(entry, Mapping):
            raise ParameterError(f"{where} is {entry!r}; write {{ value = 0.5, source = ... }}.")
        r = _number(entry, "value", where)
        if not -1 < r < 1:
            raise ParameterError(f"{where} has value {r:g}; a correlation lies strictly between -1 and 1.")
        read_source(entry, where)
        correlations[(pair[0], pair[1])] = r
    ps = ParameterSet(name=name, path=path, sha256=sha256, parameters=params, correlations=correlations, raw=data)
    if correlations:
        try:
            np.linalg.cholesky(ps.omega_matrix())
        except np.linalg.LinAlgError:
            raise ParameterError(f"the correlations in {path} make the omega matrix not positive definite; reduce them.") from None
    return ps


def parameter_files() -> list[Path]:
    """Every parameter file shipped with mschemo."""
    return sorted(PARAMS_DIR.glob("*.toml"))


def load_parameters(name_or_path: str | Path) -> ParameterSet:
    """Load a built-in parameter file by name ("mitox-2y") or any TOML file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PARAMS_DIR / f"{str(name_or_path).replace('-', '_')}.toml"
        if not path.exists():
            known = ", ".join(p.stem.replace("_", "-") for p in parameter_files())
            raise ParameterError(f"there is no built-in parameter file named '{name_or_path}'; use one of {known} or a path to a .toml file.")
    data, sha = read_toml(path)
    return parameter_set_from_dict(path.stem.replace("_", "-"), data, str(path), sha)
