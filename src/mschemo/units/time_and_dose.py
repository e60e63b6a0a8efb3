"""Time and dose: durations ("30 min", "3 months"), dosing intervals ("every 3 months", "q12h",
"monthly") and doses ("12 mg/m2", "1.75 mg/kg") read into days, mg, mg/m2 or mg/kg, and written
back; with the helpers that the readers of :mod:`mschemo.units` share.

Calendar lengths are fixed once, here, and used everywhere:
1 min = 1/1440 d, 1 h = 1/24 d, 1 week = 7 d, 1 month = 365.25/12 d (30.4375 d), 1 year = 365.25 d.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .._internal.text import quote
from ..errors import UnitError

__all__ = [
    "LONGEST_D",
    "SECOND_D",
    "MINUTE_D",
    "HOUR_D",
    "DAY_D",
    "WEEK_D",
    "MONTH_D",
    "YEAR_D",
    "DOSE_UNITS",
    "parse_duration",
    "parse_interval",
    "parse_dose",
    "dose_unit",
    "time_unit_days",
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

#: the longest time any duration, interval or window may span: 100 years (a lifetime); a longer one is a
#: typing slip, and a run over it would not end
LONGEST_D = 100 * YEAR_D

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
    """The value as quoted in a message: one line, in single quotes, cut when long."""
    return quote(text)


def _not_too_long(days: float, text: str, field: str, example: str) -> float:
    """``days``, unless longer than :data:`LONGEST_D` (then a UnitError)."""
    if days > LONGEST_D:
        raise UnitError(f"{field} {_q(text)} is longer than {LONGEST_D / YEAR_D:.0f} years, the longest span mschemo "
                        f"covers; write a shorter one, e.g. '{example}'.")
    return days


def split_number(text: object, field: str, example: str) -> tuple[float, str]:
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
    value, unit = split_number(text, field, "30 min")
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
    return _not_too_long(_times(value, _TIME_WORDS[key]), text, field, "2 years")


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
    value, unit = split_number(rest, field, "every 3 months")
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
    return _not_too_long(days, text, field, "every 3 months")


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
    value, unit = split_number(text, field, "12 mg/m2")
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
