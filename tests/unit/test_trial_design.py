"""The pieces of a trial design, on hand-made inputs: schedules, treatment plans, endpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.trials.endpoints import ArmData, confirmed_change, evaluate
from mschemo.trials.plans import dmt_periods, drug_plan, pulse_days
from mschemo.trials.schedules import common_days, schedule_days
from mschemo.trials.spec import Arm, Endpoint, Schedule, TrialSpec

MONTH = 365.25 / 12


def test_regular_list_and_dose_relative_schedules():
    every = Schedule(every="1 month", until="3 months")
    np.testing.assert_allclose(common_days(every, 365.0), np.round([0, MONTH, 2 * MONTH, 3 * MONTH], 6))
    days = Schedule(days=[400.0, 30.0, 30.0], baseline=False)
    np.testing.assert_array_equal(common_days(days, 365.0), [30.0])         # beyond the trial: dropped
    after = Schedule(after_each_dose=["10 days", "14 days"])
    by = schedule_days(after, 365.0, ["a", "b"], {"a": np.array([0.0, 91.0]), "b": np.array([7.0])})
    np.testing.assert_array_equal(by["a"], [0.0, 10.0, 14.0, 101.0, 105.0])
    np.testing.assert_array_equal(by["b"], [0.0, 17.0, 21.0])
    before = Schedule(before_each_dose=True, baseline=False)
    assert schedule_days(before, 365.0, ["a"], {"a": np.array([30.4375, 60.875])})["a"].tolist() == [30.4375, 60.875]
    assert common_days(after, 365.0) is None


def test_drug_phases_with_a_start_a_stop_and_a_per_dose_cap():
    drug = ms.load_drug("mitoxantrone")
    arm = Arm(name="x", phases=[{"drug": "mitoxantrone", "regimen": "12 mg/m2 over 30 min every 1 month x 6",
                                 "max_dose": "20 mg", "start": "14 days", "stop": "4 months"}])
    pop = ms.Population(pd.DataFrame({"id": [1, 2], "height_cm": [160.0, 190.0], "weight_kg": [55.0, 95.0]}))
    plans = drug_plan(drug, arm)(pop)
    small, large = plans
    assert [round(c.start_d, 4) for c in small] == [round(14 + k * MONTH, 4) for k in range(4)]   # 14 d + 0..3 months
    bsa = pop.covariate("bsa_m2")
    assert small[0].amount == pytest.approx(12.0) and 12.0 * bsa[0] < 20.0          # below the cap: as planned
    assert large[0].amount * bsa[1] == pytest.approx(20.0)                            # capped at 20 mg
    assert drug_plan(drug, Arm(name="placebo")) is None


def test_dmt_periods_after_a_course_and_pulses():
    arm = Arm(name="x", phases=[{"drug": "mitoxantrone"}, {"dmt": "glatiramer", "start_after_course": 2, "start": "30 days",
                                                            "stop": "2 years"},
                                {"dmt": "natalizumab", "start": "2 years"}],
              comedication=[{"name": "methylprednisolone", "every": "1 month", "count": 3}])
    given = {"a": np.array([0.0, 100.0, 200.0]), "b": np.array([0.0])}
    periods = dmt_periods(arm, ["a", "b"], given, 3 * 365.25)
    assert periods["a"] == [(130.0, 2 * 365.25, "glatiramer"), (2 * 365.25, 3 * 365.25, "natalizumab")]  # course 2 + 30 d
    assert [p[2] for p in periods["b"]] == ["natalizumab"]                 # never got course 2: no glatiramer
    assert pulse_days(arm, ["a"])["a"] == pytest.approx([0.0, MONTH, 2 * MONTH])


def test_confirmed_change_rules():
    days = np.array([0.0, 91.0, 182.0, 273.0, 365.0])
    assert confirmed_change(days, np.array([2.0, 3.0, 3.0, 2.0, 2.0]), 2.0, 1.0, 90.0) == (True, 91.0)
    assert confirmed_change(days, np.array([2.0, 3.0, 2.0, 3.0, 3.0]), 2.0, 1.0, 90.0) == (True, 273.0)
    assert confirmed_change(days, np.array([2.0, 3.0, 2.0, 2.5, 3.0]), 2.0, 1.0, 90.0) == (False, 365.0)   # last not confirmed
    assert confirmed_change(days, np.array([4.0, 3.0, 3.0, 3.5, 3.0]), 4.0, 1.0, 90.0, worsening=False) == (True, 91.0)


def _data(relapses: pd.DataFrame, edss: dict, stopped=(np.nan, np.nan)) -> ArmData:
    ids = np.array([1, 2])
    days = np.array([0.0, 91.0, 182.0, 273.0, 365.0])
    return ArmData(ids=ids, end_d=365.0, edss_baseline=np.array([2.0, 0.0]), relapses=relapses,
                   edss={"edss": ({1: days, 2: days}, edss)},
                   counts={"labs": ({1: days, 2: days}, {1: {"anc": np.array([3.0, 0.9, 2.0, 3.0, 3.0])},
                                                       2: {"anc": np.array([3.0, 3.0, 3.0, 3.0, 3.0])}})},
                   true_min={"anc": np.array([0.4, 2.5])}, stopped_d=np.array(stopped),
                   grade=_anc_grade)


def _anc_grade(v, count, scale):
    """CTCAE v5 neutrophil grades 2-4 (< 1.5, < 1.0, < 0.5), grade 1 left out for brevity."""
    v = np.asarray(v, dtype=float)
    return np.where(v < 0.5, 4, np.where(v < 1.0, 3, np.where(v < 1.5, 2, 0)))


def test_endpoints_from_hand_made_relapses_edss_and_counts():
    rel = pd.DataFrame({"id": [1, 1, 2], "day": [50.0, 300.0, 200.0], "confirmed": [True, False, True],
                        "steroids": [True, True, False], "severity": ["mild", "severe", "moderate"]})
    edss = {1: np.array([2.0, 3.0, 3.0, 3.0, 3.0]), 2: np.array([0.0, 1.0, 1.5, 1.5, 1.5])}
    eps = [Endpoint(name="all", kind="relapse_rate"), Endpoint(name="conf", kind="relapse_rate", relapses="confirmed"),
           Endpoint(name="late", kind="relapse_rate", start="100 days"),
           Endpoint(name="first", kind="time_to_relapse", window="100 days"),
           Endpoint(name="free", kind="relapse_free", relapses="severe"),
           Endpoint(name="cdp", kind="confirmed_progression", schedule="edss"),
           Endpoint(name="chg", kind="edss_change", schedule="edss", at="6 months"),
           Endpoint(name="fail", kind="composite", parts=["first", "cdp"]),
           Endpoint(name="tox", kind="toxicity", count="anc", schedule="labs")]
    out = evaluate(eps, _data(rel, edss), {"edss": "edss", "counts": "labs"})
    assert out["all"].tolist() == [2, 1] and out["conf"].tolist() == [1, 1] and out["late"].tolist() == [1, 1]
    assert out["late_followup_d"].tolist() == [265.0, 265.0]
    assert out["first_event"].tolist() == [True, False] and out["first_d"].tolist() == [50.0, 100.0]
    assert out["free"].tolist() == [False, True]
    assert out["cdp_event"].tolist() == [True, True] and out["cdp_d"].tolist() == [91.0, 182.0]   # 1.5 from 0
    assert out["chg"].tolist() == [1.0, 1.5]
    assert out["fail_event"].tolist() == [True, True] and out["fail_d"].tolist() == [50.0, 182.0]
    assert out["tox"].tolist() == [True, False] and out["tox_grade"].tolist() == [3, 0]
    assert out["tox_true"].tolist() == [True, False] and out["tox_true_grade"].tolist() == [4, 0]


def test_default_endpoints_keep_the_old_visits_spelling():
    spec = TrialSpec(arms=[{"name": "a"}], visits={"counts_every": "2 weeks", "edss_every": "6 months"})
    assert list(spec.all_schedules()) == ["labs", "edss"] and spec.all_schedules()["labs"].every == "2 weeks"
    assert {e.kind for e in spec.all_endpoints()} >= {"relapse_rate", "confirmed_progression", "toxicity"}
    assert all(e.schedule for e in spec.all_endpoints() if e.kind in ("toxicity", "edss_change"))
