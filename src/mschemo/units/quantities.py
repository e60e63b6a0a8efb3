"""General units (parameter files): converting a value and its unit to mschemo's internal unit, and
reading white-cell counts, body weight and height."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from ..errors import UnitError
from .time_and_dose import _TIME_WORDS, _YEAR, _norm, _q, _times, split_number

__all__ = ["INTERNAL_UNITS", "UNIT_KINDS", "convert", "parse_count", "parse_weight", "parse_height"]


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
    value, unit = split_number(text, field, "4.6 x10^9/L")
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
    value, unit = split_number(text, field, example)
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
