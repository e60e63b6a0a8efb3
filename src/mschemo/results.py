"""SimulationResult: tidy tables, nadirs, CTCAE grades, solve status and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ._internal.files import atomic_path
from .backends.problem import STATUS_MESSAGES
from .dosing.actions import GIVEN
from .errors import OptionError
from .grading import CTCAE_TERMS
from .regimen import EventTable, Regimen

if TYPE_CHECKING:  # pragma: no cover
    from .models.chain import ChainedModel

__all__ = ["SimulationResult", "ctcae_grade", "CTCAE_TERMS", "count_summary", "count_decisions"]


@cache
def _thresholds(kind: str) -> tuple[float, float, float, float]:
    """(LLN, grade-2, grade-3, grade-4 limits) of a count, from the CTCAE v5.0 parameter file (read once)."""
    from .params import load_parameters

    ps = load_parameters("ctcae-v5")
    k = kind.upper()
    return (ps[f"{k}_LLN"].value, ps[f"{k}_G2"].value, ps[f"{k}_G3"].value, ps[f"{k}_G4"].value)


def ctcae_grade(count_1e9_per_L: np.ndarray, kind: str) -> np.ndarray:
    """CTCAE v5.0 grade (0-4) of WBC, ANC or ALC counts (10^9/L).

    >>> ctcae_grade(np.array([5.0, 3.5, 2.5, 1.5, 0.5]), "wbc").tolist()
    [0, 1, 2, 3, 4]
    """
    if kind not in CTCAE_TERMS:
        raise OptionError(f"no CTCAE grading for {kind!r}; grades exist for {', '.join(CTCAE_TERMS)}.")
    lims = _thresholds(kind)
    x = np.asarray(count_1e9_per_L, dtype=float)
    return (x < lims[0]).astype(np.int64) + (x < lims[1]) + (x < lims[2]) + (x < lims[3])


@dataclass(eq=False)
class SimulationResult:
    """Values at ``times_d`` for every patient: ``values[i, t, k]`` is column ``columns[k]``."""

    model: ChainedModel
    regimen: Regimen | EventTable
    patients: pd.DataFrame
    times_d: np.ndarray
    columns: list[str]
    values: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    provenance: dict[str, Any] = field(default_factory=dict)
    decisions: pd.DataFrame | None = None   # dosing-rule decisions (simulate_with_rules), one row per course check
    disease: Any = None                     # a disease.DiseaseResult for the same patients (simulate(..., disease=True))
    immune: Any = None                      # a disease.ImmuneRecord on its own grid (simulate(..., disease=True))

    # -- basics -------------------------------------------------------------------------------
    @property
    def ids(self) -> np.ndarray:
        return self.patients["id"].to_numpy()

    @property
    def n_patients(self) -> int:
        return len(self.patients)

    @property
    def count_outputs(self) -> list[str]:
        """Cell-count columns, e.g. ['wbc_1e9_per_L']."""
        return list(self.model.count_outputs)

    def column(self, name: str) -> np.ndarray:
        """(n_patients, n_times) array of one output."""
        if name not in self.columns:
            short = {c.split("_")[0]: c for c in self.columns}
            if name in short:
                name = short[name]
            else:
                raise OptionError(f"output {name!r} is not in this result; choose one of {', '.join(self.columns)}.")
        return self.values[:, :, self.columns.index(name)]

    def status_table(self) -> pd.DataFrame:
        """Per patient: id, status ('ok' or what went wrong), accepted and rejected solver steps."""
        return pd.DataFrame({"id": self.ids, "status": [STATUS_MESSAGES.get(int(s), "failed") for s in self.status],
                             "steps_accepted": self.steps[:, 0], "steps_rejected": self.steps[:, 1]})

    @property
    def all_ok(self) -> bool:
        return bool(np.all(self.status == 0))

    @classmethod
    def concat(cls, parts: list[SimulationResult]) -> SimulationResult:
        """Results of consecutive chunks of patients of one run (same model, output times and columns)
        as one, in order; the provenance is the first chunk's. Event tables (each patient's doses, e.g.
        the doses the dosing rules gave) are merged; a disease is not carried (attach it to the whole)."""
        first = parts[0]
        if len(parts) == 1:
            return first
        for p in parts[1:]:
            if p.columns != first.columns or not np.array_equal(p.times_d, first.times_d):
                raise OptionError("the chunks have different output times or columns; give every chunk the same "
                                  "output and until.")
        regimen = first.regimen
        if isinstance(regimen, EventTable):
            tables = cast("list[EventTable]", [p.regimen for p in parts])   # one run's chunks: all like the first
            regimen = EventTable({k: v for t in tables for k, v in t.regimens.items()},
                                 {k: v for t in tables for k, v in t.observation_times_d.items()},
                                 source=regimen.source)
        decisions = (pd.concat([p.decisions for p in parts], ignore_index=True)
                     if first.decisions is not None else None)
        immune = type(first.immune).concat([p.immune for p in parts]) if first.immune is not None else None
        return cls(model=first.model, regimen=regimen,
                   patients=pd.concat([p.patients for p in parts], ignore_index=True), times_d=first.times_d,
                   columns=list(first.columns), values=np.concatenate([p.values for p in parts], axis=0),
                   status=np.concatenate([p.status for p in parts]), steps=np.concatenate([p.steps for p in parts]),
                   provenance=dict(first.provenance), decisions=decisions, immune=immune)

    # -- tables -------------------------------------------------------------------------------
    def to_pandas(self, kind: str = "wide") -> pd.DataFrame:
        """Tidy table. ``wide``: one row per patient and time (id, time_d, one column per output);
        ``long``: one row per patient, time and output (id, time_d, output, value, unit)."""
        n, m = self.values.shape[:2]
        base = {"id": np.repeat(self.ids, m), "time_d": np.tile(self.times_d, n)}
        if kind == "wide":
            return pd.DataFrame(base | {c: self.values[:, :, k].reshape(-1) for k, c in enumerate(self.columns)})
        if kind == "long":
            frames = []
            for k, c in enumerate(self.columns):
                name, unit = _split_unit(c)
                frames.append(pd.DataFrame(base | {"output": name, "value": self.values[:, :, k].reshape(-1), "unit": unit}))
            return pd.concat(frames, ignore_index=True)
        raise OptionError(f"kind = {kind!r}; use 'wide' or 'long'.")

    def dose_times_d(self, patient_index: int = 0) -> np.ndarray:
        """Nominal administration times of a patient (days)."""
        if isinstance(self.regimen, Regimen):
            return self.regimen.dose_times_d()
        return self.regimen.for_id(self.ids[patient_index]).dose_times_d()

    @cached_property
    def _nadir_frame(self) -> pd.DataFrame:
        t = self.times_d
        frames = []
        if isinstance(self.regimen, Regimen) and self.decisions is None:     # one schedule for all
            rows = np.arange(self.n_patients)
            for out in self.count_outputs:
                vals = self.column(out)
                for k, a, b, start, end in _interval_bounds(self.dose_times_d(), t):
                    seg = vals[rows, a:b]
                    j = np.argmin(seg, axis=1)
                    frames.append(pd.DataFrame({
                        "id": self.ids, "output": out.split("_")[0], "interval": k, "interval_start_d": start,
                        "interval_end_d": end, "nadir_1e9_per_L": seg[rows, j], "nadir_day": t[a + j]}))
        else:
            # each patient its own intervals, all patients' at once (a loop over patients took a sixth of
            # a rules run's time)
            who, k, a, b, start, end = _interval_table(*self._dose_days(), self.n_patients, t)
            for out in self.count_outputs:
                vals = self.column(out)
                j = first_minima(vals, who, a, b)
                frames.append(pd.DataFrame({
                    "id": self.ids[who], "output": out.split("_")[0], "interval": k, "interval_start_d": start,
                    "interval_end_d": end, "nadir_1e9_per_L": vals[who, j], "nadir_day": t[j]}))
        cols = ["id", "output", "interval", "interval_start_d", "interval_end_d", "nadir_1e9_per_L", "nadir_day"]
        if not frames:
            return pd.DataFrame(columns=cols)
        df = pd.concat(frames, ignore_index=True)
        order = {v: i for i, v in enumerate(self.ids)}
        df["_o"] = df["id"].map(order)
        return df.sort_values(["output", "_o", "interval"], kind="stable").drop(columns="_o").reset_index(drop=True)[cols]

    def _dose_days(self) -> tuple[np.ndarray, np.ndarray]:
        """(patient index, day) of each course given (results of dosing rules: its start) or each dose
        (a regimen per patient), in no particular order."""
        d = self.decisions
        if d is None:
            days = [self.dose_times_d(i) for i in range(self.n_patients)]
            return (np.repeat(np.arange(self.n_patients), [x.size for x in days]),
                    np.concatenate(days) if days else np.empty(0))
        given = d[d["action"].isin(GIVEN)]
        who = pd.Index(self.ids).get_indexer(pd.Index(given["id"])).astype(np.int64)
        ours = who >= 0      # a decision of a patient not in this result (none in one run's) is left out
        return who[ours], given["day"].to_numpy(dtype=float)[ours]

    def decision_counts(self) -> pd.DataFrame | None:
        """The dosing decisions counted by action and rule (:func:`count_decisions`); None without rules."""
        return None if self.decisions is None else count_decisions(self.decisions)

    def nadirs(self, output: str | None = None) -> pd.DataFrame:
        """Lowest count in each dosing interval, on the output grid.

        Interval k runs from dose k to dose k+1 (excluded); the last one to the end of the
        simulation (included). With dosing rules, the intervals run from course to course given
        (a cladribine course of ten tablet days is one interval). One row per patient, count output and interval: id, output,
        interval, interval_start_d, interval_end_d, nadir_1e9_per_L, nadir_day.
        """
        df = self._nadir_frame
        if output is not None:
            key = output.split("_")[0]
            df = df[df["output"] == key].reset_index(drop=True)
        return df.copy()

    def grades(self) -> pd.DataFrame:
        """Worst CTCAE v5.0 grade per patient and count (over the output grid), with the nadir,
        its day and the days spent at grade >= 3 (on the grid)."""
        cols = ["id", "output", "ctcae_term", "worst_grade", "nadir_1e9_per_L", "nadir_day", "days_grade_3_or_worse"]
        frames = []
        dt = np.gradient(self.times_d) if self.times_d.size > 1 else np.ones(1)
        every = np.arange(self.n_patients)
        for out in self.count_outputs:
            kind = out.split("_")[0]
            if kind not in CTCAE_TERMS:
                continue
            vals = self.column(out)
            g = ctcae_grade(vals, kind)
            j = vals.argmin(axis=1)
            # each patient's days summed on their own, as np.sum sums them (its pairwise order, bit for bit)
            days = np.array([np.sum(dt[g[i] >= 3]) for i in range(self.n_patients)], dtype=float)
            frames.append(pd.DataFrame({"id": self.ids, "output": kind, "ctcae_term": CTCAE_TERMS[kind],
                                        "worst_grade": g.max(axis=1), "nadir_1e9_per_L": vals[every, j],
                                        "nadir_day": self.times_d[j], "days_grade_3_or_worse": days}))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)

    def summary(self) -> pd.DataFrame:
        """Population summary per count output: median and 5-95 % of the baseline, of the first and the
        lowest nadir after a dose and the first one's day (over the patients given a dose, counted
        in ``patients_dosed``), and the share of all patients with worst grade >= 3."""
        return count_summary(self.nadirs(), self.grades(), {o: self.column(o)[:, 0] for o in self.count_outputs})

    # -- writers ------------------------------------------------------------------------------
    def write(self, path: str | Path, kind: str = "wide") -> Path:
        """Write the table to .csv or .parquet (atomically: a temporary file, then rename)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise OptionError(f"output file '{path}' has suffix {suffix or '(none)'}; use .csv or .parquet.")
        df = self.to_pandas(kind)
        with atomic_path(path) as tmp:
            if suffix == ".csv":
                df.to_csv(tmp, index=False)
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.Table.from_pandas(df, preserve_index=False)
                meta = {b"mschemo.provenance": _json(self.provenance)}
                pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), **meta}), tmp)
        return path

    def to_csv(self, path: str | Path, kind: str = "wide") -> Path:
        return self.write(Path(path).with_suffix(".csv") if Path(path).suffix.lower() != ".csv" else path, kind)

    def to_parquet(self, path: str | Path, kind: str = "wide") -> Path:
        return self.write(Path(path).with_suffix(".parquet") if Path(path).suffix.lower() != ".parquet" else path, kind)

    def plot(self, output: str | None = None, **kwargs: Any):
        """Counts over time: one patient's curve, or the median with a 5-95 % band (matplotlib Figure)."""
        from .presentation.counts import plot_counts

        return plot_counts(self, output=output, **kwargs)


def count_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """Course decisions counted by action and rule: action, rule ("" where none), courses (rows) and
    patients (distinct ids), in order of first appearance. Counts of disjoint sets of patients (the
    chunks of a run) add up to the counts of the whole (:func:`add_decision_counts`)."""
    df = decisions.assign(rule=decisions["rule"].fillna("").astype(str))
    g = df.groupby(["action", "rule"], sort=False)["id"]
    out = pd.concat([g.size().rename("courses"), g.nunique().rename("patients")], axis=1).reset_index()
    return out.astype({"courses": np.int64, "patients": np.int64})


def add_decision_counts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The sum of :func:`count_decisions` tables (at least one) of disjoint sets of patients."""
    both = pd.concat(parts, ignore_index=True)
    return both.groupby(["action", "rule"], sort=False)[["courses", "patients"]].sum().reset_index()


def count_summary(nadirs: pd.DataFrame, grades: pd.DataFrame, baselines: dict[str, np.ndarray]) -> pd.DataFrame:
    """The summary table of :meth:`SimulationResult.summary` from its pieces: every patient's nadirs
    and grades, and each count output's baseline values (a streamed run keeps only these)."""
    rows = []
    for out, base in baselines.items():
        kind = out.split("_")[0]
        # nadirs are those after a dose: a patient never dosed (or the time before the first dose) has
        # no nadir, only its baseline course, and is counted apart
        dosed = nadirs[(nadirs["output"] == kind) & (nadirs["interval"] >= 1)]
        first = dosed[dosed["interval"] == 1]
        overall = dosed.groupby("id")["nadir_1e9_per_L"].min()
        g = grades[grades["output"] == kind]

        def q(s: Any, digits: int = 2) -> str:
            return _fmt(np.percentile(s, [50, 5, 95]), digits) if len(s) else ""

        rows.append({
            "output": kind,
            "baseline_1e9_per_L": q(base),
            "patients_dosed": f"{overall.size} of {len(base)}",
            "first_nadir_1e9_per_L": q(first["nadir_1e9_per_L"]),
            "first_nadir_day": q(first["nadir_day"], digits=0),
            "lowest_nadir_1e9_per_L": q(overall),
            "grade_3_or_worse_pct": f"{100 * np.mean(g['worst_grade'] >= 3):.1f}" if len(g) else "",
        })
    return pd.DataFrame(rows)


def _split_unit(col: str) -> tuple[str, str]:
    for suffix, unit in (("_1e9_per_L", "10^9/L"), ("_mg_per_L", "mg/L"), ("_mg_d_per_L", "mg*d/L")):
        if col.endswith(suffix):
            return col[: -len(suffix)], unit
    if col.startswith("state_"):
        return col, "mg or 10^9/L"
    return col, ""


def first_minima(vals: np.ndarray, rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column of the first smallest value of ``vals[rows[i], a[i]:b[i]]`` for each i, as np.argmin
    gives it (the first NaN where there is one), for all the ranges at once. The ranges are
    non-empty and in order: by row, then by column."""
    if rows.size == 0:
        return np.empty(0, dtype=np.int64)
    n_t = vals.shape[1]
    flat = np.ascontiguousarray(vals).ravel()
    lens = b - a
    starts = np.cumsum(lens) - lens                       # where each range begins among the values taken
    pos = np.repeat(rows * n_t + a - starts, lens) + np.arange(int(lens.sum()))   # their flat indices
    x = flat[pos]
    low = np.minimum.reduceat(x, starts)                  # NaN where the range has one
    at = np.repeat(low, lens)
    hit = (x == at) | (np.isnan(x) & np.isnan(at))
    first = np.minimum.reduceat(np.where(hit, np.arange(x.size), x.size), starts)
    return pos[first] - rows * n_t


def _interval_table(who: np.ndarray, doses: np.ndarray, n_patients: int, t: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_interval_bounds` of ``n_patients`` patients at once, from each dose's patient index
    ``who`` and day (any order): arrays (patient, interval number, a, b, start, end), by patient, then
    interval."""
    keep = doses <= t[-1]
    who, doses = who[keep], doses[keep]
    o = np.lexsort((doses, who))
    who, doses = who[o], doses[o]
    new = np.ones(who.size, dtype=bool)
    new[1:] = (who[1:] != who[:-1]) | (doses[1:] != doses[:-1])    # each patient's days once
    who, doses = who[new], doses[new]
    opens = np.ones(who.size, dtype=bool)
    opens[1:] = who[1:] != who[:-1]
    # interval 0, from the grid's first time, for a patient without a dose or whose first comes later
    first_day = np.full(n_patients, np.inf)
    first_day[who[opens]] = doses[opens]
    lead = np.flatnonzero(first_day > t[0])
    return _intervals_of(np.concatenate([who, lead]), np.concatenate([doses, np.full(lead.size, t[0])]),
                         np.concatenate([np.ones(who.size, dtype=np.int64), np.zeros(lead.size, dtype=np.int64)]), t)


def _intervals_of(who: np.ndarray, starts: np.ndarray, number_from: np.ndarray, t: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The intervals from each start to the patient's next (the last to the grid's end): sorted by
    patient and start; numbered from 0 where the patient's first start is the grid's own (``number_from``
    of that start 0), else from 1."""
    o = np.lexsort((starts, who))
    who, starts, number_from = who[o], starts[o], number_from[o]
    idx = np.arange(who.size)
    opens = np.ones(who.size, dtype=bool)
    opens[1:] = who[1:] != who[:-1]
    head = np.maximum.accumulate(np.where(opens, idx, 0))
    k = idx - head + number_from[head]
    last = np.ones(who.size, dtype=bool)
    last[:-1] = who[1:] != who[:-1]
    nxt = np.empty(who.size)
    nxt[:-1] = starts[1:]
    nxt[last] = np.inf
    a = np.searchsorted(t, starts, side="left")
    b = np.where(last, t.size, np.searchsorted(t, np.where(last, t[-1], nxt), side="left"))
    end = np.where(last, t[-1], nxt)
    ok = b > a
    return who[ok], k[ok], a[ok].astype(np.int64), b[ok].astype(np.int64), starts[ok], end[ok]


def _interval_bounds(doses: np.ndarray, t: np.ndarray) -> list[tuple[int, int, int, float, float]]:
    """(interval number, a, b, start, end): grid index ranges [a, b) of the dosing intervals; the
    last one includes the end; interval 0 is the time before the first dose, if any (one patient's
    :func:`_interval_table`)."""
    doses = np.asarray(doses, dtype=float)
    _, k, a, b, start, end = _interval_table(np.zeros(doses.size, dtype=np.int64), doses, 1, t)
    return list(zip(k.tolist(), a.tolist(), b.tolist(), start.tolist(), end.tolist()))


def _fmt(q: np.ndarray, digits: int = 2) -> str:
    return f"{q[0]:.{digits}f} ({q[1]:.{digits}f}-{q[2]:.{digits}f})"


def _json(obj: Any) -> bytes:
    import json

    return json.dumps(obj, default=str).encode()
