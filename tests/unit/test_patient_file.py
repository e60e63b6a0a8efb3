"""Patient files (mschemo.estimation.patient): the examples, the formats, units, defaults, and simulation."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.drugs import load_drug
from mschemo.drugs.cladribine import course_doses
from mschemo.estimation import COUNT_KINDS, PatientRecord, read_patient
from mschemo.estimation.patient import PatientFileError, patient_from_dict
from mschemo.population import body_surface_area

EXAMPLES = Path(ms.__file__).parent / "estimation" / "examples"
HEADER = "record,date,value,unit,duration"
CY_BASE = [HEADER, "drug,,cyclophosphamide,,", "sex,,F,,", "age,,34,years,", "height,,165,cm,", "weight,,62,kg,",
           "dose,2026-03-03,800,mg/m2,1 h"]


def write(tmp_path: Path, lines: list[str], name: str = "patient.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cy(tmp_path: Path, *extra: str) -> PatientRecord:
    return read_patient(write(tmp_path, [*CY_BASE, *extra]))


# --------------------------------------------------------------------------------------------
# the three examples
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cyclophosphamide.csv", "mitoxantrone.csv", "cladribine.json"])
def test_examples_read(name):
    rec = read_patient(EXAMPLES / name)
    assert rec.drug == Path(name).stem
    load_drug(rec.drug)
    assert rec.source.endswith(name)
    assert list(rec.doses.columns) == ["day", "date", "amount", "unit", "duration_h", "route"]
    assert list(rec.counts.columns) == ["day", "date", "kind", "value"]
    assert list(rec.lvef.columns) == ["day", "date", "lvef_pct"]
    assert rec.doses["day"].iloc[0] == 0.0 and rec.doses["date"].iloc[0] == rec.start
    assert rec.doses["day"].is_monotonic_increasing and rec.counts["day"].is_monotonic_increasing
    assert set(rec.counts["kind"]) <= set(COUNT_KINDS)
    assert (rec.counts["day"] >= -30).all()
    for d in load_drug(rec.drug).covariates:
        assert d.name in rec.covariates
    for col in ("day", "amount", "duration_h"):
        assert rec.doses[col].dtype == float
    assert rec.counts["value"].dtype == float


def test_cyclophosphamide_example_is_the_users_story():
    rec = read_patient(EXAMPLES / "cyclophosphamide.csv")
    assert rec.id == "DEMO-CY-01" and rec.start == dt.date(2026, 3, 3)
    assert rec.covariates == {"sex": "F", "age_y": 34.0, "height_cm": 165.0, "weight_kg": 62.0}
    dose = rec.doses.iloc[0]
    assert (dose["amount"], dose["unit"], dose["duration_h"], dose["route"]) == (800.0, "mg/m2", 1.0, "iv")
    wbc = rec.counts[rec.counts["kind"] == "wbc"].set_index("day")["value"]
    assert wbc[10.0] == 1.1 and wbc[27.0] == 4.6 and (wbc.index < 0).any()
    anc = rec.counts[(rec.counts["kind"] == "anc") & (rec.counts["day"] == 10)]["value"].item()
    assert anc == 0.6  # written as 600 /uL
    assert rec.bsa_m2 == pytest.approx(math.sqrt(165 * 62 / 3600))
    assert rec.notes == ()


def test_mitoxantrone_example_lvef_and_courses():
    rec = read_patient(EXAMPLES / "mitoxantrone.csv")
    assert rec.doses["day"].tolist() == [0.0, 91.0, 182.0]
    assert (rec.doses["duration_h"] == 0.5).all()
    assert rec.lvef["lvef_pct"].tolist() == [63.0, 61.0, 59.0]
    assert rec.covariates["lvef_pct"] == 59.0  # the latest
    assert rec.lvef["day"].iloc[0] < 0
    # G/L, K/uL and cells/uL all become 10^9/L
    at = rec.counts.set_index(["day", "kind"])["value"]
    assert at[89.0, "wbc"] == 6.6 and at[102.0, "anc"] == 1.0 and at[194.0, "anc"] == 0.95


def test_cladribine_example_matches_the_label_course():
    rec = read_patient(EXAMPLES / "cladribine.json")
    assert rec.covariates["weight_kg"] == 66.0 and rec.covariates["fed"] == 0.0
    # crcl from serum creatinine 71 umol/L by Cockcroft-Gault, with a note
    scr = 71 / 88.42
    assert rec.covariates["crcl_ml_min"] == pytest.approx((140 - 29) * 66 / (72 * scr) * 0.85)
    assert any("Cockcroft-Gault" in n for n in rec.notes)
    assert (rec.doses["route"] == "oral").all() and (rec.doses["duration_h"] == 0).all()
    label = course_doses(66.0)
    got = rec.regimen().doses
    assert [(d.time_d, d.amount, d.unit, d.cmt) for d in got] == [(d.time_d, d.amount, d.unit, d.cmt) for d in label]
    assert sum(d.amount for d in got) == pytest.approx(1.75 * 66, abs=10)  # the label's 1.75 mg/kg, in whole tablets


# --------------------------------------------------------------------------------------------
# record helpers
# --------------------------------------------------------------------------------------------
def test_regimen_keeps_units_and_durations():
    rec = read_patient(EXAMPLES / "mitoxantrone.csv")
    reg = rec.regimen()
    assert reg.n_doses == 3
    for d in reg.doses:
        assert (d.unit, d.cmt, d.amount) == ("mg/m2", "central", 12.0)
        assert d.duration_d == pytest.approx(0.5 / 24)


def test_population_is_one_patient_with_bsa():
    rec = read_patient(EXAMPLES / "mitoxantrone.csv")
    pop = rec.population()
    assert len(pop) == 1 and pop.ids[0] == "DEMO-MX-01"
    assert pop.covariate("bsa_m2")[0] == pytest.approx(float(body_surface_area(178.0, 81.0)))
    assert pop.covariate("lvef_pct")[0] == 59.0
    drug = load_drug("mitoxantrone")
    assert drug.complete(pop) is pop  # nothing left to draw
    assert np.isfinite(pop.individual_parameters(drug.model)).all()


def test_day_of_and_date_of():
    rec = read_patient(EXAMPLES / "cyclophosphamide.csv")
    assert rec.day_of(dt.date(2026, 3, 13)) == 10.0
    assert rec.day_of("2026-02-27") == -4.0
    assert rec.date_of(27) == dt.date(2026, 3, 30)
    assert rec.date_of(27.5) == dt.date(2026, 3, 30)
    for day in (-4.0, 0.0, 10.0, 27.0):
        assert rec.day_of(rec.date_of(day)) == day
    with pytest.raises(PatientFileError, match="ISO"):
        rec.day_of("13/03/2026")


# --------------------------------------------------------------------------------------------
# units and spellings
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value,unit", [
    ("4.6", "10^9/L"), ("4.6", "x10^9/L"), ("4.6", "×10⁹/L"), ("4.6", "G/L"), ("4.6", "10^3/uL"),
    ("4.6", "x10^3/uL"), ("4.6", "K/uL"), ("4600", "/uL"), ("4600", "cells/uL"), ("4600", "/mm3"),
    ("4600", "/µL"), ("4.6 x10^9/L", ""),
])
def test_count_units_convert_to_1e9_per_L(tmp_path, value, unit):
    rec = cy(tmp_path, f"wbc,2026-03-13,{value},{unit},")
    assert rec.counts["value"].item() == pytest.approx(4.6)


@pytest.mark.parametrize("height,weight,age", [
    ("165,cm", "62,kg", "34,years"), ("1.65,m", "136.687,lb", "34,y"), ("64.96,in", "62 kg,", "408,months"),
])
def test_covariate_units(tmp_path, height, weight, age):
    lines = [HEADER, "drug,,cyclophosphamide,,", f"height,,{height},", f"weight,,{weight},", f"age,,{age},",
             "dose,2026-03-03,800,mg/m2,1 h"]
    rec = read_patient(write(tmp_path, lines))
    assert rec.covariates["height_cm"] == pytest.approx(165.0, abs=0.01)
    assert rec.covariates["weight_kg"] == pytest.approx(62.0, abs=0.01)
    assert rec.covariates["age_y"] == pytest.approx(34.0)


def test_dose_units_and_bolus(tmp_path):
    rec = read_patient(write(tmp_path, [HEADER, "drug,,cyclophosphamide,,", "weight,,62,kg,", "height,,165,cm,",
                                        "dose,2026-03-03,1.3,g,0 min", "dose,2026-04-01,20,mg/kg,90 min"]))
    assert rec.doses[["amount", "unit"]].values.tolist() == [[1300.0, "mg"], [20.0, "mg/kg"]]
    assert rec.doses["duration_h"].tolist() == [0.0, 1.5]
    assert rec.regimen().doses[0].duration_d == 0.0


def test_csv_details_comments_bom_value_with_unit_and_no_duration_column(tmp_path):
    text = ("\ufeff# a comment\n\nRecord , Date , Value , Unit\n drug,,Cladribine,\nweight,,66 kg,\n"
            "crcl,,1.5,mL/s\nfood,,with food,\nnote,,seen in clinic,\ndose,2026-02-02,2,tablets\n"
            "Lymphocytes,2026-01-20,1900,cells/mm3\n")
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    rec = read_patient(path)
    assert rec.drug == "cladribine" and rec.id == "p"  # id from the file name
    assert rec.covariates["crcl_ml_min"] == pytest.approx(90.0) and rec.covariates["fed"] == 1.0
    assert rec.doses[["amount", "unit", "route"]].values.tolist() == [[20.0, "mg", "oral"]]
    assert rec.counts[["day", "kind", "value"]].values.tolist() == [[-13.0, "alc", 1.9]]


def test_cladribine_food_defaults_with_a_note(tmp_path):
    rec = read_patient(write(tmp_path, [HEADER, "drug,,cladribine,,", "weight,,66,kg,", "crcl,,95,mL/min,",
                                        "dose,2026-02-02,20,mg,"]))
    assert rec.covariates["fed"] == 1.0
    assert len(rec.notes) == 1 and "fed" in rec.notes[0]
    assert "height_cm" not in rec.covariates and rec.bsa_m2 is None


def test_baseline_window_and_dose_day_counts(tmp_path):
    rec = cy(tmp_path, "wbc,2026-02-01,6.0,x10^9/L,", "wbc,2026-03-03,5.9,x10^9/L,", "anc,2026-03-03,3.5,x10^9/L,")
    assert rec.counts["day"].tolist() == [-30.0, 0.0, 0.0]


def test_dose_after_the_last_count_and_no_counts_are_fine(tmp_path):
    rec = cy(tmp_path, "wbc,2026-03-13,1.1,x10^9/L,", "dose,2026-04-01,600,mg/m2,1 h")
    assert rec.doses["day"].tolist() == [0.0, 29.0]
    assert len(read_patient(write(tmp_path, CY_BASE, "nocounts.csv")).counts) == 0


def test_rows_in_any_order_and_first_dose_is_day_zero(tmp_path):
    rec = read_patient(write(tmp_path, [HEADER, "dose,2026-04-01,800,mg/m2,1 h", "wbc,2026-03-13,1.1,x10^9/L,",
                                        *CY_BASE[1:]]))
    assert rec.start == dt.date(2026, 3, 3) and rec.doses["day"].tolist() == [0.0, 29.0]


def test_crlf_line_ends_and_zero_counts(tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes(("\r\n".join([*CY_BASE, "anc,2026-03-13,0,/uL,", "wbc,2026-03-13,0.4,x10^9/L,"]) + "\r\n").encode())
    rec = read_patient(path)
    assert rec.counts[["kind", "value"]].values.tolist() == [["wbc", 0.4], ["anc", 0.0]]


def test_json_and_csv_give_the_same_record(tmp_path):
    data = {"id": "A1", "drug": "cyclophosphamide",
            "covariates": {"sex": "F", "age": "34 years", "height": {"value": 165, "unit": "cm"}, "weight": "62 kg"},
            "doses": [{"date": "2026-03-03", "amount": 800, "unit": "mg/m2", "duration": "1 h"}],
            "counts": [{"date": "2026-03-13", "kind": "wbc", "value": 1.1, "unit": "x10^9/L"},
                       {"date": "2026-03-13", "kind": "anc", "value": "600 /uL"}]}
    path = tmp_path / "a.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    from_json = read_patient(path)
    from_csv = cy(tmp_path, "id,,A1,,", "wbc,2026-03-13,1.1,x10^9/L,", "anc,2026-03-13,600,/uL,")
    assert from_json.covariates == from_csv.covariates and from_json.id == from_csv.id == "A1"
    for a, b in ((from_json.doses, from_csv.doses), (from_json.counts, from_csv.counts), (from_json.lvef, from_csv.lvef)):
        pd.testing.assert_frame_equal(a, b)
    assert patient_from_dict(data).source == "patient"


# --------------------------------------------------------------------------------------------
# the records drive the simulation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cyclophosphamide.csv", "mitoxantrone.csv", "cladribine.json"])
def test_examples_simulate(name):
    rec = read_patient(EXAMPLES / name)
    until = float(rec.counts["day"].max()) + 1
    res = ms.simulate(load_drug(rec.drug).model, rec.regimen(), rec.population(), output="daily", until=until)
    assert res.all_ok and res.n_patients == 1
    for kind in COUNT_KINDS:
        v = res.column(kind)[0]
        assert np.isfinite(v).all() and v.min() < v[0]  # the doses lower every count
    assert res.times_d[-1] >= until - 1


def test_mg_per_m2_history_simulates_like_the_regimen_text():
    rec = read_patient(EXAMPLES / "cyclophosphamide.csv")
    model = load_drug(rec.drug).model
    a = ms.simulate(model, rec.regimen(), rec.population(), output="daily", until=30.0)
    b = ms.simulate(model, ms.Regimen.parse("800 mg/m2 over 1 h"), rec.population(), output="daily", until=30.0)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-12)
