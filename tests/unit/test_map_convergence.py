"""estimate_map never fails silently. Each way its Levenberg-Marquardt fit can fail raises
ConvergenceError, whose first line says what failed for which patient and whose next lines are a
numbered checklist of causes and fixes; with on_failure="warn" the same text comes as a
ConvergenceWarning and the best point found is returned, flagged converged=False.

The failure modes, each provoked deterministically:
- the iteration limit (max_iter=1);
- a stop at a point that is not the mode: counts the model cannot reach together (a WBC of 0 on
  day 10 and of 90 on day 11) end in steps too small to count, with the gradient far from zero;
- an objective that is not finite: an ODE solve that fails (max_steps=5), or a count that is NaN;
- a Gauss-Newton Hessian that is not positive definite: only with a prior that is not (the loader
  refuses such an omega, so the test flips the prior of a PatientModel by hand).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

import mschemo as ms
from mschemo.backends import Compiled
from mschemo.errors import ConvergenceError, ConvergenceWarning, MschemoError, OptionError
from mschemo.estimation.map import NEWTON_TOL, PatientModel, estimate_map, sample_posterior

EXAMPLE = Path(ms.__file__).parent / "estimation" / "examples" / "cyclophosphamide.csv"
HEADER = ["record,date,value,unit,duration", "id,,UNFIT-7,,", "drug,,cyclophosphamide,,", "sex,,F,,",
          "age,,34,years,", "height,,165,cm,", "weight,,62,kg,", "dose,2026-03-03,800,mg/m2,1 h"]
#: a WBC of 0 (read as 0.01 x10^9/L) on day 10 and of 90 on day 11: no parameters reach both
UNFITTABLE = [*HEADER, "wbc,2026-02-28,6.1,x10^9/L,", "wbc,2026-03-13,0,x10^9/L,", "wbc,2026-03-14,90,x10^9/L,"]


def patient_file(tmp_path: Path, lines: list[str]) -> ms.estimation.PatientRecord:
    path = tmp_path / "patient.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ms.read_patient(path)


def checklist(message: str, patient_id: str, fragment: str) -> list[str]:
    """The message's numbered lines, after checking its first line: one sentence naming the patient."""
    first, *rest = message.splitlines()
    assert f"patient {patient_id} " in first and fragment in first, first
    assert first.endswith(".") and first.count(". ") == 0, first
    assert rest[0] == "Likely causes and fixes:"
    items = rest[1:]
    assert len(items) >= 3
    for k, line in enumerate(items, 1):
        assert re.fullmatch(rf"  {k}\. [A-Z].*[.)]", line), line
    return items


@pytest.fixture(scope="module")
def example():
    return ms.read_patient(EXAMPLE)


def test_a_converged_fit_is_flagged_so(example):
    post = estimate_map(example.drug, example)
    assert post.converged and post.message == ""
    assert post.info["newton_step_sd"] < NEWTON_TOL
    assert np.all(np.linalg.eigvalsh(post.cov) > 0)


def test_iteration_limit(example):
    with pytest.raises(ConvergenceError) as err:
        estimate_map(example.drug, example, max_iter=1)
    assert err.value.patient_id == "DEMO-CY-01"
    items = checklist(str(err.value), "DEMO-CY-01", "reached max_iter=1 iterations")
    assert any("max_iter=4" in line for line in items)


def test_counts_the_model_cannot_fit_stop_away_from_the_mode(tmp_path):
    rec = patient_file(tmp_path, UNFITTABLE)
    with pytest.raises(ConvergenceError) as err:
        estimate_map(rec.drug, rec)
    items = checklist(str(err.value), "UNFIT-7", "at a point that is not the mode")
    assert "WBC on day 11: 90 x10^9/L measured" in items[0]


def test_a_failed_ode_solve_gives_a_non_finite_objective(example):
    """Before, the NaN gradient became a NaN step and the next solve raised a ModelError about the
    parameter file."""
    with pytest.raises(ConvergenceError) as err:
        estimate_map(example.drug, example, backend=Compiled(max_steps=5))
    items = checklist(str(err.value), "DEMO-CY-01", "is not finite at the starting point")
    assert "maximum number of solver steps reached" in items[0]


def test_a_count_that_is_not_a_number_gives_a_non_finite_objective(example):
    counts = example.counts.copy()
    counts.loc[counts.index[3], "value"] = np.nan
    rec = dataclasses.replace(example, counts=counts)
    with pytest.raises(ConvergenceError) as err:
        estimate_map(rec.drug, rec)
    items = checklist(str(err.value), "DEMO-CY-01", "is not finite")
    assert "1 of the 8 are NaN or infinite" in items[0]


def test_a_hessian_that_is_not_positive_definite(tmp_path):
    """The Gauss-Newton Hessian J'J + Omega^-1 is positive definite whenever it is finite and the prior
    is; parameter files with a prior that is not are refused when loaded, so the prior is flipped here
    by hand (one count: J'J has rank 1 and cannot make up for it)."""
    rec = patient_file(tmp_path, [*HEADER, "wbc,2026-03-13,2.0,x10^9/L,"])
    patient = PatientModel(rec.drug, rec)
    patient.omega_inv = -patient.omega_inv
    with pytest.raises(ConvergenceError) as err:
        estimate_map(patient, rec)
    checklist(str(err.value), "UNFIT-7", "Hessian at the starting point (the typical patient, all etas 0) is not "
                                         "positive definite")


def test_no_counts_the_prior_mean_is_the_mode(tmp_path):
    """With no count no damped step lowers J (the gradient is 0): the fit stops that way and has converged."""
    rec = patient_file(tmp_path, HEADER)
    post = estimate_map(rec.drug, rec)
    assert post.converged and np.all(post.mode == 0.0) and post.info["newton_step_sd"] == 0.0


def test_warn_returns_the_best_point_flagged(example):
    with pytest.warns(ConvergenceWarning) as caught:
        post = estimate_map(example.drug, example, max_iter=1, on_failure="warn")
    assert len(caught) == 1
    assert not post.converged and post.message == str(caught[0].message)
    checklist(post.message, "DEMO-CY-01", "reached max_iter=1 iterations")
    assert post.iterations == 1 and np.all(np.isfinite(post.cov))
    typical = float(ms.estimation.map.log_posterior(post, np.zeros(post.mode.size))[0])
    assert -post.objective >= typical                      # no worse than where it started
    full = sample_posterior(post, 50, proposals=200, seed=1)
    assert not full.converged and full.message == post.message


def test_warn_without_a_usable_hessian_leaves_no_covariance_to_draw_from(example):
    with pytest.warns(ConvergenceWarning, match="not finite"):
        post = estimate_map(example.drug, example, backend=Compiled(max_steps=5), on_failure="warn")
    assert not post.converged and np.all(post.mode == 0.0) and np.all(np.isnan(post.cov))
    with pytest.raises(ConvergenceError, match="patient DEMO-CY-01"):
        post.draws(10)
    with pytest.raises(ConvergenceError, match="patient DEMO-CY-01"):
        sample_posterior(post, 10)


def test_on_failure_is_raise_or_warn(example):
    with pytest.raises(OptionError, match="on_failure='ignore' is not one of 'raise', 'warn'"):
        estimate_map(example.drug, example, on_failure="ignore")


def test_the_error_and_the_warning_are_public():
    assert issubclass(ms.ConvergenceError, MschemoError) and issubclass(ms.ConvergenceError, RuntimeError)
    assert issubclass(ms.ConvergenceWarning, UserWarning)
    assert {"ConvergenceError", "ConvergenceWarning"} <= set(ms.__all__)
