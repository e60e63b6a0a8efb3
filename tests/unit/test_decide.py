"""dosing.decide, the one interpreter of the dosing rules: a table of rule x situation -> decision.

Each row gives a rule (as a drug file writes it), the facts before a course and what must happen:
the action, the status of the rule's check and the dose given. The same function decides for
simulated patients (exact counts) and real ones (measured counts with their age, predictions,
missing values), so both kinds of reading appear in the table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mschemo.dosing import (
    ACTIONS,
    GIVEN,
    RECORDED,
    RULE_ACTIONS,
    BodySize,
    Course,
    PreDose,
    Reading,
    checklist,
    decide,
    read_rules,
)
from mschemo.regimen import Dose

BODY = BodySize(bsa_m2=2.0, weight_kg=80.0)
SRC = {"assumption": "test"}
ANC_WITHHOLD = {"kind": "count", "output": "anc", "minimum": 1.5, "action": "withhold", "label": "ANC >= 1.5", **SRC}
ANC_STOP = {**ANC_WITHHOLD, "action": "stop"}
ANC_DELAY = {**ANC_WITHHOLD, "action": "delay", "recheck": "7 days", "max_delay": "4 weeks", "after_max_delay": "withhold"}
LVEF = {"kind": "covariate", "covariate": "lvef_pct", "minimum": 50, "action": "stop", "label": "LVEF >= 50 %", **SRC}
CAP_US = {"kind": "cumulative", "limit": "140 mg/m2", "region": "us", "label": "lifetime <= 140 mg/m2", **SRC}
CAP_EU = {"kind": "cumulative", "limit": "72 mg/m2", "region": "eu", "label": "lifetime <= 72 mg/m2", **SRC}
TITRATE = {"kind": "titration", "output": "wbc", "option": "titrate", "label": "dose from the WBC nadir",
           "bands": [{"below": 1.0, "change": "-200 mg/m2"}, {"below": 1.5, "change": "-100 mg/m2"},
                     {"below": 2.0, "change": "0"}, {"below": "inf", "change": "+100 mg/m2"}],
           "minimum_dose": "400 mg/m2", "maximum_dose": "1000 mg/m2", **SRC}


def rules(*entries, region=None, options=()):
    r = read_rules({"name": "test", "rules": list(entries)}, "the test drug")
    if region:
        r = r.with_region(region)
    return r.with_options(*options) if options else r


def course(amount=12.0, unit="mg/m2"):
    return Course(0.0, (Dose(time_d=0.0, amount=amount, unit=unit),))


def facts(**kw):
    base = dict(course=1, planned=course(), body=BODY, date="2026-03-31")
    return PreDose(**(base | kw))


def predicted(median):
    return Reading.predicted(np.full(50, median), 0.3)


SIM = Reading   # a simulated patient's exact value

TABLE = [
    # id, rules, facts, action, status of the rule's check, dose given (None: not given)
    ("count simulated above", rules(ANC_WITHHOLD), facts(counts={"anc": SIM(2.0)}), "give", "pass", 12.0),
    ("count simulated below", rules(ANC_WITHHOLD), facts(counts={"anc": SIM(1.2)}), "withhold", "fail", None),
    ("count stop", rules(ANC_STOP), facts(counts={"anc": SIM(1.2)}), "stop", "fail", None),
    ("count measured yesterday above", rules(ANC_WITHHOLD),
     facts(counts={"anc": Reading.measured(2.0, 1, "2026-03-30")}), "give", "pass", 12.0),
    ("count measured 3 days ago below", rules(ANC_WITHHOLD),
     facts(counts={"anc": Reading.measured(1.2, 3, "2026-03-28")}), "withhold", "fail", None),
    ("count measured 4 days ago, predicted above", rules(ANC_WITHHOLD),
     facts(counts={"anc": Reading.measured(1.2, 4, "2026-03-27")}, predicted={"anc": predicted(2.5)}),
     "give", "to-check", 12.0),
    ("count stale, predicted below", rules(ANC_WITHHOLD),
     facts(counts={"anc": Reading.measured(2.0, 30, "2026-03-01")}, predicted={"anc": predicted(1.0)}),
     "withhold", "fail", None),
    ("count not measured, not predicted", rules(ANC_WITHHOLD), facts(), "give", "to-check", 12.0),
    ("delay: first time", rules(ANC_DELAY), facts(counts={"anc": SIM(1.2)}), "delay", "fail", None),
    ("delay: last allowed", rules(ANC_DELAY), facts(counts={"anc": SIM(1.2)}, delayed_d=21.0), "delay", "fail", None),
    ("delay: longest delay reached", rules(ANC_DELAY), facts(counts={"anc": SIM(1.2)}, delayed_d=28.0),
     "withhold", "fail", None),
    ("delay: next try too late", rules(ANC_DELAY), facts(counts={"anc": SIM(1.2)}, delayed_d=14.0, next_try_d=21.0),
     "withhold", "fail", None),
    ("covariate simulated below", rules(LVEF), facts(covariates={"lvef_pct": SIM(45.0)}), "stop", "fail", None),
    ("covariate measured below", rules(LVEF), facts(covariates={"lvef_pct": Reading.measured(45, 10, "2026-03-21")}),
     "stop", "fail", None),
    ("covariate measured fresh", rules(LVEF), facts(covariates={"lvef_pct": Reading.measured(60, 10, "2026-03-21")}),
     "give", "pass", 12.0),
    ("covariate measured 4 months ago", rules(LVEF),
     facts(covariates={"lvef_pct": Reading.measured(60, 120, "2025-12-01")}), "give", "to-check", 12.0),
    ("covariate missing", rules(LVEF), facts(), "give", "to-check", 12.0),
    ("cap: reaches the limit exactly", rules(CAP_US, CAP_EU), facts(given=[(128.0, "mg/m2")]), "give", "pass", 12.0),
    ("cap: passes the limit", rules(CAP_US, CAP_EU), facts(given=[(132.0, "mg/m2")]), "stop", "fail", None),
    ("cap: EU in force", rules(CAP_US, CAP_EU, region="eu"), facts(given=[(64.0, "mg/m2")]), "stop", "fail", None),
    ("cap: mg doses count by body size", rules(CAP_US), facts(given=[(2.0 * 130.0, "mg")]), "stop", "fail", None),
    ("titration off without the option", rules(TITRATE),
     facts(planned=course(800.0), previous=(800.0, "mg/m2"), previous_nadirs={"wbc": 0.8}), "give", None, 800.0),
    ("titration: deep nadir", rules(TITRATE, options=["titrate"]),
     facts(planned=course(800.0), previous=(800.0, "mg/m2"), previous_nadirs={"wbc": 0.8}), "reduce", "pass", 600.0),
    ("titration: nadir in the aim", rules(TITRATE, options=["titrate"]),
     facts(planned=course(800.0), previous=(800.0, "mg/m2"), previous_nadirs={"wbc": 1.7}), "give", "pass", 800.0),
    ("titration: shallow nadir", rules(TITRATE, options=["titrate"]),
     facts(planned=course(800.0), previous=(800.0, "mg/m2"), previous_nadirs={"wbc": 2.6}), "increase", "pass",
     900.0),
    ("titration: at the maximum", rules(TITRATE, options=["titrate"]),
     facts(planned=course(800.0), previous=(1000.0, "mg/m2"), previous_nadirs={"wbc": 2.6}), "give", "pass", 1000.0),
    ("titration: first course", rules(TITRATE, options=["titrate"]), facts(planned=course(800.0)), "give", None, 800.0),
    ("rule for course 2 only, course 1", rules({**ANC_STOP, "courses": [2]}), facts(counts={"anc": SIM(1.0)}),
     "give", None, 12.0),
    ("rule for course 2 only, course 2", rules({**ANC_STOP, "courses": [2]}), facts(course=2, counts={"anc": SIM(1.0)}),
     "stop", "fail", None),
    ("the file's order: LVEF before ANC", rules(LVEF, ANC_DELAY),
     facts(counts={"anc": SIM(1.0)}, covariates={"lvef_pct": SIM(40.0)}), "stop", "fail", None),
    ("no rules", rules(), facts(), "give", None, 12.0),
]


@pytest.mark.parametrize("name, dosing, pre, action, status, dose", TABLE, ids=[row[0] for row in TABLE])
def test_decision_table(name, dosing, pre, action, status, dose):
    d = decide(dosing, pre)
    assert d.action == action, d.reason
    assert d.action in ACTIONS and d.recorded == RECORDED[action]
    assert d.given == (dose is not None) == (d.recorded in GIVEN)
    if dose is not None:
        assert d.course.amount == pytest.approx(dose, rel=1e-12)
    if status is None:
        assert not [c for c in d.checks if c.kind != "cumulative"]
    else:
        deciding = [c for c in d.checks if c.status == status]
        assert deciding, [(c.name, c.status) for c in d.checks]
        if status == "fail":
            assert d.failed() is deciding[0] and d.failed().action in (*RULE_ACTIONS, "")
            assert d.rule == d.failed().rule
    assert d.reason and "\n" not in d.reason


def test_a_delay_says_when_to_check_again_and_the_longest_delay_is_flagged():
    d = decide(rules(ANC_DELAY), facts(counts={"anc": SIM(1.2)}))
    assert d.recheck_d == 7.0 and not d.max_delay_reached
    assert d.reason == "ANC 1.20 x10^9/L is below 1.5; re-check in 7 days"
    late = decide(rules(ANC_DELAY), facts(counts={"anc": SIM(1.2)}, delayed_d=28.0))
    assert late.max_delay_reached and late.reason == "ANC 1.20 x10^9/L is still below 1.5 after 28 days of delay"


def test_a_real_patient_gets_the_date_and_the_age_of_the_reading_in_the_reason():
    d = decide(rules(ANC_WITHHOLD), facts(counts={"anc": Reading.measured(1.2, 1, "2026-03-30")}))
    assert d.reason == ("ANC 1.2 x10^9/L measured 2026-03-30 is below the label limit of 1.5, so the dose cannot be "
                        "given on 2026-03-31 (ANC >= 1.5).")
    old = decide(rules(LVEF), facts(covariates={"lvef_pct": Reading.measured(60, 120, "2025-12-01")}))
    lvef = old.checks[0]
    assert lvef.status == "to-check" and "120 days before 2026-03-31 (more than 91 days)" in lvef.reason


def test_a_prediction_gives_its_probability_of_meeting_the_limit():
    d = decide(rules(ANC_WITHHOLD), facts(predicted={"anc": predicted(1.5 * math.exp(0.3))}))
    check = d.checks[0]
    assert check.status == "to-check" and "P(>= 1.5) 84%" in check.reason   # one residual SD above the limit


def test_valid_for_in_the_file_sets_how_long_a_measured_count_counts():
    week = rules({**ANC_WITHHOLD, "valid_for": "7 days"})
    d = decide(week, facts(counts={"anc": Reading.measured(1.2, 5, "2026-03-26")}))
    assert d.action == "withhold"


def test_the_lifetime_dose_before_and_after_the_course_is_in_the_cap_unit():
    d = decide(rules(CAP_US), facts(given=[(12.0, "mg/m2"), (48.0, "mg")]))
    assert d.lifetime_unit == "mg/m2"
    assert d.lifetime_before == pytest.approx(12.0 + 48.0 / 2.0)
    assert d.lifetime == pytest.approx(36.0 + 12.0)
    assert d.checks[-1].status == "pass" and "48 of 140 mg/m2 (US)" in d.checks[-1].reason


def test_body_size_is_the_one_dose_unit_conversion():
    assert BODY.convert(12.0, "mg/m2", "mg") == 24.0
    assert BODY.convert(160.0, "mg", "mg/kg") == 2.0
    assert BODY.total([(12.0, "mg/m2"), (24.0, "mg")], "mg/m2") == 24.0
    with pytest.raises(Exception, match="dose unit 'mg/l' is unknown"):
        BODY.per("mg/l")


def test_the_checklist_checks_every_rule_on_its_own():
    """decide stops at the first failing rule; the give-or-hold list goes on: a low ANC does not hide
    a missing LVEF or the lifetime dose, and the cap's check names the other region's cap it passes."""
    all_rules = rules(LVEF, ANC_DELAY, CAP_US, CAP_EU, region="us")
    f = facts(course=5, counts={"anc": Reading.measured(1.2, 0, "2026-03-31")}, given=[(64.0, "mg/m2")])
    d = decide(all_rules, f)
    assert d.action == "delay" and [c.status for c in d.checks] == ["to-check", "fail"]
    listed = checklist(all_rules, f)
    assert [(c.kind, c.status) for c in listed] == [("covariate", "to-check"), ("count", "fail"), ("cumulative", "pass")]
    assert "the EU cap of 72 mg/m2 is passed" in listed[-1].reason
    over = checklist(all_rules, facts(course=5, counts={"anc": SIM(2.0)}, given=[(132.0, "mg/m2")]))
    assert [c.status for c in over] == ["to-check", "pass", "fail"]
