"""Patient files: one real patient's covariates, dosing history and dated blood counts.

:func:`read_patient` checks a file and returns a :class:`PatientRecord` (day 0 = the first dose).

CSV (``.csv``): the header ``record,date,value,unit,duration`` (``duration`` optional; a ``note``
column is ignored), then one row per record; blank lines and lines starting with ``#`` are skipped;
a value may carry its unit in ``value`` ("165 cm")::

    record,date,value,unit,duration
    drug,,cyclophosphamide,,
    height,,165,cm,
    weight,,62,kg,
    dose,2026-03-03,800,mg/m2,1 h
    wbc,2026-02-28,6.1,x10^9/L,
    anc,2026-03-13,600,/uL,

JSON (``.json``): ``{"id", "drug", "covariates": {"height": "165 cm", ...}, "doses": [{"date",
"amount": "800 mg/m2", "duration": "1 h"}], "counts": [{"date", "kind": "wbc", "value": "1.1
x10^9/L"}], "lvef": [{"date", "value": "60 %"}]}``; a value may be a number with a ``"unit"`` key.

Records: ``drug`` (a library drug), ``id``, ``sex`` (F/M), ``age`` (years), ``height`` (cm, m, in),
``weight`` (kg, lb), ``crcl`` (mL/min) or ``creatinine`` (serum, mg/dL or umol/L: Cockcroft-Gault
from age, sex and weight), ``food`` (fed, fasted, unknown), ``lvef`` (%, dated; the latest is the
covariate ``lvef_pct``), ``dose`` (dated, one row per day; mg, mg/m2, mg/kg, or tablets of a tablet
drug; IV doses need the infusion duration, "0 min" for a bolus; oral doses none), counts ``wbc``,
``anc``, ``alc`` (dated; converted to 10^9/L from "x10^9/L", "G/L", "K/uL", "/uL", "cells/mm3" ...;
a number without a unit is an error) and ``note`` (ignored). Dates are ISO (YYYY-MM-DD) only.

Checks (assumptions: wide limits against unit and typing mistakes, not clinical judgement):
:data:`PLAUSIBLE` (WBC 0-100, ANC 0-80, ALC 0-50 x10^9/L; height 100-230 cm, weight 25-300 kg,
age 12-100 years, LVEF 5-90 %, CrCl 5-250 mL/min), no count between 0 and 0.01 x10^9/L ("0.6 /uL" for
"0.6 x10^9/L"), ANC and ALC not above the same day's WBC;
counts at most 30 days before the first dose (baseline; a count on a dose day is pre-dose); no date
more than 10 years from the first dose; no dose above 3 times the label's single dose. Required:
height and weight for mg/m2 doses, weight for mg/kg, and every covariate the drug's model or rules
use (cyclophosphamide: weight; mitoxantrone: height, weight, LVEF; cladribine: weight, CrCl) except
those in :data:`DEFAULTS` (cladribine's food state), filled in with a note in ``notes``. Errors are
:class:`PatientFileError` (or :class:`~mschemo.errors.UnitError` from the unit readers), both
:class:`~mschemo.errors.InputError`: one sentence naming the line (or JSON key), the value and the fix.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd

from .._internal.structured import DataTextError, load_data
from .._internal.text import listing
from .._internal.text import quote as _q
from ..errors import InputError
from ..population import Population, body_surface_area
from ..regimen import Dose, Regimen, mg_per
from ..units import HOUR_D, convert, parse_count, parse_dose, parse_duration, parse_height, parse_weight, split_number

__all__ = ["COUNT_KINDS", "PLAUSIBLE", "DEFAULTS", "PatientFileError", "PatientRecord", "read_patient", "patient_from_text",
           "patient_from_dict"]

COUNT_KINDS = ("wbc", "anc", "alc")
#: plausible ranges (inclusive): counts 10^9/L, height cm, weight kg, age years, LVEF %, CrCl mL/min, SCr mg/dL
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "wbc": (0.0, 100.0), "anc": (0.0, 80.0), "alc": (0.0, 50.0), "height_cm": (100.0, 230.0),
    "weight_kg": (25.0, 300.0), "age_y": (12.0, 100.0), "lvef_pct": (5.0, 90.0), "crcl_ml_min": (5.0, 250.0),
    "creatinine_mg_dl": (0.1, 20.0)}
BASELINE_WINDOW_D = 30     # counts up to 30 days before the first dose are baseline counts
MAX_SPAN_D = 3653          # no date more than 10 years from the first dose (a mistyped year)
MIN_COUNT = 0.01           # a count above 0 but below 0.01 x10^9/L (10 /uL) is a unit mix-up ('0.6 /uL')
MAX_LABEL_FACTOR = 3.0     # no single dose above 3 x the label's (assumption: catches typing and unit mistakes)
#: covariates a file may leave out: the value used and why (Savic 2017 pools 'fed or unknown' intake)
DEFAULTS: dict[str, tuple[float, str]] = {
    "fed": (1.0, "food state not given: taken as 'fed or unknown' (fed = 1), Savic 2017's category for unknown intake")}

_ALIASES = {"drug": "drug", "id": "id", "patient": "id", "sex": "sex", "age": "age", "height": "height",
            "weight": "weight", "crcl": "crcl", "clcr": "crcl", "creatinine clearance": "crcl",
            "creatinine": "creatinine", "scr": "creatinine", "food": "food", "fed": "food", "lvef": "lvef",
            "dose": "dose", "wbc": "wbc", "leukocytes": "wbc", "anc": "anc", "neutrophils": "anc", "alc": "alc",
            "lymphocytes": "alc", "note": "note"}
_SINGLE = ("drug", "id", "sex", "age", "height", "weight", "crcl", "creatinine", "food")
# covariate column -> (record, CSV example row, what to add to a JSON file)
_COV = {"height_cm": ("height", "height,,165,cm,", '"height": "165 cm" to "covariates"'),
        "weight_kg": ("weight", "weight,,62,kg,", '"weight": "62 kg" to "covariates"'),
        "sex": ("sex", "sex,,F,,", '"sex": "F" to "covariates"'),
        "age_y": ("age", "age,,34,years,", '"age": "34 years" to "covariates"'),
        "crcl_ml_min": ("crcl", "crcl,,95,mL/min,", '"crcl": "95 mL/min" to "covariates"'),
        "fed": ("food", "food,,fasted,,", '"food": "fasted" to "covariates"'),
        "lvef_pct": ("lvef", "lvef,2026-02-20,60,%,", '{"date": "2026-02-20", "value": "60 %"} to "lvef"')}
_WORDS = {"sex": ({"f": "F", "female": "F", "woman": "F", "m": "M", "male": "M", "man": "M"}, "F or M"),
          "food": ({"fed": 1.0, "with food": 1.0, "yes": 1.0, "1": 1.0, "unknown": 1.0, "fasted": 0.0,
                    "fasting": 0.0, "without food": 0.0, "no": 0.0, "0": 0.0}, "fed, fasted or unknown")}
_CREATININE_MG_DL = {"mg/dl": 1.0, "umol/l": 1 / 88.42, "µmol/l": 1 / 88.42, "μmol/l": 1 / 88.42}
_JSON_SHAPE = '{"drug": ..., "covariates": {...}, "doses": [...], "counts": [...], "lvef": [...]}'


class PatientFileError(InputError):
    """A patient file is malformed or implausible (one sentence: the line or key, the value, the fix)."""


@dataclass(frozen=True)
class _Row:
    record: str     # as written
    date: str
    text: str       # value and unit, as written
    duration: str
    where: str      # "on line 9" or "at counts[2]"


@dataclass(frozen=True, eq=False)
class PatientRecord:
    """One patient: covariates, dosing history, counts (10^9/L) and LVEF, in days since the first dose."""

    id: str
    drug: str
    covariates: dict[str, Any]
    start: dt.date
    doses: pd.DataFrame     # day, date, amount, unit ('mg/m2'|'mg/kg'|'mg'), duration_h, route ('iv'|'oral')
    counts: pd.DataFrame    # day, date, kind (COUNT_KINDS), value (10^9/L)
    lvef: pd.DataFrame      # day, date, lvef_pct
    source: str = ""
    notes: tuple[str, ...] = ()   # covariates filled in or derived, and how

    @property
    def bsa_m2(self) -> float | None:
        """Body-surface area (m2, Mosteller); None without height and weight."""
        t = self.population().table
        return float(t["bsa_m2"].iloc[0]) if "bsa_m2" in t.columns else None

    def regimen(self) -> Regimen:
        """The dosing history as a Regimen (days since start; mg/m2 and mg/kg kept for the engine to scale)."""
        # cast: pandas-stubs types a row's fields as any Scalar (complex too); these columns hold numbers
        doses = [Dose(time_d=float(cast(float, r.day)), amount=float(cast(float, r.amount)), unit=str(r.unit),
                      cmt="depot" if r.route == "oral" else "central",
                      duration_d=float(cast(float, r.duration_h)) * HOUR_D)
                 for r in self.doses.itertuples(index=False)]
        return Regimen.from_doses(doses, text=f"patient {self.id}: {len(doses)} dose(s) of {self.drug} given")

    def population(self) -> Population:
        """A one-row Population (id, covariates; bsa_m2 from height and weight) for the drug's model."""
        return Population(pd.DataFrame([{"id": self.id, **self.covariates}]), description=f"patient {self.id}")

    def day_of(self, d: dt.date | str) -> float:
        """Days since the first dose of a date (or ISO text)."""
        if isinstance(d, str):
            d = _date(_Row("date", d, "", "", "given to day_of"), "date")
        return float((d - self.start).days)

    def date_of(self, day: float) -> dt.date:
        """The calendar date of a day since the first dose."""
        return self.start + dt.timedelta(days=math.floor(float(day) + 1e-9))


def read_patient(path: str | Path) -> PatientRecord:
    """Read and check a patient file (.csv or .json); see the module docstring for the formats."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise PatientFileError(f"patient file '{path}' {what}; give the path of a .csv or .json patient file.")
    file, suffix = f"patient file '{path.name}'", path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise PatientFileError(f"{file} has the extension {_q(suffix)}; save it as .csv or .json.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PatientFileError(f"{file} is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in Excel).") from None
    return patient_from_text(text, suffix[1:], path.name, str(path))


def patient_from_text(text: str, fmt: str = "csv", name: str = "patient", source: str | None = None) -> PatientRecord:
    """A patient from the text of a patient file (``fmt`` "csv" or "json"), e.g. uploaded to the web
    app and read in memory; ``name`` is how messages call it."""
    if fmt not in ("csv", "json"):
        raise PatientFileError(f"format '{fmt}' of {name} is not csv or json; give one of them.")
    file = f"patient file '{name}'"
    text = text.removeprefix("\ufeff")
    lines = [(n, s) for n, s in enumerate(text.splitlines(), 1) if s.strip() and not s.lstrip().startswith("#")]
    if not lines:
        raise PatientFileError(f"{file} is empty or holds only comments; write the header "
                               "'record,date,value,unit,duration' (or a JSON object) and the drug, doses and counts.")
    if fmt == "csv":
        return _build(_csv_rows(lines, name), source or name, "csv")
    try:
        data = load_data(text, "json")
    except DataTextError as exc:
        raise PatientFileError(f"{file} {exc.reason}; {exc.fix}.") from None
    return patient_from_dict(data, source=source or name)


def _csv_rows(lines: list[tuple[int, str]], name: str) -> list[_Row]:
    (n0, first), rows = lines[0], []
    header = [c.strip().lower() for c in next(csv.reader([first]))]
    if header[:1] != ["record"]:
        fix = "save it comma-separated" if len(header) == 1 and ";" in first else "start the file with it"
        raise PatientFileError(f"line {n0} of {name} {_q(first)} is not the header 'record,date,value,unit,duration'; {fix}.")
    if len(set(header)) != len(header) or not {"date", "value", "unit"} <= set(header) <= {
            "record", "date", "value", "unit", "duration", "note"}:
        raise PatientFileError(f"the header {_q(first)} of {name} is not understood; write 'record,date,value,unit,duration'.")
    for n, line in lines[1:]:
        fields = [f.strip() for f in next(csv.reader([line]))]
        cell = dict(zip(header, fields + [""] * len(header)))
        if any(fields[len(header):]) or (re.fullmatch(r"[+-]?\d+", cell["value"]) and cell["unit"].isdigit()):
            raise PatientFileError(f"line {n} of {name} {_q(line)} has more fields than the header; write decimals with "
                                   "a point (1.1, not 1,1) and remove extra commas.")
        if not cell["record"]:
            raise PatientFileError(f"line {n} of {name} {_q(line)} has no record kind in the first column; "
                                   "write e.g. 'wbc', 'dose' or 'weight'.")
        rows.append(_Row(cell["record"], cell["date"], f"{cell['value']} {cell['unit']}".strip(),
                         cell.get("duration", ""), f"on line {n}"))
    return rows


def _text(value: Any, where: str, unit: Any = None) -> str:
    if isinstance(value, dict):
        value, unit = value.get("value"), value.get("unit")
    if value is None or isinstance(value, (bool, list, dict)) or not isinstance(unit, (str, type(None))):
        raise PatientFileError(f"the value at {where} is {value!r} (unit {unit!r}); write a number and unit as text, "
                               "e.g. \"165 cm\", or a number with a \"unit\" key.")
    return f"{value} {unit or ''}".strip()


def patient_from_dict(data: dict, source: str = "patient") -> PatientRecord:
    """Check a patient given as the JSON structure (see the module docstring)."""
    name = Path(source).name
    if not isinstance(data, dict):
        raise PatientFileError(f"{name} holds a JSON {type(data).__name__}, not an object; write {_JSON_SHAPE}.")
    unknown = sorted(set(data) - {"id", "drug", "covariates", "doses", "counts", "lvef", "note", "notes"})
    if unknown:
        raise PatientFileError(f"{name} has the unknown key(s) {listing(map(_q, unknown), most=3)}; use {_JSON_SHAPE}.")
    rows = [_Row(k, "", _text(data[k], k), "", f"at {k}") for k in ("id", "drug") if k in data]
    for section, kind, value_key in (("covariates", dict, ""), ("doses", list, "amount"), ("counts", list, "value"),
                                     ("lvef", list, "value")):
        items = data.get(section, kind())
        if not isinstance(items, kind):
            raise PatientFileError(f"{section} in {name} is a {type(items).__name__}; write a {kind.__name__} "
                                   f"({_JSON_SHAPE}).")
        if isinstance(items, dict):     # the covariates (kind is dict)
            rows += [_Row(str(k), "", _text(v, f"covariates.{k}"), "", f"at covariates.{k}") for k, v in items.items()]
            continue
        for i, item in enumerate(items):
            where = f"{section}[{i}]"
            if not isinstance(item, dict) or value_key not in item:
                raise PatientFileError(f"{where} in {name} is {_q(json.dumps(item))}; write an object with \"date\" "
                                       f"and \"{value_key}\" (e.g. {{\"date\": \"2026-03-03\", ...}}).")
            record = {"doses": "dose", "lvef": "lvef"}.get(section) or str(item.get("kind", ""))
            date = item.get("date", "")
            rows.append(_Row(record, date if isinstance(date, str) else repr(date),
                             _text(item[value_key], where, item.get("unit")),
                             _text(item.get("duration", ""), where), f"at {where}"))
    return _build(rows, source, "json")


def _date(row: _Row, what: str) -> dt.date:
    s, at = row.date.strip(), f"of the {what} {row.where}"
    if not s:
        raise PatientFileError(f"the {what} {row.where} has no date; write it as YYYY-MM-DD, e.g. 2026-03-13.")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        raise PatientFileError(f"date {_q(s)} {at} is not an ISO date; write YYYY-MM-DD (e.g. 2026-03-13), since "
                               "day/month orders are ambiguous.")
    try:
        d = dt.date.fromisoformat(s)
    except ValueError:
        raise PatientFileError(f"date {_q(s)} {at} is not a calendar date; check the day and month (YYYY-MM-DD).") from None
    if (d - dt.date.today()).days > MAX_SPAN_D:
        raise PatientFileError(f"date {_q(s)} {at} is more than 10 years after today; check the year.")
    return d


def _in_range(value: float, key: str, field: str, text: str, unit: str, hint: str = "") -> float:
    lo, hi = PLAUSIBLE[key]
    if not lo <= value <= hi:
        raise PatientFileError(f"{field} {_q(text)} is {value:.4g} {unit}, outside the plausible {lo:g}-{hi:g} {unit}; "
                               f"check the value and its unit{hint}.")
    return value


def _covariate(key: str, row: _Row) -> Any:
    """A single record's value: text (id, drug), 'F'/'M', fed 0/1, or years, cm, kg, mL/min, mg/dL."""
    f = f"{key} {row.where}"
    if key in ("id", "drug"):
        return row.text
    if key in _WORDS:
        words, fix = _WORDS[key]
        if row.text.lower() not in words:
            raise PatientFileError(f"{f} {_q(row.text)} is not understood; write {fix}.")
        return words[row.text.lower()]
    if key == "height":
        return _in_range(parse_height(row.text, f), "height_cm", f, row.text, "cm")
    if key == "weight":
        return _in_range(parse_weight(row.text, f), "weight_kg", f, row.text, "kg")
    example = {"age": "34 years", "crcl": "95 mL/min", "creatinine": "0.8 mg/dL"}[key]
    value, unit = split_number(row.text, f, example)
    if not unit:
        raise PatientFileError(f"{f} {_q(row.text)} has no unit; write e.g. '{example}'.")
    if key == "age":
        return _in_range(convert(value, unit, kind="age", field=f)[0], "age_y", f, row.text, "years")
    if key == "crcl":
        ml_min = convert(value, unit, kind="clearance", field=f)[0] * 1000 / 1440
        return _in_range(ml_min, "crcl_ml_min", f, row.text, "mL/min")
    factor = _CREATININE_MG_DL.get(unit.replace(" ", "").lower())
    if factor is None:
        raise PatientFileError(f"{f} {_q(row.text)} has the unit {_q(unit)}; give serum creatinine in mg/dL or umol/L.")
    return _in_range(value * factor, "creatinine_mg_dl", f, row.text, "mg/dL")


def _dose(row: _Row, drug: Any) -> dict[str, Any]:
    """One dose row: date, amount and unit (tablets -> mg), infusion duration (h) and route."""
    f, tablets = f"dose {row.where}", (drug.raw or {}).get("tablets")
    value, unit = split_number(row.text, f, "800 mg/m2")
    if unit.strip().lower() in ("tablet", "tablets", "tab", "tabs"):
        if not tablets or value != int(value) or value < 1:
            fix = "write a whole number, e.g. '2 tablets'" if tablets else f"{drug.name} is no tablet, so give mg or mg/m2"
            raise PatientFileError(f"{f} {_q(row.text)} is not a dose in tablets; {fix}.")
        amount, unit = value * float(tablets["tablet_mg"]), "mg"
    else:
        amount, unit = parse_dose(row.text, f)
    if not amount > 0:
        raise PatientFileError(f"{f} {_q(row.text)} is zero; a dose row records a dose given, so write its amount or "
                               "delete the row.")
    text, fd = row.duration.strip(), f"duration of the dose {row.where}"
    if drug.route == "oral":
        if text and parse_duration(text, fd) > 0:
            raise PatientFileError(f"{fd} is {_q(text)}, but {drug.name} is taken by mouth; leave the duration empty.")
        days = 0.0
    elif not text:
        raise PatientFileError(f"the {drug.name} dose {row.where} ({row.text}) has no infusion duration; write it in "
                               "the duration column, e.g. '1 h', or '0 min' for a bolus.")
    elif (days := parse_duration(text, fd)) > 1:
        raise PatientFileError(f"{fd} {_q(text)} is longer than 24 h; check the unit (e.g. '1 h' or '30 min').")
    return {"date": _date(row, "dose"), "amount": amount, "unit": unit, "duration_h": days / HOUR_D,
            "route": "oral" if drug.route == "oral" else "iv", "row": row}


def _needed(drug: Any, units: set[str]) -> dict[str, str]:
    """Covariate columns the patient must have -> why."""
    ps = drug.model.parameter_set
    model = {c.name for p in drug.model.parameters for c in ps[p].covariates} if ps is not None else set()
    need: dict[str, str] = {}
    if "mg/m2" in units or "bsa_m2" in model:
        why = "its doses are in mg/m2" if "mg/m2" in units else "its model scales by body-surface area"
        need |= {"height_cm": why, "weight_kg": why}
    if "mg/kg" in units:
        need.setdefault("weight_kg", "its doses are in mg/kg")
    for name in sorted(model - {"bsa_m2"}):
        need.setdefault(name, "its model uses it")
    for c in drug.covariates:
        need.setdefault(c.name, "its label or dosing rules use it")
    return need


def _check_label(doses: list[dict], drug: Any, cov: dict[str, Any]) -> None:
    """Refuse a single dose above MAX_LABEL_FACTOR x the label's (a tablet drug's: its most tablets a day)."""
    tablets = (drug.raw or {}).get("tablets")
    if tablets:
        label = float(tablets["tablet_mg"]) * float(tablets["max_tablets_per_day"]), "mg"
    else:
        try:
            first = Regimen.parse(drug.default_regimen).doses[0]
        except InputError:
            return
        label = first.amount, first.unit
    h, w = cov.get("height_cm"), cov.get("weight_kg")
    bsa = float(body_surface_area(h, w)) if h and w else None

    def per(unit: str) -> float | None:
        return mg_per(unit, bsa, w)

    for d in doses:
        if per(d["unit"]) and per(label[1]) and d["amount"] * per(d["unit"]) / per(label[1]) > MAX_LABEL_FACTOR * label[0]:
            raise PatientFileError(f"dose {d['row'].where} {_q(d['row'].text)} is more than {MAX_LABEL_FACTOR:g} times "
                                   f"{drug.name}'s label dose of {label[0]:g} {label[1]}; check for a typing or unit "
                                   "mistake (mg for mg/m2?).")


def _build(rows: list[_Row], source: str, fmt: str) -> PatientRecord:
    from ..drugs import available_drugs, load_drug

    file = f"patient file '{Path(source).name}'"
    singles: dict[str, _Row] = {}
    series: dict[str, list[_Row]] = {"dose": [], "lvef": [], "note": [], **{k: [] for k in COUNT_KINDS}}
    for row in rows:
        key = _ALIASES.get(" ".join(row.record.lower().replace("_", " ").split()))
        if key is None:
            raise PatientFileError(f"record {_q(row.record)} {row.where} is not a known record kind; use one of "
                                   f"{', '.join(sorted(set(_ALIASES.values())))}.")
        if key in singles:
            raise PatientFileError(f"{key} is given twice, {singles[key].where} ({_q(singles[key].text)}) and "
                                   f"{row.where} ({_q(row.text)}); keep one of them.")
        if key in _SINGLE:
            singles[key] = row
        else:
            series[key].append(row)
    drugs = available_drugs()
    drug_row = singles.pop("drug", None)
    if drug_row is None:
        fix = "a row 'drug,,cyclophosphamide,,'" if fmt == "csv" else '"drug": "cyclophosphamide"'
        raise PatientFileError(f"{file} names no drug; add {fix} (one of {', '.join(drugs)}).")
    if drug_row.text.strip().lower() not in drugs:
        raise PatientFileError(f"drug {_q(drug_row.text)} {drug_row.where} is not in the drug library; use one of "
                               f"{', '.join(drugs)}.")
    drug = load_drug(drug_row.text.strip().lower())
    values = {k: _covariate(k, r) for k, r in singles.items()}
    if not series["dose"]:
        fix = ("'dose,2026-03-03,800,mg/m2,1 h'" if fmt == "csv" else
               '{"date": "2026-03-03", "amount": "800 mg/m2", "duration": "1 h"} in "doses"')
        raise PatientFileError(f"{file} has no dose; add one row per dose given, e.g. {fix}.")

    doses = sorted((_dose(r, drug) for r in series["dose"]), key=lambda d: d["date"])
    start = doses[0]["date"]

    def dated(r: _Row, what: str) -> tuple[dt.date, float]:
        d = _date(r, what)
        if abs((d - start).days) > MAX_SPAN_D:
            raise PatientFileError(f"the {what} {r.where} is dated {d}, more than 10 years from the first dose "
                                   f"({start}); check the year.")
        return d, float((d - start).days)

    for prev, d in zip(doses, doses[1:]):
        if d["date"] == prev["date"]:
            raise PatientFileError(f"two doses are dated {d['date']}, {prev['row'].where} and {d['row'].where}; give "
                                   "one row per day with the day's total amount.")
    for d in doses:
        d["day"] = dated(d["row"], "dose")[1]
    counts: list[dict[str, Any]] = []
    by_date: dict[tuple[str, dt.date], tuple[float, _Row]] = {}
    for kind in COUNT_KINDS:
        for r in series[kind]:
            d, day = dated(r, kind)
            if day < -BASELINE_WINDOW_D:
                raise PatientFileError(f"the {kind} count {r.where} is dated {d}, which is more than {BASELINE_WINDOW_D} "
                                       f"days before the first dose ({start}); only counts from "
                                       f"{start - dt.timedelta(BASELINE_WINDOW_D)} on are baseline, so check the date "
                                       "or delete the row.")
            value = parse_count(r.text, f"{kind} {r.where}")
            if 0 < value < MIN_COUNT:
                raise PatientFileError(f"{kind} {r.where} {_q(r.text)} is {value:g} x10^9/L, fewer than the 10 cells per "
                                       f"microlitre a laboratory reports; check the unit (write '{r.text.split()[0]} "
                                       "x10^9/L' if that is what you mean).")
            _in_range(value, kind, f"{kind} {r.where}", r.text, "x10^9/L",
                      f" ({value:g} /uL would be {value / 1000:g} x10^9/L)")
            if (kind, d) in by_date:
                raise PatientFileError(f"two {kind} counts are dated {d}, {by_date[kind, d][1].where} and {r.where}; "
                                       "keep one of them.")
            by_date[kind, d] = (value, r)
            counts.append({"day": day, "date": d, "kind": kind, "value": value})
    for (kind, d), (value, r) in by_date.items():
        wbc = by_date.get(("wbc", d))
        if kind != "wbc" and wbc is not None and value > wbc[0]:
            raise PatientFileError(f"the {kind} {r.where} ({value:g} x10^9/L) is above the wbc of the same day "
                                   f"({wbc[0]:g} x10^9/L, {wbc[1].where}); it is part of the white cells, so check "
                                   "both values and units.")
    lvef = []
    for r in series["lvef"]:
        d, day = dated(r, "lvef")
        value, unit = split_number(r.text, f"lvef {r.where}", "60 %")
        if unit.strip().lower() not in ("%", "percent"):
            raise PatientFileError(f"lvef {r.where} {_q(r.text)} is not in %; give the ejection fraction in percent, "
                                   "e.g. '60 %'.")
        lvef.append({"day": day, "date": d, "lvef_pct": _in_range(value, "lvef_pct", f"lvef {r.where}", r.text, "%")})
    lvef.sort(key=lambda x: x["day"])

    cov: dict[str, Any] = {c: values[_COV[c][0]] for c in ("sex", "age_y", "height_cm", "weight_kg", "crcl_ml_min",
                                                            "fed") if _COV[c][0] in values}
    notes: list[str] = []
    if "creatinine" in values and "crcl_ml_min" not in cov:
        r = singles["creatinine"]
        if not {"age_y", "sex", "weight_kg"} <= set(cov):
            raise PatientFileError(f"creatinine {r.where} {_q(r.text)} gives a clearance only with age, sex and weight "
                                   "(Cockcroft-Gault); add them or give 'crcl' in mL/min.")
        cg = (140 - cov["age_y"]) * cov["weight_kg"] / (72 * values["creatinine"]) * (0.85 if cov["sex"] == "F" else 1)
        cov["crcl_ml_min"] = _in_range(cg, "crcl_ml_min", f"the Cockcroft-Gault clearance from creatinine {r.where}",
                                       r.text, "mL/min")
        notes.append(f"crcl_ml_min {cg:.1f} from serum creatinine by Cockcroft-Gault (actual body weight)")
    if lvef:
        cov["lvef_pct"] = lvef[-1]["lvef_pct"]
    for col, why in _needed(drug, {d["unit"] for d in doses}).items():
        if col in DEFAULTS and col not in cov:
            cov[col] = DEFAULTS[col][0]
            notes.append(DEFAULTS[col][1])
        elif col not in cov:
            fix = ("patient files cannot give it yet" if col not in _COV else
                   f"add a row '{_COV[col][1]}'" if fmt == "csv" else f"add {_COV[col][2]}")
            raise PatientFileError(f"{file} has no {col} ({_COV.get(col, (col,))[0]}), which {drug.name} needs "
                                   f"because {why}; {fix}.")
    _check_label(doses, drug, cov)
    counts.sort(key=lambda c: (c["day"], COUNT_KINDS.index(c["kind"])))
    return PatientRecord(
        id=str(values.get("id") or Path(source).stem), drug=drug.name, covariates=cov, start=start,
        doses=pd.DataFrame(doses, columns=["day", "date", "amount", "unit", "duration_h", "route"]),
        counts=pd.DataFrame(counts, columns=["day", "date", "kind", "value"]),
        lvef=pd.DataFrame(lvef, columns=["day", "date", "lvef_pct"]), source=source, notes=tuple(notes))
