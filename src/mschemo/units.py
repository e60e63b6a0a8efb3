"""Units: the one place where mschemo reads the units people write.

Everything inside mschemo is in internal units:

========================  ==================  ==================================
quantity                  internal unit       examples people write
========================  ==================  ==================================
time                      ``d`` (days)        "30 min", "2 h", "5 days", "3 months"
amount (drug)             ``mg``              "800 mg", "0.5 g", "500 ug"
dose                      ``mg``, ``mg/m2``,  "12 mg/m2", "1.75 mg/kg"
                          ``mg/kg``
volume                    ``L``               "20 L", "500 mL"
clearance (flow)          ``L/d``             "1.1 L/h", "25 mL/min"
rate constant             ``1/d``             "0.1 1/h", "h-1"
concentration             ``mg/L``            "ng/mL", "ug/L"
potency (effect slope)    ``L/mg``            "L/ug"
cell count                ``1e9/L``           "4.6 x10^9/L", "4600 /uL", "4.6 G/L"
body weight / height      ``kg`` / ``cm``     "158 lb", "1.68 m"
========================  ==================  ==================================

Calendar lengths are fixed once, here, and used everywhere:
1 min = 1/1440 d, 1 h = 1/24 d, 1 week = 7 d, 1 month = 365.25/12 d (30.4375 d), 1 year = 365.25 d.

Units are read case-insensitively, with or without spaces. A number without a unit is always an
error (no silent guessing); every error is a :class:`~mschemo.errors.UnitError` whose message is
one sentence that names the field, the value and the fix.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .errors import UnitError

__all__ = [
    "MINUTE_D",
    "HOUR_D",
    "DAY_D",
    "WEEK_D",
    "MONTH_D",
    "YEAR_D",
    "DOSE_UNITS",
    "INTERNAL_UNITS",
    "UNIT_KINDS",
    "parse_duration",
    "parse_interval",
    "parse_dose",
    "dose_unit",
    "parse_count",
    "parse_weight",
    "parse_height",
    "time_unit_days",
    "convert",
    "format_duration",
    "format_dose",
]

# Exact lengths (fractions of a day), so that conversions round once, at the end.
_SECOND = Fraction(1, 86400)
_MINUTE = Fraction(1, 1440)
_HOUR = Fraction(1, 24)
_DAY = Fraction(1)
_WEEK = Fraction(7)
_YEAR = Fraction(36525, 100)
_MONTH = _YEAR / 12

#: length of a second, a minute, an hour, a day, a week, a month and a year, in days
SECOND_D = float(_SECOND)
MINUTE_D = float(_MINUTE)
HOUR_D = float(_HOUR)
DAY_D = float(_DAY)
WEEK_D = float(_WEEK)
YEAR_D = float(_YEAR)
MONTH_D = float(_MONTH)

#: dose amount units: per patient, per m2 body-surface area, per kg body weight
DOSE_UNITS = ("mg", "mg/m2", "mg/kg")

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_RE = re.compile(rf"^\s*({_NUMBER})\s*(.*?)\s*$", re.DOTALL)

# ---------------------------------------------------------------------------------------------
# time words
# ---------------------------------------------------------------------------------------------
_TIME_WORDS: dict[str, Fraction] = {}
for _names, _days in (
    (("s", "sec", "secs", "second", "seconds"), _SECOND),
    (("min", "mins", "minute", "minutes"), _MINUTE),
    (("h", "hr", "hrs", "hour", "hours"), _HOUR),
    (("d", "day", "days"), _DAY),
    (("w", "wk", "wks", "week", "weeks"), _WEEK),
    (("mo", "mon", "mos", "month", "months"), _MONTH),
    (("y", "yr", "yrs", "year", "years"), _YEAR),
):
    for _name in _names:
        _TIME_WORDS[_name] = _days

# words that mean "one <unit>" as an interval
_FREQUENCY_WORDS = {
    "hourly": _HOUR,
    "daily": _DAY,
    "weekly": _WEEK,
    "fortnightly": 2 * _WEEK,
    "monthly": _MONTH,
    "quarterly": 3 * _MONTH,
    "yearly": _YEAR,
    "annually": _YEAR,
    "qd": _DAY,
}


def _times(value: float, factor: Fraction) -> float:
    """value * factor, rounded once (4600 * 1/1000 gives 4.6, not 4.6000000000000005)."""
    return float(value) * factor.numerator / factor.denominator


def _q(text: object) -> str:
    """The value as quoted in a message: one line, in single quotes."""
    return "'" + " ".join(str(text).split()) + "'"


def _split_number(text: object, field: str, example: str) -> tuple[float, str]:
    """Split '12.5 mg/m2' into (12.5, 'mg/m2'); the unit keeps its original spelling."""
    if not isinstance(text, str):
        raise UnitError(f"{field} {text!r} is not text; write it with its unit, e.g. '{example}'.")
    m = _NUMBER_RE.match(text)
    if not m:
        if not text.strip():
            raise UnitError(f"{field} is empty ({_q(text)}); write a number with its unit, e.g. '{example}'.")
        raise UnitError(f"{field} {_q(text)} does not start with a number; write e.g. '{example}'.")
    value = float(m.group(1))
    if not math.isfinite(value):
        raise UnitError(f"{field} {_q(text)} is not a finite number; write e.g. '{example}'.")
    return value, m.group(2)


def _norm(unit: str) -> str:
    """Lower case, no spaces, one spelling for micro, squared and cubed."""
    u = f" {unit.strip().lower()} "
    for a, b in (
        ("µ", "u"),
        ("μ", "u"),
        ("mcg", "ug"),
        ("²", "^2"),
        ("³", "^3"),
        ("⁶", "^6"),
        ("⁹", "^9"),
        ("**", "^"),
        ("×", "x"),
        ("·", "*"),
        (" per ", "/"),
    ):
        u = u.replace(a, b)
    u = "".join(u.split())
    return re.sub(r"([a-z])\^([23])", r"\1\2", u)  # m^2 -> m2, mm^3 -> mm3 (10^3 stays)


def time_unit_days(unit: str, field: str = "time unit") -> float:
    """Length of one ``unit`` ("h", "day", "min", "week", "month", "year", ...) in days.

    >>> time_unit_days("h")
    0.041666666666666664
    """
    key = _norm(unit) if isinstance(unit, str) else None
    if key not in _TIME_WORDS:
        raise UnitError(
            f"{field} {_q(unit)} is not a time unit; use one of 'min', 'h', 'd', 'week', 'month' or 'year'."
        )
    return float(_TIME_WORDS[key])


# ---------------------------------------------------------------------------------------------
# durations and intervals
# ---------------------------------------------------------------------------------------------
def parse_duration(text: str, field: str = "duration") -> float:
    """Read a duration such as "30 min", "2 h", "5 days", "3 months" or "2 years"; return days.

    Zero is allowed; a negative duration or a number without a unit is an error.

    >>> parse_duration("30 min")
    0.020833333333333332
    >>> parse_duration("1 week")
    7.0
    """
    value, unit = _split_number(text, field, "30 min")
    if not unit:
        raise UnitError(
            f"{field} {_q(text)} has no unit; write e.g. '{value:g} min', '{value:g} h' or '{value:g} days'."
        )
    key = _norm(unit)
    if key not in _TIME_WORDS:
        raise UnitError(
            f"{field} {_q(text)} has an unknown time unit {_q(unit)}; "
            "write e.g. '30 min', '2 h', '5 days' or '3 months'."
        )
    if value < 0:
        raise UnitError(f"{field} {_q(text)} is negative; write a duration >= 0, e.g. '{-value:g} {unit.strip()}'.")
    return _times(value, _TIME_WORDS[key])


_EVERY_OTHER = re.compile(r"^every\s*other\s*([a-z]+)$")
_EVERY_UNIT = re.compile(r"^every\s*([a-z]+)$")
_EVERY_NUMBER = re.compile(rf"^(?:every|q)\s*({_NUMBER}.*)$")


def parse_interval(text: str, field: str = "interval") -> float:
    """Read a dosing interval; return days (always > 0).

    Accepts a duration ("91 days"), "every 91 days", "q3 months", "q 3 months", "q12h",
    "every month", "every other month" (2 months), "every other week", and the words "hourly",
    "daily", "weekly", "fortnightly", "monthly", "quarterly", "yearly"/"annually".

    >>> parse_interval("every 3 months")
    91.3125
    >>> parse_interval("every other week")
    14.0
    """
    if not isinstance(text, str):
        raise UnitError(f"{field} {text!r} is not text; write e.g. 'every 3 months'.")
    low = " ".join(text.strip().lower().split())
    if not low:
        raise UnitError(f"{field} is empty ({_q(text)}); write e.g. 'every 3 months' or 'every 91 days'.")
    if low in _FREQUENCY_WORDS:
        return float(_FREQUENCY_WORDS[low])
    m = _EVERY_OTHER.match(low)
    if m:
        word = m.group(1)
        days = _TIME_WORDS.get(word)
        if days is None:
            raise UnitError(
                f"{field} {_q(text)} has an unknown time unit {_q(word)}; "
                "write e.g. 'every other week' or 'every other month'."
            )
        return float(2 * days)
    m = _EVERY_UNIT.match(low)
    if m:
        word = m.group(1)
        days = _TIME_WORDS.get(word)
        if days is None:
            raise UnitError(
                f"{field} {_q(text)} has an unknown time unit {_q(word)}; "
                "write e.g. 'every month', 'every 91 days' or 'every 3 months'."
            )
        return float(days)
    if low in ("biweekly", "bimonthly", "biannually", "biannual"):
        raise UnitError(
            f"{field} {_q(text)} is ambiguous (twice per period or every two periods); "
            "write e.g. 'every 2 weeks' or 'every 2 months'."
        )
    m = _EVERY_NUMBER.match(low)
    rest = m.group(1) if m else low
    if not _NUMBER_RE.match(rest):
        raise UnitError(
            f"{field} {_q(text)} is not understood; write e.g. 'every 3 months', 'every 91 days', 'monthly' or 'q12h'."
        )
    value, unit = _split_number(rest, field, "every 3 months")
    if not unit:
        raise UnitError(
            f"{field} {_q(text)} has no time unit; write e.g. 'every {value:g} days' or 'every {value:g} months'."
        )
    key = _norm(unit)
    if key not in _TIME_WORDS:
        raise UnitError(
            f"{field} {_q(text)} has an unknown time unit {_q(unit)}; "
            "write e.g. 'every 91 days', 'every 3 months' or 'q12h'."
        )
    days = _times(value, _TIME_WORDS[key])
    if not days > 0:
        raise UnitError(f"{field} {_q(text)} is not positive; a dosing interval must be > 0, e.g. 'every 3 months'.")
    return days


# ---------------------------------------------------------------------------------------------
# doses
# ---------------------------------------------------------------------------------------------
_MASS_MG = {"mg": Fraction(1), "g": Fraction(1000), "ug": Fraction(1, 1000), "ng": Fraction(1, 10**6)}
_DOSE_BASIS = {"": "mg", "/m2": "mg/m2", "/kg": "mg/kg"}
_DOSE_UNIT_RE = re.compile(r"^(mg|g|ug|ng)((?:/[a-z0-9^]+)?)$")


def _bad_dose_unit(field: str, text: str, value: float | None) -> UnitError:
    v = "12" if value is None else f"{value:g}"
    return UnitError(
        f"{field} {_q(text)} is not a dose unit; write '{v} mg/m2' (per m² body surface), '{v} mg/kg' or '{v} mg'."
    )


def _dose_unit(unit: object) -> tuple[Fraction, str] | None:
    if not isinstance(unit, str):
        return None
    m = _DOSE_UNIT_RE.match(_norm(unit).replace("/sqm", "/m2"))
    if not m or m.group(2) not in _DOSE_BASIS:
        return None
    return _MASS_MG[m.group(1)], _DOSE_BASIS[m.group(2)]


def dose_unit(unit: str, field: str = "dose unit") -> tuple[float, str]:
    """Factor and internal unit of a dose unit: ``"g/m2"`` -> ``(1000.0, "mg/m2")``.

    >>> dose_unit("ug/kg")
    (0.001, 'mg/kg')
    """
    found = _dose_unit(unit)
    if found is None:
        raise UnitError(f"{field} {_q(unit)} is not a dose unit; use 'mg', 'mg/m2' (per m² body surface) or 'mg/kg'.")
    return float(found[0]), found[1]


def parse_dose(text: str, field: str = "dose") -> tuple[float, str]:
    """Read a dose such as "12 mg/m2", "1.75 mg/kg", "800 mg", "0.5 g" or "500 ug".

    Returns ``(amount, unit)`` with unit one of "mg", "mg/m2" (per m² body surface) or "mg/kg";
    grams and micrograms are converted to mg. "m^2" and "m²" are read as "m2".

    >>> parse_dose("12 mg/m²")
    (12.0, 'mg/m2')
    >>> parse_dose("0.5 g")
    (500.0, 'mg')
    """
    value, unit = _split_number(text, field, "12 mg/m2")
    if not unit:
        raise UnitError(
            f"{field} {_q(text)} has no unit; write '{value:g} mg/m2' (per m² body surface), "
            f"'{value:g} mg/kg' or '{value:g} mg'."
        )
    found = _dose_unit(unit)
    if found is None:
        raise _bad_dose_unit(field, text, value)
    if value < 0:
        raise UnitError(f"{field} {_q(text)} is negative; a dose must be >= 0.")
    return _times(value, found[0]), found[1]


def format_dose(amount: float, unit: str) -> str:
    """Write a dose the way people read it.

    >>> format_dose(12.0, "mg/m2")
    '12 mg/m2'
    """
    if unit not in DOSE_UNITS:
        raise UnitError(
            f"dose unit {_q(unit)} is not one of 'mg', 'mg/m2' or 'mg/kg'; convert it with parse_dose first."
        )
    return f"{amount:.10g} {unit}"


# ---------------------------------------------------------------------------------------------
# general units (parameter files)
# ---------------------------------------------------------------------------------------------
# Each unit word has a dimension and a factor to the internal unit of that dimension.
# Dimensions: T time (d), V volume (L), M drug mass (mg), N cells (1e9), W body weight (kg),
# H length / height (cm), A body-surface area (m2).
_F = Fraction
_ATOMS: dict[str, tuple[str, Fraction]] = {name: ("T", days) for name, days in _TIME_WORDS.items()}
_ATOMS.update(
    {
        "l": ("V", _F(1)),
        "dl": ("V", _F(1, 10)),
        "ml": ("V", _F(1, 10**3)),
        "ul": ("V", _F(1, 10**6)),
        "nl": ("V", _F(1, 10**9)),
        "mm3": ("V", _F(1, 10**6)),
        "cm3": ("V", _F(1, 10**3)),
        "mg": ("M", _F(1)),
        "g": ("M", _F(1000)),
        "ug": ("M", _F(1, 10**3)),
        "ng": ("M", _F(1, 10**6)),
        "kg": ("W", _F(1)),
        "lb": ("W", _F("0.45359237")),
        "lbs": ("W", _F("0.45359237")),
        "cm": ("H", _F(1)),
        "mm": ("H", _F(1, 10)),
        "m": ("H", _F(100)),
        "in": ("H", _F("2.54")),
        "inch": ("H", _F("2.54")),
        "m2": ("A", _F(1)),
        "cells": ("N", _F(1, 10**9)),
        "cell": ("N", _F(1, 10**9)),
        **{w: ("N", _F(1)) for w in ("10^9", "x10^9", "1e9", "e9", "giga")},
        **{w: ("N", _F(1, 10**3)) for w in ("10^6", "x10^6", "1e6", "e6")},
        **{w: ("N", _F(1, 10**6)) for w in ("10^3", "x10^3", "1e3", "e3", "k", "thou")},
    }
)
_DIMENSIONLESS = {"", "1", "-", "fraction", "none", "unitless", "dimensionless", "ratio"}

#: kind -> (internal unit, dimension signature)
UNIT_KINDS: dict[str, tuple[str, tuple[tuple[str, int], ...]]] = {
    "time": ("d", (("T", 1),)),
    "age": ("y", (("T", 1),)),
    "clearance": ("L/d", (("T", -1), ("V", 1))),
    "rate_constant": ("1/d", (("T", -1),)),
    "volume": ("L", (("V", 1),)),
    "amount": ("mg", (("M", 1),)),
    "amount_rate": ("mg/d", (("M", 1), ("T", -1))),
    "concentration": ("mg/L", (("M", 1), ("V", -1))),
    "potency": ("L/mg", (("M", -1), ("V", 1))),
    "kill_rate": ("L/mg/d", (("M", -1), ("T", -1), ("V", 1))),
    "count": ("1e9/L", (("N", 1), ("V", -1))),
    "dose_per_area": ("mg/m2", (("A", -1), ("M", 1))),
    "dose_per_weight": ("mg/kg", (("M", 1), ("W", -1))),
    "fraction": ("1", ()),
    "weight": ("kg", (("W", 1),)),
    "height": ("cm", (("H", 1),)),
    "bsa": ("m2", (("A", 1),)),
}
#: the internal units (what :func:`convert` returns)
INTERNAL_UNITS = tuple(dict.fromkeys(u for u, _ in UNIT_KINDS.values()))
_KIND_OF_SIGNATURE = {sig: kind for kind, (_, sig) in UNIT_KINDS.items() if kind != "age"}
_KIND_OF_SIGNATURE[(("V", -1),)] = "count"  # "/uL": cells per volume, the cells implied

_ACCEPTED = (
    "d, h, min, week, month, year; L/h, L/d, mL/min; 1/h, 1/d, h-1; L, mL; mg, g, ug; "
    "mg/L, ng/mL, ug/L; L/mg, L/ug; L/mg/d, L/mg/h; 10^9/L, G/L, /uL; mg/h; mg/m2, mg/kg; kg, lb; cm, m, in; m2; "
    "1, %"
)


def _parse_unit(unit: str, kind: str | None) -> tuple[Fraction, tuple[tuple[str, int], ...]]:
    """Factor to internal units and the dimension signature of a unit string (None if unknown)."""
    raw = unit.strip()
    if raw in ("G/L", "G/l") or (kind == "count" and raw.lower() == "g/l"):
        return _F(1), (("N", 1), ("V", -1))
    u = _norm(raw)
    if u in _DIMENSIONLESS:
        return _F(1), ()
    if u in ("%", "percent"):
        return _F(1, 100), ()
    u = re.sub(r"(?<=[0-9])cells?(?=/)", "", u)  # "x10^9cells/l" -> "x10^9/l"
    # "h-1", "h^-1", "d-1" -> "1/h"; "l.h-1" -> "l/h"
    u = re.sub(r"[.*]?([a-z]+)\^?-1$", r"/\1", u)
    if u.startswith("/"):
        u = "1" + u
    parts = u.split("/")
    dims: dict[str, int] = {}
    factor = _F(1)
    for i, part in enumerate(parts):
        sign = 1 if i == 0 else -1
        if part == "" or (part == "1" and i > 0):
            raise KeyError(unit)
        atoms = [] if part == "1" else re.split(r"[*.]", part)
        for atom in atoms:
            if atom not in _ATOMS:
                raise KeyError(atom)
            dim, f = _ATOMS[atom]
            factor = factor * f if sign > 0 else factor / f
            dims[dim] = dims.get(dim, 0) + sign
    sig = tuple(sorted((d, e) for d, e in dims.items() if e != 0))
    if sig == (("V", -1),):  # cells implied: "/uL" counts cells per uL
        factor /= 10**9
    return factor, sig


def convert(value: float, unit: str, kind: str | None = None, field: str = "the value") -> tuple[float, str]:
    """Convert ``value`` given in ``unit`` to mschemo's internal unit; return ``(value, internal_unit)``.

    Internal units: "d" (time), "L/d" (clearance), "1/d" (rate constant), "L" (volume), "mg"
    (amount), "mg/d" (amount rate), "mg/L" (concentration), "L/mg" (potency), "1e9/L" (cell
    count), "mg/m2" and "mg/kg" (doses), "1" (dimensionless; "%" is divided by 100), "kg"
    (weight; "lb" converted), "cm" (height; "m", "in" converted), "m2" (body-surface area) and,
    with ``kind="age"``, "y" (years).

    ``kind`` (one of :data:`UNIT_KINDS`) says what quantity is expected: the unit must fit it
    (``convert(3, "mg", kind="time")`` is an error), ``kind="age"`` keeps time in years, and
    ``kind="count"`` also reads "g/L" as giga-cells per litre. Without ``kind`` the kind follows
    from the unit and "G/L" (capital G) is a count while "g/L" is grams per litre.

    >>> convert(1.1, "L/h")
    (26.400000000000002, 'L/d')
    >>> convert(12, "%")
    (0.12, '1')
    >>> convert(54, "years", kind="age")
    (54.0, 'y')
    """
    if kind is not None and kind not in UNIT_KINDS:
        raise UnitError(f"unit kind {_q(kind)} for {field} is not known; use one of {', '.join(UNIT_KINDS)}.")
    try:
        number = float(value)  # also numpy scalars
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, (bool, str)) or not math.isfinite(number):
        raise UnitError(f"{field} {value!r} is not a finite number; give a number such as 1.5.")
    if unit is None:
        unit = ""
    if not isinstance(unit, str):
        raise UnitError(f"unit {unit!r} of {field} is not text; use one of {_ACCEPTED}.")
    try:
        factor, sig = _parse_unit(unit, kind)
    except KeyError:
        raise UnitError(f"unit {_q(unit)} of {field} is not known; use one of {_ACCEPTED}.") from None
    found = _KIND_OF_SIGNATURE.get(sig)
    if found is None:
        raise UnitError(f"unit {_q(unit)} of {field} is not a quantity mschemo uses; use one of {_ACCEPTED}.")
    if kind is not None:
        internal, want = UNIT_KINDS[kind]
        if sig != want and not (kind == "count" and sig == (("V", -1),)):
            raise UnitError(
                f"unit {_q(unit)} of {field} is not a unit of {kind.replace('_', ' ')}; "
                f"give it in {internal} or a unit convertible to it."
            )
        if kind == "age":
            factor /= _YEAR
        return _times(number, factor), internal
    return _times(number, factor), UNIT_KINDS[found][0]


# ---------------------------------------------------------------------------------------------
# cell counts, weight, height
# ---------------------------------------------------------------------------------------------
def parse_count(text: str, field: str = "count") -> float:
    """Read a white-cell count with its unit; return 10^9 cells/L.

    Accepts "4.6 x10^9/L", "4.6 x 10^9/L", "4.6 10^9/L", "4.6e9/L", "4.6 G/L", "4600 /uL",
    "4600/µL", "4600 cells/mm3" and "4.6 x10^3/uL". A number without a unit is an error.

    >>> parse_count("4600 /uL")
    4.6
    >>> parse_count("4.6 x10^9/L")
    4.6
    """
    value, unit = _split_number(text, field, "4.6 x10^9/L")
    if not unit:
        if abs(value) > 50:
            fix = f"'{value:g} /uL' or '{value / 1000:g} x10^9/L'"
        else:
            fix = f"'{value:g} x10^9/L' or '{value * 1000:g} /uL'"
        raise UnitError(f"{field} {_q(text)} has no unit; add one: write {fix}.")
    try:
        factor, sig = _parse_unit(unit, "count")
    except KeyError:
        sig, factor = None, _F(0)
    if sig not in ((("N", 1), ("V", -1)), (("V", -1),)):
        raise UnitError(
            f"{field} {_q(text)} has an unknown count unit {_q(unit)}; "
            "write e.g. '4.6 x10^9/L', '4.6 G/L' or '4600 /uL'."
        )
    if value < 0:
        raise UnitError(f"{field} {_q(text)} is negative; a cell count must be >= 0.")
    result = _times(value, factor)
    if 0 < result < 1e-6 and _norm(unit) in ("/l", "cells/l"):
        raise UnitError(
            f"{field} {_q(text)} means {value:g} cells per litre, far too few; "
            f"write '{value:g} x10^9/L' if that is what you mean."
        )
    return result


def _positive_quantity(text: str, field: str, kind: str, example: str) -> float:
    value, unit = _split_number(text, field, example)
    if not unit:
        raise UnitError(f"{field} {_q(text)} has no unit; write e.g. '{example}'.")
    try:
        factor, sig = _parse_unit(unit, kind)
    except KeyError:
        sig, factor = None, _F(0)
    if sig != UNIT_KINDS[kind][1]:
        raise UnitError(f"{field} {_q(text)} has an unknown {kind} unit {_q(unit)}; write e.g. '{example}'.")
    if not value > 0:
        raise UnitError(f"{field} {_q(text)} must be positive; write e.g. '{example}'.")
    return _times(value, factor)


def parse_weight(text: str, field: str = "weight") -> float:
    """Read a body weight ("72 kg", "158 lb"); return kg.

    >>> round(parse_weight("158 lb"), 2)
    71.67
    """
    return _positive_quantity(text, field, "weight", "72 kg")


def parse_height(text: str, field: str = "height") -> float:
    """Read a body height ("168 cm", "1.68 m", "66 in", "1680 mm"); return cm.

    >>> parse_height("1.68 m")
    168.0
    """
    return _positive_quantity(text, field, "height", "168 cm")


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def _whole(x: float) -> bool:
    return abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))


def _plural(n: float, one: str, many: str) -> str:
    return f"{n:.10g} {one if n == 1 else many}"


def format_duration(days: float) -> str:
    """Write a duration in days the way people read it (inverse of :func:`parse_duration`).

    Whole years or months are written as such, then whole days, then hours or minutes.

    >>> format_duration(1 / 48)
    '30 min'
    >>> format_duration(91)
    '91 days'
    >>> format_duration(3 * MONTH_D)
    '3 months'
    """
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not math.isfinite(days) or days < 0:
        raise UnitError(f"duration {days!r} days is not a finite number >= 0; give e.g. 0.5 for 12 h.")
    if days == 0:
        return "0 days"
    for one, many, size in (("year", "years", YEAR_D), ("month", "months", MONTH_D)):
        n = days / size
        if n >= 1 and _whole(n):
            return _plural(round(n), one, many)
    if days >= 1:
        return _plural(round(days) if _whole(days) else days, "day", "days")
    hours = days / HOUR_D
    if _whole(hours):
        return f"{round(hours)} h"
    minutes = days / MINUTE_D
    if minutes < 60:
        return f"{round(minutes) if _whole(minutes) else minutes:.10g} min"
    return f"{hours:.10g} h"
