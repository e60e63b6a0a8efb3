"""The calibrated drug models reproduce the published clinical facts they were fitted to, on a new
virtual cohort (another seed than the calibration's), and the files hold what the script wrote.

Each target (src/mschemo/calibration/targets.py) names its source. Tolerance: the calibration used
1000 patients drawn with seed 20261125; here 400 other patients are drawn. A median day then moves by
about one output day and a share by about 3 points from sampling alone, so a target counts as
reproduced when its misfit is within 1.5 of its scale (the scale of each target is written in the
target and in the file: 1-2 days for nadir days, 3-8 points for shares).
"""

from __future__ import annotations

import pytest

import mschemo as ms
from mschemo.calibration.fit import OMEGA, _start_value, evaluate, virtual_population
from mschemo.calibration.targets import FITTED, TARGETS

SEED = 7
N = 400
TOLERANCE = 1.5

# Published facts the calibrated structure does not reproduce (misfit on the calibration cohort, in
# units of the target's scale). Each is an honest failure, kept visible: strict xfail, so a model
# change that reproduces the fact turns the test red until this list is updated.
NOT_REPRODUCED = {
    ("mitoxantrone", "edan_anc_below_1.5"): "84 % of virtual patients reach ANC < 1.5 on 20 mg monthly, published "
        "21/21 (bound 95 %): misfit -3.6. With proportional falls, baselines spread as in healthy adults "
        "(1.7-6.2 x10^9/L) cannot all end below 1.5 while few end below 0.5",
    ("mitoxantrone", "edan_anc_grade4"): "32 % reach ANC < 0.5 against an inferred bound of 15 % (misfit +3.4): the "
        "other side of the same trade-off",
    ("cladribine", "alc_nadir_day_year1"): "the median ALC curve has two troughs of nearly equal depth: right after the "
        "second treatment week (day 35; the direct kill of circulating lymphocytes acts while the drug is in plasma) "
        "and about day 60 (the depleted precursors). On the calibration cohort the later one is lower (day 60, misfit "
        "+0.4); on this cohort, as on 4 of 5 other cohorts of 400, the earlier one (day 35, misfit -2.1), so week 9 "
        "(day 56) is not reproduced reliably",
}

_cache: dict[str, object] = {}


def _evaluated(drug: str):
    if drug not in _cache:
        ps = ms.load_drug(drug).model.parameter_set
        values = {k: _start_value(ps, k) for k in FITTED[drug]}
        _cache[drug] = evaluate(drug, values, virtual_population(drug, N, SEED))
    return _cache[drug]


def _cases():
    out = []
    for drug in sorted(TARGETS):
        for t in TARGETS[drug]:
            marks = ()
            if (drug, t.name) in NOT_REPRODUCED:
                marks = pytest.mark.xfail(strict=True, reason=NOT_REPRODUCED[(drug, t.name)])
            out.append(pytest.param(drug, t, id=f"{drug}-{t.name}", marks=marks))
    return out


@pytest.mark.parametrize(("drug", "target"), _cases())
def test_target_is_reproduced_on_a_new_cohort(drug, target):
    ev = _evaluated(drug)
    m = ev.misfits[target.name]
    assert abs(m) <= TOLERANCE, (f"{drug} {target.name}: simulated {ev.simulated[target.name]:.3g} vs published "
                                 f"{target.published:.3g} (misfit {m:+.2f} x scale {target.scale:g}; {target.source})")


@pytest.fixture(scope="module", params=sorted(TARGETS))
def evaluated(request):
    return request.param, None


def test_the_file_holds_the_fitted_values_and_the_targets(evaluated):
    """The [calibration] table was written by calibration/calibrate.py for the values in the file."""
    drug, _ = evaluated
    ps = ms.load_drug(drug).model.parameter_set
    cal = ps.raw.get("calibration")
    assert cal is not None, f"{drug}: no [calibration] table; run calibration/calibrate.py {drug} --write"
    assert cal["script"] == "calibration/calibrate.py"
    for name in FITTED[drug]:
        assert cal["fitted"][name.replace(OMEGA, "omega_")]["fitted"] == pytest.approx(_start_value(ps, name), rel=1e-5)
        p = ps[name.replace(OMEGA, "")]
        source = p.iiv_source if name.startswith(OMEGA) else p.source
        assert "calibrated by calibration/calibrate.py" in source.assumption
    written = {t["name"]: t for t in cal["targets"]}
    for t in TARGETS[drug]:
        assert written[t.name]["published"] == pytest.approx(t.published)
        assert written[t.name]["source"] == t.source
