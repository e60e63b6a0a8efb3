"""The calibrated drug models reproduce the published clinical facts they were fitted to, on a new
virtual cohort (another seed than the calibration's), and the files hold what the script wrote.

Each target (src/mschemo/calibration/targets.py) names its source. Tolerance: the calibration used
300 patients drawn with seed 20261125; here 200 other patients are drawn. A median day then moves by
about one output day and a share by about 3 points from sampling alone, so a target counts as
reproduced when its misfit is within 1.5 of its scale (the scale of each target is written in the
target and in the file: 1-2 days for nadir days, 3-8 points for shares).
"""

from __future__ import annotations

import pytest

import mschemo as ms
from mschemo.calibration.fit import evaluate, virtual_population
from mschemo.calibration.targets import FITTED, TARGETS

SEED = 7
N = 200
TOLERANCE = 1.5


@pytest.fixture(scope="module", params=sorted(TARGETS))
def evaluated(request):
    drug = request.param
    ps = ms.load_drug(drug).model.parameter_set
    values = {k: ps[k].file_value for k in FITTED[drug]}
    return drug, evaluate(drug, values, virtual_population(drug, N, SEED))


def test_every_target_is_reproduced_on_a_new_cohort(evaluated):
    drug, ev = evaluated
    failed = []
    for t in TARGETS[drug]:
        m = ev.misfits[t.name]
        if abs(m) > TOLERANCE:
            failed.append(f"{t.name}: simulated {ev.simulated[t.name]:.3g} vs published {t.published:.3g} "
                          f"(misfit {m:+.2f} x scale {t.scale:g}; source: {t.source})")
    assert not failed, f"{drug}: " + " | ".join(failed)


def test_the_file_holds_the_fitted_values_and_the_targets(evaluated):
    """The [calibration] table was written by calibration/calibrate.py for the values in the file."""
    drug, _ = evaluated
    ps = ms.load_drug(drug).model.parameter_set
    cal = ps.raw.get("calibration")
    assert cal is not None, f"{drug}: no [calibration] table; run calibration/calibrate.py {drug} --write"
    assert cal["script"] == "calibration/calibrate.py"
    for name in FITTED[drug]:
        assert cal["fitted"][name]["fitted"] == pytest.approx(ps[name].file_value, rel=1e-5)
        assert "calibrated by calibration/calibrate.py" in ps[name].source.assumption
    written = {t["name"]: t for t in cal["targets"]}
    for t in TARGETS[drug]:
        assert written[t.name]["published"] == pytest.approx(t.published)
        assert written[t.name]["source"] == t.source
