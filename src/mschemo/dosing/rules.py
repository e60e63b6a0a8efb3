"""Dosing rules: what the label (or a protocol) says must be checked before each dose or course.

Rules are data. A drug file lists them as ``[[drug.rules]]`` tables; :func:`read_rules` turns
them into the frozen objects below, and :func:`mschemo.dosing.decide` interprets them before a course,
for a simulated patient (``mschemo.simulate(..., rules=...)``) and for a real one
(:func:`mschemo.recommend_dose`) alike.

Kinds (``kind = ...`` in the file):

``count``       a pre-dose blood count must be at least ``minimum`` (10^9/L); otherwise ``action``:
                ``delay`` (re-check after ``recheck``, for at most ``max_delay``, then
                ``after_max_delay``), ``withhold`` (skip this course) or ``stop`` (no more doses).
``covariate``   a measured patient value (e.g. ``lvef_pct``) must be at least ``minimum``; otherwise
                ``action`` (``withhold`` or ``stop``).
``cumulative``  the lifetime dose may not pass ``limit`` (e.g. "140 mg/m2"); a course that would
                pass it is not given and treatment stops. ``region`` names the regulator ("us", "eu");
                only the region in force is applied.
``titration``   each course's dose is set from the previous course's nadir of ``output``: the first
                band whose ``below`` exceeds the nadir gives the ``change`` ("-200 mg/m2", "+10 %" or
                "0"), and the dose stays within ``minimum_dose`` .. ``maximum_dose``.

Every rule has ``label`` (the sentence a clinician would say) and ``source`` or ``assumption``.
``courses`` limits a rule to some courses (1-based list); all courses by default. ``option = "NAME"``
makes a rule optional: it acts only when that option is asked for (e.g. nadir titration).
``valid_for`` (count and covariate rules) is how long before the dose a measured value still counts:
by default :data:`COUNT_VALID_D` for counts and :data:`COVARIATE_VALID_D` for covariates.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import RegimenError
from ..params import Source, read_source
from ..units import parse_dose, parse_duration
from .actions import RULE_ACTIONS

__all__ = ["CountRule", "CovariateRule", "CumulativeCap", "NadirTitration", "TitrationBand", "DosingRules",
           "read_rules", "RULE_KINDS", "COUNT_VALID_D", "COVARIATE_VALID_D"]

RULE_KINDS = ("count", "covariate", "cumulative", "titration")
#: a measured pre-dose count counts for a dose at most this many days after it (assumption: a
#: count taken within the 72 hours before an infusion is the usual pre-chemotherapy check; the labels
#: give no interval)
COUNT_VALID_D = 3.0
#: a measured covariate (an LVEF) counts for a dose at most this many days after it (assumption:
#: 3 months, the interval of the LVEF checks during mitoxantrone courses given every 3 months)
COVARIATE_VALID_D = 91.0


@dataclass(frozen=True)
class _Rule:
    label: str
    source: Source
    courses: tuple[int, ...] = ()          # 1-based; empty: every course
    option: str = ""                       # non-empty: applied only when this option is asked for

    def applies_to(self, course: int) -> bool:
        """Whether the rule is checked before course ``course`` (1-based)."""
        return not self.courses or course in self.courses


@dataclass(frozen=True)
class _Threshold(_Rule):
    """A value read before the dose must be >= ``minimum``, else ``action``; a measured value counts
    for ``valid_d`` days."""

    minimum: float = 0.0
    action: str = "withhold"
    valid_d: float = COUNT_VALID_D


@dataclass(frozen=True)
class CountRule(_Threshold):
    """Pre-dose count of ``output`` (10^9/L) must be >= ``minimum``; a delay re-checks after
    ``recheck_d`` days, for at most ``max_delay_d``, then ``after_max_delay``."""

    output: str = "anc"
    recheck_d: float = 7.0
    max_delay_d: float = 0.0
    after_max_delay: str = "withhold"


@dataclass(frozen=True)
class CovariateRule(_Threshold):
    """A measured patient value (a population column, e.g. ``lvef_pct``) must be >= ``minimum``."""

    covariate: str = "lvef_pct"
    action: str = "stop"
    valid_d: float = COVARIATE_VALID_D


@dataclass(frozen=True)
class CumulativeCap(_Rule):
    """Lifetime dose limit, in the dose unit ``unit`` ("mg/m2", "mg/kg" or "mg")."""

    limit: float = math.inf
    unit: str = "mg/m2"
    region: str = ""


@dataclass(frozen=True)
class TitrationBand:
    """Nadir below ``below`` (10^9/L): change the dose by ``change`` (absolute, dose unit) or ``factor``."""

    below: float
    change: float = 0.0
    factor: float = 1.0


@dataclass(frozen=True)
class NadirTitration(_Rule):
    """Each course's dose from the previous course's nadir of ``output``."""

    output: str = "wbc"
    bands: tuple[TitrationBand, ...] = ()
    unit: str = "mg/m2"
    minimum_dose: float = 0.0
    maximum_dose: float = math.inf

    def next_dose(self, previous: float, nadir: float) -> tuple[float, TitrationBand]:
        """The dose (in ``unit``) after a course of ``previous`` whose nadir was ``nadir``."""
        for band in self.bands:
            if nadir < band.below:
                new = previous * band.factor + band.change
                return min(self.maximum_dose, max(self.minimum_dose, new)), band
        return previous, TitrationBand(math.inf)


@dataclass(frozen=True)
class DosingRules:
    """The rules of one drug, in the order they are checked, and how doses group into courses."""

    rules: tuple[_Rule, ...] = ()
    course_window_d: float = 0.0           # doses within this many days of a course's first dose join it
    region: str = "us"                     # which cumulative cap is in force
    label: str = ""
    options: frozenset[str] = frozenset()  # optional rules switched on (e.g. "titrate")

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def in_force(self) -> tuple[_Rule, ...]:
        """The rules that apply: every rule except the cumulative caps of other regions and the
        optional rules not asked for (worked out once: the rules are frozen)."""
        return self._in_force

    @functools.cached_property
    def _in_force(self) -> tuple[_Rule, ...]:
        return tuple(r for r in self.rules
                     if not (isinstance(r, CumulativeCap) and r.region and r.region != self.region)
                     and (not r.option or r.option in self.options))

    @property
    def regions(self) -> list[str]:
        """The regions that have a lifetime cap (e.g. ["eu", "us"])."""
        return sorted({r.region for r in self.rules if isinstance(r, CumulativeCap) and r.region})

    @property
    def available_options(self) -> list[str]:
        return sorted({r.option for r in self.rules if r.option})

    def with_region(self, region: str) -> DosingRules:
        """The same rules with the cumulative cap of ``region`` in force."""
        if region not in self.regions:
            raise RegimenError(f"cap region {region!r} is not defined for this drug; use one of {', '.join(self.regions) or 'none'}.")
        return replace(self, region=region)

    def with_options(self, *options: str) -> DosingRules:
        """The same rules with optional ones switched on (e.g. ``with_options("titrate")``)."""
        for o in options:
            if o not in self.available_options:
                raise RegimenError(f"dosing option {o!r} is not defined for this drug; use one of "
                                   f"{', '.join(self.available_options) or 'none'}.")
        return replace(self, options=self.options | frozenset(options))

    def without(self) -> DosingRules:
        """No rules at all (every planned dose is given)."""
        return replace(self, rules=())

    def describe(self) -> list[str]:
        """One line per rule in force."""
        return [r.label for r in self.in_force()]


# -- reading ------------------------------------------------------------------------------------
def _courses(entry: Mapping[str, Any], where: str) -> tuple[int, ...]:
    raw = entry.get("courses", ())
    if raw in ("all", ()):
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not all(isinstance(k, int) and k >= 1 for k in raw):
        raise RegimenError(f"{where} has courses = {raw!r}; give a list of course numbers such as [2] or leave it out.")
    return tuple(raw)


def _choice(entry: Mapping[str, Any], key: str, options: tuple[str, ...], where: str, default: str) -> str:
    value = entry.get(key, default)
    if value not in options:
        raise RegimenError(f"{where} has {key} = {value!r}; use one of {', '.join(options)}.")
    return value


def _count_value(entry: Mapping[str, Any], key: str, where: str) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RegimenError(f"{where} has {key} = {value!r}; give a count in 10^9/L, e.g. {key} = 1.5.")
    return float(value)


def _change(text: object, where: str) -> tuple[float, float, str]:
    """(absolute change, factor, unit) from "-200 mg/m2", "+10 %" or "0"."""
    s = str(text).strip().replace(" ", "")
    if s in ("0", "+0", "-0"):
        return 0.0, 1.0, ""
    if s.endswith("%"):
        try:
            return 0.0, 1.0 + float(s[:-1]) / 100.0, ""
        except ValueError:
            pass
    try:
        sign = -1.0 if s.startswith("-") else 1.0
        amount, unit = parse_dose(s.lstrip("+-"), where)
        return sign * amount, 1.0, unit
    except Exception:  # noqa: BLE001 - one message for every malformed change
        raise RegimenError(f"{where} has change = {text!r}; write e.g. \"-200 mg/m2\", \"+10 %\" or \"0\".") from None


def _valid(entry: Mapping[str, Any], default: float, where: str) -> float:
    if "valid_for" not in entry:
        return default
    days = parse_duration(entry["valid_for"], f"valid_for of {where}")
    if days < 0:
        raise RegimenError(f"{where} has valid_for = {entry['valid_for']!r}; give a duration >= 0 such as \"3 days\".")
    return days


def _read_rule(entry: Mapping[str, Any], where: str) -> _Rule:
    kind = entry.get("kind")
    if kind not in RULE_KINDS:
        raise RegimenError(f"{where} has kind = {kind!r}; use one of {', '.join(RULE_KINDS)}.")
    label = entry.get("label")
    if not isinstance(label, str) or not label.strip():
        raise RegimenError(f"{where} has no label; add label = \"what the rule says\".")
    common: dict[str, Any] = dict(label=label.strip(), source=read_source(entry, where),
                                  courses=_courses(entry, where), option=str(entry.get("option", "")))
    if kind == "count":
        action = _choice(entry, "action", RULE_ACTIONS, where, "withhold")
        recheck = parse_duration(entry.get("recheck", "7 days"), f"recheck of {where}")
        max_delay = parse_duration(entry.get("max_delay", "0 days"), f"max_delay of {where}") if action == "delay" else 0.0
        if action == "delay" and recheck <= 0:
            raise RegimenError(f"{where} delays doses but has recheck = {entry.get('recheck')!r}; give a positive duration such as \"7 days\".")
        return CountRule(**common, output=str(entry.get("output", "anc")), minimum=_count_value(entry, "minimum", where),
                         action=action, valid_d=_valid(entry, COUNT_VALID_D, where), recheck_d=recheck,
                         max_delay_d=max_delay,
                         after_max_delay=_choice(entry, "after_max_delay", ("withhold", "stop"), where, "withhold"))
    if kind == "covariate":
        value = entry.get("minimum")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RegimenError(f"{where} has minimum = {value!r}; give a number in the covariate's unit.")
        return CovariateRule(**common, covariate=str(entry.get("covariate", "")), minimum=float(value),
                             action=_choice(entry, "action", ("withhold", "stop"), where, "stop"),
                             valid_d=_valid(entry, COVARIATE_VALID_D, where))
    if kind == "cumulative":
        limit, unit = parse_dose(str(entry.get("limit", "")), f"limit of {where}")
        return CumulativeCap(**common, limit=limit, unit=unit, region=str(entry.get("region", "")))
    # titration
    raw_bands = entry.get("bands")
    if not isinstance(raw_bands, Sequence) or not raw_bands:
        raise RegimenError(f"{where} has no bands; add bands = [{{ below = 1.0, change = \"-200 mg/m2\" }}, ...].")
    bands, units = [], set()
    for k, b in enumerate(raw_bands):
        bw = f"band {k + 1} of {where}"
        if not isinstance(b, Mapping):
            raise RegimenError(f"{bw} is {b!r}; write {{ below = 1.0, change = \"-200 mg/m2\" }}.")
        below = math.inf if b.get("below") == "inf" else _count_value(b, "below", bw)
        change, factor, unit = _change(b.get("change", "0"), bw)
        if unit:
            units.add(unit)
        bands.append(TitrationBand(below, change, factor))
    if [b.below for b in bands] != sorted(b.below for b in bands):
        raise RegimenError(f"the bands of {where} are not in increasing order of 'below'; sort them.")
    lo, lo_unit = parse_dose(str(entry.get("minimum_dose", "0 mg/m2")), f"minimum_dose of {where}")
    hi, hi_unit = parse_dose(str(entry.get("maximum_dose", "1e9 mg/m2")), f"maximum_dose of {where}")
    units |= {lo_unit, hi_unit}
    if len(units) > 1:
        raise RegimenError(f"{where} mixes dose units {sorted(units)}; write every change and limit in one unit.")
    return NadirTitration(**common, output=str(entry.get("output", "wbc")), bands=tuple(bands), unit=units.pop(),
                          minimum_dose=lo, maximum_dose=hi)


def read_rules(drug_table: Mapping[str, Any], where: str) -> DosingRules:
    """The rules of a ``[drug]`` table (``[[drug.rules]]`` and ``[drug.schedule]``)."""
    rules = tuple(_read_rule(e, f"rule {k + 1} of {where}") for k, e in enumerate(drug_table.get("rules", [])))
    schedule = drug_table.get("schedule", {}) or {}
    window = parse_duration(schedule["course_window"], f"course_window of {where}") if "course_window" in schedule else 0.0
    regions = [r.region for r in rules if isinstance(r, CumulativeCap) and r.region]
    region = str(schedule.get("cap_region", regions[0] if regions else "us"))
    return DosingRules(rules, window, region, str(drug_table.get("name", "")))

