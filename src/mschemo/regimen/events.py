"""Reading NONMEM-style event tables (CSV): dose records and observation times per patient ID.

:func:`read_event_table` builds :class:`~mschemo.regimen.Dose` records in internal units (days,
mg, mg/m2 or mg/kg). Units are read by :mod:`mschemo.units` only. Every problem raises
:class:`~mschemo.errors.RegimenError` with one sentence naming the line, the column, the value and
the fix.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np

from .._internal.text import listing
from .._internal.text import quote as _q
from ..errors import RegimenError, UnitError
from ..units import dose_unit, time_unit_days
from .dose import Dose

__all__ = ["read_event_table", "EVENT_COLUMNS"]


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
                    f"{self.where} has no column {_q(value)} (given as columns[{_q(key)}]); its columns "
                    f"are {listing(self.header)}."
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
                    f"{self.where} has no column {canon} (its columns are {listing(self.header) or 'none'}); "
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

    @overload
    def number(self, line: int, row: list[str], canon: str, default: float, *, required: bool = False) -> float: ...

    @overload
    def number(self, line: int, row: list[str], canon: str, default: None, *, required: Literal[True]) -> float: ...

    @overload
    def number(
        self, line: int, row: list[str], canon: str, default: None, *, required: bool = False
    ) -> float | None: ...

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


def _no_dose_on(t: _Table, line: int, row: list[str], evid: int, amt: float, rate: float) -> None:
    """An observation (EVID 0) or other event (EVID 2) gives no drug: AMT and RATE must be 0 or empty
    (NM-TRAN refuses dosing data on such records too)."""
    kind = "an observation (EVID 0)" if evid == 0 else "an other-type event (EVID 2)"
    for canon, value in (("AMT", amt), ("RATE", rate)):
        if value != 0:
            raise t.fail(line, canon, t.cell(row, canon), f"is given on {kind}, which gives no drug",
                         f"write 0 or '.' in {t.file_name(canon)}, or EVID 1 for a dose")


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
    - EVID: 0 observation, 1 dose, 2 other event (ignored), 3 reset, 4 reset and dose (AMT and
      RATE must be 0 or empty on EVID 0 and 2 records). Without
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
    tf = time_unit_days(time_unit, "time_unit")
    af, default_unit = dose_unit(amount_unit, "amount_unit")
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
        assert pid is not None  # ID is a required column: _Table refuses a file without it
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
                f"is before the time {last[pid][0]:g} of ID {_q(pid)} on line {last[pid][1]}",
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
        if evid in (0, 2):
            _no_dose_on(t, line, row, evid, amt, rate)
            if evid == 0:
                obs[pid].append(time_d)
            continue

        cmt_cell = t.cell(row, "CMT")
        cmt: str | int = "central"
        if cmt_cell not in (None, *_MISSING):
            try:
                c = float(cmt_cell)
            except ValueError:
                cmt = cmt_cell
            else:
                if not math.isfinite(c) or c != int(c) or c < 0:
                    raise t.fail(
                        line,
                        "CMT",
                        cmt_cell,
                        "is not a compartment number",
                        "give a whole number >= 1 (NONMEM numbering) or a name such as 'central'",
                    )
                cmt = int(c) if c >= 1 else "central"

        if evid == 3:
            record: dict[str, Any] = dict(time_d=time_d, amount=0.0, cmt=cmt, evid=3)
        else:
            unit_cell = t.cell(row, "AMT_UNIT")
            factor, unit = af, default_unit
            if unit_cell not in (None, *_MISSING):
                try:
                    factor, unit = dose_unit(unit_cell, "AMT_UNIT")
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
