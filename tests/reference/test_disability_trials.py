"""Disability in 2-year trial arms, scored every 3 months and measured as trials measure it:
confirmed progression and its relapse association, confirmed improvement, EDSS falling below
baseline.

Fitted (calibration/calibrate_progression.py, seed 20261125, 2000 patients per arm): AFFIRM placebo
3-month confirmed progression 29 % (Hindawi 2011 Table 1), NO.MS's share of worsening independent
of relapses (47.3 %, Lublin 2022) in that arm, 6-month confirmed improvement 13 % in interferon arms
(CARE-MS II, OPERA). Here they are recomputed on new cohorts (seed 7, 2000 patients) with the fit's
bands, and the figures not used for fitting are checked as predictions: the share of placebo events
independent of relapses between NO.MS and OPERA, the relapse-free progression rate (facts 3b,
DERIVED), Liu & Blumhardt's 3- and 6-month confirmed progression, the share of events not held at the
end of 2 years ("error rate about 50 %"), the placebo improvement band, MSBase's regression of
confirmed progression (Kalincik 2015) and ORATORIO's PPMS placebo.
"""

from __future__ import annotations

import numpy as np
import pytest

from mschemo.calibration.disability import AFFIRM, MSBASE, OPERA_IFN, ORATORIO, trial_arm, trial_cohort
from mschemo.disease.disability import YEAR

N = 2000
SEED = 7


@pytest.fixture(scope="module")
def placebo():
    return trial_arm(trial_cohort(N, SEED, **AFFIRM), SEED)


@pytest.fixture(scope="module")
def interferon():
    return trial_arm(trial_cohort(N, SEED + 1, **OPERA_IFN), SEED + 1)


def _se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


def test_placebo_confirmed_progression_as_in_affirm(placebo):
    """Fitted. AFFIRM placebo (315 patients): 3-month confirmed progression in 29 % over 2 years
    (84/315). Band: its 95 % interval, 0.24-0.34."""
    assert 0.24 <= placebo.cdp3.share <= 0.34


def test_placebo_share_of_progression_independent_of_relapses(placebo):
    """Relapse-independent (no relapse within 90 days before onset) share of the 3-month confirmed
    progression events of a 2-year placebo arm of 2000 relapsing patients. Published: NO.MS 47.3 %
    of worsening events (Lublin 2022, PIRA = worsening at least 90 days from a relapse) to OPERA
    78.7-88.9 % (Kappos 2020; a composite with fewer relapses on treatment); the Austrian registry
    56-86 % across definitions. Band 0.41-0.89: NO.MS's 0.473 less two standard errors of the
    simulated share (about 0.03 with some 550 events), up to OPERA's 0.889. (Older high-relapse
    placebo arms had more relapse-associated than independent worsening with a 180-day window,
    Scott 2013, so no higher floor is taken.) NO.MS was the calibration target."""
    n_events = int(placebo.cdp3.event.sum())
    assert n_events > 300
    assert 0.473 - 2 * _se(0.473, n_events) <= placebo.pira_share <= 0.889


def test_relapse_free_patients_progress_at_the_derived_rate(placebo):
    """Not fitted. facts 3b (DERIVED): relapse-independent confirmed worsening in placebo RRMS arms
    about 0.06-0.16 a year (all-cause 0.12-0.19 a year times a 50-85 % relapse-independent share).
    The 3-month confirmed progression rate of the arm's relapse-free patients, -ln(1 - p)/2 years,
    lies in that band."""
    assert placebo.relapse_free.sum() > 600
    assert 0.06 <= placebo.relapse_free_rate() <= 0.16


@pytest.mark.xfail(strict=True, reason="fitted but missed: 6-month confirmed improvement in a simulated interferon arm "
                   "is about 6 % against 13 % in CARE-MS II and OPERA. The model's improvement comes from regression "
                   "of worsening and visit variability only; patients entering a trial soon after relapses (as entry "
                   "criteria select them) and still recovering are not simulated, as relapses start at day 0")
def test_interferon_arm_confirmed_improvement(interferon):
    """Fitted. 6-month confirmed improvement (>= 1.0 from a baseline EDSS >= 2.0, 0.5 above 5.5)
    over 2 years in interferon arms: 13 % in CARE-MS II, 13.3 % in OPERA (immune facts 3c). Band
    0.10-0.16 (about two standard errors of arms of 200-800 patients)."""
    assert interferon.cdi6.eligible.sum() > 1000
    assert 0.10 <= interferon.cdi6.share <= 0.16


@pytest.mark.xfail(strict=True, reason="missed: about 5 % of the placebo arm has 6-month confirmed improvement, below "
                   "the band's floor (AFFIRM+SENTINEL's 6.8 % less two standard errors, 5.3 %); the same missing "
                   "recovery from relapses before entry as in the interferon arm")
def test_placebo_confirmed_improvement_band(placebo):
    """Not fitted; no placebo figure exists (facts 3c: NOT FOUND). Band argued from the references:
    at least AFFIRM+SENTINEL's 6.8 % (there improvement events outnumbered PIRA events, 6.8 % of
    patients, in every arm) less two standard errors of the arm, and at most the interferon arms'
    13 % plus two standard errors (a placebo arm improves no more than a treated one: its relapses
    keep adding worsening)."""
    n = int(placebo.cdi6.eligible.sum())
    assert 0.068 - 2 * _se(0.068, n) <= placebo.cdi6.share <= 0.13 + 2 * _se(0.13, n)


def test_edss_falls_below_baseline_in_some_patients(placebo):
    """Trials report improvement in every arm (facts 3c); the model's scored EDSS ends below the
    baseline visit in some patients, and its sustained EDSS falls in some too."""
    change = placebo.edss[:, -1] - placebo.edss[:, 0]
    assert np.mean(change < 0) > 0.05
    sustained = placebo.paths.sustained(np.array([0.0, 2 * YEAR]))
    assert np.mean(sustained[:, 1] < sustained[:, 0]) > 0.02
    assert np.all(placebo.edss >= 0.0) and np.all(placebo.edss <= 9.5)
    assert np.allclose(placebo.edss * 2, np.round(placebo.edss * 2))


def test_prediction_liu_blumhardt_confirmed_progression(placebo):
    """Not fitted. Liu & Blumhardt 2000 (pooled US glatiramer and PRISMS placebo arms, 313
    patients): 32 % with 3-month and 21 % with 6-month confirmed progression over 2 years. Bands:
    +-0.05, about two standard errors of 313 patients."""
    assert placebo.cdp3.share == pytest.approx(0.32, abs=0.05)
    assert placebo.cdp6.share == pytest.approx(0.21, abs=0.05)


@pytest.mark.xfail(strict=True, reason="missed: about 20 % of the simulated 3-month confirmed progression events are not "
                   "held at the last visit, against about 50 % in Liu & Blumhardt's placebo cohorts; the model's "
                   "confirmed worsening is more lasting than trials find (its visit variability is the same-day "
                   "inter-rater one of Noseworthy 1990, without fluctuation over weeks)")
def test_prediction_confirmed_progression_not_held_at_the_end(placebo):
    """Not fitted. Liu & Blumhardt 2000: for confirmed progression the 'error rate' against
    progression maintained to the end of the study was about 50 %; Hindawi MSI 2013 (189624): nearly
    50 % of patients with sustained progression failed to maintain it. Band 0.35-0.65."""
    assert 0.35 <= placebo.not_sustained() <= 0.65


@pytest.mark.xfail(strict=True, reason="missed: the mean change of the scored EDSS over 2 years in the placebo arm is "
                   "about 0.52 against +0.38 in Liu & Blumhardt's placebo cohorts (band 0.26-0.50): the gross PIRA rate "
                   "needed for the 2-year confirmed progression and the relapse-free rate raises the mean too")
def test_prediction_liu_blumhardt_mean_change(placebo):
    """Not fitted. Liu & Blumhardt 2000: mean EDSS change over 2 years +0.38 in the pooled placebo
    arms (313 patients). Band +-0.12 (two standard errors of a mean with SD about 1)."""
    assert placebo.mean_change() == pytest.approx(0.38, abs=0.12)


def test_prediction_msbase_regression_of_confirmed_progression():
    """Not fitted. MSBase (Kalincik 2015, 16,636 patients): 11-34 % of confirmed progression events
    regress over the next 5 years (70 % of 3-month confirmed events still present at 5 years).
    Cohort: MSBase-like relapsing patients on interferon, scored every 6 months for 7 years;
    3-month confirmed events starting in the first 2 years; regression = below the event's
    threshold at two consecutive visits within 5 years."""
    arm = trial_arm(trial_cohort(N, SEED + 2, **MSBASE), SEED + 2, years=7.0, every_d=YEAR / 2.0)
    assert 0.11 <= arm.regressed_within(5.0, onset_by_years=2.0) <= 0.34


def test_prediction_oratorio_placebo_progression():
    """Not fitted. ORATORIO placebo (244 PPMS patients, EDSS 4.7 at 6.7 years from onset): 12-week
    confirmed progression 39.3 % over at least 120 weeks (Montalban 2017). Visits every 12 weeks
    for 120 weeks; band +-0.065, two standard errors of the arm."""
    arm = trial_arm(trial_cohort(N, SEED + 4, **ORATORIO), SEED + 4, years=120 * 7 / YEAR, every_d=84.0, confirm_d=84.0)
    assert arm.cdp3.share == pytest.approx(0.393, abs=0.065)
