"""Many patients' MAP fits in one batch give each patient's own fit, bit for bit (estimation/batch.py):
patients with different doses, count days and covariates, a failing fit among them, and the order."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import mschemo as ms
from mschemo.estimation.batch import estimate_map_many
from mschemo.estimation.patient import PatientRecord

EXAMPLES = Path(ms.estimation.__file__).parent / "examples"


def _cohort(n: int) -> list[PatientRecord]:
    """The example cyclophosphamide patient, and n copies of it with other covariates, fewer or shifted
    counts and another dose: patients that differ in everything the batch must keep apart."""
    base = ms.read_patient(EXAMPLES / "cyclophosphamide.csv")
    rng = np.random.default_rng(7)
    out = [base]
    for k in range(n):
        cov = dict(base.covariates) | {"weight_kg": float(rng.uniform(50, 100)), "height_cm": float(rng.uniform(150, 195))}
        counts = base.counts.sample(frac=float(rng.uniform(0.6, 1.0)), random_state=k).sort_values(["day", "kind"])
        counts = counts.assign(value=counts["value"] * np.exp(0.2 * rng.standard_normal(len(counts))))
        doses = base.doses.assign(amount=base.doses["amount"] * float(rng.uniform(0.7, 1.2)))
        out.append(PatientRecord(f"B{k:02d}", base.drug, cov, base.start, doses.reset_index(drop=True),
                                 counts.reset_index(drop=True), base.lvef))
    return out


def _same(a, b) -> None:
    assert np.array_equal(a.mode, b.mode) and np.array_equal(a.cov, b.cov, equal_nan=True)
    assert a.objective == b.objective and a.iterations == b.iterations and a.n_obs == b.n_obs
    assert a.info == b.info and a.converged == b.converged and a.message == b.message


def test_a_batch_gives_each_patients_own_fit_bit_for_bit():
    records = _cohort(8)
    one = [ms.estimate_map("cyclophosphamide", r) for r in records]
    many = estimate_map_many("cyclophosphamide", records)
    assert len({p.iterations for p in many}) > 1          # the patients did not move in step by chance
    for a, b in zip(one, many):
        _same(a, b)
    back = estimate_map_many(ms.load_drug("cyclophosphamide"), records[::-1])
    for a, b in zip(one[::-1], back):
        _same(a, b)


def test_fits_that_fail_fail_as_they_do_alone():
    """Two iterations are too few: each fit fails with the message it has alone (warn), and the batch
    raises ConvergenceError for the first patient (raise)."""
    records = _cohort(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ms.ConvergenceWarning)
        alone = [ms.estimate_map("cyclophosphamide", r, on_failure="warn", max_iter=2) for r in records]
        together = estimate_map_many("cyclophosphamide", records, on_failure="warn", max_iter=2)
    assert not any(p.converged for p in together)
    for a, b in zip(alone, together):
        _same(a, b)
    with pytest.raises(ms.ConvergenceError, match=f"patient {records[0].id} "):
        estimate_map_many("cyclophosphamide", records, max_iter=2)


def test_no_records_no_fits_and_a_bad_on_failure_is_one_sentence():
    assert estimate_map_many("cyclophosphamide", []) == []
    with pytest.raises(ms.OptionError, match="on_failure='maybe' is not one of"):
        estimate_map_many("cyclophosphamide", _cohort(0), on_failure="maybe")
