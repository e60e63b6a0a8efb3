"""Lymphocytes recover to their baseline, not above it, after each drug's regimen, over 3 years.

No source shows total lymphocytes overshooting their baseline after cladribine, mitoxantrone or
cyclophosphamide: recovery *to* entry levels 6 months after cyclophosphamide pulses (Lacki JK et al.
1997, Rheumatol Int 17:55), persistent B-cell suppression after mitoxantrone (Gbadamosi J et al. 2003,
Eur Neurol 49:137; Chanvillard C et al. 2012), median ALC back in the normal range, not above baseline,
by week 84 after cladribine tablets (Comi G et al. 2019, Mult Scler Relat Disord 29:168); see
references/immune_durability_and_progression_facts.md 2a-2e. The lymphocyte blocks read their
feedback from the precursors (mschemo.models.transit), so no patient's count can exceed baseline;
the compiled solver keeps that to within its tolerance (rtol 1e-6; ten times that is allowed for the
error a sequence of steps accumulates, as in tests/contract/test_no_overshoot.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import mschemo as ms

N = 200
SEED = 3
TOL = 10.0 * ms.backends.Compiled().rtol

REGIMENS = {
    "mitoxantrone": "12 mg/m2 over 30 min every 1 month x 6",
    "cyclophosphamide": "800 mg/m2 over 1 h every 1 month x 6",
    "cladribine": None,   # the label tablets by weight band
}


def _relative_alc(drug: str) -> np.ndarray:
    d = ms.load_drug(drug)
    res = ms.simulate(d, REGIMENS[drug], N, seed=SEED, rules=False, until="3 years")   # every planned dose
    assert res.all_ok
    alc = res.column("alc")
    return alc / alc[:, :1]


@pytest.mark.parametrize("drug", sorted(REGIMENS))
def test_lymphocytes_never_exceed_baseline_over_3_years(drug):
    rel = _relative_alc(drug)
    median = np.median(rel, axis=0)
    assert median.max() <= 1.0 + TOL, f"{drug}: median ALC reaches {median.max():.4f} x baseline"
    assert rel.max() <= 1.0 + TOL, f"{drug}: a patient's ALC reaches {rel.max():.7f} x baseline"
    assert median.min() < 0.8, f"{drug}: the regimen should lower the lymphocytes (median low {median.min():.2f})"
