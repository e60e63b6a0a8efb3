"""recommend_dose: each label rule acts as it should, doses use the record's weight and height, the
infusion duration of the last dose is kept, and the plan's objects are well formed.

Records are built with patient_from_dict (the JSON patient format), so they pass the same checks as
a clinician's file. Few posterior draws keep the tests fast; the rules do not depend on them.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

import mschemo as ms
from mschemo.drugs.cladribine import course_doses
from mschemo.errors import OptionError
from mschemo.estimation.patient import patient_from_dict
from mschemo.planning import DosePlan, NadirTarget, recommend_dose

DRAWS = 40
D0 = dt.date(2026, 3, 3)
EXAMPLES = Path(ms.__file__).parent / "estimation" / "examples"


def day(k: int) -> str:
    return (D0 + dt.timedelta(days=k)).isoformat()


def count(k: int, kind: str, value: float) -> dict:
    return {"date": day(k), "kind": kind, "value": f"{value} x10^9/L"}


def cy_record(*, anc_day27: float = 3.0, weight: str = "62 kg", duration: str = "1 h") -> ms.estimation.PatientRecord:
    return patient_from_dict({
        "id": "CY", "drug": "cyclophosphamide",
        "covariates": {"sex": "F", "age": "34 years", "height": "165 cm", "weight": weight},
        "doses": [{"date": day(0), "amount": "800 mg/m2", "duration": duration}],
        "counts": [count(-4, "wbc", 6.1), count(-4, "anc", 3.9), count(10, "wbc", 2.9), count(10, "anc", 1.6),
                   count(27, "wbc", max(4.0, anc_day27 + 1.2)), count(27, "anc", anc_day27)]})


def mitox_record(n_doses: int = 3, *, lvef: float = 60.0, lvef_day: int | None = None,
                 last_anc: tuple[int, float] | None = None, amounts: list[float] | None = None):
    amounts = amounts or [12.0] * n_doses
    doses = [{"date": day(91 * k), "amount": f"{a:g} mg/m2", "duration": "30 min"} for k, a in enumerate(amounts)]
    last = 91 * (len(amounts) - 1)
    counts = [count(-3, "wbc", 7.0), count(-3, "anc", 4.4)]
    for k in range(len(amounts)):
        counts += [count(91 * k + 12, "wbc", 2.5), count(91 * k + 12, "anc", 1.1)]
    if last_anc is not None:
        counts += [count(last_anc[0], "wbc", last_anc[1] + 1.5), count(last_anc[0], "anc", last_anc[1])]
    return patient_from_dict({
        "id": "MX", "drug": "mitoxantrone",
        "covariates": {"sex": "M", "age": "41 years", "height": "178 cm", "weight": "81 kg"},
        "doses": doses, "counts": counts,
        "lvef": [{"date": day(last + 80 if lvef_day is None else lvef_day), "value": f"{lvef:g} %"}]})


@pytest.fixture(scope="module")
def cy_plan() -> DosePlan:
    rec = cy_record()
    return recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS)


# -- pre-dose counts -----------------------------------------------------------------------------------
def test_anc_below_limit_measured_yesterday_delays_the_dose_with_the_reason():
    rec = cy_record(anc_day27=1.2)
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), on=day(28), n_draws=DRAWS)
    first = plan.checks.iloc[0]
    assert first["status"] == "fail" and "1.2" in first["reason"] and "below the label limit of 1.5" in first["reason"]
    assert plan.decision == "delay"
    assert plan.date > D0 + dt.timedelta(days=28)
    assert plan.date in [D0 + dt.timedelta(days=28 + 7 * k) for k in (1, 2)]   # weekly, at most the rule's 2 weeks
    assert plan.reason.startswith("Delayed to") and "ANC 1.2 (measured" in plan.reason
    assert plan.dose is not None and plan.requested_on == D0 + dt.timedelta(days=28)


def test_anc_measured_within_three_days_passes_and_an_older_one_is_predicted(cy_plan):
    row = cy_plan.checks.iloc[0]
    assert row["status"] == "pass" and "measured" in row["value"]
    rec = cy_record()
    later = recommend_dose(ms.estimate_map(rec.drug, rec), on=day(35), n_draws=DRAWS)
    row = later.checks.iloc[0]
    assert row["status"] == "to-check" and "predicted" in row["value"] and "P(>= 1.5)" in row["reason"]
    assert later.decision == "give" and later.date == D0 + dt.timedelta(days=35)


def test_nurse_story_anc_1_3_today_holds_mitoxantrone():
    rec = mitox_record(3, last_anc=(182 + 91, 1.3))
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), on=day(182 + 91), n_draws=DRAWS)
    first = plan.checks.iloc[0]
    assert first["status"] == "fail" and "1.3" in first["reason"]
    assert plan.decision in ("delay", "withhold")
    assert plan.date is None or plan.date > D0 + dt.timedelta(days=182 + 91)


# -- LVEF ------------------------------------------------------------------------------------------------
def test_lvef_45_percent_stops_mitoxantrone(tmp_path):
    rec = mitox_record(2, lvef=45)
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS)
    assert plan.summary().startswith("Patient MX, mitoxantrone: STOP")
    html = plan.to_html(tmp_path / "sheet.html").read_text(encoding="utf-8")   # a plan without a dose prints too
    assert "STOP" in html and ms.DISCLAIMER in html
    assert plan.decision == "stop" and plan.dose is None and plan.date is None
    row = plan.checks[plan.checks["rule"].str.startswith("LVEF")].iloc[0]
    assert row["status"] == "fail" and "45" in row["reason"]
    assert "LVEF 45 %" in plan.reason
    assert plan.next_count_date is None


def test_old_lvef_is_a_check_to_do_not_a_pass():
    rec = mitox_record(2, lvef=62, lvef_day=-20)            # about 4 months before the next dose
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS)
    row = plan.checks[plan.checks["rule"].str.startswith("LVEF")].iloc[0]
    assert row["status"] == "to-check" and "measure it again" in row["reason"]
    assert plan.dose is not None


# -- lifetime cap ----------------------------------------------------------------------------------------
def test_cumulative_136_leaves_4_mg_m2_so_mitoxantrone_stops():
    rec = mitox_record(amounts=[12.0] * 11 + [4.0])             # 136 mg/m2
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS)
    assert plan.cumulative["given"] == pytest.approx(136)
    assert plan.dose is None or plan.dose <= 4
    assert plan.decision == "stop"
    assert "4 mg/m2" in plan.reason and "140" in plan.reason
    row = plan.checks[plan.checks["rule"].str.contains("lifetime")].iloc[0]
    assert row["status"] == "fail"


def test_candidate_doses_never_pass_the_remaining_cap_and_the_region_matters():
    rec = mitox_record(amounts=[12.0] * 5 + [10.0])             # 70 mg/m2 given
    us = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS, region="us")
    assert us.decision != "stop" and us.cumulative["limit"] == 140
    assert us.candidates["dose_mg_per_m2"].max() <= 12            # never above the label dose
    eu = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS, region="eu")
    assert eu.decision == "stop" and eu.cumulative["limit"] == 72   # 2 mg/m2 left under the EU cap


def test_eu_cap_passed_is_said_when_the_us_cap_is_in_force():
    rec = mitox_record(amounts=[12.0] * 8)                        # 96 mg/m2 (the nurse's story)
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS)
    if plan.dose is not None:
        row = plan.checks[plan.checks["rule"].str.contains("lifetime")].iloc[0]
        assert row["status"] == "pass" and "EU cap of 72 mg/m2 is passed" in row["reason"]
        assert plan.cumulative["after"] == pytest.approx(96 + plan.dose)


# -- cladribine --------------------------------------------------------------------------------------------
def cladribine_record(alc_before_year2: float):
    doses = [{"date": day(int(d.time_d)), "amount": f"{d.amount:g} mg"} for d in course_doses(66.0, 0.0)]
    counts = [count(-13, "wbc", 6.4), count(-13, "anc", 3.8), count(-13, "alc", 1.9), count(63, "alc", 0.8),
              count(182, "alc", 0.7), count(364, "wbc", 5.0), count(364, "anc", 3.6),
              count(364, "alc", alc_before_year2)]
    return patient_from_dict({"id": "CL", "drug": "cladribine", "doses": doses, "counts": counts,
                              "covariates": {"sex": "F", "age": "29 years", "height": "168 cm", "weight": "66 kg",
                                             "crcl": "100 mL/min", "food": "fasted"}})


def test_cladribine_alc_0_6_before_year_2_delays_the_course():
    rec = cladribine_record(0.6)
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS)
    first = plan.checks.iloc[0]
    assert first["rule"].startswith("ALC >= 0.8") and first["status"] == "fail" and "0.6" in first["reason"]
    assert plan.decision == "delay"
    assert plan.date is None or plan.date > plan.requested_on


def test_cladribine_alc_fine_gives_the_label_course_for_the_weight():
    rec = cladribine_record(1.1)
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), on=day(365), n_draws=DRAWS)
    assert plan.decision == "give" and plan.dose_unit == "mg"
    assert plan.mg == pytest.approx(sum(d.amount for d in course_doses(66.0)))   # 12 tablets = 120 mg at 66 kg
    assert "12 tablets" in plan.administration and len(plan.candidates) == 1


# -- what the regimen fixes --------------------------------------------------------------------------------
def test_mg_from_the_records_weight_and_height(cy_plan):
    bsa = ms.body_surface_area(np.array([165.0]), np.array([62.0]))[0]
    assert cy_plan.mg == pytest.approx(cy_plan.dose * bsa)
    assert "62 kg" in cy_plan.mg_basis and "latest" in cy_plan.mg_basis
    heavy = cy_record(weight="80 kg")
    plan = recommend_dose(ms.estimate_map(heavy.drug, heavy), n_draws=DRAWS, doses=[700])
    bsa80 = ms.body_surface_area(np.array([165.0]), np.array([80.0]))[0]
    assert plan.dose == 700 and plan.mg == pytest.approx(700 * bsa80)


def test_the_infusion_duration_of_the_last_dose_is_kept():
    rec = cy_record(duration="2 h")
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS, doses=[600, 800])
    assert plan.duration_h == pytest.approx(2.0)
    assert "over 2 h" in plan.administration
    mx = mitox_record(2)
    plan = recommend_dose(ms.estimate_map(mx.drug, mx), n_draws=DRAWS)
    assert plan.duration_h == pytest.approx(0.5) and "over 30 min" in plan.administration


# -- the plan's choice and its objects -------------------------------------------------------------------------
def test_cyclophosphamide_grid_target_and_risk(cy_plan):
    c = cy_plan.candidates
    assert c["dose_mg_per_m2"].tolist() == [float(x) for x in range(400, 1700, 100)]
    assert cy_plan.target == NadirTarget(wbc=(1.5, 2.0))
    ok = c[c["within_risk"]]
    chosen = c[c["proposed"]].iloc[0]
    assert chosen["p_grade3"] <= 0.10
    assert chosen["p_target"] >= ok["p_target"].max() - 0.02 or ok["p_target"].max() < 0.05
    assert 0 <= cy_plan.p_grade4 <= cy_plan.p_grade3 <= 1
    assert cy_plan.nadir_p5 <= cy_plan.nadir_median <= cy_plan.nadir_p95
    assert any("CTCAE grade-3 limit" in n for n in cy_plan.notes)   # 1.5-2.0 lies inside WBC grade 3


def test_mitoxantrone_without_target_takes_the_highest_dose_within_the_risk():
    rec = mitox_record(2)
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS, max_risk_grade3=0.3)
    c = plan.candidates
    assert plan.target is None and plan.kind == "anc"
    assert c["dose_mg_per_m2"].min() == 5 and c["dose_mg_per_m2"].max() == 12
    within = c[c["within_risk"]]
    if len(within):
        assert plan.dose == within["dose_mg_per_m2"].max()
    else:
        assert plan.decision == "review" and plan.dose == 5


def test_no_dose_within_the_risk_limit_is_a_review_of_the_lowest():
    """The users' story patient (WBC 1.1, ANC 0.6 on day 10 after 800 mg/m2) is sensitive: even 400
    mg/m2 carries some grade >= 3 risk, so a 0 % limit leaves no dose within it."""
    rec = ms.read_patient(EXAMPLES / "cyclophosphamide.csv")
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS, max_risk_grade3=0.0)
    assert not plan.candidates["within_risk"].any()
    assert plan.decision == "review" and plan.dose == 400
    assert plan.reason.startswith("No candidate keeps the grade >= 3 risk within 0%") and "review" in plan.reason
    row = plan.checks[plan.checks["rule"].str.startswith("P(grade")].iloc[0]
    assert row["status"] == "fail"


def test_a_count_far_below_the_fit_stops_escalation():
    """The same patient's day-10 ANC lies 2 residual SDs below what the model can fit: the plan says
    so and considers no dose above the last one (800 mg/m2), even when grade 4 alone is bounded."""
    rec = ms.read_patient(EXAMPLES / "cyclophosphamide.csv")
    plan = recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=DRAWS, risk_grade=4)
    row = plan.checks[plan.checks["rule"] == "model fit to the measured counts"].iloc[0]
    assert row["status"] == "to-check" and "not raised above the last one" in row["reason"]
    assert plan.candidates["dose_mg_per_m2"].max() == 800 and plan.dose <= 800


def test_plan_tables_summary_and_next_count(cy_plan):
    assert list(cy_plan.checks.columns) == ["rule", "status", "value", "limit", "reason"]
    assert set(cy_plan.checks["status"]) <= {"pass", "fail", "to-check"}
    assert {"day", "date", "kind", "median_1e9_per_L", "p5_1e9_per_L", "p95_1e9_per_L"} <= set(cy_plan.predicted.columns)
    assert list(cy_plan.parameters["parameter"]) == ["CL", "V1", "ANC_CIRC0", "ANC_MTT", "ANC_SLOPE", "ALC_CIRC0"]
    assert cy_plan.to_frame()["proposed"].sum() == 1
    text = cy_plan.summary()
    assert ms.DISCLAIMER in text and "mg" in text and cy_plan.date.isoformat() in text
    assert cy_plan.date < cy_plan.next_count_date <= cy_plan.date + dt.timedelta(days=28)
    assert "after the dose" in cy_plan.next_count_reason
    assert math.isfinite(cy_plan.nadir_day)


def test_bad_arguments_are_one_sentence_input_errors(cy_plan):
    rec = cy_record()
    post = ms.estimate_map(rec.drug, rec)
    for kwargs in ({"max_risk_grade3": 1.5}, {"n_draws": 3}, {"on": "31/03/2026"}, {"on": day(-1)},
                   {"risk_grade": 2}, {"target": (1.5, 2.0)}, {"doses": [-100]}):
        with pytest.raises(OptionError) as err:
            recommend_dose(post, **kwargs)
        assert str(err.value).count(";") <= 2 and str(err.value).endswith(".")
    for bad in ({"kind": "rbc"}, {"low": 2.0, "high": 1.5}, {"low": 0}, {"wbc": (1.5,)}):
        with pytest.raises(OptionError):
            NadirTarget(**bad)
    assert NadirTarget("anc", 1, 2) == NadirTarget(anc=(1, 2))
