"""Malformed patient files: each raises an InputError whose message is one sentence (no newline,
ends with '.') naming the line or JSON key and the offending value.

Each case is (id, file name, content, fragments): the content is written to tmp_path and read with
``read_patient``; every fragment must appear in the message (the first is the quoted value).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import assert_one_sentence
from mschemo.errors import InputError
from mschemo.estimation import read_patient
from mschemo.estimation.patient import PatientFileError, patient_from_dict

HEADER = "record,date,value,unit,duration"
# line numbers: 1 header, 2 drug, 3 sex, 4 age, 5 height, 6 weight, 7 baseline wbc, 8 dose, 9 wbc; extra rows from 10
CY = [HEADER, "drug,,cyclophosphamide,,", "sex,,F,,", "age,,34,years,", "height,,165,cm,", "weight,,62,kg,",
      "wbc,2026-02-27,6.1,x10^9/L,", "dose,2026-03-03,800,mg/m2,1 h", "wbc,2026-03-13,1.1,x10^9/L,"]
MX = [HEADER, "drug,,mitoxantrone,,", "height,,178,cm,", "weight,,81,kg,", "lvef,2025-12-18,63,%,",
      "dose,2026-01-08,12,mg/m2,30 min"]
CL = [HEADER, "drug,,cladribine,,", "weight,,66,kg,", "crcl,,95,mL/min,", "dose,2026-02-02,20,mg,"]


def csv(base: list[str], *extra: str, replace: dict[int, str] | None = None, drop: tuple[int, ...] = ()) -> str:
    """``base`` with lines (1-based) replaced or dropped and ``extra`` rows appended."""
    lines = [(replace or {}).get(n, line) for n, line in enumerate(base, 1) if n not in drop]
    return "\n".join([*lines, *extra]) + "\n"


def js(**data: object) -> str:
    good = {"drug": "cladribine", "covariates": {"weight": "66 kg", "crcl": "95 mL/min"},
            "doses": [{"date": "2026-02-02", "amount": "20 mg"}]}
    return json.dumps(good | data)


CASES: list[tuple[str, str, str | bytes, tuple[str, ...]]] = [
    # -- the file as a whole ---------------------------------------------------------------------
    ("empty-file", "p.csv", "", ("'p.csv'", "empty")),
    ("blank-file", "p.csv", "  \n\n", ("'p.csv'", "empty")),
    ("only-comments", "p.csv", "# nothing yet\n", ("'p.csv'", "only comments")),
    ("not-utf8", "p.csv", "record,date,value,unit\ndrug,,cyclophosphamide,\nsex,,\xe9,\n".encode("latin-1"),
     ("'p.csv'", "UTF-8")),
    ("wrong-extension", "p.xlsx", "record,date,value,unit\n", ("'.xlsx'", ".csv or .json")),
    ("no-header", "p.csv", "\n".join(CY[1:]) + "\n", ("'drug,,cyclophosphamide,,'", "line 1")),
    ("semicolons", "p.csv", "record;date;value;unit;duration\ndrug;;cyclophosphamide;;\n", ("'record;date;value;unit;duration'", "line 1", "comma-separated")),
    ("header-misspelt-column", "p.csv", csv(CY, replace={1: "record,date,value,units,duration"}),
     ("'record,date,value,units,duration'",)),
    ("header-only", "p.csv", HEADER + "\n", ("'p.csv'", "no drug")),
    ("decimal-comma", "p.csv", csv(CY, "anc,2026-03-13,0,6,x10^9/L,"), ("line 10", "'anc,2026-03-13,0,6,x10^9/L,'")),
    ("no-record-kind", "p.csv", csv(CY, ",2026-03-13,0.6,x10^9/L,"), ("line 10", "no record kind")),
    ("unknown-record-kind", "p.csv", csv(CY, "platelets,2026-03-13,150,x10^9/L,"), ("'platelets'", "line 10")),
    # -- drug -------------------------------------------------------------------------------------
    ("no-drug", "p.csv", csv(CY, drop=(2,)), ("'p.csv'", "names no drug", "cyclophosphamide")),
    ("unknown-drug", "p.csv", csv(CY, replace={2: "drug,,natalizumab,,"}), ("'natalizumab'", "line 2")),
    ("model-not-drug", "p.csv", csv(CY, replace={2: "drug,,mitox-2y,,"}), ("'mitox-2y'", "line 2")),
    ("drug-twice", "p.csv", csv(CY, "drug,,mitoxantrone,,"), ("drug is given twice", "line 2", "line 10")),
    # -- covariates -------------------------------------------------------------------------------
    ("weight-700-kg", "p.csv", csv(CY, replace={6: "weight,,700,kg,"}), ("'700 kg'", "line 6", "25-300 kg")),
    ("weight-unknown-unit", "p.csv", csv(CY, replace={6: "weight,,62,stone,"}), ("'62 stone'", "line 6")),
    ("weight-no-unit", "p.csv", csv(CY, replace={6: "weight,,62,,"}), ("'62'", "line 6", "no unit")),
    ("height-in-m-as-cm", "p.csv", csv(CY, replace={5: "height,,1.65,cm,"}), ("'1.65 cm'", "line 5")),
    ("age-no-unit", "p.csv", csv(CY, replace={4: "age,,34,,"}), ("'34'", "line 4", "years")),
    ("age-implausible", "p.csv", csv(CY, replace={4: "age,,7,years,"}), ("'7 years'", "line 4", "12-100")),
    ("sex-unknown", "p.csv", csv(CY, replace={3: "sex,,X,,"}), ("'X'", "line 3", "F or M")),
    ("weight-twice", "p.csv", csv(CY, "weight,,63,kg,"), ("weight is given twice", "line 6", "line 10")),
    ("height-missing-mg-m2", "p.csv", csv(CY, drop=(5,)), ("height", "mg/m2", "'height,,165,cm,'")),
    ("weight-missing-mg-kg", "p.csv", csv(CY, drop=(5, 6), replace={8: "dose,2026-03-03,15,mg/kg,1 h"}),
     ("weight", "mg/kg")),
    ("weight-missing-cy-mg", "p.csv", csv(CY, drop=(5, 6), replace={8: "dose,2026-03-03,1300,mg,1 h"}),
     ("weight", "its model uses it")),
    ("lvef-missing-mitoxantrone", "p.csv", csv(MX, drop=(5,)), ("lvef", "mitoxantrone", "'lvef,2026-02-20,60,%,'")),
    ("lvef-150-percent", "p.csv", csv(MX, replace={5: "lvef,2025-12-18,150,%,"}), ("'150 %'", "line 5", "5-90 %")),
    ("lvef-as-fraction", "p.csv", csv(MX, replace={5: "lvef,2025-12-18,0.6,,"}), ("'0.6'", "line 5", "percent")),
    ("lvef-no-date", "p.csv", csv(MX, replace={5: "lvef,,63,%,"}), ("lvef on line 5", "no date")),
    ("crcl-missing-cladribine", "p.csv", csv(CL, drop=(4,)), ("crcl", "cladribine", "'crcl,,95,mL/min,'")),
    ("crcl-no-unit", "p.csv", csv(CL, replace={4: "crcl,,95,,"}), ("'95'", "line 4")),
    ("creatinine-without-age", "p.csv", csv(CL, drop=(4,), replace={3: "weight,,66,kg,\ncreatinine,,0.8,mg/dL,"}),
     ("'0.8 mg/dL'", "line 4", "Cockcroft-Gault")),
    ("food-unknown-word", "p.csv", csv(CL, "food,,breakfast,,"), ("'breakfast'", "line 6")),
    # -- doses ------------------------------------------------------------------------------------
    ("no-dose", "p.csv", csv(CY, drop=(8,)), ("'p.csv'", "no dose", "'dose,2026-03-03,800,mg/m2,1 h'")),
    ("dose-unknown-unit", "p.csv", csv(CY, replace={8: "dose,2026-03-03,800,mg/m,1 h"}), ("'800 mg/m'", "line 8")),
    ("dose-no-unit", "p.csv", csv(CY, replace={8: "dose,2026-03-03,800,,1 h"}), ("'800'", "line 8", "no unit")),
    ("dose-zero", "p.csv", csv(CY, replace={8: "dose,2026-03-03,0,mg/m2,1 h"}), ("'0 mg/m2'", "line 8", "zero")),
    ("dose-negative", "p.csv", csv(CY, replace={8: "dose,2026-03-03,-800,mg/m2,1 h"}), ("'-800 mg/m2'", "line 8")),
    ("dose-ten-times-label", "p.csv", csv(CY, replace={8: "dose,2026-03-03,8000,mg/m2,1 h"}),
     ("'8000 mg/m2'", "line 8", "800 mg/m2")),
    ("dose-mg-for-mg-m2", "p.csv", csv(MX, replace={6: "dose,2026-01-08,120,mg/m2,30 min"}), ("'120 mg/m2'", "line 6")),
    ("dose-duplicate", "p.csv", csv(CY, "dose,2026-03-03,800,mg/m2,1 h"), ("2026-03-03", "line 8", "line 10")),
    ("dose-no-duration-iv", "p.csv", csv(CY, replace={8: "dose,2026-03-03,800,mg/m2,"}),
     ("line 8", "800 mg/m2", "infusion duration")),
    ("dose-duration-unknown-unit", "p.csv", csv(CY, replace={8: "dose,2026-03-03,800,mg/m2,1 hx"}), ("'1 hx'", "line 8")),
    ("dose-duration-no-unit", "p.csv", csv(CY, replace={8: "dose,2026-03-03,800,mg/m2,60"}), ("'60'", "line 8")),
    ("dose-duration-2-days", "p.csv", csv(CY, replace={8: "dose,2026-03-03,800,mg/m2,2 days"}),
     ("'2 days'", "line 8", "24 h")),
    ("oral-dose-with-infusion", "p.csv", csv(CL, replace={5: "dose,2026-02-02,20,mg,1 h"}), ("'1 h'", "line 5", "mouth")),
    ("tablets-for-iv-drug", "p.csv", csv(CY, replace={8: "dose,2026-03-03,2,tablets,1 h"}), ("'2 tablets'", "line 8")),
    ("half-tablet", "p.csv", csv(CL, replace={5: "dose,2026-02-02,1.5,tablets,"}), ("'1.5 tablets'", "line 5")),
    ("dose-no-date", "p.csv", csv(CY, replace={8: "dose,,800,mg/m2,1 h"}), ("dose on line 8", "no date")),
    # -- dates ------------------------------------------------------------------------------------
    ("date-day-month-year", "p.csv", csv(CY, replace={8: "dose,03/03/2026,800,mg/m2,1 h"}), ("'03/03/2026'", "line 8", "YYYY-MM-DD")),
    ("date-not-a-day", "p.csv", csv(CY, replace={9: "wbc,2026-02-30,1.1,x10^9/L,"}), ("'2026-02-30'", "line 9")),
    ("date-words", "p.csv", csv(CY, replace={9: "wbc,13 March 2026,1.1,x10^9/L,"}), ("'13 March 2026'", "line 9")),
    ("date-mistyped-year", "p.csv", csv(CY, replace={9: "wbc,2062-03-13,1.1,x10^9/L,"}), ("2062-03-13", "line 9", "10 years")),
    ("count-no-date", "p.csv", csv(CY, replace={9: "wbc,,1.1,x10^9/L,"}), ("wbc on line 9", "no date")),
    ("count-too-early", "p.csv", csv(CY, replace={7: "wbc,2026-01-15,6.1,x10^9/L,"}),
     ("2026-01-15", "line 7", "more than 30 days before the first dose", "2026-03-03")),
    # -- counts -----------------------------------------------------------------------------------
    ("count-no-unit", "p.csv", csv(CY, replace={9: "wbc,2026-03-13,1100,,"}), ("'1100'", "line 9", "/uL")),
    ("count-unknown-unit", "p.csv", csv(CY, replace={9: "wbc,2026-03-13,1.1,mmol/L,"}), ("'1.1 mmol/L'", "line 9")),
    ("count-percent", "p.csv", csv(CY, "anc,2026-03-13,55,%,"), ("'55 %'", "line 10")),
    ("wbc-450", "p.csv", csv(CY, replace={9: "wbc,2026-03-13,450,x10^9/L,"}), ("'450 x10^9/L'", "line 9", "0-100")),
    ("anc-0.6-per-uL", "p.csv", csv(CY, "anc,2026-03-13,0.6,/uL,"), ("'0.6 /uL'", "line 10", "'0.6 x10^9/L'")),
    ("count-negative", "p.csv", csv(CY, replace={9: "wbc,2026-03-13,-1.1,x10^9/L,"}), ("'-1.1 x10^9/L'", "line 9", "negative")),
    ("anc-above-wbc", "p.csv", csv(CY, "anc,2026-03-13,2.5,x10^9/L,"), ("2.5", "line 10", "line 9", "wbc")),
    ("count-duplicate", "p.csv", csv(CY, "wbc,2026-03-13,1.2,x10^9/L,"), ("2026-03-13", "line 9", "line 10")),
    ("count-words", "p.csv", csv(CY, replace={9: "wbc,2026-03-13,low,,"}), ("'low'", "line 9")),
    # -- JSON -------------------------------------------------------------------------------------
    ("json-syntax", "p.json", '{"drug": "cladribine",}', ("'p.json'", "not valid JSON", "line 1")),
    ("json-list", "p.json", "[1, 2]", ("p.json", "JSON list")),
    ("json-unknown-key", "p.json", js(patient_name="Jane"), ("'patient_name'",)),
    ("json-doses-object", "p.json", js(doses={"date": "2026-02-02", "amount": "20 mg"}), ("doses", "dict")),
    ("json-covariates-list", "p.json", js(covariates=["66 kg"]), ("covariates", "list")),
    ("json-count-no-value", "p.json", js(counts=[{"date": "2026-02-01", "kind": "alc"}]), ("counts[0]", '"value"')),
    ("json-count-unknown-kind", "p.json", js(counts=[{"date": "2026-02-01", "kind": "platelets", "value": "150 G/L"}]),
     ("'platelets'", "counts[0]")),
    ("json-count-no-unit", "p.json", js(counts=[{"date": "2026-02-01", "kind": "alc", "value": 1900}]),
     ("'1900'", "counts[0]")),
    ("json-weight-boolean", "p.json", js(covariates={"weight": True, "crcl": "95 mL/min"}), ("True", "covariates.weight")),
    ("json-date-number", "p.json", js(doses=[{"date": 20260202, "amount": "20 mg"}]), ("'20260202'", "doses[0]")),
    ("json-dose-in-mg-m2-no-height", "p.json", js(doses=[{"date": "2026-02-02", "amount": "5 mg/m2"}]),
     ("height", '"height": "165 cm"')),
]


def test_the_corpus_is_large_and_ids_are_unique():
    assert len(CASES) >= 25
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("name,content,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_patient_file(tmp_path: Path, name: str, content: str | bytes, fragments: tuple[str, ...]):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_patient(path)
    assert_one_sentence(info.value, fragments[0])
    for fragment in fragments[1:]:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


@pytest.mark.parametrize("path", ["missing.csv", "."])
def test_missing_path_or_folder(tmp_path: Path, path: str):
    with pytest.raises(PatientFileError) as info:
        read_patient(tmp_path / path)
    assert_one_sentence(info.value, str(tmp_path))


def test_patient_from_dict_rejects_a_non_object():
    with pytest.raises(PatientFileError) as info:
        patient_from_dict(["drug", "cladribine"], source="form")  # type: ignore[arg-type]
    assert_one_sentence(info.value, "JSON list")
