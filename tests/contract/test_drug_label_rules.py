"""Each drug's label rules act on the simulated patient exactly when the label says, and say why.

Patients are built with chosen values (an LVEF, a baseline count, a lymphocyte kill rate) so that a
rule must, or must not, act; the decision table is then checked course by course.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mschemo as ms


def _patients(drug: ms.Drug, n: int, **columns) -> ms.Population:
    """n typical adults (170 cm, 72 kg) with the drug's other covariates at typical values."""
    base = {"id": np.arange(1, n + 1), "height_cm": np.full(n, 170.0), "weight_kg": np.full(n, 72.0),
            "sex": ["F"] * n, "age_y": np.full(n, 38.0), "crcl_ml_min": np.full(n, 105.2), "fed": np.zeros(n),
            "lvef_pct": np.full(n, 62.0)}
    base |= {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    return ms.Population(pd.DataFrame(base))


def _actions(res, pid: int) -> list[tuple[int, str]]:
    d = res.decisions[res.decisions["id"] == pid]
    return list(zip(d["course"].tolist(), d["action"].tolist()))


# -- mitoxantrone ---------------------------------------------------------------------------------
def test_mitoxantrone_lvef_below_50_stops_before_any_dose():
    """Marriott 2010 / US label: no mitoxantrone when LVEF < 50 %."""
    drug = ms.load_drug("mitoxantrone")
    res = ms.simulate(drug, population=_patients(drug, 2, lvef_pct=[48.0, 55.0]), seed=1, until="200 days")
    assert _actions(res, 1) == [(1, "stopped")]
    assert "lvef_pct 48 is below 50" in res.decisions.iloc[0]["reason"]
    assert [a for _, a in _actions(res, 2)] == ["given"] * 8
    assert res.column("conc")[0].max() == 0.0 and res.column("conc")[1].max() > 0.0


def test_mitoxantrone_eu_cap_allows_six_doses_of_12_mg_per_m2():
    """EU SmPC: lifetime 72 mg/m2 = 6 x 12 mg/m2; the 7th dose would reach 84 and is not given.
    US label: 140 mg/m2, so all 8 label doses (96 mg/m2) are given."""
    drug = ms.load_drug("mitoxantrone")
    pop = _patients(drug, 1)
    eu = ms.simulate(drug, population=pop, seed=1, rules=drug.rules.with_region("eu"))
    assert [a for _, a in _actions(eu, 1)] == ["given"] * 6 + ["stopped"]
    last = eu.decisions.iloc[-1]
    assert last["rule"] == "lifetime dose at most 72 mg/m2 (EU)"
    assert "84 mg/m2, above the EU limit of 72 mg/m2" in last["reason"]
    assert eu.decisions["cumulative"].iloc[5] == pytest.approx(72.0)
    us = ms.simulate(drug, population=pop, seed=1)
    assert [a for _, a in _actions(us, 1)] == ["given"] * 8


def test_mitoxantrone_low_neutrophils_delay_then_skip_the_dose():
    """Label: no dose with neutrophils < 1.5 x10^9/L. A patient whose baseline ANC is 1.2 is
    re-checked weekly for 4 weeks (assumption), then that dose is skipped; the next is checked again."""
    drug = ms.load_drug("mitoxantrone")
    res = ms.simulate(drug, population=_patients(drug, 1, ANC_CIRC0=[1.2]), seed=1, until="200 days")
    first = res.decisions[res.decisions["course"] == 1]
    assert first["action"].tolist() == ["delayed"] * 4 + ["withheld"]
    assert first["day"].tolist() == [0.0, 7.0, 14.0, 21.0, 28.0]
    assert first["value"].tolist() == pytest.approx([1.2] * 5)
    assert "is still below 1.5 after 28 days of delay" in first["reason"].iloc[-1]
    assert res.column("conc")[0].max() == 0.0


# -- cladribine -----------------------------------------------------------------------------------
def test_cladribine_needs_normal_lymphocytes_before_year_1():
    """SmPC 4.2: lymphocytes must be within normal limits before the year-1 course."""
    drug = ms.load_drug("cladribine")
    res = ms.simulate(drug, population=_patients(drug, 2, ALC_CIRC0=[0.9, 2.0]), seed=1, until="100 days")
    assert _actions(res, 1) == [(1, "stopped")]
    assert _actions(res, 2)[0] == (1, "given")


def test_cladribine_year_2_waits_for_lymphocytes_up_to_6_months_then_stops():
    """SmPC 4.2: ALC >= 0.8 x10^9/L before year 2; the course may be delayed up to 6 months; if
    recovery takes longer, no more cladribine. Patient 1 is typical; patient 2's lymphocytes are
    killed hard and renew very slowly (long-lived cells, slow precursors), so they stay below 0.8."""
    drug = ms.load_drug("cladribine")
    ps = drug.model.parameter_set
    typical = {k: ps[k].value for k in ("ALC_KILL", "ALC_HALF_LIFE", "ALC_MTT")}
    res = ms.simulate(drug, population=_patients(drug, 2, ALC_KILL=[typical["ALC_KILL"], 50.0 * typical["ALC_KILL"]],
                                  ALC_HALF_LIFE=[typical["ALC_HALF_LIFE"], 3000.0],
                                  ALC_MTT=[typical["ALC_MTT"], 400.0]), seed=1, until="800 days")
    d2 = res.decisions[(res.decisions["id"] == 2) & (res.decisions["course"] == 2)]
    year2 = ms.units.parse_duration("12 months")
    four_weeks = 28.0
    n_rechecks = int(ms.units.parse_duration("6 months") // four_weeks)     # delays that fit in 6 months
    assert d2["action"].tolist() == ["delayed"] * n_rechecks + ["stopped"]
    assert d2["day"].iloc[0] == pytest.approx(year2)
    assert d2["day"].iloc[-1] == pytest.approx(year2 + n_rechecks * four_weeks)
    assert (d2["value"] < 0.8).all()
    assert "still below 0.8" in d2["reason"].iloc[-1]
    d1 = res.decisions[(res.decisions["id"] == 1) & (res.decisions["course"] == 2)]
    alc = res.column("alc")[0]
    day = d1["day"].iloc[-1]
    assert d1["action"].iloc[-1] == "given"
    # the course is given at the first check with ALC >= 0.8, and every earlier check was below it
    assert d1["value"].iloc[-1] >= 0.8 and (d1["value"].iloc[:-1] < 0.8).all()
    assert alc[int(round(day))] == pytest.approx(d1["value"].iloc[-1], rel=1e-3)


def test_cladribine_dose_follows_the_weight_band():
    """US PI Table 1: 70-<80 kg: 7 + 7 tablets of 10 mg per yearly course."""
    drug = ms.load_drug("cladribine")
    res = ms.simulate(drug, population=_patients(drug, 1), seed=1, until="30 days")
    assert res.decisions["dose"].iloc[0] == pytest.approx(140.0)
    assert res.decisions["dose_unit"].iloc[0] == "mg"


# -- cyclophosphamide ------------------------------------------------------------------------------
def test_cyclophosphamide_low_neutrophils_postpone_the_pulse_at_most_two_weeks():
    """French vasculitis recommendations: ANC < 1.5 x10^9/L on the bolus date: postpone (<= 2 weeks)."""
    drug = ms.load_drug("cyclophosphamide")
    res = ms.simulate(drug, population=_patients(drug, 1, ANC_CIRC0=[1.3]), seed=1, until="100 days")
    first = res.decisions[res.decisions["course"] == 1]
    assert first["action"].tolist() == ["delayed", "delayed", "withheld"]
    assert first["day"].tolist() == [0.0, 7.0, 14.0]


def test_cyclophosphamide_titration_is_an_option_that_follows_the_previous_nadir():
    drug = ms.load_drug("cyclophosphamide")
    assert drug.rules.available_options == ["titrate"]
    pop = _patients(drug, 1)
    plain = ms.simulate(drug, population=pop, seed=1)
    assert set(plain.decisions["action"]) == {"given"} and set(plain.decisions["dose"]) == {800.0}
    res = ms.simulate(drug, population=pop, seed=1, rules=drug.rules.with_options("titrate"))
    d = res.decisions
    rule = next(r for r in drug.rules.rules if r.option == "titrate")
    for k in range(1, len(d)):
        expect, _ = rule.next_dose(d["dose"].iloc[k - 1], d["value"].iloc[k])
        assert d["dose"].iloc[k] == pytest.approx(expect)
        assert d["action"].iloc[k] in ("given", "reduced", "increased")
    with pytest.raises(ms.RegimenError):
        ms.simulate(drug, population=pop, seed=1, rules=drug.rules.with_options("escalate"))


def test_rules_off_gives_every_planned_dose():
    drug = ms.load_drug("mitoxantrone")
    res = ms.simulate(drug, population=_patients(drug, 1, lvef_pct=[30.0]), rules=False, seed=1)
    assert res.decisions["action"].tolist() == ["given"] * 8
    assert res.decisions["reason"].iloc[0] == "no dosing rules"


def test_a_regimen_a_clinician_would_question_is_warned_about():
    """An IV drug with no infusion time, and a course above the label's with no rule on: it runs, with
    a RegimenWarning naming the dose; the label's own plan, or the rules on, warn of nothing more."""
    import warnings

    d = ms.load_drug("mitoxantrone")
    with pytest.warns(ms.RegimenWarning, match="no infusion time"):
        ms.simulate(d, "12 mg/m2 every 3 months x 2", n=2, seed=1, until="6 months")
    with pytest.warns(ms.RegimenWarning, match="above the largest course"):
        ms.simulate(d, "30 mg/m2 over 30 min every 3 months x 2", n=2, seed=1, until="6 months", rules=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ms.RegimenWarning)
        ms.simulate(d, None, n=2, seed=1, until="6 months")
        ms.simulate(d, "30 mg/m2 over 30 min every 3 months x 2", n=2, seed=1, until="6 months")   # the rules check it
        c = ms.load_drug("cyclophosphamide")
        ms.simulate(c, "1400 mg/m2 over 1 h every 4 weeks x 2", n=2, seed=1, until="3 months", rules=False)  # titration's range
