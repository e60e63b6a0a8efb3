"""Feedback on the precursors: no count exceeds its baseline, whatever the doses and parameters.

The property is one of the equations (proof in the docstring of mschemo.models.transit): with the
feedback (Prol0/Prol)^gamma the proliferating pool cannot grow past Prol0 = Circ0, and the transit and
circulating pools downstream only follow it (the direct kill only removes cells). Both backends must
keep it to within their tolerance (the local error bound rtol per step; the global error a step
sequence accumulates is allowed ten times that). The Friberg feedback on the count, the same parameters otherwise,
overshoots clearly: the check has teeth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from helpers import TIGHT_COMPILED, TIGHT_SCIPY
from mschemo.models import LinearPK, LymphocyteTransit, chain

# strong feedback and deep, repeated nadirs: the conditions under which a count-feedback block overshoots most
PATIENTS = pd.DataFrame({
    "id": [1, 2, 3, 4],
    "height_cm": [170.0] * 4, "weight_kg": [70.0] * 4,
    "CL": [20.0, 5.0, 40.0, 10.0], "V1": [50.0] * 4,
    "ALC_CIRC0": [1.8, 1.0, 3.4, 2.2], "ALC_MTT": [4.0, 12.0, 30.0, 7.0], "ALC_GAMMA": [0.5, 0.3, 0.2, 0.4],
    "ALC_SLOPE": [0.2, 0.05, 0.5, 1.0], "ALC_CAP": [1.0, 0.9, 1.0, 1.0], "ALC_HALF_LIFE": [3.0, 30.0, 10.0, 60.0],
    "ALC_KILL": [0.05, 0.0, 0.3, 0.02],
})
REGIMEN = "800 mg over 1 h every 14 days x 6"


def _peak_over_baseline(feedback: str, backend) -> tuple[float, float]:
    """(largest count / baseline, largest state / baseline) over every patient and output time."""
    model = chain(LinearPK(1), LymphocyteTransit("alc", feedback=feedback))
    res = ms.simulate(model, REGIMEN, ms.Population(PATIENTS), output="3 h", until="400 days", backend=backend,
                      record_states=True)
    base = PATIENTS["ALC_CIRC0"].to_numpy()[:, None]
    states = np.stack([res.column(f"state_{s}") for s in model.states if s.startswith("alc_")], axis=2)
    assert np.all(states[:, :, -1] == res.column("alc"))
    return float(np.max(res.column("alc") / base)), float(np.max(states / base[:, :, None]))


@pytest.mark.parametrize("backend", [ms.backends.Compiled(), TIGHT_COMPILED, TIGHT_SCIPY],
                         ids=["compiled", "compiled-tight", "scipy-tight"])
def test_feedback_on_the_precursors_never_exceeds_baseline(backend):
    count, state = _peak_over_baseline("precursor", backend)
    tol = 10.0 * backend.rtol
    assert count <= 1.0 + tol and state <= 1.0 + tol, (count, state, tol)


def test_feedback_on_the_count_overshoots_with_the_same_parameters():
    count, _ = _peak_over_baseline("circulating", ms.backends.Compiled())
    assert count > 1.05, count


def test_the_friberg_block_keeps_its_published_feedback():
    from mschemo.errors import ModelError
    from mschemo.models import Friberg

    with pytest.raises(ModelError, match="published feedback"):
        Friberg("anc", feedback="precursor")
    assert Friberg("anc").feedback == "circulating"
