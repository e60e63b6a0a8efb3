"""Dosing rules act exactly when they say: a course is delayed, changed, withheld or stopped on the
simulated patient's own values, and the decision table records why.

A synthetic 3-compartment PK + Friberg leukocyte model with a strong drug effect (tests/helpers.py)
gives deep, well-defined nadirs, so every rule can be triggered on purpose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from helpers import FRIBERG_LINEAR, PK_PARAMS, assert_one_sentence
from mschemo.dosing import courses_of, read_rules
from mschemo.errors import PopulationError, RegimenError

REGIMEN = "12 mg/m2 over 30 min every 21 days x 4"


def _model():
    from mschemo.models import Friberg, LinearPK, chain

    return chain(LinearPK(3), Friberg("wbc"))


def _patients(n=1, **cols):
    base = {"id": np.arange(1, n + 1), "height_cm": np.full(n, 170.0), "weight_kg": np.full(n, 70.0)}
    base |= {k: np.full(n, v) for k, v in PK_PARAMS.items() if k in _model().parameters}
    base |= {f"WBC_{k}": np.full(n, v) for k, v in FRIBERG_LINEAR.items()}
    base["WBC_SLOPE"] = np.full(n, 100.0)     # nadir about 2.0 x10^9/L on day 10, recovered by day 25
    base |= {k: np.asarray(v, dtype=float) if np.ndim(v) else np.full(n, float(v)) for k, v in cols.items()}
    return ms.Population(pd.DataFrame(base))


def _rules(*entries, **schedule):
    return read_rules({"name": "test", "rules": list(entries), "schedule": schedule}, "the test drug")


def _plain(model, pop, until=120.0):
    return ms.simulate(model, REGIMEN, pop, output=np.arange(0.0, until + 1.0), backend=ms.backends.Compiled())


def test_no_rules_gives_every_planned_course_and_the_plain_result():
    model, pop = _model(), _patients()
    res = ms.simulate(model, ms.Regimen.parse(REGIMEN), pop, rules=_rules(), output=np.arange(0.0, 121.0))
    assert res.decisions["action"].tolist() == ["given"] * 4
    assert res.decisions["day"].tolist() == [0.0, 21.0, 42.0, 63.0]
    np.testing.assert_allclose(res.column("wbc"), _plain(model, pop).column("wbc"), rtol=1e-12)


def test_count_rule_delays_until_recovery_and_records_the_value():
    model, pop = _model(), _patients()
    plain = ms.simulate(model, "12 mg/m2 over 30 min", pop, output=np.arange(0.0, 121.0)).column("wbc")[0]
    threshold = plain[21] + 0.01                      # after the first course alone, the day-21 count is just too low
    checks = np.flatnonzero(plain[21::2] >= threshold)   # re-checks every 2 days from day 21
    assert checks.size and checks[0] <= 14, "the synthetic patient must recover above the threshold within 4 weeks"
    rule = {"kind": "count", "output": "wbc", "minimum": float(threshold), "action": "delay", "recheck": "2 days",
            "max_delay": "4 weeks", "label": "WBC before each course", "assumption": "test"}
    res = ms.simulate(model, ms.Regimen.parse(REGIMEN), pop, rules=_rules(rule), output=np.arange(0.0, 150.0))
    d = res.decisions
    second = d[d["course"] == 2]
    n_delays = int(checks[0])
    assert second["action"].tolist() == ["delayed"] * n_delays + ["given"]
    assert second["day"].tolist() == [21.0 + 2.0 * k for k in range(n_delays + 1)]
    # the same patient and doses; the two solves end on different days, so their last steps differ
    # (default compiled tolerance rtol 1e-6)
    assert second["value"].iloc[0] == pytest.approx(plain[21], rel=1e-5)
    assert "below" in second["reason"].iloc[0] and "re-check in 2 days" in second["reason"].iloc[0]
    # later courses keep their interval from the delayed one
    assert d[d["course"] == 3]["day"].iloc[0] == second["day"].iloc[-1] + 21.0


def test_count_rule_after_the_longest_delay_withholds_or_stops():
    model, pop = _model(), _patients()
    never = {"kind": "count", "output": "wbc", "minimum": 100.0, "action": "delay", "recheck": "7 days",
             "max_delay": "2 weeks", "after_max_delay": "withhold", "label": "WBC >= 100", "assumption": "test"}
    res = ms.simulate(model, ms.Regimen.parse(REGIMEN), pop, rules=_rules(never), output=np.arange(0.0, 200.0))
    first = res.decisions[res.decisions["course"] == 1]
    assert first["action"].tolist() == ["delayed", "delayed", "withheld"]
    assert first["day"].tolist() == [0.0, 7.0, 14.0]
    assert "after 14 days of delay" in first["reason"].iloc[-1]
    assert (res.decisions["action"] != "given").all()
    assert np.all(res.column("conc") == 0.0)
    stop = dict(never, after_max_delay="stop")
    res = ms.simulate(model, ms.Regimen.parse(REGIMEN), pop, rules=_rules(stop), output=np.arange(0.0, 200.0))
    assert res.decisions["action"].tolist() == ["delayed", "delayed", "stopped"]


def test_covariate_rule_stops_exactly_the_patients_below_the_limit():
    """Mitoxantrone label: no dose when LVEF < 50 % (the value 50 itself passes)."""
    model = _model()
    pop = _patients(3, lvef_pct=[49.9, 50.0, 62.0])
    rule = {"kind": "covariate", "covariate": "lvef_pct", "minimum": 50, "action": "stop",
            "label": "LVEF >= 50 %", "assumption": "test"}
    res = ms.simulate(model, ms.Regimen.parse(REGIMEN), pop, rules=_rules(rule), output=np.arange(0.0, 100.0))
    by_id = res.decisions.groupby("id")["action"].apply(list).to_dict()
    assert by_id[1] == ["stopped"]
    assert by_id[2] == by_id[3] == ["given"] * 4
    assert "lvef_pct 49.9 is below 50" in res.decisions.iloc[0]["reason"]


def test_cumulative_cap_stops_before_the_course_that_would_pass_it():
    """12 mg/m2 courses: the EU limit of 72 mg/m2 allows 6; the US limit of 140 allows all 8."""
    model, pop = _model(), _patients()
    caps = [{"kind": "cumulative", "limit": "72 mg/m2", "region": "eu", "label": "EU cap", "assumption": "test"},
            {"kind": "cumulative", "limit": "140 mg/m2", "region": "us", "label": "US cap", "assumption": "test"}]
    reg = ms.Regimen.parse("12 mg/m2 over 30 min every 21 days x 8")
    eu = ms.simulate(model, reg, pop, rules=_rules(*caps).with_region("eu"), output=np.arange(0.0, 250.0))
    assert eu.decisions["action"].tolist() == ["given"] * 6 + ["stopped"]
    assert eu.decisions["cumulative"].tolist()[:6] == [12.0 * k for k in range(1, 7)]
    assert "84 mg/m2, above the EU limit of 72 mg/m2" in eu.decisions["reason"].iloc[-1]
    us = ms.simulate(model, reg, pop, rules=_rules(*caps).with_region("us"), output=np.arange(0.0, 250.0))
    assert us.decisions["action"].tolist() == ["given"] * 8
    with pytest.raises(RegimenError) as err:
        _rules(*caps).with_region("jp")
    assert_one_sentence(err.value, "'jp'")


def test_titration_sets_each_dose_from_the_previous_nadir():
    model, pop = _model(), _patients()
    plain = _plain(model, pop).column("wbc")[0]
    nadir1 = plain[0:22].min()
    rule = {"kind": "titration", "output": "wbc", "label": "titrate to the nadir", "assumption": "test",
            "bands": [{"below": float(nadir1) + 0.01, "change": "-2 mg/m2"}, {"below": "inf", "change": "+25 %"}],
            "minimum_dose": "9 mg/m2", "maximum_dose": "20 mg/m2"}
    res = ms.simulate(model, ms.Regimen.parse(REGIMEN), pop, rules=_rules(rule), output=np.arange(0.0, 120.0))
    d = res.decisions
    assert d["action"].iloc[0] == "given" and d["dose"].iloc[0] == 12.0
    assert d["action"].iloc[1] == "reduced" and d["dose"].iloc[1] == pytest.approx(10.0)
    assert d["value"].iloc[1] == pytest.approx(nadir1, rel=1e-5)   # as above: solves of different lengths
    # each later dose follows the bands from its own previous nadir, within 9-20 mg/m2
    for k in range(2, 4):
        prev, now = d["dose"].iloc[k - 1], d["dose"].iloc[k]
        expect = prev - 2.0 if d["value"].iloc[k] < nadir1 + 0.01 else prev * 1.25
        assert now == pytest.approx(min(20.0, max(9.0, expect)))
    # the doses given are the ones decided (mg = mg/m2 x BSA)
    bsa = float(pop.covariate("bsa_m2")[0])
    np.testing.assert_allclose(d["dose_mg"], d["dose"] * bsa)


def test_decisions_do_not_depend_on_the_other_patients():
    model = _model()
    slopes = [10.0, 30.0, 100.0, 300.0]
    pop = _patients(4, WBC_SLOPE=slopes)
    rule = {"kind": "count", "output": "wbc", "minimum": 5.0, "action": "delay", "recheck": "3 days",
            "max_delay": "3 weeks", "label": "WBC >= 5", "assumption": "test"}
    reg = ms.Regimen.parse(REGIMEN)
    together = ms.simulate(model, reg, pop, rules=_rules(rule), output=np.arange(0.0, 200.0))
    for i in range(4):
        alone = ms.simulate(model, reg, pop.subset(i, i + 1), rules=_rules(rule), output=np.arange(0.0, 200.0))
        mine = together.decisions[together.decisions["id"] == i + 1].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone.decisions)
        np.testing.assert_array_equal(together.column("wbc")[i], alone.column("wbc")[0])


def test_courses_group_doses_within_the_window():
    reg = ms.Regimen.parse("10 mg orally every 1 day x 5 then 10 mg orally every 1 day x 5 starting day 30 "
                           "then 10 mg orally every 1 day x 5 starting day 365")
    assert [len(c.doses) for c in courses_of(reg, 60.0)] == [10, 5]
    assert [c.start_d for c in courses_of(reg, 60.0)] == [0.0, 365.0]
    assert len(courses_of(reg, 0.0)) == 15


def test_bad_rules_and_missing_columns_are_one_sentence():
    model, pop = _model(), _patients()
    cases = [
        ({"kind": "weekly", "label": "x", "assumption": "t"}, "'weekly'"),
        ({"kind": "count", "minimum": "high", "label": "x", "assumption": "t"}, "'high'"),
        ({"kind": "count", "minimum": 1.5, "action": "pause", "label": "x", "assumption": "t"}, "'pause'"),
        ({"kind": "count", "minimum": 1.5, "label": "x", "assumption": "t", "courses": "first"}, "'first'"),
        ({"kind": "titration", "label": "x", "assumption": "t", "bands": [{"below": 1.0, "change": "a lot"}]}, "'a lot'"),
        ({"kind": "count", "minimum": 1.5}, "label"),
    ]
    for entry, quoted in cases:
        with pytest.raises(RegimenError) as err:
            _rules(entry)
        assert_one_sentence(err.value, quoted)
    lvef = {"kind": "covariate", "covariate": "lvef_pct", "minimum": 50, "label": "LVEF >= 50 %", "assumption": "t"}
    with pytest.raises(PopulationError) as err:
        ms.simulate(model, ms.Regimen.parse(REGIMEN), pop, rules=_rules(lvef))
    assert_one_sentence(err.value, "'lvef_pct'")
    anc = {"kind": "count", "output": "anc", "minimum": 1.5, "label": "ANC >= 1.5", "assumption": "t"}
    with pytest.raises(RegimenError) as err:
        ms.simulate(model, ms.Regimen.parse(REGIMEN), pop, rules=_rules(anc))
    assert_one_sentence(err.value, "ANC")


def test_decisions_and_counts_do_not_depend_on_the_chunk_size():
    """Seeded runs are the same however the patients are chunked (here 1, 3 and all 7 at once)."""
    model = _model()
    pop = _patients(7, WBC_SLOPE=[10.0, 30.0, 60.0, 100.0, 150.0, 200.0, 300.0])
    rule = {"kind": "count", "output": "wbc", "minimum": 5.0, "action": "delay", "recheck": "3 days",
            "max_delay": "3 weeks", "label": "WBC >= 5", "assumption": "test"}
    reg = ms.Regimen.parse(REGIMEN)
    runs = [ms.simulate(model, reg, pop, rules=_rules(rule), output=np.arange(0.0, 200.0), chunk_size=k)
            for k in (1, 3, 1000)]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(runs[0].decisions, other.decisions)
        np.testing.assert_array_equal(runs[0].values, other.values)
    assert (runs[0].decisions["action"] == "delayed").any()
