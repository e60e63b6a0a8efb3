"""Reading a regimen written as people write it ("12 mg/m2 over 30 min every 3 months x 8").

:func:`parse_regimen_text` builds :class:`~mschemo.regimen.Dose` records in internal units (days,
mg, mg/m2 or mg/kg). Units are read by :mod:`mschemo.units` only. Every problem raises
:class:`~mschemo.errors.RegimenError` (or :class:`~mschemo.errors.UnitError` for a bad unit) with
one sentence naming the fragment, the value and the fix.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .._internal.text import quote as _q
from ..errors import RegimenError, UnitError
from ..units import parse_dose, parse_duration, parse_interval
from .dose import MAX_ADMINISTRATIONS, Dose

__all__ = ["parse_regimen_text"]


_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_END = r"(?![a-z0-9µμ])"

_AMOUNT = re.compile(rf"({_NUM})\s*([a-zµμ]+(?:\s*(?:/|per\s+)\s*[a-z0-9^²]+)?)?")
_ROUTE = re.compile(
    r"(?:as\s+an?\s+)?(iv\s+bolus|iv\s+infusion|intravenous\s+infusion|intravenous\s+bolus|intravenously|"
    r"intravenous|i\.v\.?|iv|infusion|bolus|orally|oral|p\.o\.?|po|by\s+mouth|tablets?)(?![a-z0-9])"
)
_OVER = re.compile(rf"over(?:\s+({_NUM}\s*[a-zµμ]*|\S+))?{_END}")
_INTERVAL = re.compile(
    rf"(every\s+other\s+[a-z]+|(?:every|q)\s*{_NUM}\s*[a-z]*|every\s+[a-z]+|every|"
    rf"hourly|daily|weekly|fortnightly|monthly|quarterly|yearly|annually|qd){_END}"
)
_COUNT_X = re.compile(
    rf"(?:x|×|\*)\s*({_NUM})(?:\s*(?:doses?|times|courses?|cycles?|infusions?|administrations?))?{_END}"
)
_COUNT_TIMES = re.compile(rf"({_NUM})\s*(?:times|doses|courses|cycles|infusions|administrations){_END}")
_FOR = re.compile(rf"for(?:\s+({_NUM}\s*[a-z]*|\S+))?{_END}")
_START_DAY = re.compile(
    rf"(?:(?:(?:starting|start|beginning|from)(?:\s+(?:at|on|from))?|at|on)\s+)?day\s*({_NUM}){_END}"
)
_START_TIME = re.compile(rf"(?:(?:starting|start|beginning)(?:\s+(?:at|on|from))?|from|at)\s+({_NUM}\s*[a-z]+){_END}")
_ONCE = re.compile(r"(?:once|(?:as\s+)?(?:a\s+)?single\s+dose|one\s+dose)(?![a-z])")
_SPLIT = re.compile(r"\s*(?:;\s*(?:then\b)?|,?\s*\bthen\b)\s*")
_SKIP = re.compile(r"[\s,]+")

_ROUTE_KIND = {
    "iv": "iv",
    "i.v.": "iv",
    "i.v": "iv",
    "intravenous": "iv",
    "intravenously": "iv",
    "infusion": "infusion",
    "iv infusion": "infusion",
    "intravenous infusion": "infusion",
    "bolus": "bolus",
    "iv bolus": "bolus",
    "intravenous bolus": "bolus",
    "oral": "oral",
    "orally": "oral",
    "po": "oral",
    "p.o.": "oral",
    "p.o": "oral",
    "by mouth": "oral",
    "tablet": "oral",
    "tablets": "oral",
}
# words that cannot be a dose unit: "800 over 1 h" has no unit
_KEYWORDS = {
    "over",
    "every",
    "q",
    "x",
    "for",
    "starting",
    "start",
    "from",
    "at",
    "on",
    "once",
    "then",
    "iv",
    "intravenous",
    "intravenously",
    "infusion",
    "bolus",
    "oral",
    "orally",
    "po",
    "tablet",
    "tablets",
    "times",
    "doses",
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "annually",
    "quarterly",
    "as",
    "by",
}
_EXAMPLE = "'12 mg/m2 over 30 min every 3 months x 8'"


@dataclass
class _Part:
    fragment: str
    amount: float | None = None
    unit: str = "mg"
    routes: dict[str, str] = field(default_factory=dict)  # kind -> words as written
    duration_d: float | None = None
    over_text: str = ""
    ii_d: float | None = None
    interval_text: str = ""
    count: int | None = None
    count_text: str = ""
    for_d: float | None = None
    for_text: str = ""
    start_d: float | None = None
    start_text: str = ""
    once_text: str = ""

    # filled when the part is resolved
    cmt: str = "central"
    n: int = 1
    time_d: float = 0.0


class _TextError:
    """Builds the one-sentence errors of one regimen text."""

    def __init__(self, text: str) -> None:
        self.where = f"regimen {_q(text)}"

    def __call__(self, problem: str, fix: str) -> RegimenError:
        return RegimenError(f"{self.where}: {problem}; {fix}.")

    def unit(self, err: UnitError) -> UnitError:
        return UnitError(f"{self.where}: {err}")


def _whole_count(text: str, value: float, err: _TextError) -> int:
    if not (math.isfinite(value) and value >= 1 and value == int(value)):
        raise err(
            f"the count {_q(text)} is not a whole number of administrations >= 1",
            "write e.g. 'x 8' for 8 administrations in total",
        )
    return int(value)


def _parse_part(fragment: str, err: _TextError) -> _Part:
    part = _Part(fragment)
    pos = 0
    s = fragment

    def once(name: str, old: str, new: str) -> None:
        if old:
            raise err(f"{_q(old)} and {_q(new)} both give the {name} in part {_q(fragment)}", "keep one of them")

    m = _AMOUNT.match(s)
    if m:
        number, unit = m.group(1), m.group(2)
        first_word = unit.split("/")[0].split()[0] if unit else ""
        if unit and first_word in _KEYWORDS:
            m_end = m.start(2)
            unit = None
        else:
            m_end = m.end()
        try:
            part.amount, part.unit = parse_dose(f"{number} {unit}" if unit else number, "dose")
        except UnitError as e:
            raise err.unit(e) from None
        pos = m_end

    while True:
        skip = _SKIP.match(s, pos)
        if skip:
            pos = skip.end()
        if pos >= len(s):
            break
        if m := _ROUTE.match(s, pos):
            words = " ".join(m.group(1).split())
            kind = _ROUTE_KIND[words]
            part.routes.setdefault(kind, words)
        elif m := _OVER.match(s, pos):
            once("infusion duration", part.over_text, m.group(0))
            if not m.group(1):
                raise err(f"'over' in part {_q(fragment)} has no duration", "write e.g. 'over 30 min'")
            part.over_text = m.group(0)
            try:
                d = parse_duration(m.group(1), "infusion duration")
            except UnitError as e:
                raise err.unit(e) from None
            if not d > 0:
                raise err(f"infusion duration {_q(m.group(1))} must be longer than 0", "write e.g. 'over 30 min'")
            part.duration_d = d
        elif m := _INTERVAL.match(s, pos):
            once("interval", part.interval_text, m.group(0))
            part.interval_text = m.group(0)
            if m.group(1) == "every":
                raise err(f"'every' in part {_q(fragment)} has no interval", "write e.g. 'every 3 months'")
            try:
                part.ii_d = parse_interval(m.group(1), "interval")
            except UnitError as e:
                raise err.unit(e) from None
        elif (m := _COUNT_X.match(s, pos)) or (m := _COUNT_TIMES.match(s, pos)):
            once("number of administrations", part.count_text, m.group(0))
            part.count_text = m.group(0)
            part.count = _whole_count(m.group(0), float(m.group(1)), err)
        elif m := _FOR.match(s, pos):
            once("treatment length", part.for_text, m.group(0))
            if not m.group(1):
                raise err(f"'for' in part {_q(fragment)} has no duration", "write e.g. 'for 2 years'")
            part.for_text = m.group(0)
            try:
                part.for_d = parse_duration(m.group(1), "treatment length")
            except UnitError as e:
                raise err.unit(e) from None
        elif m := _START_DAY.match(s, pos):
            once("start", part.start_text, m.group(0))
            part.start_text = m.group(0)
            day = float(m.group(1))
            if day < 0:
                raise err(
                    f"the start {_q(m.group(0))} is before day 0", "dose times start at day 0, e.g. 'starting day 0'"
                )
            part.start_d = day
        elif m := _START_TIME.match(s, pos):
            once("start", part.start_text, m.group(0))
            part.start_text = m.group(0)
            try:
                part.start_d = parse_duration(m.group(1), "start")
            except UnitError as e:
                raise err.unit(e) from None
        elif m := _ONCE.match(s, pos):
            once("number of administrations", part.once_text or part.count_text, m.group(0))
            part.once_text = m.group(0)
        else:
            word = s[pos:].split()[0]
            if am := re.match(rf"{_NUM}\s*(?:mg|g|ug|mcg|µg|μg)(?![a-z])(?:/[a-z0-9^²]+)?", s[pos:]):
                raise err(
                    f"the amount {_q(am.group(0))} in part {_q(fragment)} is not at its start",
                    f"put the dose first, e.g. {_EXAMPLE}",
                )
            raise err(
                f"the word {_q(word)} in part {_q(fragment)} is not understood",
                f"write e.g. {_EXAMPLE} or '10 mg oral daily x 5'",
            )
        pos = m.end()
    if part.once_text and part.count_text:
        raise err(
            f"{_q(part.once_text)} and {_q(part.count_text)} contradict each other in part {_q(fragment)}",
            "keep one of them",
        )
    return part


def _resolve_route(part: _Part, prev: _Part | None, err: _TextError) -> None:
    """Set part.cmt and part.duration_d; a part without an amount inherits from ``prev``."""
    if part.amount is None:
        if prev is None:
            raise err(f"part {_q(part.fragment)} has no dose amount", f"start it with the dose, e.g. {_EXAMPLE}")
        part.amount, part.unit = prev.amount, prev.unit
        if not part.routes and part.duration_d is None:
            part.routes, part.duration_d, part.over_text = prev.routes, prev.duration_d, prev.over_text
    kinds = set(part.routes)
    if "oral" in kinds and kinds - {"oral"}:
        words = " and ".join(_q(w) for w in part.routes.values())
        raise err(f"part {_q(part.fragment)} names both {words}", "give one route, e.g. 'oral' or 'IV over 30 min'")
    if "oral" in kinds:
        if part.duration_d is not None:
            raise err(
                f"an oral dose cannot be given {_q(part.over_text)} in part {_q(part.fragment)}",
                "leave out 'over ...' or give the drug IV",
            )
        part.cmt = "depot"
        return
    part.cmt = "central"
    if "bolus" in kinds and part.duration_d is not None:
        raise err(
            f"a bolus cannot be given {_q(part.over_text)} in part {_q(part.fragment)}",
            "write 'IV over 30 min' for an infusion or leave out 'over ...' for a bolus",
        )
    if "infusion" in kinds and part.duration_d is None:
        raise err(f"the infusion in part {_q(part.fragment)} has no duration", "add one, e.g. 'infusion over 30 min'")


def _resolve_count(part: _Part, err: _TextError) -> None:
    _count(part, err)
    if part.n > MAX_ADMINISTRATIONS:
        raise err(f"part {_q(part.fragment)} gives {part.n:,} administrations, more than {MAX_ADMINISTRATIONS:,}",
                  "check the count or the length, e.g. 'every 3 months x 8'")


def _count(part: _Part, err: _TextError) -> None:
    frag = _q(part.fragment)
    if part.for_text and part.count_text:
        raise err(
            f"{_q(part.count_text)} and {_q(part.for_text)} both give the number of administrations in part {frag}",
            "keep one of them",
        )
    if part.once_text and (part.ii_d is not None or part.for_text):
        other = part.interval_text or part.for_text
        raise err(f"{_q(part.once_text)} and {_q(other)} contradict each other in part {frag}", "keep one of them")
    if part.ii_d is None:
        if part.count is not None and part.count > 1:
            raise err(
                f"{_q(part.count_text)} needs an interval in part {frag}",
                f"add one, e.g. 'every 3 months {part.count_text}'",
            )
        if part.for_text:
            raise err(
                f"{_q(part.for_text)} needs an interval in part {frag}",
                f"add one, e.g. 'every 3 months {part.for_text}'",
            )
        part.n = 1
        return
    if part.count is not None:
        part.n = part.count
    elif part.for_d is not None:
        n = math.floor(part.for_d / part.ii_d + 1e-9)
        if n < 1:
            raise err(
                f"{_q(part.for_text)} is shorter than the interval {_q(part.interval_text)} in part {frag}",
                "give a longer treatment length or write the number of administrations, e.g. 'x 1'",
            )
        part.n = n
    else:
        raise err(
            f"the interval {_q(part.interval_text)} has no end in part {frag}",
            f"say how many administrations or for how long, e.g. '{part.interval_text} x 8' "
            f"or '{part.interval_text} for 2 years'",
        )


def parse_regimen_text(text: str) -> list[Dose]:
    """Read a regimen written as people write it; return one :class:`Dose` record per part.

    Grammar (case-insensitive; extra spaces and commas are ignored)::

        regimen := part ( ";" part | "then" part )*
        part    := [AMOUNT] [ROUTE] [over DURATION] [ROUTE] [INTERVAL] [COUNT | for DURATION] [START]

    The phrases after the amount may come in any order.

    - AMOUNT as :func:`mschemo.units.parse_dose`: "12 mg/m2", "800 mg", "1.75 mg/kg".
    - ROUTE: "IV", "intravenous", "bolus", "infusion" (needs "over"), or "oral", "orally", "po",
      "p.o.", "tablets" (into compartment "depot"; no "over"). Without a route the dose goes into
      "central": a zero-order infusion with "over 30 min", an IV bolus otherwise.
    - INTERVAL as :func:`mschemo.units.parse_interval`: "every 3 months", "every 91 days",
      "q3 months", "q12h", "monthly", "every other month", "daily", ...
    - COUNT: "x 8", "x8", "× 8" or "8 times" means 8 administrations in total (ADDL = 7);
      "for 2 years" with an interval gives floor(2 years / interval + 1e-9) administrations
      (every 3 months for 2 years: 8). "once", "single dose" or no count: one administration.
      A count > 1 needs an interval, and an interval needs a count or a length (no regimen is
      infinite).
    - START: "starting day 10", "from day 10", "at day 10", "on day 10", "starting at 2 weeks".
      Day N is N days after time 0 (day 0 is the first day).

    Without a START, the first part starts at day 0, and a later part starts one interval after
    the last administration of the part before it: the previous part's interval if it had one,
    else this part's own interval; with neither, write "starting day N".

    A part that starts with no amount ("... then every 2 months x 6") repeats the previous
    part's amount and, unless it names its own route or "over", its route and infusion
    duration: same dose, new schedule. A part with its own amount inherits nothing.

    Records are returned in time order (parts at equal times keep their written order).

    >>> d = parse_regimen_text("12 mg/m2 over 30 min every 3 months x 8")[0]
    >>> (d.amount, d.unit, d.cmt, round(d.duration_d * 24, 6), d.ii_d, d.addl)
    (12.0, 'mg/m2', 'central', 0.5, 91.3125, 7)
    """
    if not isinstance(text, str):
        raise RegimenError(f"regimen {text!r} is not text; write e.g. {_EXAMPLE}.")
    err = _TextError(text)
    norm = " ".join(text.lower().split()).rstrip(".").strip()
    if not norm:
        raise RegimenError(f"regimen {_q(text)} is empty; write e.g. {_EXAMPLE}.")
    pieces = _SPLIT.split(norm)
    if len(pieces) > 1 and pieces[-1] == "":  # a trailing ';' is harmless
        pieces = pieces[:-1]
    parts: list[_Part] = []
    for i, piece in enumerate(pieces):
        if not piece:
            raise err(
                f"part {i + 1} is empty",
                "write a dose between each ';' or 'then', e.g. '800 mg; 400 mg starting day 7'",
            )
        parts.append(_parse_part(piece, err))

    prev: _Part | None = None
    doses: list[Dose] = []
    for part in parts:
        _resolve_route(part, prev, err)
        _resolve_count(part, err)
        if part.start_d is not None:
            part.time_d = part.start_d
        elif prev is None:
            part.time_d = 0.0
        else:
            step = prev.ii_d if prev.ii_d is not None else part.ii_d
            if step is None:
                raise err(
                    f"part {_q(part.fragment)} has no start and neither it nor the part before it has an interval",
                    "say when it starts, e.g. 'starting day 28'",
                )
            part.time_d = prev.time_d + (prev.n - 1) * (prev.ii_d or 0.0) + step
        assert part.amount is not None  # _resolve_route gives a part without one the previous part's
        try:
            doses.append(
                Dose(
                    time_d=float(part.time_d),
                    amount=float(part.amount),
                    unit=part.unit,
                    cmt=part.cmt,
                    duration_d=float(part.duration_d or 0.0),
                    ii_d=float(part.ii_d or 0.0),
                    addl=part.n - 1,
                )
            )
        except RegimenError as e:  # pragma: no cover - the checks above come first
            raise RegimenError(f"{err.where}: {e}") from None
        prev = part
    return sorted(doses, key=lambda d: d.time_d)
