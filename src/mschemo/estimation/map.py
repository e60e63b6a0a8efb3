"""A patient's own parameters from their blood counts: MAP estimate, Laplace covariance, posterior draws.

The population model is the prior: each parameter with inter-individual variability is
P_i = P_typical(covariates) x exp(eta_i), eta ~ N(0, Omega). Counts are log-normal around the
prediction (params/residual_error.toml). The negative log posterior

    J(eta) = 1/2 sum_obs ((log y - log f(eta, t)) / sigma_kind)^2 + 1/2 eta' Omega^-1 eta

is minimised by BFGS; its gradient and the Gauss-Newton Hessian come from one batched solve of the
perturbed patients (finite differences, the compiled backend at tight tolerance). The Laplace
covariance is the inverse of that Hessian; ``sample_posterior`` draws the full posterior by
sampling-importance-resampling with a multivariate-t proposal around the mode.

The same object (:class:`PatientModel`) predicts any regimen for any set of etas: dose planning uses
it on the posterior draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backends import Compiled, problem_for_params
from ..errors import OptionError
from ..params import load_parameters
from ..regimen import Regimen

__all__ = ["PatientModel", "Posterior", "estimate_map", "sample_posterior", "residual_sigmas"]

FD_STEP = 1e-3          # finite-difference step on eta (forward differences)
_KINDS = ("wbc", "anc", "alc")


def residual_sigmas() -> dict[str, float]:
    ps = load_parameters("residual-error")
    return {k: ps[f"SIGMA_{k.upper()}"].value for k in _KINDS} | {"floor": ps["COUNT_FLOOR"].value}


class PatientModel:
    """One patient under a drug's population model: covariates fixed, etas free.

    ``predict(etas, times)`` solves many eta vectors of this patient in one batched call.
    """

    def __init__(self, drug: Any, record: Any, backend: Compiled | None = None) -> None:
        from ..drugs import load_drug
        self.drug = load_drug(drug) if isinstance(drug, str) else drug
        self.record = record
        model = self.drug.model
        self.model = model
        pop = record.population()
        ps = model.parameter_set
        self.eta_names = [n for n in ps.iiv_names if n in model.parameters]
        keep = [ps.iiv_names.index(n) for n in self.eta_names]
        self.omega = ps.omega_matrix()[np.ix_(keep, keep)]
        self.omega_inv = np.linalg.inv(self.omega)
        self.cols = np.array([model.parameters.index(n) for n in self.eta_names])
        self.base = pop.individual_parameters(model)[0]
        self.bsa = float(pop.covariate("bsa_m2")[0]) if "bsa_m2" in pop.table.columns else math.nan
        self.weight = float(pop.covariate("weight_kg")[0]) if "weight_kg" in pop.table.columns else math.nan
        self.backend = backend
        self._serial = Compiled(rtol=1e-7, atol=1e-9, threads=1)     # small batches: threads cost more than they give
        self._parallel = Compiled(rtol=1e-7, atol=1e-9)

    @property
    def n_eta(self) -> int:
        return len(self.eta_names)

    def params(self, etas: np.ndarray) -> np.ndarray:
        etas = np.atleast_2d(etas)
        out = np.tile(self.base, (etas.shape[0], 1))
        out[:, self.cols] *= np.exp(etas)
        return out

    def predict(self, etas: np.ndarray, times_d: np.ndarray, regimen: Regimen | None = None) -> dict[str, np.ndarray]:
        """Counts (10^9/L) of this patient for each row of ``etas`` at ``times_d``: kind -> (K, T)."""
        etas = np.atleast_2d(np.asarray(etas, dtype=float))
        regimen = self.record.regimen() if regimen is None else regimen
        if regimen is None or not len(regimen.doses):
            regimen = Regimen.empty()
        params = self.params(etas)
        t = np.maximum(np.asarray(times_d, dtype=float), 0.0)
        order = np.argsort(t, kind="stable")
        problem = problem_for_params(self.model, regimen, params, t[order], bsa_m2=self.bsa, weight_kg=self.weight)
        k = etas.shape[0]
        backend = self.backend or (self._serial if k <= 32 else self._parallel)
        sol = backend.solve(problem)
        values, columns = self.model.add_derived(sol.values, list(sol.columns), params)
        inv = np.empty_like(order)
        inv[order] = np.arange(order.size)
        out = {}
        for kind in _KINDS:
            col = f"{kind}_1e9_per_L"
            if col in columns:
                out[kind] = values[:, inv, columns.index(col)]
        return out


@dataclass
class Posterior:
    """A patient's posterior under the population model."""

    patient: PatientModel
    mode: np.ndarray                    # MAP etas
    cov: np.ndarray                     # Laplace covariance of the etas
    objective: float                    # J at the mode
    n_obs: int
    iterations: int
    samples: np.ndarray | None = None   # (S, n_eta) posterior draws (SIR), when asked
    ess: float = math.nan               # effective sample size of the importance weights
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def eta_names(self) -> list[str]:
        return self.patient.eta_names

    def draws(self, n: int, seed: int = 0) -> np.ndarray:
        """n draws of the etas: the SIR samples if there are, else the Laplace normal."""
        rng = np.random.default_rng(seed)
        if self.samples is not None:
            return self.samples[rng.integers(0, len(self.samples), n)]
        return rng.multivariate_normal(self.mode, self.cov, n)

    def parameters(self) -> dict[str, tuple[float, float, float]]:
        """Each parameter's MAP value and 90 % interval (Laplace, or the draws' quantiles)."""
        p = self.patient
        base = p.base[p.cols]
        if self.samples is not None:
            lo, hi = np.quantile(self.samples, [0.05, 0.95], axis=0)
        else:
            sd = np.sqrt(np.diag(self.cov))
            lo, hi = self.mode - 1.6449 * sd, self.mode + 1.6449 * sd
        return {n: (base[j] * math.exp(self.mode[j]), base[j] * math.exp(lo[j]), base[j] * math.exp(hi[j]))
                for j, n in enumerate(p.eta_names)}

    def predict(self, times_d: np.ndarray, regimen: Regimen | None = None, *, n: int = 200,
                seed: int = 0) -> dict[str, np.ndarray]:
        """Counts at ``times_d`` for n posterior draws (the mode first): kind -> (n + 1, T)."""
        etas = np.vstack([self.mode[None, :], self.draws(n, seed)])
        return self.patient.predict(etas, times_d, regimen)


def _observations(record: Any, sig: dict[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    c = record.counts
    kinds = c["kind"].to_numpy().astype(str)
    days = c["day"].to_numpy(dtype=float)
    logy = np.log(np.maximum(c["value"].to_numpy(dtype=float), sig["floor"]))
    sigma = np.array([sig[k] for k in kinds])
    return kinds, days, logy, sigma


class _Objective:
    """J(eta) and its Gauss-Newton pieces for one patient's counts."""

    def __init__(self, patient: PatientModel) -> None:
        self.p = patient
        self.sig = residual_sigmas()
        self.kinds, self.days, self.logy, self.sigma = _observations(patient.record, self.sig)
        self.times = np.unique(np.maximum(self.days, 0.0))
        self.index = np.searchsorted(self.times, np.maximum(self.days, 0.0))
        self.evals = 0

    def residuals(self, etas: np.ndarray) -> np.ndarray:
        """(K, n_obs) weighted residuals (log y - log f) / sigma."""
        pred = self.p.predict(etas, self.times)
        self.evals += len(np.atleast_2d(etas))
        f = np.empty((len(np.atleast_2d(etas)), self.logy.size))
        for kind in np.unique(self.kinds):
            sel = self.kinds == kind
            if kind not in pred:
                raise OptionError(f"the {self.p.drug.name} model has no {kind.upper()} output; remove those counts.")
            f[:, sel] = pred[kind][:, self.index[sel]]
        return (self.logy[None, :] - np.log(np.maximum(f, 1e-12))) / self.sigma[None, :]

    def value(self, etas: np.ndarray) -> np.ndarray:
        etas = np.atleast_2d(etas)
        r = self.residuals(etas)
        prior = np.einsum("ki,ij,kj->k", etas, self.p.omega_inv, etas)
        return 0.5 * (np.sum(r * r, axis=1) + prior)

    def value_grad_gn(self, eta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """J, its gradient and the Gauss-Newton Hessian at eta (forward differences, one batched solve)."""
        e = eta.size
        h = FD_STEP
        batch = np.vstack([eta[None, :], eta + h * np.eye(e)])
        r = self.residuals(batch)
        r0 = r[0]
        jac = (r[1:] - r0[None, :]).T / h                     # d r / d eta, (n_obs, e)
        j = 0.5 * (r0 @ r0 + eta @ self.p.omega_inv @ eta)
        grad = jac.T @ r0 + self.p.omega_inv @ eta
        hess = jac.T @ jac + self.p.omega_inv
        return float(j), grad, hess


def estimate_map(drug: Any, record: Any, *, backend: Compiled | None = None, tol: float = 1e-4,
                 max_iter: int = 100) -> Posterior:
    """The posterior mode (MAP) of the patient's etas given their counts, and its Laplace covariance.

    drug: a Drug or its name; record: a PatientRecord (covariates, doses, counts).
    Levenberg-Marquardt on J (the Gauss-Newton Hessian, positive definite by the prior); stops when
    the largest step in eta is below ``tol`` or J changes by less than 1e-7.
    """
    patient = drug if isinstance(drug, PatientModel) else PatientModel(drug, record, backend)
    obj = _Objective(patient)
    eta = np.zeros(patient.n_eta)
    j, g, h = obj.value_grad_gn(eta)
    lam = 1e-3
    it = 0
    while it < max_iter:
        it += 1
        step = np.linalg.solve(h + lam * np.diag(np.diag(h)), -g)
        trial = eta + step
        jt = float(obj.value(trial)[0])
        if jt < j:
            eta = trial
            lam = max(lam / 10.0, 1e-9)
            j_old = j
            j, g, h = obj.value_grad_gn(eta)
            if np.max(np.abs(step)) < tol or abs(j_old - j) < 1e-7:
                break
        else:
            lam *= 10.0
            if lam > 1e8:
                break
    cov = np.linalg.inv(h)
    return Posterior(patient, eta, 0.5 * (cov + cov.T), j, obj.logy.size, it,
                     info={"gradient_norm": float(np.linalg.norm(g)), "solves": obj.evals})


def log_posterior(post_or_patient: Any, etas: np.ndarray) -> np.ndarray:
    """-J(eta) for each row of ``etas`` (the unnormalised log posterior)."""
    patient = post_or_patient.patient if isinstance(post_or_patient, Posterior) else post_or_patient
    return -_Objective(patient).value(np.atleast_2d(etas))


def sample_posterior(post: Posterior, n: int = 1000, *, proposals: int = 4000, df: float = 5.0,
                     inflate: float = 1.5, seed: int = 0) -> Posterior:
    """Full posterior by sampling-importance-resampling: ``proposals`` draws from a multivariate t
    (``df`` degrees of freedom, the Laplace covariance x inflate^2) around the mode, weighted by
    posterior / proposal, resampled to ``n`` draws. Returns the posterior with ``samples`` and the
    weights' effective sample size ``ess``."""
    rng = np.random.default_rng(seed)
    e = post.mode.size
    scale = post.cov * inflate**2
    chol = np.linalg.cholesky(scale)
    z = rng.standard_normal((proposals, e))
    w = rng.chisquare(df, proposals) / df
    x = post.mode + (z @ chol.T) / np.sqrt(w)[:, None]
    dev = np.linalg.solve(chol, (x - post.mode).T).T
    log_q = -0.5 * (df + e) * np.log1p(np.sum(dev * dev, axis=1) / df)
    log_p = log_posterior(post, x)
    lw = log_p - log_q
    lw -= lw.max()
    wts = np.exp(lw)
    wts /= wts.sum()
    ess = float(1.0 / np.sum(wts * wts))
    idx = rng.choice(proposals, size=n, replace=True, p=wts)
    out = Posterior(post.patient, post.mode, post.cov, post.objective, post.n_obs, post.iterations, x[idx], ess,
                    dict(post.info, proposals=proposals))
    return out
