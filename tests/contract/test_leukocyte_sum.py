"""Leukocytes of the drug models are the sum of their parts: WBC = ANC x (1 + OTHER/ANC0) + ALC.

So WBC is never below neutrophils plus lymphocytes, at baseline it is ANC0 + OTHER + ALC0, and a
rule or a nadir on WBC reads the same cells the neutrophil and lymphocyte models simulate.
"""

from __future__ import annotations

import numpy as np
import pytest

import mschemo as ms


@pytest.mark.parametrize("name", ["mitoxantrone", "cyclophosphamide", "cladribine"])
def test_wbc_is_neutrophils_plus_lymphocytes_plus_other_cells(name):
    drug = ms.load_drug(name)
    res = ms.simulate(drug, n=20, seed=3, until="200 days", rules=False)
    wbc, anc, alc = res.column("wbc"), res.column("anc"), res.column("alc")
    pop = drug.complete(drug.population_spec().sample(20, res.provenance["seed"], drug.model), res.provenance["seed"])
    params = pop.individual_parameters(drug.model)
    other = params[:, drug.model.parameters.index("WBC_OTHER")]
    anc0 = params[:, drug.model.parameters.index("ANC_CIRC0")]
    np.testing.assert_allclose(wbc, anc * (1.0 + (other / anc0)[:, None]) + alc, rtol=1e-12)
    assert np.all(wbc >= anc + alc)
    np.testing.assert_allclose(wbc[:, 0], anc0 + other + params[:, drug.model.parameters.index("ALC_CIRC0")],
                               rtol=1e-9)


def test_a_derived_count_needs_its_parts():
    from mschemo.models import Friberg, LinearPK
    from mschemo.models.chain import ChainedModel, LeukocyteSum

    with pytest.raises(ms.ModelError) as err:
        ChainedModel(LinearPK(1), (Friberg("anc"),), derived=(LeukocyteSum("wbc", "anc", "alc"),))
    assert "'alc'" in str(err.value)
