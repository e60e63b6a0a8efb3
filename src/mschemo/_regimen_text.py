"""Reading regimens: text as people write it, and NONMEM-style event tables (CSV).

Both readers build :class:`~mschemo.regimen.Dose` records in internal units (days, mg, mg/m2 or
mg/kg). Units are read by :mod:`mschemo.units` only. Every problem raises
:class:`~mschemo.errors.RegimenError` (or :class:`~mschemo.errors.UnitError` for a bad unit) with
one sentence naming the fragment, line or column, the value and the fix.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import units
from .errors import RegimenError, UnitError
from .regimen import Dose

__all__ = ["parse_regimen_text", "read_event_table", "EVENT_COLUMNS"]


def _q(text: object) -> str:
    return "'" + " ".join(str(text).split()) + "'"


# =============================================================================================
# Regimen text
# =============================================================================================
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
            part.amount, part.unit = units.parse_dose(f"{number} {unit}" if unit else number, "dose")
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
                d = units.parse_duration(m.group(1), "infusion duration")
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
                part.ii_d = units.parse_interval(m.group(1), "interval")
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
                part.for_d = units.parse_duration(m.group(1), "treatment length")
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
                part.start_d = units.parse_duration(m.group(1), "start")
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


# =============================================================================================
# Event tables
# =============================================================================================
#: canonical column -> names looked for in the file (case-insensitive) when ``columns`` does not say
EVENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "ID": ("ID",),
    "TIME": ("TIME",),
    "AMT": ("AMT",),
    "EVID": ("EVID",),
    "CMT": ("CMT",),
    "RATE": ("RATE",),
    "DUR": ("DUR",),
    "D": (),
    "II": ("II",),
    "ADDL": ("ADDL",),
    "SS": ("SS",),
    "AMT_UNIT": ("AMT_UNIT",),
    "F": ("F", "BIOAV"),
    "LAG": ("LAG", "ALAG"),
}
_REQUIRED = ("ID", "TIME", "AMT")
_MISSING = ("", ".")


class _Table:
    """The rows of one event file, with the column positions resolved."""

    def __init__(self, path: str | Path, columns: dict[str, str | None] | None) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.where = f"event table {_q(self.name)}"
        if not self.path.exists():
            raise RegimenError(f"{self.where} does not exist at {_q(path)}; check the path and the file name.")
        if not self.path.is_file():
            raise RegimenError(f"{self.where} at {_q(path)} is not a file; give the path of a CSV file.")
        raw = self.path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RegimenError(
                f"{self.where} is not a text CSV file; save it as CSV (UTF-8) with a header line such as 'ID,TIME,AMT'."
            ) from None
        if "\x00" in text:
            raise RegimenError(
                f"{self.where} is not a text CSV file; save it as CSV (UTF-8) with a header line such as 'ID,TIME,AMT'."
            )
        reader = csv.reader(io.StringIO(text))
        rows: list[tuple[int, list[str]]] = []
        try:
            for row in reader:
                if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
                    continue
                rows.append((reader.line_num, [c.strip() for c in row]))
        except csv.Error as e:
            raise RegimenError(
                f"{self.where} line {reader.line_num} cannot be read as CSV ({e}); check its quotes and commas."
            ) from None
        if not rows:
            raise RegimenError(
                f"{self.where} is empty; write a header line such as 'ID,TIME,AMT' and one line per record."
            )
        header_line, header = rows[0]
        self.header = [h.upper() for h in header]
        if len(header) == 1 and re.search(r"[\s;\t]", header[0]):
            raise RegimenError(
                f"{self.where} line {header_line} has one column {_q(header[0])}; write a "
                "comma-separated file with a header such as 'ID,TIME,AMT'."
            )
        seen: set[str] = set()
        for h in self.header:
            if h in seen:
                raise RegimenError(f"{self.where} has the column {_q(h)} twice; keep one of them.")
            seen.add(h)
        self.rows = rows[1:]
        self.header_line = header_line
        self.col = self._resolve(columns)
        if not self.rows:
            raise RegimenError(f"{self.where} has a header but no records; add one line per dose or observation.")

    def _resolve(self, columns: dict[str, str | None] | None) -> dict[str, int]:
        names = {k: list(v) for k, v in EVENT_COLUMNS.items()}
        for key, value in (columns or {}).items():
            canon = str(key).upper()
            if canon not in EVENT_COLUMNS:
                raise RegimenError(
                    f"columns key {_q(key)} for {self.where} is not known; use one of {', '.join(EVENT_COLUMNS)}."
                )
            if value is None:
                if canon in _REQUIRED:
                    raise RegimenError(
                        f"columns key {_q(key)} for {self.where} cannot be None; name the file's {canon} column."
                    )
                names[canon] = []
                continue
            if str(value).upper() not in self.header:
                raise RegimenError(
                    f"{self.where} has no column {_q(value)} (given as columns[{key!r}]); its columns "
                    f"are {', '.join(self.header)}."
                )
            names[canon] = [str(value).upper()]
        col: dict[str, int] = {}
        for canon, candidates in names.items():
            for c in candidates:
                if c in self.header:
                    col[canon] = self.header.index(c)
                    break
        for canon in _REQUIRED:
            if canon not in col:
                raise RegimenError(
                    f"{self.where} has no column {canon} (its columns are {', '.join(self.header) or 'none'}); "
                    f"add it, or say which column it is with columns={{'{canon}': '...'}}."
                )
        return col

    def file_name(self, canon: str) -> str:
        return self.header[self.col[canon]]

    def fail(self, line: int, canon: str | None, value: str | None, problem: str, fix: str) -> RegimenError:
        at = f"{self.where} line {line}"
        if canon is not None:
            at += f", column {self.file_name(canon)}:"
        if value is not None:
            at += f" {_q(value)}"
        return RegimenError(f"{at} {problem}; {fix}.")

    def cell(self, row: list[str], canon: str) -> str | None:
        """The raw cell, or None if the column is absent."""
        i = self.col.get(canon)
        return None if i is None else row[i]

    def number(
        self, line: int, row: list[str], canon: str, default: float | None, *, required: bool = False
    ) -> float | None:
        s = self.cell(row, canon)
        if s is None or s in _MISSING:
            if required:
                raise self.fail(
                    line, canon, None, "the cell is empty", f"give a number in every {self.file_name(canon)} cell"
                )
            return default
        try:
            v = float(s)
        except ValueError:
            raise self.fail(line, canon, s, "is not a number", "write a number such as 12 or 0.5") from None
        if not math.isfinite(v):
            raise self.fail(
                line, canon, s, "is not a finite number", f"give a number in every {self.file_name(canon)} cell"
            )
        return v


def _convert_ids(raw_ids: list[str]) -> dict[str, object]:
    """IDs become ints if every one is a whole number ("1", "2.0"), else they stay text."""
    out: dict[str, object] = {}
    for r in raw_ids:
        try:
            v = float(r)
        except ValueError:
            return {r: r for r in raw_ids}
        if not math.isfinite(v) or v != int(v):
            return {r: r for r in raw_ids}
        out[r] = int(v)
    if len(set(out.values())) < len(out):  # "1" and "1.0": keep them apart
        return {r: r for r in raw_ids}
    return out


def read_event_table(
    path: str | Path,
    *,
    time_unit: str = "d",
    amount_unit: str = "mg",
    columns: dict[str, str | None] | None = None,
) -> tuple[dict, dict]:
    """Read a NONMEM-style event table (CSV with a header line) into dose records per patient.

    Columns (names case-insensitive; other columns are ignored):

    - required: ID, TIME, AMT.
    - EVID: 0 observation, 1 dose, 2 other event (ignored), 3 reset, 4 reset and dose. Without
      an EVID column (or with an empty cell) a record is a dose if AMT > 0 or RATE > 0, else an
      observation.
    - CMT: the compartment, kept as its NONMEM number (or as the name written, e.g. "depot");
      empty or 0 means "central".
    - RATE (amount per ``time_unit``) or DUR (in ``time_unit``): RATE > 0 gives an infusion at
      that rate; DUR > 0 with RATE 0 or no RATE gives an infusion of that duration; RATE = -2
      takes the duration from the D column if ``columns`` names one, else from DUR. RATE = -1
      (modelled rate) is not supported.
    - II (``time_unit``), ADDL, SS (0, 1 or 2): default 0.
    - AMT_UNIT: per-record "mg", "mg/m2" or "mg/kg" (also "g", "ug", ...); default ``amount_unit``.
    - F or BIOAV: per-record bioavailability; LAG or ALAG: per-record lag (``time_unit``).

    ``columns`` maps a canonical name above (or "D", the modelled duration NONMEM calls D1, D2...,
    used only by RATE = -2 records) to the file's column, or to None to ignore a column the
    reader would otherwise use: e.g. ``columns={"D": "DUR2", "F": None}``.

    A "." cell means "not given" (NONMEM's null; for AMT it is 0). Lines that are blank or start
    with "#" are skipped. Records of an ID must be in time order.

    Returns ``(regimens, observation_times_d)``: ``regimens[id]`` is the list of
    :class:`Dose` records of that ID in file order; ``observation_times_d[id]`` is a numpy array
    of its EVID 0 times in days. Both are keyed by ID in the order IDs first appear; IDs are
    ints if every ID is a whole number, else strings.
    """
    tf = units.time_unit_days(time_unit, "time_unit")
    af, default_unit = units.dose_unit(amount_unit, "amount_unit")
    t = _Table(path, columns)
    has_dur_for_rate2 = "D" in t.col or "DUR" in t.col

    raw_ids: list[str] = []
    doses: dict[str, list[Dose]] = {}
    obs: dict[str, list[float]] = {}
    last: dict[str, tuple[float, int]] = {}

    for line, row in t.rows:
        if len(row) != len(t.header):
            raise t.fail(
                line,
                None,
                None,
                f"has {len(row)} fields but the header has {len(t.header)}",
                "give one value per column (use '.' for an empty value)",
            )
        pid = t.cell(row, "ID")
        if pid in _MISSING:
            raise t.fail(line, "ID", None, "the patient ID is empty", "give an ID on every line")
        if pid not in doses:
            raw_ids.append(pid)
            doses[pid], obs[pid] = [], []
        time = t.number(line, row, "TIME", None, required=True)
        if time < 0:
            raise t.fail(line, "TIME", t.cell(row, "TIME"), "is negative", "times start at 0")
        if pid in last and time < last[pid][0]:
            raise t.fail(
                line,
                "TIME",
                t.cell(row, "TIME"),
                f"is before the time {last[pid][0]:g} of ID {pid} on line {last[pid][1]}",
                "sort the records of each ID by time",
            )
        last[pid] = (time, line)
        amt_cell = t.cell(row, "AMT")
        if amt_cell == "":
            raise t.fail(line, "AMT", None, "the cell is empty", "give the amount (0 on observation lines)")
        amt = t.number(line, row, "AMT", 0.0)
        if amt < 0:
            raise t.fail(line, "AMT", amt_cell, "is negative", "give the amount as a number >= 0")
        rate = t.number(line, row, "RATE", 0.0)
        evid_value = t.number(line, row, "EVID", None)
        if evid_value is None:
            evid = 1 if (amt > 0 or rate > 0) else 0
        elif evid_value in (0, 1, 2, 3, 4):
            evid = int(evid_value)
        else:
            raise t.fail(
                line,
                "EVID",
                t.cell(row, "EVID"),
                "is not a known event type",
                "use 0 (observation), 1 (dose), 2 (other), 3 (reset) or 4 (reset and dose)",
            )
        time_d = time * tf
        if evid == 0:
            obs[pid].append(time_d)
            continue
        if evid == 2:
            continue

        cmt_cell = t.cell(row, "CMT")
        cmt: str | int = "central"
        if cmt_cell not in (None, *_MISSING):
            try:
                c = float(cmt_cell)
            except ValueError:
                cmt = cmt_cell
            else:
                if c != int(c) or c < 0:
                    raise t.fail(
                        line,
                        "CMT",
                        cmt_cell,
                        "is not a compartment number",
                        "give a whole number >= 1 (NONMEM numbering) or a name such as 'central'",
                    )
                cmt = int(c) if c >= 1 else "central"

        if evid == 3:
            record = dict(time_d=time_d, amount=0.0, cmt=cmt, evid=3)
        else:
            unit_cell = t.cell(row, "AMT_UNIT")
            factor, unit = af, default_unit
            if unit_cell not in (None, *_MISSING):
                try:
                    factor, unit = units.dose_unit(unit_cell, "AMT_UNIT")
                except UnitError:
                    raise t.fail(
                        line, "AMT_UNIT", unit_cell, "is not a dose unit", "use 'mg', 'mg/m2' or 'mg/kg'"
                    ) from None
            dur = t.number(line, row, "DUR", 0.0)
            duration_d = rate_per_d = 0.0
            if rate == -1:
                raise t.fail(
                    line,
                    "RATE",
                    t.cell(row, "RATE"),
                    "asks for a modelled rate (RATE=-1), which is not supported",
                    "give the rate (RATE > 0) or the duration (DUR) in the file",
                )
            if rate == -2:
                if not has_dur_for_rate2:
                    raise t.fail(
                        line,
                        "RATE",
                        t.cell(row, "RATE"),
                        "asks for a modelled duration but the file has no DUR column",
                        "add a DUR column or name the duration column with columns={'D': '...'}",
                    )
                which = "D" if "D" in t.col else "DUR"
                d = t.number(line, row, which, 0.0)
                if not d > 0:
                    raise t.fail(
                        line,
                        which,
                        t.cell(row, which),
                        "is not a positive duration for this RATE=-2 record",
                        f"give the infusion duration in {time_unit}",
                    )
                duration_d = d * tf
            elif rate < 0:
                raise t.fail(
                    line,
                    "RATE",
                    t.cell(row, "RATE"),
                    "is negative",
                    "give a rate > 0, 0 for a bolus, or -2 with a DUR column",
                )
            elif rate > 0:
                if dur > 0:
                    raise t.fail(
                        line,
                        "DUR",
                        t.cell(row, "DUR"),
                        f"is given together with RATE {t.cell(row, 'RATE')}",
                        "give a rate or a duration on each record, not both",
                    )
                rate_per_d = rate * factor / tf
            elif dur < 0:
                raise t.fail(line, "DUR", t.cell(row, "DUR"), "is negative", "give a duration > 0, or 0 for a bolus")
            elif dur > 0:
                duration_d = dur * tf
            ii = t.number(line, row, "II", 0.0)
            if ii < 0:
                raise t.fail(
                    line, "II", t.cell(row, "II"), "is negative", "give the interval between doses as a number >= 0"
                )
            addl_value = t.number(line, row, "ADDL", 0.0)
            if addl_value < 0 or addl_value != int(addl_value):
                raise t.fail(
                    line,
                    "ADDL",
                    t.cell(row, "ADDL"),
                    "is not a whole number >= 0",
                    "give the number of additional doses, e.g. 3",
                )
            addl = int(addl_value)
            if addl > 0 and not ii > 0:
                raise t.fail(
                    line,
                    "ADDL",
                    t.cell(row, "ADDL"),
                    f"repeats the dose but II is {ii:g}",
                    "give the interval between doses in II, e.g. 24",
                )
            ss_value = t.number(line, row, "SS", 0.0)
            if ss_value not in (0, 1, 2):
                raise t.fail(
                    line,
                    "SS",
                    t.cell(row, "SS"),
                    "is not a steady-state code",
                    "use 0 (none), 1 (steady state) or 2 (add steady state)",
                )
            ss = int(ss_value)
            if ss and not ii > 0 and not (amt == 0 and rate > 0):
                raise t.fail(
                    line,
                    "SS",
                    t.cell(row, "SS"),
                    f"asks for steady state but II is {ii:g}",
                    "give the dosing interval in II (or AMT 0 with RATE > 0 for a constant infusion)",
                )
            f = t.number(line, row, "F", None)
            lag = t.number(line, row, "LAG", None)
            if f is not None and f < 0:
                raise t.fail(line, "F", t.cell(row, "F"), "is negative", "give a bioavailability >= 0, e.g. 0.8")
            if lag is not None and lag < 0:
                raise t.fail(line, "LAG", t.cell(row, "LAG"), "is negative", "give a lag time >= 0")
            record = dict(
                time_d=time_d,
                amount=amt * factor,
                unit=unit,
                cmt=cmt,
                duration_d=duration_d,
                rate_per_d=rate_per_d,
                ii_d=ii * tf,
                addl=addl,
                ss=ss,
                evid=evid,
                bioavailability=f,
                lag_d=None if lag is None else lag * tf,
            )
        try:
            doses[pid].append(Dose(**record))
        except RegimenError as e:
            raise RegimenError(f"{t.where} line {line}: {e}") from None

    ids = _convert_ids(raw_ids)
    return ({ids[r]: doses[r] for r in raw_ids}, {ids[r]: np.asarray(obs[r], dtype=float) for r in raw_ids})
