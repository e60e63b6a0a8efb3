"""The small statistics of the validation page (validation/compute.py) on hand-made inputs, and the
page's band check, combination over seeds and atomic write (validation/run.py)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

VALIDATION = Path(__file__).resolve().parents[2] / "validation"


def _load(name: str, file: str):
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(VALIDATION))
    spec = importlib.util.spec_from_file_location(name, VALIDATION / file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


C = _load("validation_compute", "compute.py")
R = _load("validation_run", "run.py")


# -- hand-made results ------------------------------------------------------------------------------
class Counts:
    """A count result: times_d, column(name) -> (patients, times), patients table."""

    def __init__(self, times, columns: dict[str, list[list[float]]], patients: pd.DataFrame | None = None):
        self.times_d = np.asarray(times, dtype=float)
        self._columns = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
        self.patients = patients if patients is not None else pd.DataFrame({"id": range(1, len(next(iter(columns.values()))) + 1)})

    def column(self, name: str) -> np.ndarray:
        return self._columns[name]


def disease(relapses: pd.DataFrame, ids, until_d: float, times=None, sustained=None, patients=None, symptoms=None):
    times = np.asarray(times if times is not None else [0.0, until_d], dtype=float)
    sustained = np.asarray(sustained if sustained is not None else np.zeros((len(ids), times.size)), dtype=float)
    return SimpleNamespace(relapses=relapses, ids=np.asarray(ids), until_d=until_d, times_d=times,
                           edss_sustained=sustained, edss=sustained, patients=lambda: patients,
                           symptoms=SimpleNamespace(present=symptoms or {}))


# -- counts --------------------------------------------------------------------------------------------
def test_nadir_day_recovery_and_shares_on_two_patients():
    t = [0, 1, 2, 3, 4, 5]
    wbc = [[6, 4, 2, 3, 5, 6],       # nadir day 2, back to >= 90 % (5.4) on day 5
           [5, 5, 4, 1, 2, 5]]       # nadir day 3, back to >= 4.5 on day 5
    r = {"counts": Counts(t, {"wbc": wbc})}
    assert C.median_nadir_day(r, "wbc", 0, 5) == 2.5
    assert C.median_recovery_day(r, "wbc", 0.9, 0, 5) == 5.0
    assert C.share_below(r, "wbc", 2.0) == 0.5            # only the second falls below 2 (to 1)
    assert C.share_below(r, "wbc", 2.0, 0, 2) == 0.0      # not within days 0-2
    assert C.share_at_least_on_days(r, "wbc", 4.0, [1, 2]) == 0.5   # the first has 2 on day 2
    assert C.share_at_least_on_days(r, "wbc", 4.0, [1]) == 1.0
    assert C.median_lowest_count(r, "wbc", 0, 5) == 1.5
    assert C.median_lowest_count(r, "wbc", 0, 5, relative=True) == pytest.approx(np.median([2 / 6, 1 / 5]))
    assert C.median_count_on_day(r, "wbc", 4, relative=True) == pytest.approx(np.median([5 / 6, 2 / 5]))
    assert C.median_baseline_count(r, "wbc") == 5.5


def test_recovery_day_is_one_past_the_window_when_never_recovered():
    r = {"counts": Counts([0, 1, 2], {"anc": [[4, 1, 1]]})}
    assert C.median_recovery_day(r, "anc", 0.9, 0, 2) == 3.0


def test_median_curve_nadir_day_uses_the_median_curve_and_the_offset():
    t = [0, 10, 20, 30]
    alc = [[2, 1, 2, 2], [2, 2, 0.5, 2], [2, 1.5, 1, 2]]   # median curve: 2, 1.5, 1, 2 -> lowest at day 20
    r = {"counts": Counts(t, {"alc": alc})}
    assert C.median_curve_nadir_day(r, "alc", 0, 30) == 20.0
    assert C.median_curve_nadir_day(r, "alc", 0, 30, offset=5.0) == 15.0


def test_lymphopenia_days_from_first_below_to_first_recovered():
    t = [0, 1, 2, 3, 4, 5]
    alc = [[1.0, 0.4, 0.6, 0.9, 1.0, 1.0],    # below 0.5 on day 1, >= 0.8 on day 3: 2 days
           [1.0, 0.3, 0.3, 0.3, 0.3, 0.3],    # never back: to the end, 4 days
           [1.0, 0.9, 0.9, 0.9, 0.9, 0.9]]    # never below: left out
    r = {"counts": Counts(t, {"alc": alc})}
    assert C.median_lymphopenia_days(r, "alc", 0.5, 0.8) == 3.0
    nobody = {"counts": Counts(t, {"alc": [[1.0] * 6]})}
    assert C.median_lymphopenia_days(nobody, "alc", 0.5, 0.8) == 5.0


def test_half_life_and_clearance_from_an_exponential_curve():
    t = np.arange(0, 11, dtype=float)                   # days
    conc = np.exp(-np.log(2) * t * 24 / 40.0)           # half-life 40 h
    auc = np.full_like(t, 10.0)                         # mg*d/L at every time
    patients = pd.DataFrame({"id": [1], "bsa_m2": [2.0], "weight_kg": [80.0]})
    r = {"counts": Counts(t, {"conc": [conc], "auc": [auc]}, patients)}
    assert C.median_half_life_h(r, 2, 10) == pytest.approx(40.0)
    # 12 mg/m2 x 2 m2 = 24 mg over an AUC of 240 mg*h/L: 0.1 L/h, 0.05 L/h/m2, 1.25 mL/kg/h
    assert C.median_clearance(r, 12.0, "bsa_m2", "bsa_m2", 10) == pytest.approx(0.05)
    assert C.median_clearance(r, 12.0, "bsa_m2", "weight_kg", 10, scale=1000.0) == pytest.approx(1.25)


# -- trials ------------------------------------------------------------------------------------------
@pytest.fixture
def trial():
    p = pd.DataFrame({
        "arm": pd.Categorical(["placebo"] * 4 + ["drug"] * 4, categories=["placebo", "drug"]),
        "relapses": [2, 1, 0, 1, 1, 0, 0, 0],
        "edss_change": [0.5, 0.0, 1.0, 0.5, 0.0, -0.5, 0.0, 0.5],
        "cdp3_event": [True, False, False, True, False, False, True, False],
        "time_to_first_relapse_d": [100.0, 200.0, 730.0, 300.0, 50.0, 730.0, 730.0, 730.0],
        "relapse_event": [True, True, False, True, True, False, False, False],
    })
    return {"patients": p}


def test_arm_means_ratios_shares_and_odds(trial):
    assert C.arm_mean(trial, "relapses", "placebo") == 1.0
    assert C.arm_mean_ratio(trial, "relapses", "drug", "placebo") == 0.25
    assert C.arm_mean(trial, "edss_change", "drug") == 0.0
    assert C.arm_share(trial, "cdp3_event", "==", 1.0, "placebo") == 0.5
    assert C.arm_share(trial, "relapses", "==", 0.0, "drug") == 0.75
    # relapse-free: 3/4 (odds 3) vs 1/4 (odds 1/3)
    assert C.arm_odds_ratio(trial, "relapses", "==", 0.0, "drug", "placebo") == pytest.approx(9.0)
    with pytest.raises(ValueError, match="no arm named 'nope'"):
        C.arm_mean(trial, "relapses", "nope")


def test_kaplan_meier_median_in_days_and_months(trial):
    # placebo: events at 100, 200, 300 (censored 730): S = 3/4, 2/4 at day 200
    assert C.kaplan_meier_median(np.array([100.0, 200.0, 730.0, 300.0]), np.array([True, True, False, True])) == 200.0
    assert C.arm_km_median_months(trial, "time_to_first_relapse_d", "relapse_event", "placebo") == pytest.approx(200.0 / C.MONTH)
    assert math.isinf(C.arm_km_median_months(trial, "time_to_first_relapse_d", "relapse_event", "drug"))


def test_hazard_ratio_of_identical_arms_is_one():
    rng = np.random.default_rng(5)
    t = rng.exponential(300.0, 400)
    p = pd.DataFrame({"arm": ["a"] * 200 + ["b"] * 200, "T": np.concatenate([t[:200], t[:200]]),
                      "E": np.ones(400, bool)})
    assert C.arm_hazard_ratio({"patients": p}, "T", "E", "b", "a") == pytest.approx(1.0, abs=1e-4)


# -- disease -----------------------------------------------------------------------------------------
@pytest.fixture
def cohort():
    rel = pd.DataFrame({"id": [1, 1, 2, 3], "day": [10.0, 400.0, 100.0, 700.0],
                        "edss_rise": [0.0, 1.0, 2.5, 0.5], "edss_residual": [0.0, 0.5, 1.0, 0.0],
                        "recovery_d": [30.0, 100.0, 400.0, 60.0],
                        "site": ["optic_nerve", "spinal_cord", "brainstem", "optic_nerve"]})
    return disease(rel, [1, 2, 3, 4], 730.5)


def test_relapse_rate_dispersion_ratio_and_shares(cohort):
    r = {"cohort": cohort}
    assert C.relapse_rate(r) == pytest.approx(4 / (4 * 2.0))
    counts = np.array([2, 1, 1, 0], float)
    assert C.relapse_dispersion(r) == pytest.approx((counts.var() - counts.mean()) / counts.mean() ** 2)
    assert C.relapse_free_share(r) == 0.25
    assert C.relapse_share(r, "edss_rise", ">=", 0.5) == 0.75
    assert C.relapse_share(r, "edss_rise", ">", 2.0) == 0.25
    assert C.relapse_share(r, "site", "==", "optic_nerve") == 0.5
    assert C.relapse_mean(r, "edss_residual") == 0.375
    assert C.relapse_median(r, "recovery_d") == 80.0
    # relapses in year 2 only: days 400 and 700
    assert list(C.relapse_counts(cohort, 365.25, 730.5)) == [1, 0, 1, 0]
    half = disease(cohort.relapses.iloc[:2], [1, 2, 3, 4], 730.5)
    assert C.relapse_rate_ratio({"a": half, "b": cohort}, "a", "b") == 0.5
    with pytest.raises(ValueError, match="op '~'"):
        C.relapse_share(r, "edss_rise", "~", 1.0)


def test_relapse_odds_ratio_and_plasma_exchange_response(cohort):
    faster = cohort.relapses.assign(recovery_d=[20.0, 30.0, 42.0, 60.0])
    r = {"plain": cohort, "treated": disease(faster, cohort.ids, 730.5)}
    # not recovered by day 35: plain 3/4 (odds 3), treated 2/4 (odds 1)
    assert C.relapse_odds_ratio(r, "recovery_d", ">", 35.0, "treated", "plain") == pytest.approx(1 / 3)
    # severe (rise >= 2) and unrecovered at day 42 without exchange: only patient 2's relapse; it recovers sooner
    assert C.plasma_exchange_response(r, "treated", "plain", 2.0, 28.0, 42.0) == 1.0
    other = disease(cohort.relapses.iloc[:3], cohort.ids, 730.5)
    with pytest.raises(ValueError, match="same relapses"):
        C.plasma_exchange_response({"plain": cohort, "treated": other}, "treated", "plain", 2.0, 28.0, 42.0)


def test_seasonal_peak_and_ratio():
    days = np.concatenate([np.full(30, 60.0), np.full(10, 60.0 + C.YEAR / 2), np.full(5, 150.0)])
    rel = pd.DataFrame({"id": 1, "day": days})
    r = {"cohort": disease(rel, [1], 365.25)}
    assert C.seasonal_ratio(r, 60.0, 15.0) == 3.0
    assert 55.0 < C.seasonal_peak_day(r) < 90.0


def test_edss_milestones_spms_change_and_points():
    times = np.array([0.0, 1.0, 2.0, 3.0]) * C.YEAR
    sustained = [[0, 2, 4, 6], [0, 0, 4, 4], [0, 0, 0, 1]]
    p = pd.DataFrame({"spms_day": [C.YEAR, np.nan, 3 * C.YEAR], "edss_points_pira": [3.0, 1.0, 0.0],
                      "edss_points_relapses": [1.0, 0.0, 0.0]})
    r = {"cohort": disease(pd.DataFrame({"id": [], "day": []}), [1, 2, 3], 3 * C.YEAR, times, sustained, p)}
    assert C.median_years_to_edss(r, 4.0) == 2.0
    assert math.isinf(C.median_years_to_edss(r, 6.0))          # only one of three reaches it
    assert C.share_reaching_edss(r, 4.0, 2.0) == pytest.approx(2 / 3)
    assert C.median_years_to_spms(r) == 3.0
    assert C.share_spms_by(r, 1.0) == pytest.approx(1 / 3)
    assert C.mean_edss_change(r) == pytest.approx(11 / 3)
    assert C.mean_edss_change(r, per_year=True) == pytest.approx(11 / 9)
    assert C.share_points_without_relapse(r) == 0.8
    half = disease(r["cohort"].relapses, [1, 2, 3], 3 * C.YEAR, times, sustained, p.assign(edss_points_pira=[1.5, 0.5, 0.0]))
    assert C.points_without_relapse_ratio({"a": half, "b": r["cohort"]}, "a", "b") == 0.5
    assert list(C.first_day_at_or_above(times, np.asarray(sustained, float), 1.0)) == [times[1], times[2], times[3]]


def test_symptom_prevalence_and_benefit_odds_ratio():
    untreated = {"fatigue": np.array([[True], [True], [True], [False]])}     # 3/4 present: free odds 1/3
    treated = {"fatigue": np.array([[True], [False], [False], [False]])}     # 1/4 present: free odds 3
    empty = pd.DataFrame({"id": [], "day": []})
    r = {"b": disease(empty, [1, 2, 3, 4], 14.0, [0.0], [[0]] * 4, symptoms=untreated),
         "t": disease(empty, [1, 2, 3, 4], 14.0, [0.0], [[0]] * 4, symptoms=treated)}
    assert C.symptom_prevalence(r, "fatigue", arm="b") == 0.75
    assert C.symptom_absence_odds_ratio(r, "fatigue", "t", "b") == pytest.approx(9.0)


def test_every_registered_computation_is_a_function_of_this_module():
    assert set(C.COMPUTE) >= {"relapse_rate", "arm_mean_ratio", "median_nadir_day", "symptom_prevalence"}
    assert all(f.__module__ == C.__name__ for f in C.COMPUTE.values())


# -- the page's arithmetic ---------------------------------------------------------------------------------
def test_band_check_combination_and_formats():
    assert R.within(0.5, (0.4, 0.6)) and R.within(0.4, (0.4, 0.6)) and not R.within(0.61, (0.4, 0.6))
    assert not R.within(math.nan, (0.0, 1.0))
    assert R.within(math.inf, (1.0, math.inf)) and not R.within(math.inf, (1.0, 20.0))
    assert R.combine([0.4, 0.6]) == 0.5
    assert math.isnan(R.combine([0.4, math.nan]))
    assert math.isinf(R.combine([math.inf, math.inf]))
    assert R.seeds_disagree([35.0, 81.0], (41.0, 71.0)) and not R.seeds_disagree([50.0, 60.0], (41.0, 71.0))
    assert not R.seeds_disagree([0.9, 5.0], (0.85, math.inf)) and not R.seeds_disagree([81.0], (41.0, 71.0))
    assert R.seeds_disagree([math.inf, 20.0], (10.0, 30.0)) and not R.seeds_disagree([math.inf, math.inf], (10.0, 30.0))
    assert R.fmt_band((0.85, math.inf)) == ">= 0.85"
    assert R.fmt_band((0.19, 0.58)) == "0.19 to 0.58"
    assert R.fmt(14.236) == "14.2" and R.fmt(0.0123) == "0.0123" and R.fmt(math.inf) == "not reached"


def test_the_page_is_written_atomically(tmp_path):
    page = tmp_path / "docs" / "validation.md"
    R.write_atomic(page, "first")
    R.write_atomic(page, "second")
    assert page.read_text() == "second"
    assert [p.name for p in page.parent.iterdir()] == ["validation.md"]
