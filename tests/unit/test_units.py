"""mschemo.units: the accepted spellings, the internal units, and one-sentence errors."""

from __future__ import annotations

import math

import pytest

from helpers import assert_one_sentence
from mschemo import units
from mschemo.errors import UnitError
from mschemo.units import (
    MONTH_D,
    YEAR_D,
    convert,
    format_dose,
    format_duration,
    parse_count,
    parse_dose,
    parse_duration,
    parse_height,
    parse_interval,
    parse_weight,
)


# --------------------------------------------------------------------------------------------
# calendar constants
# --------------------------------------------------------------------------------------------
def test_calendar_lengths_are_defined_once():
    assert units.MINUTE_D == pytest.approx(1 / 1440)
    assert units.HOUR_D == pytest.approx(1 / 24)
    assert units.WEEK_D == 7.0
    assert YEAR_D == 365.25
    assert MONTH_D == pytest.approx(365.25 / 12)


# --------------------------------------------------------------------------------------------
# durations and intervals
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("30 min", 30 / 1440),
        ("2 h", 2 / 24),
        ("2 hours", 2 / 24),
        ("5 days", 5.0),
        ("1 day", 1.0),
        ("3 months", 3 * 365.25 / 12),
        ("2 years", 730.5),
        ("1 week", 7.0),
        ("0.5 h", 0.5 / 24),
        ("90 minutes", 90 / 1440),
        ("1.5 d", 1.5),
        ("30min", 30 / 1440),
        ("  2   HOURS ", 2 / 24),
        ("2 Hrs", 2 / 24),
        ("0 days", 0.0),
        ("1e1 d", 10.0),
    ],
)
def test_parse_duration(text, days):
    assert parse_duration(text) == pytest.approx(days, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("91 days", 91.0),
        ("every 91 days", 91.0),
        ("q3 months", 3 * MONTH_D),
        ("q 3 months", 3 * MONTH_D),
        ("q3months", 3 * MONTH_D),
        ("Q12H", 0.5),
        ("every 3 months", 3 * MONTH_D),
        ("every month", MONTH_D),
        ("monthly", MONTH_D),
        ("weekly", 7.0),
        ("daily", 1.0),
        ("every other month", 2 * MONTH_D),
        ("every other week", 14.0),
        ("every other day", 2.0),
        ("yearly", YEAR_D),
        ("annually", YEAR_D),
        ("quarterly", 3 * MONTH_D),
        ("Every  2  Weeks", 14.0),
    ],
)
def test_parse_interval(text, days):
    assert parse_interval(text) == pytest.approx(days, rel=1e-15)


# --------------------------------------------------------------------------------------------
# doses, counts, body size
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 mg/m2", (12.0, "mg/m2")),
        ("12 mg/m^2", (12.0, "mg/m2")),
        ("12 mg/m²", (12.0, "mg/m2")),
        ("12mg/m2", (12.0, "mg/m2")),
        ("12 MG/M2", (12.0, "mg/m2")),
        ("12 mg / m2", (12.0, "mg/m2")),
        ("12 mg per m2", (12.0, "mg/m2")),
        ("1.75 mg/kg", (1.75, "mg/kg")),
        ("800 mg", (800.0, "mg")),
        ("0.5 g", (500.0, "mg")),
        ("1 g/m2", (1000.0, "mg/m2")),
        ("500 ug", (0.5, "mg")),
        ("500 µg", (0.5, "mg")),
        ("500 μg", (0.5, "mg")),
        ("500 mcg", (0.5, "mg")),
        ("0 mg", (0.0, "mg")),
    ],
)
def test_parse_dose(text, expected):
    assert parse_dose(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "4.6 x10^9/L",
        "4.6 x 10^9/L",
        "4.6x10^9/L",
        "4.6 ×10^9/L",
        "4.6 x10⁹/L",
        "4.6e9/L",
        "4.6 E9/L",
        "4600 /uL",
        "4600/µL",
        "4600 /μL",
        "4600 cells/mm3",
        "4600 cells/µL",
        "4.6 10^9/L",
        "4.6 G/L",
        "4.6 x10^3/uL",
        "4.6 K/uL",
        "4.6 /nL",
        "4.6 x 10^9 cells/L",
    ],
)
def test_parse_count(text):
    assert parse_count(text) == 4.6


@pytest.mark.parametrize(("text", "kg"), [("72 kg", 72.0), ("158 lb", 158 * 0.45359237), ("158 lbs", 158 * 0.45359237)])
def test_parse_weight(text, kg):
    assert parse_weight(text) == pytest.approx(kg)


@pytest.mark.parametrize(("text", "cm"), [("168 cm", 168.0), ("1.68 m", 168.0), ("66 in", 167.64), ("1680 mm", 168.0)])
def test_parse_height(text, cm):
    assert parse_height(text) == pytest.approx(cm)


# --------------------------------------------------------------------------------------------
# convert (parameter files)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("unit", "factor", "internal"),
    [
        ("d", 1, "d"),
        ("day", 1, "d"),
        ("days", 1, "d"),
        ("h", 1 / 24, "d"),
        ("hour", 1 / 24, "d"),
        ("min", 1 / 1440, "d"),
        ("week", 7, "d"),
        ("month", MONTH_D, "d"),
        ("year", YEAR_D, "d"),
        ("L/h", 24, "L/d"),
        ("L/d", 1, "L/d"),
        ("L/day", 1, "L/d"),
        ("mL/min", 1.44, "L/d"),
        ("L/min", 1440, "L/d"),
        ("L/hr", 24, "L/d"),
        ("L.h-1", 24, "L/d"),
        ("1/h", 24, "1/d"),
        ("1/d", 1, "1/d"),
        ("1/day", 1, "1/d"),
        ("h-1", 24, "1/d"),
        ("h^-1", 24, "1/d"),
        ("d-1", 1, "1/d"),
        ("/h", 24, "1/d"),
        ("/d", 1, "1/d"),
        ("1/week", 1 / 7, "1/d"),
        ("L", 1, "L"),
        ("mL", 1e-3, "L"),
        ("mg", 1, "mg"),
        ("g", 1000, "mg"),
        ("ug", 1e-3, "mg"),
        ("µg", 1e-3, "mg"),
        ("mcg", 1e-3, "mg"),
        ("mg/L", 1, "mg/L"),
        ("ng/mL", 1e-3, "mg/L"),
        ("ug/L", 1e-3, "mg/L"),
        ("µg/L", 1e-3, "mg/L"),
        ("L/mg", 1, "L/mg"),
        ("L/ug", 1000, "L/mg"),
        ("1e9/L", 1, "1e9/L"),
        ("10^9/L", 1, "1e9/L"),
        ("x10^9/L", 1, "1e9/L"),
        ("G/L", 1, "1e9/L"),
        ("/uL", 1e-3, "1e9/L"),
        ("cells/uL", 1e-3, "1e9/L"),
        ("1", 1, "1"),
        ("-", 1, "1"),
        ("", 1, "1"),
        ("fraction", 1, "1"),
        ("%", 0.01, "1"),
        ("mg/h", 24, "mg/d"),
        ("mg/m2", 1, "mg/m2"),
        ("mg/kg", 1, "mg/kg"),
        ("kg", 1, "kg"),
        ("lb", 0.45359237, "kg"),
        ("cm", 1, "cm"),
        ("m", 100, "cm"),
        ("m2", 1, "m2"),
    ],
)
def test_convert_table(unit, factor, internal):
    value, got = convert(2.0, unit)
    assert got == internal
    assert value == pytest.approx(2.0 * factor, rel=1e-14)


def test_convert_kinds():
    assert convert(54, "years", kind="age") == (54.0, "y")
    assert convert(6, "months", kind="age") == (0.5, "y")
    assert convert(54, "years") == (54 * 365.25, "d")  # without a kind a year is a time
    assert convert(4.6, "g/L", kind="count") == (4.6, "1e9/L")
    assert convert(4.6, "g/L") == (4600.0, "mg/L")  # grams per litre unless said otherwise
    assert convert(1.1, "L/h", kind="clearance") == pytest.approx((26.4, "L/d"))
    assert convert(12, "%", kind="fraction") == (0.12, "1")
    assert set(units.INTERNAL_UNITS) >= {"d", "L/d", "1/d", "L", "mg", "mg/L", "L/mg", "1e9/L", "1", "kg", "cm", "m2"}


def test_convert_accepts_numpy_scalars():
    np = pytest.importorskip("numpy")
    assert convert(np.float32(2.0), "h") == pytest.approx((2 / 24, "d"))
    assert convert(np.int64(3), "mL") == pytest.approx((0.003, "L"))


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("days", "text"),
    [
        (30 / 1440, "30 min"),
        (2 / 24, "2 h"),
        (91, "91 days"),
        (1, "1 day"),
        (1.5, "1.5 days"),
        (3 * MONTH_D, "3 months"),
        (MONTH_D, "1 month"),
        (YEAR_D, "1 year"),
        (2 * YEAR_D, "2 years"),
        (0.1, "2.4 h"),
        (7.5 / 1440, "7.5 min"),
        (0, "0 days"),
    ],
)
def test_format_duration(days, text):
    assert format_duration(days) == text
    assert parse_duration(text) == pytest.approx(days, rel=1e-12, abs=1e-15)


def test_format_dose_round_trip():
    assert format_dose(12.0, "mg/m2") == "12 mg/m2"
    assert parse_dose(format_dose(1.75, "mg/kg")) == (1.75, "mg/kg")


def test_exactly_one_rounding():
    # 4600/1000, not 4600*0.001
    assert parse_count("4600 /uL") == 4.6
    assert parse_dose("500 ug") == (0.5, "mg")
    assert math.isclose(parse_duration("30 min") * 1440, 30.0)


# --------------------------------------------------------------------------------------------
# malformed inputs: UnitError, one sentence, the value quoted
# --------------------------------------------------------------------------------------------
MALFORMED = [
    (parse_duration, "30 minz", "'minz'"),
    (parse_duration, "30", "'30'"),
    (parse_duration, "-2 h", "'-2 h'"),
    (parse_duration, "", "''"),
    (parse_duration, "abc", "'abc'"),
    (parse_duration, "30 m", "'30 m'"),
    (parse_interval, "every 0 days", "'every 0 days'"),
    (parse_interval, "every 3", "'every 3'"),
    (parse_interval, "every fortnight", "'fortnight'"),
    (parse_interval, "biweekly", "'biweekly'"),
    (parse_interval, "every other moon", "'moon'"),
    (parse_interval, "-3 months", "'-3 months'"),
    (parse_interval, "sometimes", "'sometimes'"),
    (parse_dose, "12 mg/m", "'12 mg/m'"),
    (parse_dose, "12", "'12'"),
    (parse_dose, "-12 mg", "'-12 mg'"),
    (parse_dose, "12 mL", "'12 mL'"),
    (parse_dose, "12 mg/m3", "'12 mg/m3'"),
    (parse_dose, "mg", "'mg'"),
    (parse_dose, "1e400 mg", "'1e400 mg'"),
    (parse_count, "1100", "'1100'"),
    (parse_count, "4.6 /L", "'4.6 /L'"),
    (parse_count, "-4 x10^9/L", "'-4 x10^9/L'"),
    (parse_count, "4.6 mg/L", "'mg/L'"),
    (parse_count, "4.6 x10^9", "'x10^9'"),
    (parse_count, "4.6 x 10e9/L", "'x 10e9/L'"),  # 10e9 is 10^10: ambiguous, not guessed
    (parse_weight, "72", "'72'"),
    (parse_weight, "72 cm", "'cm'"),
    (parse_weight, "0 kg", "'0 kg'"),
    (parse_height, "168", "'168'"),
    (parse_height, "1.68 kg", "'kg'"),
    (lambda u: convert(1.0, u), "furlongs", "'furlongs'"),
    (lambda u: convert(1.0, u), "mg/L/h", "'mg/L/h'"),
    (lambda u: convert(1.0, u), "1/", "'1/'"),
    (lambda u: convert(1.0, u, kind="time"), "mg", "'mg'"),
    (lambda k: convert(1.0, "mg", kind=k), "speed", "'speed'"),
    (lambda v: convert(v, "mg"), float("nan"), "nan"),
    (units.time_unit_days, "fortnight", "'fortnight'"),
    (units.dose_unit, "mg/m", "'mg/m'"),
    (lambda u: format_dose(1.0, u), "g", "'g'"),
]


@pytest.mark.parametrize(("func", "value", "quoted"), MALFORMED, ids=[repr(v) for _, v, _ in MALFORMED])
def test_malformed_units(func, value, quoted):
    with pytest.raises(UnitError) as info:
        func(value)
    assert_one_sentence(info.value, quoted)


def test_dose_error_says_how_to_write_it():
    with pytest.raises(UnitError, match=r"'12 mg/m2' \(per m² body surface\), '12 mg/kg' or '12 mg'"):
        parse_dose("12 mg/m")


def test_count_without_unit_suggests_units():
    with pytest.raises(UnitError, match=r"'1100 /uL' or '1.1 x10\^9/L'"):
        parse_count("1100")
    with pytest.raises(UnitError, match=r"'1.1 x10\^9/L' or '1100 /uL'"):
        parse_count("1.1")


def test_convert_unknown_unit_lists_accepted():
    with pytest.raises(UnitError, match="L/h") as info:
        convert(1.0, "furlongs", field="parameter 'CL'")
    assert "parameter 'CL'" in str(info.value)
