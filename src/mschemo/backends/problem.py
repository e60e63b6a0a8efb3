"""What every backend solves: individual parameters, dose records per patient and output times.

Built once in Python (vectorised over patients) by :func:`build_problem` (a Population), or by
:func:`problem_for_params` (rows of parameters that share one regimen, e.g. one patient under many
eta vectors); a backend turns a :class:`Problem` into a :class:`Solution`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from ..errors import ModelError, RegimenError
from ..regimen import PER_BODY, EventTable, Regimen, mg_per

if TYPE_CHECKING:  # pragma: no cover
    from ..models.chain import ChainedModel
    from ..population import Population

__all__ = ["Problem", "Solution", "build_problem", "records_of", "problem_for_params", "concat_problems", "modal_decomposition", "STATUS_MESSAGES",
           "AUC_COLUMN"]

AUC_COLUMN = "auc_mg_d_per_L"
STATUS_MESSAGES = {
    0: "ok",
    1: "maximum number of solver steps reached; raise max_steps or loosen rtol",
    2: "step size became too small; the problem may be ill-posed (check the parameters)",
    3: "the solution became non-finite; check the parameters (a count fell to zero?)",
}
_RECORD_FIELDS = ("time", "evid", "cmt", "amt", "rate", "dur", "ii", "addl", "ss", "f", "lag")


@dataclass
class Problem:
    """Arrays for a chunk of patients. Records of patient i are ``rec[name][rec_off[i]:rec_off[i+1]]``."""

    model: ChainedModel
    params: np.ndarray                 # (n, n_parameters), model.parameters order, internal units
    ids: np.ndarray
    rec_off: np.ndarray
    rec: dict[str, np.ndarray]
    t_out: np.ndarray
    record_states: bool = False

    @property
    def n(self) -> int:
        return self.params.shape[0]

    @property
    def columns(self) -> list[str]:
        cols = list(self.model.outputs) + [AUC_COLUMN]
        if self.record_states:
            cols += [f"state_{s}" for s in self.model.states]
        return cols

    def param(self, name: str) -> np.ndarray:
        return self.params[:, self.model.parameters.index(name)]

    def patient_records(self, i: int) -> dict[str, np.ndarray]:
        a, b = self.rec_off[i], self.rec_off[i + 1]
        return {k: v[a:b] for k, v in self.rec.items()}


@dataclass
class Solution:
    """Values (n, n_out, n_columns) at ``t_out``; per-patient status code and step counts."""

    values: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    columns: list[str]
    backend: dict[str, Any] = field(default_factory=dict)


class _Sizes:
    """Body-surface area and weight of the patients, read once and only when a dose needs them."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self._cache: dict[str, np.ndarray] = {}

    def get(self, name: str, rows: slice) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = self.population.covariate(name)
        return self._cache[name][rows]


def _amount_scale(unit: np.ndarray, sizes: _Sizes, rows: slice) -> np.ndarray:
    """(n_patients, n_records) multiplier that turns per-m2 / per-kg amounts into mg."""
    n = len(range(*rows.indices(len(sizes.population))))
    scale = np.ones((n, unit.size))
    for u, measure in PER_BODY.items():
        if measure is not None and np.any(unit == u):
            scale[:, unit == u] = sizes.get(measure, rows)[:, None]
    return scale


def _template(model: ChainedModel, regimen: Regimen) -> dict[str, np.ndarray]:
    return _template_of(model, regimen.doses)


def _template_of(model: ChainedModel, doses: Sequence[Any]) -> dict[str, np.ndarray]:
    """Record arrays of a list of doses (one patient's, or many patients' one after another)."""
    pk = model.pk
    cmt = np.array([pk.compartment_index(d.cmt) for d in doses], dtype=np.int64)
    for d in doses:
        if d.amount == 0 and d.rate_per_d > 0 and not (d.ss and d.ii_d == 0):
            raise RegimenError(f"the dose at day {d.time_d:g} has amount 0 with a rate; a zero-amount infusion needs SS=1 and II=0 (a steady-state infusion).")
    return {
        "time": np.array([d.time_d for d in doses], dtype=float),
        "evid": np.array([d.evid for d in doses], dtype=np.int64),
        "cmt": cmt,
        "amt": np.array([d.amount for d in doses], dtype=float),
        "rate": np.array([d.rate_per_d for d in doses], dtype=float),
        "dur": np.array([d.duration_d for d in doses], dtype=float),
        "ii": np.array([d.ii_d for d in doses], dtype=float),
        "addl": np.array([d.addl for d in doses], dtype=np.int64),
        "ss": np.array([d.ss for d in doses], dtype=np.int64),
        "unit": np.array([d.unit for d in doses], dtype=object),
        "f_override": np.array([np.nan if d.bioavailability is None else d.bioavailability for d in doses]),
        "lag_override": np.array([np.nan if d.lag_d is None else d.lag_d for d in doses]),
    }


def _records_for(model: ChainedModel, tpl: dict[str, np.ndarray], scale: np.ndarray,
                 params: np.ndarray, per_record: bool = False) -> dict[str, np.ndarray]:
    """Per-patient (n, n_records) record arrays from one template, vectorised; ``scale`` (n, m)
    turns the template's amounts into mg (from :func:`_amount_scale`), ``params`` (n, P).
    ``per_record``: the template holds many patients' records one after another, ``params`` (m, P)
    is each record's patient's row and the arrays come back as one row (1, m); the arithmetic is the
    same elementwise, so each record gets the numbers it gets alone."""
    m = tpl["time"].size
    n = 1 if per_record else params.shape[0]
    depot = (tpl["cmt"] == 0) & model.pk.has_depot
    if model.pk.has_depot:
        f_col, lag_col = params[:, model.parameters.index("F")], params[:, model.parameters.index("TLAG")]
        f_model, lag_model = (f_col[None, :], lag_col[None, :]) if per_record else (f_col[:, None], lag_col[:, None])
    else:
        f_model, lag_model = np.ones((n, 1)), np.zeros((n, 1))
    f = np.where(depot[None, :], f_model, 1.0) * np.ones((n, m))
    lag = np.where(depot[None, :], lag_model, 0.0) * np.ones((n, m))
    f = np.where(np.isnan(tpl["f_override"])[None, :], f, tpl["f_override"][None, :])
    lag = np.where(np.isnan(tpl["lag_override"])[None, :], lag, tpl["lag_override"][None, :])
    if np.any(f < 0) or np.any(lag < 0):
        raise ModelError("a patient has a negative bioavailability F or lag time TLAG; check the parameter file and IIV.")
    rep = lambda a: np.broadcast_to(a[None, :], (n, m))  # noqa: E731
    return {
        "time": rep(tpl["time"]), "evid": rep(tpl["evid"]), "cmt": rep(tpl["cmt"]),
        "amt": rep(tpl["amt"]) * scale, "rate": rep(tpl["rate"]) * scale, "dur": rep(tpl["dur"]),
        "ii": rep(tpl["ii"]), "addl": rep(tpl["addl"]), "ss": rep(tpl["ss"]), "f": f, "lag": lag,
    }


RegimenLike = Union[Regimen, EventTable]


def build_problem(model: ChainedModel, regimen: RegimenLike, population: Population, t_out: np.ndarray,
                  record_states: bool = False) -> Problem:
    """Turn model, regimen and patients into backend arrays (records flattened patient by patient)."""
    params = population.individual_parameters(model)
    n = len(population)
    if isinstance(regimen, Regimen):
        tpl = _template(model, regimen)
        recs = _records_for(model, tpl, _amount_scale(tpl["unit"], _Sizes(population), slice(0, n)), params)
        m = regimen.doses.__len__()
        rec = {k: np.ascontiguousarray(v).reshape(n * m) for k, v in recs.items()}
        rec_off = np.arange(n + 1, dtype=np.int64) * m
    else:
        rec, rec_off = records_of(model, [regimen.for_id(pid).doses for pid in population.ids], population, params)
    for k in ("evid", "cmt", "addl", "ss"):
        rec[k] = rec[k].astype(np.int64)
    for k in ("time", "amt", "rate", "dur", "ii", "f", "lag"):
        rec[k] = rec[k].astype(float)
    return Problem(model, params, population.ids, rec_off, rec, np.asarray(t_out, dtype=float), record_states)


def records_of(model: ChainedModel, doses: Sequence[Sequence[Any]], population: Population,
               params: np.ndarray, rows: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Record arrays (flattened patient by patient) and their offsets for each patient's own doses:
    ``doses[j]`` of patient ``rows[j]`` of ``population`` (default: patient j), ``params`` the
    population's individual parameters (n, P). All patients' doses make one template, built at once;
    record r belongs to patient patient_of[r] and gets the numbers it would get alone."""
    rows = np.arange(len(doses)) if rows is None else np.asarray(rows, dtype=np.int64)
    counts = np.array([len(d) for d in doses], dtype=np.int64)
    tpl = _template_of(model, [d for ds in doses for d in ds])
    patient_of = rows[np.repeat(np.arange(len(doses)), counts)]
    sizes = _Sizes(population)
    scale = np.ones(patient_of.size)
    for u, measure in PER_BODY.items():
        sel = tpl["unit"] == u
        if measure is not None and np.any(sel):
            scale[sel] = sizes.get(measure, slice(0, len(population)))[patient_of[sel]]
    recs = _records_for(model, tpl, scale[None, :], params[patient_of], per_record=True)
    rec = {k: np.ascontiguousarray(v).reshape(-1) for k, v in recs.items()}
    return rec, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def problem_for_params(model: ChainedModel, regimen: Regimen, params: np.ndarray, t_out: np.ndarray, *,
                       bsa_m2: float | None = None, weight_kg: float | None = None) -> Problem:
    """A Problem for rows of individual parameters that all get the same regimen.

    For one patient's predictions under many parameter vectors (the MAP fit, posterior draws, dose
    candidates) without building a Population: row i of ``params`` (n, n_parameters; model.parameters
    order, internal units) becomes patient i (ids 0..n-1). Doses in mg/m2 are scaled by ``bsa_m2``
    and doses in mg/kg by ``weight_kg``; a regimen with such doses needs that size (RegimenError if
    it is None or not finite). ``t_out``: output days, ascending. The records are built as :func:`build_problem`
    builds them, so a backend gives the same solution for the same patient.
    """
    params = np.asarray(params, dtype=float)
    n = params.shape[0]
    tpl = _template(model, regimen)
    m = tpl["time"].size
    scale = np.ones(m)
    what = {"bsa_m2": "body-surface area in m2", "weight_kg": "weight in kg"}
    for unit, name in PER_BODY.items():
        sel = tpl["unit"] == unit
        if name is not None and np.any(sel):
            size = mg_per(unit, bsa_m2, weight_kg)
            if size is None or not np.isfinite(size):
                raise RegimenError(f"the regimen has doses in {unit} but {name} is {size!r}; pass the patient's "
                                   f"{what[name]} as {name} to scale them to mg.")
            scale[sel] = size
    recs = _records_for(model, tpl, np.broadcast_to(scale, (n, m)), params)
    rec = {k: np.ascontiguousarray(v).reshape(n * m) for k, v in recs.items()}
    for k in ("evid", "cmt", "addl", "ss"):
        rec[k] = rec[k].astype(np.int64)
    for k in ("time", "amt", "rate", "dur", "ii", "f", "lag"):
        rec[k] = rec[k].astype(float)
    return Problem(model, params, np.arange(n), np.arange(n + 1, dtype=np.int64) * m, rec,
                   np.asarray(t_out, dtype=float))


def concat_problems(problems: Sequence[Problem]) -> Problem:
    """One Problem of the patients of several (same model and output times): a backend solves them in
    one call, and each patient's solution is the one it has alone (patients do not interact and the
    solver's steps do not depend on the others). Ids become 0..n-1 in order."""
    if not problems:
        raise ValueError("no problems to join")
    first = problems[0]
    for p in problems[1:]:
        if p.model is not first.model or not np.array_equal(p.t_out, first.t_out) or p.record_states != first.record_states:
            raise ValueError("problems to join need the same model, output times and record_states")
    counts = np.concatenate([np.diff(p.rec_off) for p in problems])
    rec = {k: np.concatenate([p.rec[k] for p in problems]) for k in first.rec}
    params = np.vstack([p.params for p in problems])
    return Problem(first.model, params, np.arange(params.shape[0]), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                   rec, first.t_out, first.record_states)


def modal_decomposition(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigenvalues lam (n, m) and eigenvector matrices V, V^-1 (n, m, m) of each patient's PK matrix.

    The disposition part is symmetrised with S = diag(sqrt(V)) (S^-1 K S is symmetric for a
    mammillary model), so its eigenvalues are real and found by a batched ``eigh``; the depot mode
    (-KA) is added analytically. Where KA is within 1e-7 (relative) of a disposition eigenvalue the
    matrix is defective; KA is then moved by 2e-7 (relative), an error of that order in the result.
    """
    pk = problem.model.pk
    n, nd = problem.n, pk.compartments
    cl, v1 = problem.param("CL"), problem.param("V1")
    vols = [v1] + [problem.param(f"V{k + 2}") for k in range(nd - 1)]
    qs = [problem.param(f"Q{k + 2}") for k in range(nd - 1)]
    for name, arr in [("CL", cl)] + [(f"V{k + 1}", v) for k, v in enumerate(vols)] + [(f"Q{k + 2}", q) for k, q in enumerate(qs)]:
        bad = ~(np.isfinite(arr) & (arr > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(f"parameter {name} of patient {problem.ids[i]} is {arr[i]:g}; PK clearances and volumes must be > 0 (use fewer compartments instead of Q = 0).")
    sq = np.stack([np.sqrt(v) for v in vols], axis=1)           # (n, nd)
    N = np.zeros((n, nd, nd))
    N[:, 0, 0] = -(cl + sum(qs)) / v1
    for k, q in enumerate(qs):
        i = k + 1
        N[:, i, i] = -q / vols[i]
        N[:, 0, i] = N[:, i, 0] = q / (sq[:, 0] * sq[:, i])
    lam_d, U = np.linalg.eigh(N)
    Vd = sq[:, :, None] * U                                       # S U
    Vd_inv = np.transpose(U, (0, 2, 1)) / sq[:, None, :]          # U^T S^-1
    if not pk.has_depot:
        return lam_d, Vd, Vd_inv
    ka = problem.param("KA").copy()
    if np.any(~(np.isfinite(ka) & (ka > 0))):
        i = int(np.flatnonzero(~(np.isfinite(ka) & (ka > 0)))[0])
        raise ModelError(f"parameter KA of patient {problem.ids[i]} is {ka[i]:g}; the absorption rate constant must be > 0.")
    gap = lam_d + ka[:, None]
    close = np.abs(gap) < 1e-7 * ka[:, None]
    if close.any():
        rows = close.any(axis=1)
        ka[rows] = ka[rows] * (1.0 + 2e-7)
        gap = lam_d + ka[:, None]
    # eigenvector of -KA: [1; u], u = -KA * Vd diag(1/(lam + KA)) Vd^-1 e_central
    u = -ka[:, None] * np.einsum("nij,nj,nj->ni", Vd, 1.0 / gap, Vd_inv[:, :, 0])
    m = nd + 1
    lam = np.concatenate([-ka[:, None], lam_d], axis=1)
    V = np.zeros((n, m, m))
    V[:, 0, 0] = 1.0
    V[:, 1:, 0] = u
    V[:, 1:, 1:] = Vd
    Vinv = np.zeros((n, m, m))
    Vinv[:, 0, 0] = 1.0
    Vinv[:, 1:, 0] = -np.einsum("nij,nj->ni", Vd_inv, u)
    Vinv[:, 1:, 1:] = Vd_inv
    return lam, V, Vinv
