"""Untreated disability: EDSS milestones, conversion to secondary progression and PIRA against
published cohorts.

Fitted (calibration/calibrate_progression.py, with the 2-year trial arms of
test_disability_trials.py): the relapsing-phase PIRA rate, the pace from EDSS 6 on, the share of
worsening that regresses and the visit variability, to the Cardiff relapsing-onset median years to
sustained EDSS 4/6/8 (Harding 2015: 17.1/22.1/39.7) among other targets. Sourced, not fitted:
conversion to SPMS (Koch 2010 median 21.4 y), the progressive pace (Stellmann 2014, 0.35 EDSS a
year), PIRA rising with age (Prosperini 2021). Predicted, used for nothing: the share of
worsening independent of relapses (Italian registry, Portaccio 2024: 72.8 %), the share reaching
EDSS 6 within 15 years (British Columbia 1975-95 onsets: 22.3-28.5 %), and primary progressive
milestones (London Ontario, Cottrell 1999: EDSS 3/4/6/7/8 at 4/5/8/15/18 years).
Cohorts here use a new seed (7); tolerances are their sampling errors or, for predictions, the
spread of the published figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.calibration.disability import CARDIFF_RELAPSING_ONSET, natural_history
from mschemo.disease.disability import REGRESSION, YEAR, DisabilityModel, simulate_disability

N = 3000


@pytest.fixture(scope="module")
def relapsing():
    return natural_history(N, 7)


@pytest.fixture(scope="module")
def primary_progressive():
    return natural_history(N, 7, course="PPMS")


@pytest.mark.parametrize("level", sorted(CARDIFF_RELAPSING_ONSET))
def test_cardiff_relapsing_onset_milestones_on_a_new_cohort(relapsing, level):
    """Harding 2015 (2,131 patients): median years from onset to EDSS 4 / 6 / 8. Tolerance 2 years
    (unchanged): the fit's own misfit (the progressive pace is fixed at Stellmann's, and the same
    values must also meet the 2-year trial arms) plus twice the sampling error of a median of 3000
    simulated times (about 0.3 y)."""
    assert relapsing.median_years(level) == pytest.approx(CARDIFF_RELAPSING_ONSET[level], abs=2.0)


def test_conversion_to_secondary_progression_follows_koch(relapsing):
    """Koch 2010 (5,207 BC patients): median 21.4 years from onset to SPMS (20.6-22.2). The
    sex effect is normalised to the BC share of women, so the median is kept; tolerance 1 year
    (the published CI plus simulation error)."""
    assert relapsing.sp_median_years() == pytest.approx(21.4, abs=1.0)


def test_prediction_share_of_worsening_independent_of_relapses(relapsing):
    """Not fitted. Italian registry (Portaccio 2024, 16,130 patients over 11.8 years): 72.8 % of
    confirmed disability accumulation was PIRA; pooled trials (NO.MS, Lublin 2022) 47.3 % PIRA vs
    26.9 % RAW. The model's share of EDSS points gained without a relapse over 12 years must lie
    between these two (a definition-dependent figure: 38.8-74.1 % across 18 definitions)."""
    # the first 12 years, as the docstring and the registry's 11.8 years of follow-up say (the whole
    # 60 years were taken before; they are mostly progressive phase, which the registry did not follow)
    assert 0.388 <= relapsing.pira_share(12.0) <= 0.741


def test_prediction_share_at_edss_6_within_15_years(relapsing):
    """Not fitted. British Columbia (2,236 relapsing-onset patients): 22.3-28.5 % reached EDSS 6
    within 15 years across onset periods. Tolerance: that range widened by the simulation's
    sampling error (0.008) and the cohorts' own errors (about 0.02)."""
    assert 0.19 <= relapsing.share_by(6.0, 15.0) <= 0.31


@pytest.mark.xfail(strict=True, reason="primary progressive milestones come about twice as late as in London Ontario "
                   "(Cottrell 1999, 216 PPMS): from onset EDSS 0 the model reaches EDSS 3/4/6/7 at about 8/11/16.5/25.5 "
                   "years against 4/5/8/15; Stellmann's 0.35 EDSS a year (a mixed-EDSS PPMS cohort) is slower than "
                   "the early pace of PPMS from onset")
def test_prediction_primary_progressive_milestones(primary_progressive):
    """Not fitted: London Ontario PPMS (Cottrell 1999): median years to EDSS 3/4/6/7 of 4/5/8/15
    from onset (onset EDSS taken as 0). Tolerance 2.5 years: Cardiff's PPMS medians differ from these
    by up to 4 years (EDSS 4 at 8.1, 6 at 9.6)."""
    for level, years in ((3.0, 4.0), (4.0, 5.0), (6.0, 8.0), (7.0, 15.0)):
        assert primary_progressive.median_years(level) == pytest.approx(years, abs=2.5)


@pytest.mark.xfail(strict=True, reason="2-year placebo EDSS change in secondary progressive patients at EDSS 4-5 is "
                   "about 0.62-0.70 in the model against +0.17 to +0.45 in MAESTRO-01's placebo arms: trial cohorts "
                   "progress more slowly than the natural-history pace the model uses")
def test_prediction_secondary_progressive_trial_placebo_change():
    """Not fitted: MAESTRO-01 placebo (SPMS, Drugs 2015 review Table 4): EDSS +0.17 (HLA DR2/4+) and
    +0.45 (DR2/4-) over 24 months. A cohort of 4000 SPMS patients at EDSS 5 (15 years' duration)
    must change by at most 0.45 + 2 standard errors of a trial arm (about 0.1)."""
    n = 4000
    pop = ms.Population(pd.DataFrame({"id": np.arange(1, n + 1), "height_cm": 170.0, "weight_kg": 70.0, "sex": "F",
                                      "ms_course": "SPMS", "edss": 5.0, "ms_duration_y": 15.0}))
    d = ms.simulate_disease(pop, "2 years", 3)
    assert float(np.mean(d.edss_sustained[:, -1] - d.edss_sustained[:, 0])) <= 0.55


def _one(course: str, edss: float = 2.0, duration_y: float = 25.0) -> ms.Population:
    return ms.Population(pd.DataFrame({"id": [1], "height_cm": [170.0], "weight_kg": [70.0], "sex": ["F"],
                                       "ms_course": [course], "edss": [edss], "ms_duration_y": [duration_y]}))


def test_relapse_residuals_count_in_the_relapsing_phase_only():
    """Tremlett 2009: relapses during SPMS did not change the time to EDSS 6; SP_RESIDUAL_FACTOR 0."""
    rel = pd.DataFrame({"id": [1], "relapse": [1], "day": [10.0], "recovery_d": [50.0], "edss_rise": [2.0],
                        "edss_residual": [1.0]})
    # regression switched off too: the test is about where residuals count, not whether they regress later
    still = DisabilityModel.load().with_values(pira_rate=0.0, progressive_rate=0.0, regression_share=0.0)
    rr = simulate_disability(_one("RRMS", duration_y=0.0), 365.0, 1, rel, model=still, duration_d=np.zeros(1))
    sp = simulate_disability(_one("SPMS"), 365.0, 1, rel, model=still, duration_d=np.array([25 * YEAR]))
    assert rr.sustained(np.array([59.0, 61.0])).tolist() == [[2.0, 3.0]]
    assert sp.sustained(np.array([59.0, 61.0])).tolist() == [[2.0, 2.0]]
    assert rr.milestone_day[3.0][0] == pytest.approx(60.0)


def test_edss_stays_on_the_half_point_grid_and_below_the_maximum():
    nh = natural_history(300, 3, years=80.0)
    e = nh.paths.sustained(np.linspace(0, 80 * YEAR, 50))
    assert np.all(e <= 9.5) and np.all(e >= 0) and np.allclose(e * 2, np.round(e * 2))
    # sustained EDSS now improves, but only by regressions, each undoing (part of) an earlier gain
    p = nh.paths
    falls = p.change_size < 0
    assert falls.any() and np.all(p.change_kind[falls] == REGRESSION) and np.all(p.change_kind[~falls] != REGRESSION)
    for i in range(len(p.ids)):
        mine = p.change_patient == i
        assert -p.change_size[mine & falls].sum() <= p.change_size[mine & ~falls].sum() + 1e-9


def test_already_progressive_patients_progress_from_day_0():
    """An SPMS patient at entry is progressive at once; an RRMS patient at 0 years converts later."""
    pop = ms.Population(pd.DataFrame({"id": [1, 2], "height_cm": 170.0, "weight_kg": 70.0, "sex": "F",
                                      "ms_course": ["SPMS", "RRMS"], "edss": [4.0, 1.0], "ms_duration_y": [20.0, 0.0]}))
    rel = pd.DataFrame(columns=["id", "relapse", "day", "recovery_d", "edss_rise", "edss_residual"])
    p = simulate_disability(pop, 3650.0, 11, rel, duration_d=np.array([20.0, 0.0]) * YEAR)
    assert p.progressive_day[0] == 0.0 and p.progressive_day[1] > 0
    assert p.course(np.array([0.0]))[:, 0].tolist() == ["SPMS", "RRMS"]


def test_bad_course_and_edss_are_one_sentence_errors():
    rel = pd.DataFrame(columns=["id", "relapse", "day", "recovery_d", "edss_rise", "edss_residual"])
    with pytest.raises(ms.errors.PopulationError, match="column 'ms_course' has 'RRPS' for patient 1; use one of RRMS, SPMS, PPMS"):
        simulate_disability(_one("RRPS"), 10.0, 1, rel)
    with pytest.raises(ms.errors.PopulationError, match="column 'edss' has 12 for patient 1, outside 0-9.5; give an EDSS from 0 to 9.5"):
        simulate_disability(_one("RRMS", edss=12.0), 10.0, 1, rel)
