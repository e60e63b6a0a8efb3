"""A patient's own parameters from their blood counts: MAP estimate, Laplace covariance, posterior draws.

The population model is the prior: each parameter with inter-individual variability is
P_i = P_typical(covariates) x exp(eta_i), eta ~ N(0, Omega). Counts are log-normal around the
prediction (params/residual_error.toml). The negative log posterior

    J(eta) = 1/2 sum_obs ((log y - log f(eta, t)) / sigma_kind)^2 + 1/2 eta' Omega^-1 eta

is minimised by Levenberg-Marquardt; its gradient and the Gauss-Newton Hessian come from one batched
solve of the perturbed patients (finite differences, the compiled backend at tight tolerance). The
Laplace covariance is the inverse of that Hessian; ``sample_posterior`` draws the full posterior by
sampling-importance-resampling with a multivariate-t proposal around the mode. A fit that does not
converge raises :class:`~mschemo.errors.ConvergenceError` (or warns, ``on_failure="warn"``).

The same object (:class:`PatientModel`) predicts any regimen for any set of etas: dose planning uses
it on the posterior draws.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backends import Compiled, problem_for_params
from ..backends.problem import STATUS_MESSAGES
from ..errors import ConvergenceError, ConvergenceWarning, OptionError
from ..params import load_parameters
from ..regimen import Regimen

__all__ = ["PatientModel", "Posterior", "estimate_map", "sample_posterior", "residual_sigmas", "NEWTON_TOL"]

FD_STEP = 1e-3          # finite-difference step on eta (forward differences)
#: a fit has converged when the Newton step still left, sqrt(g' H^-1 g), is below this many posterior
#: SDs (fits of the test cohorts end below 0.003; a stalled fit is typically above 0.5)
NEWTON_TOL = 0.1
ON_FAILURE = ("raise", "warn")
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
        assert ps is not None  # a drug's model is read from its drug file, with its parameters
        self.eta_names = [n for n in ps.iiv_names if n in model.parameters]
        keep = [ps.iiv_names.index(n) for n in self.eta_names]
        self.omega = ps.omega_matrix()[np.ix_(keep, keep)]
        self.omega_inv = np.linalg.inv(self.omega)
        self.cols = np.array([model.parameters.index(n) for n in self.eta_names])
        self.base = pop.individual_parameters(model)[0]
        self.bsa = float(pop.covariate("bsa_m2")[0]) if "bsa_m2" in pop.table.columns else math.nan
        self.weight = float(pop.covariate("weight_kg")[0]) if "weight_kg" in pop.table.columns else math.nan
        rid = getattr(record, "id", None)
        self.patient_id = str(rid if rid is not None else pop.ids[0])
        self.backend = backend
        self.last_status: np.ndarray | None = None       # solver status of each row of the last predict (0: ok)
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

    def regimen_of(self, regimen: Regimen | None = None) -> Regimen:
        """``regimen``, or the record's doses (an empty regimen when there are none)."""
        regimen = self.record.regimen() if regimen is None else regimen
        return Regimen.empty() if regimen is None or not len(regimen.doses) else regimen

    def problem(self, etas: np.ndarray, times_d: np.ndarray, regimen: Regimen) -> tuple[Any, np.ndarray]:
        """The backend problem of this patient for each row of ``etas`` at ``times_d`` (ascending), and
        the rows' parameters."""
        params = self.params(etas)
        return problem_for_params(self.model, regimen, params, times_d, bsa_m2=self.bsa, weight_kg=self.weight), params

    def counts(self, values: np.ndarray, columns: list[str], at: np.ndarray) -> dict[str, np.ndarray]:
        """The count outputs of solved rows (after ``add_derived``) at the time indices ``at``: kind -> (K, T)."""
        return {kind: values[:, at, columns.index(f"{kind}_1e9_per_L")] for kind in _KINDS
                if f"{kind}_1e9_per_L" in columns}

    def predict(self, etas: np.ndarray, times_d: np.ndarray, regimen: Regimen | None = None) -> dict[str, np.ndarray]:
        """Counts (10^9/L) of this patient for each row of ``etas`` at ``times_d``: kind -> (K, T)."""
        etas = np.atleast_2d(np.asarray(etas, dtype=float))
        t = np.maximum(np.asarray(times_d, dtype=float), 0.0)
        order = np.argsort(t, kind="stable")
        problem, params = self.problem(etas, t[order], self.regimen_of(regimen))
        k = etas.shape[0]
        backend = self.backend or (self._serial if k <= 32 else self._parallel)
        sol = backend.solve(problem)
        self.last_status = sol.status
        values, columns = self.model.add_derived(sol.values, list(sol.columns), params)
        inv = np.empty_like(order)
        inv[order] = np.arange(order.size)
        return self.counts(values, columns, inv)


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
    converged: bool = True              # False: the fit failed and this is its best point (on_failure="warn")
    message: str = ""                   # why the fit failed (the ConvergenceWarning's text), else ""

    @property
    def eta_names(self) -> list[str]:
        return self.patient.eta_names

    def draws(self, n: int, seed: int = 0) -> np.ndarray:
        """n draws of the etas: the SIR samples if there are, else the Laplace normal."""
        rng = np.random.default_rng(seed)
        if self.samples is not None:
            return self.samples[rng.integers(0, len(self.samples), n)]
        self._need_covariance()
        return rng.multivariate_normal(self.mode, self.cov, n)

    def _need_covariance(self) -> None:
        if not np.all(np.isfinite(self.cov)):
            raise ConvergenceError(self.message or f"the posterior of patient {self.patient.patient_id} has no valid "
                                   "covariance.", self.patient.patient_id)

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
    """J(eta) and its Gauss-Newton pieces for one patient's counts. The ``*_from`` methods do the
    arithmetic on predictions made elsewhere (a batch of patients solved together), so one patient
    alone and many together give the same numbers."""

    def __init__(self, patient: PatientModel) -> None:
        self.p = patient
        self.sig = residual_sigmas()
        self.kinds, self.days, self.logy, self.sigma = _observations(patient.record, self.sig)
        self.times = np.unique(np.maximum(self.days, 0.0))
        self.index = np.searchsorted(self.times, np.maximum(self.days, 0.0))
        self.evals = 0

    def residuals(self, etas: np.ndarray) -> np.ndarray:
        """(K, n_obs) weighted residuals (log y - log f) / sigma."""
        etas = np.atleast_2d(etas)
        return self.residuals_from(self.p.predict(etas, self.times), len(etas))

    def residuals_from(self, pred: dict[str, np.ndarray], k: int) -> np.ndarray:
        """Residuals from predictions at ``self.times`` (kind -> (k, T))."""
        self.evals += k
        f = np.empty((k, self.logy.size))
        for kind in np.unique(self.kinds):
            sel = self.kinds == kind
            if kind not in pred:
                raise OptionError(f"the {self.p.drug.name} model has no {kind.upper()} output; remove those counts.")
            f[:, sel] = pred[kind][:, self.index[sel]]
        return (self.logy[None, :] - np.log(np.maximum(f, 1e-12))) / self.sigma[None, :]

    def value(self, etas: np.ndarray) -> np.ndarray:
        etas = np.atleast_2d(etas)
        return self.value_from(etas, self.residuals(etas))

    def value_from(self, etas: np.ndarray, r: np.ndarray) -> np.ndarray:
        prior = np.einsum("ki,ij,kj->k", etas, self.p.omega_inv, etas)
        return 0.5 * (np.sum(r * r, axis=1) + prior)

    @staticmethod
    def gn_batch(eta: np.ndarray) -> np.ndarray:
        """The etas solved for the gradient: eta and one forward step in each direction."""
        return np.vstack([eta[None, :], eta + FD_STEP * np.eye(eta.size)])

    def value_grad_gn(self, eta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """J, its gradient and the Gauss-Newton Hessian at eta (forward differences, one batched solve)."""
        return self.gn_from(eta, self.residuals(self.gn_batch(eta)))

    def gn_from(self, eta: np.ndarray, r: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        r0 = r[0]
        jac = (r[1:] - r0[None, :]).T / FD_STEP               # d r / d eta, (n_obs, e)
        j = 0.5 * (r0 @ r0 + eta @ self.p.omega_inv @ eta)
        grad = jac.T @ r0 + self.p.omega_inv @ eta
        hess = jac.T @ jac + self.p.omega_inv
        return float(j), grad, hess


class _Fit:
    """Levenberg-Marquardt on one patient's J, step by step: ``propose`` a damped step, ``judge`` its J,
    ``update`` with J, gradient and Hessian at an accepted point, ``finish`` into a Posterior. The
    evaluations are the caller's (one patient's solves, or many patients' in one batch)."""

    def __init__(self, obj: _Objective, j: float, g: np.ndarray, h: np.ndarray) -> None:
        self.obj = obj
        self.eta = np.zeros(obj.p.n_eta)
        self.j, self.g, self.h = j, g, h
        self.bad = _unusable(j, g, h)
        self.lam = 1e-3
        self.it = 0
        self.stopped = False
        self.step = np.zeros(0)
        self.trial = np.zeros(0)
        self.j_old = math.nan

    def active(self, max_iter: int) -> bool:
        return self.bad is None and self.it < max_iter and not self.stopped

    def propose(self) -> np.ndarray:
        self.it += 1
        self.step = np.linalg.solve(self.h + self.lam * np.diag(np.diag(self.h)), -self.g)
        self.trial = self.eta + self.step
        return self.trial

    def judge(self, jt: float) -> bool:
        """True when the trial lowers J (then ``update`` needs J, g and H at ``self.eta``)."""
        if jt < self.j:
            self.eta = self.trial
            self.lam = max(self.lam / 10.0, 1e-9)
            self.j_old = self.j
            return True
        self.lam *= 10.0
        if self.lam > 1e8:
            self.stopped = True
        return False

    def update(self, j: float, g: np.ndarray, h: np.ndarray, tol: float) -> None:
        self.j, self.g, self.h = j, g, h
        self.bad = _unusable(j, g, h)
        if self.bad is None and (np.max(np.abs(self.step)) < tol or abs(self.j_old - j) < 1e-7):
            self.stopped = True

    def finish(self, tol: float, max_iter: int, on_failure: str) -> Posterior:
        patient, obj, eta, j, g, h, bad = self.obj.p, self.obj, self.eta, self.j, self.g, self.h, self.bad
        newton = math.nan if bad else float(np.linalg.norm(np.linalg.solve(np.linalg.cholesky(h), g)))
        info = {"gradient_norm": float(np.linalg.norm(g)), "solves": obj.evals, "newton_step_sd": newton}
        if bad is None:
            cov = np.linalg.inv(h)
            cov = 0.5 * (cov + cov.T)
        else:
            cov = np.full((patient.n_eta, patient.n_eta), np.nan)
        if bad is not None:
            failure = bad
        elif not self.stopped:
            failure = "iterations"
        elif not newton < NEWTON_TOL:
            failure = "stalled"
        else:
            return Posterior(patient, eta, cov, j, obj.logy.size, self.it, info=info)
        message = _failure_message(failure, obj, eta, self.it, info, max_iter=max_iter, tol=tol, lam=self.lam)
        if on_failure == "raise":
            raise ConvergenceError(message, patient.patient_id)
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
        return Posterior(patient, eta, cov, j, obj.logy.size, self.it, info=info, converged=False, message=message)


def _check_on_failure(on_failure: str) -> None:
    if on_failure not in ON_FAILURE:
        raise OptionError(f"on_failure={on_failure!r} is not one of 'raise', 'warn'; give on_failure='warn' to get "
                          "the best point with a warning instead of an error.")


def estimate_map(drug: Any, record: Any, *, backend: Compiled | None = None, tol: float = 1e-4,
                 max_iter: int = 100, on_failure: str = "raise") -> Posterior:
    """The posterior mode (MAP) of the patient's etas given their counts, and its Laplace covariance.

    drug: a Drug or its name; record: a PatientRecord (covariates, doses, counts).
    Levenberg-Marquardt on J (the Gauss-Newton Hessian, positive definite by the prior); stops when
    the largest step in eta is below ``tol``, J changes by less than 1e-7, or no damped step lowers J.

    The fit has converged when it stopped that way within ``max_iter`` iterations, J, its gradient and
    the Hessian are finite at every point it reached, the Hessian is positive definite there (so the
    Laplace covariance is valid), and the Newton step still left at the end is under
    :data:`NEWTON_TOL` posterior SDs. Otherwise, with ``on_failure="raise"`` (the default), it raises
    :class:`~mschemo.errors.ConvergenceError`: what failed for which patient, then numbered causes to
    check. With ``on_failure="warn"`` it emits the same text as a
    :class:`~mschemo.errors.ConvergenceWarning` and returns the best point found, with
    ``converged=False`` and the text in ``message`` (``cov`` is NaN where the Hessian was not usable).
    Many patients at once: :func:`mschemo.estimation.batch.estimate_map_many` (the same results).
    """
    _check_on_failure(on_failure)
    patient = drug if isinstance(drug, PatientModel) else PatientModel(drug, record, backend)
    obj = _Objective(patient)
    fit = _Fit(obj, *obj.value_grad_gn(np.zeros(patient.n_eta)))
    while fit.active(max_iter):
        trial = fit.propose()
        if fit.judge(float(obj.value(trial)[0])):
            fit.update(*obj.value_grad_gn(fit.eta), tol)
    return fit.finish(tol, max_iter, on_failure)


def _unusable(j: float, g: np.ndarray, h: np.ndarray) -> str | None:
    """Why the objective's pieces at a point cannot be used ('non-finite', 'not positive definite'), or None."""
    if not (math.isfinite(j) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
        return "non-finite"
    try:
        np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        return "not positive definite"
    return None


_WARN_FIX = ("pass on_failure='warn' to keep the best point found (the Posterior then has converged=False and this "
             "text in .message), and compare its predictions with the counts (post.predict) before using it.")


def _failure_message(failure: str, obj: _Objective, eta: np.ndarray, it: int, info: dict[str, Any], *,
                     max_iter: int, tol: float, lam: float) -> str:
    """The ConvergenceError text: one sentence on what failed for which patient, then numbered causes and fixes."""
    p = obj.p
    who = f"the MAP estimate for patient {p.patient_id} ({p.drug.name}, {obj.logy.size} count(s))"
    where = "at the starting point (the typical patient, all etas 0)" if it == 0 else f"after iteration {it}"
    z = np.abs(eta) / np.sqrt(np.diag(p.omega)) if eta.size else np.zeros(1)
    far = (f"; {p.eta_names[int(np.argmax(z))]} is {float(np.max(z)):.1f} prior SDs from its typical value"
           if eta.size else "")
    if failure == "non-finite":
        first = f"{who} failed: the objective, its gradient or its Hessian is not finite {where}."
        status = p.last_status if p.last_status is not None else np.zeros(0, dtype=np.int64)
        failed = sorted({int(s) for s in status if s != 0})
        bad_counts = int(np.sum(~np.isfinite(obj.logy)))
        causes = []
        if bad_counts:
            causes.append(f"every count must be a number, but {bad_counts} of the {obj.logy.size} are NaN or infinite; "
                          "give each in 10^9/L or delete its row.")
        if failed:
            causes.append(f"the ODE solve failed here: {'; '.join(STATUS_MESSAGES.get(s, 'failed') for s in failed)} "
                          "(the solver is estimate_map's backend argument; by default Compiled(rtol=1e-7, atol=1e-9)).")
        causes += [
            "check the doses (amount, unit mg or mg/m2, infusion duration): an extreme dose can drive a count to 0, "
            "whose logarithm is not finite.",
            "check the covariates (height, weight, age, creatinine clearance) for typing or unit mistakes.",
            _WARN_FIX]
    elif failure == "not positive definite":
        first = (f"{who} failed: the Gauss-Newton Hessian {where} is not positive definite, so the Laplace "
                 "covariance would not be valid.")
        causes = [
            f"the prior covariance (omega) of {p.drug.name}'s parameter file must be positive definite; check its IIV "
            "values and [correlations].",
            "predictions that change by orders of magnitude between neighbouring parameter values make the "
            "finite-difference Hessian ill-conditioned; check the counts and doses for unit mistakes (cells/uL "
            "read as 10^9/L, mg read as mg/m2).",
            _WARN_FIX]
    else:
        if failure == "iterations":
            first = (f"{who} did not converge: it reached max_iter={max_iter} iterations before the steps in eta fell "
                     f"below tol={tol:g} (the Newton step still left is {info['newton_step_sd']:.2g} posterior SDs"
                     f"{far}).")
        else:
            why = "no damped step lowered the objective" if lam > 1e8 else "the steps became too small"
            first = (f"{who} did not converge: it stopped after {it} iteration(s) because {why}, at a point that is "
                     f"not the mode (the Newton step still left is {info['newton_step_sd']:.2g} posterior SDs, above "
                     f"{NEWTON_TOL:g}{far}).")
        causes = [_worst_count(obj, eta)]
        if failure == "iterations":
            causes.append(f"raise max_iter, e.g. estimate_map(..., max_iter={4 * max_iter}); most fits stop within 50 "
                          "iterations.")
        causes += [
            "check the counts' units and dates: a count in cells/uL entered as 10^9/L, a count of 0 (read as 0.01 "
            "x10^9/L) next to a normal one, or a date in the wrong month pulls the parameters far from the "
            "population's.",
            "the model may not describe this patient (counts that rise right after a dose, or a baseline far outside "
            "the population's range); then no dose proposal from it can be trusted.",
            "tighten the solver (backend=Compiled(rtol=1e-9, atol=1e-11)): the gradient comes from finite "
            "differences of the predictions, and solver noise can stop the steps early.",
            _WARN_FIX]
    return first + "\nLikely causes and fixes:\n" + "\n".join(f"  {k}. {c[:1].upper()}{c[1:]}"
                                                               for k, c in enumerate(causes, 1))


def _worst_count(obj: _Objective, eta: np.ndarray) -> str:
    """A checklist line naming the count the fit misses most, at ``eta``."""
    r = obj.residuals(eta)[0]
    if not r.size or not np.all(np.isfinite(r)):
        return "look at the counts the model misses most (post.predict against the counts)."
    i = int(np.argmax(np.abs(r)))
    measured = math.exp(obj.logy[i])
    fitted = math.exp(obj.logy[i] - obj.sigma[i] * r[i])
    return (f"the count the fit misses most is {obj.kinds[i].upper()} on day {obj.days[i]:g}: {measured:.3g} x10^9/L "
            f"measured, {fitted:.3g} fitted ({abs(r[i]):.1f} residual SDs); check it against the laboratory report.")


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
    post._need_covariance()
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
                    dict(post.info, proposals=proposals), post.converged, post.message)
    return out
