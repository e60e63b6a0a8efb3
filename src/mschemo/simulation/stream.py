"""Simulations larger than memory: patients drawn, solved (under their rules) and written chunk by
chunk to a .parquet or .csv file, keeping in memory only each patient's small tables (nadirs, grades,
decisions, the disease's per-patient figures), from which the summaries are made.

Patient i draws from its own streams wherever it falls (its covariates, its drug covariates, its
disease), so the file holds the rows the in-memory run gives, and the summaries are the same tables,
whatever the chunk size. A run that fails or is stopped leaves no file at the target (a temporary file
beside it is renamed when the last chunk is written).

>>> import mschemo as ms, tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "counts.parquet"
>>> res = simulate_to(out, ms.load_drug("cyclophosphamide"), n=6, seed=1, until="6 months", chunk_size=4)
>>> res.n_patients, out.exists()
(6, True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._internal.files import TableSink
from .._internal.processes import machine_memory_bytes
from .._internal.progress import ProgressCallback, progress_callback
from .._internal.rng import root_seed
from ..drugs import Drug
from ..errors import OptionError
from ..models.chain import ChainedModel
from ..output import OutputTimes
from ..population import Population, PopulationSpec
from ..results import add_decision_counts, count_decisions, count_summary
from .adaptive import DECISION_COLUMNS
from .chunks import ChunkedRun
from .cluster import chunk_client, describe, in_order, local_workers
from .dispatch import _as_model, simulate

__all__ = ["simulate_to", "StreamedResult", "estimate_bytes", "stream_chunk_size"]

#: bytes a result needs per value held in memory, the tidy table written from it included: measured
#: with `mschemo simulate --drug mitox-2y ... --until "2 years" --out F.parquet`, 732 times x 5 outputs:
#: peak RSS 1.44 GB at 20,000 patients and 2.59 GB at 40,000, so 15.7 bytes per value added
BYTES_PER_VALUE = 16


#: days: the end assumed, in an estimate of a run's memory, where none is given (assumption: 2 years, the
#: default workload's; a plain regimen's run ends 13 weeks after its last dose, which only the regimen knows)
ESTIMATE_UNTIL_D = 731.0

#: the share of this machine's memory a run may plan to take: an in-memory result (beyond it the
#: command line asks for a streamed run), or a streamed run's chunks in flight (beyond it they are cut smaller)
MEMORY_SHARE = 0.5

#: bytes a streamed run holds per value of its table (a patient's output times x its columns) for each
#: chunk in flight on this machine: the worker process that computes it (its result, the table cut
#: from it, the disease read from it, the copy sent here) and this process, which holds up to
#: CHUNKS_PER_WORKER finished chunks a worker until it has written them. Measured with
#: `mschemo simulate --drug mitoxantrone --n 200000 --until "2 years" --out F.parquet --stream` on 2
#: cores (chunks of 10,000 patients, 7 columns x 732 times): each worker's peak resident set 1.38-1.42
#: GB, 0.24 GB of it before its first chunk, so 23 bytes a value; this process 1.16 GB (0.25 GB
#: before), 9 bytes a value of a worker's chunks at most. Rounded up: 24 + 2 x 8.
STREAM_BYTES_PER_VALUE = 40


def estimate_bytes(n_patients: int, n_times: int, n_columns: int) -> int:
    """About how much memory an in-memory result of this size needs, with its table (bytes)."""
    return int(n_patients) * int(n_times) * int(n_columns) * BYTES_PER_VALUE


def stream_chunk_size(chunk_size: int, workers: int, values_per_patient: int, memory: int | None = None) -> int:
    """The patients a streamed run puts in a chunk: ``chunk_size``, or fewer where ``workers`` worker
    processes, each with its chunks in flight (:data:`STREAM_BYTES_PER_VALUE` for each of a patient's
    ``values_per_patient`` table values), would take more than :data:`MEMORY_SHARE` of ``memory``
    (bytes; default this machine's). The results do not depend on it: each patient's are the same in
    any chunk."""
    memory = machine_memory_bytes() if memory is None else memory
    per_patient = max(1, int(workers)) * max(1, int(values_per_patient)) * STREAM_BYTES_PER_VALUE
    return max(1, min(int(chunk_size), int(MEMORY_SHARE * memory) // per_patient))


@dataclass
class StreamedResult:
    """What a streamed run keeps: what the summaries read of every patient (its first and lowest nadir,
    worst grades, baselines, status, disease figures) and the dosing decisions counted by action and
    rule (``decision_counts()``); the time courses are in ``path``, the decisions themselves, one row
    per course, in ``decisions_path`` where one was given."""

    path: Path
    kind: str
    ids: np.ndarray
    times_d: np.ndarray
    columns: list[str]
    count_outputs: list[str]
    status: np.ndarray
    baselines: dict[str, np.ndarray]
    nadir_table: pd.DataFrame
    grade_table: pd.DataFrame
    counted_decisions: pd.DataFrame | None = None
    decisions_path: Path | None = None
    disease_patients: pd.DataFrame | None = None
    disease_at_end: dict[str, np.ndarray] | None = None
    disease_until_d: float | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    model: Any = None
    steps: np.ndarray | None = None
    disease_provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_patients(self) -> int:
        return len(self.ids)

    @property
    def all_ok(self) -> bool:
        return bool(np.all(self.status == 0))

    def decision_counts(self) -> pd.DataFrame | None:
        """As :meth:`SimulationResult.decision_counts`: courses and patients by action and rule; None
        without dosing rules."""
        return None if self.counted_decisions is None else self.counted_decisions.copy()

    def status_table(self) -> pd.DataFrame:
        """As :meth:`SimulationResult.status_table`."""
        from ..backends.problem import STATUS_MESSAGES

        steps = self.steps if self.steps is not None else np.zeros((self.n_patients, 2), dtype=np.int64)
        return pd.DataFrame({"id": self.ids, "status": [STATUS_MESSAGES.get(int(v), "failed") for v in self.status],
                             "steps_accepted": steps[:, 0], "steps_rejected": steps[:, 1]})

    @property
    def disease(self) -> _StreamedDisease | None:
        """The disease's figures (``summary()``, ``until_d``, ``n_patients``), when it was simulated."""
        if self.disease_patients is None:
            return None
        return _StreamedDisease(self)

    def summary(self) -> pd.DataFrame:
        """As :meth:`SimulationResult.summary` (the same table as the in-memory run's)."""
        return count_summary(self.nadir_table, self.grade_table, self.baselines)

    def disease_summary(self) -> pd.DataFrame | None:
        """As :meth:`DiseaseResult.summary`, when the disease was simulated."""
        if self.disease_patients is None:
            return None
        from ..disease.model import disease_summary

        assert self.disease_until_d is not None  # set with disease_patients (simulate_to)
        return disease_summary(self.disease_patients, float(self.disease_until_d), self.disease_at_end or {})


@dataclass(frozen=True)
class _StreamedDisease:
    """A streamed run's disease, as the summary shows it."""

    run: StreamedResult

    def summary(self) -> pd.DataFrame:
        summary = self.run.disease_summary()
        assert summary is not None  # a run has a _StreamedDisease only when its disease was simulated
        return summary

    @property
    def until_d(self) -> float:
        assert self.run.disease_until_d is not None  # as in summary()
        return float(self.run.disease_until_d)

    @property
    def n_patients(self) -> int:
        return self.run.n_patients

    @property
    def provenance(self) -> dict[str, Any]:
        return self.run.disease_provenance


def simulate_to(
    path: str | Path,
    model: ChainedModel | Drug | str,
    regimen: Any = None,
    population: PopulationSpec | Population | None = None,
    *,
    n: int | None = None,
    rules: Any = None,
    seed: int | None = None,
    output: Any = "daily",
    until: float | str | None = None,
    backend: Any = None,
    chunk_size: int = 10_000,
    kind: str = "wide",
    disease: Any = False,
    disease_until: float | str | None = None,
    progress: bool | ProgressCallback = False,
    dask: Any = None,
    decisions_path: str | Path | None = None,
    workers: int | None = None,
) -> StreamedResult:
    """:func:`mschemo.simulate` written to ``path`` (.parquet or .csv; ``kind`` "wide" or "long")
    ``chunk_size`` patients at a time, with memory bounded by the chunk, not by ``n``. The arguments
    are simulate()'s; ``population`` is a PopulationSpec (drawn chunk by chunk, ``n`` patients) or a
    Population (a table, read chunk by chunk); None draws ``n`` from the default (or the drug's) cohort.
    Under dosing rules the window must be given (``until``, or ``output`` as times): in memory it ends 13
    weeks after the last dose any patient got, which no chunk knows. ``dask`` (a Client, a scheduler
    address or "local") computes the chunks on a Dask cluster; they are written here in order as they
    arrive, a few in flight at a time, and the file is the same, bit for bit. Under dosing rules the
    decisions (one row per course, as ``SimulationResult.decisions``) go chunk by chunk to
    ``decisions_path`` (.parquet or .csv) when given; the result keeps only their counts by action and
    rule, so memory does not grow with the number of courses either. Without ``dask`` the chunks run in
    ``workers`` processes on this machine (default: one per core, one for a single chunk), written here
    in order: the same file, bit for bit, with any number."""
    path = Path(path)
    for what, p in (("output file", path), ("decisions file", decisions_path)):
        if p is not None and Path(p).suffix.lower() not in (".parquet", ".csv"):
            raise OptionError(f"{what} '{p}' has suffix {Path(p).suffix or '(none)'}; use .parquet or .csv.")
    if decisions_path is not None and Path(decisions_path).resolve() == path.resolve():
        raise OptionError(f"the output and the decisions both go to '{path}'; give two different files.")
    if kind not in ("wide", "long"):
        raise OptionError(f"kind = {kind!r}; use 'wide' or 'long'.")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise OptionError(f"chunk_size = {chunk_size!r}; give a whole number of patients >= 1.")
    seed_used = root_seed(seed)
    drug = model if isinstance(model, Drug) else None
    mdl = model.model if isinstance(model, Drug) else _as_model(model)
    table: Population | None = population if isinstance(population, Population) else None
    spec: PopulationSpec | None = None
    if table is None:
        if population is not None and not isinstance(population, PopulationSpec):
            raise OptionError(f"population {population!r} is not a PopulationSpec or a Population; give one of them.")
        if n is None or isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise OptionError(f"n = {n!r}; give the number of patients to draw, a whole number >= 1.")
        spec = population if population is not None else PopulationSpec()
        if drug is not None:
            spec = drug.population_spec(population)
        total = int(n)
    else:
        total = len(table)
    with_disease = disease is not False and disease is not None
    run = ChunkedRun(simulate, drug if drug is not None else mdl, regimen, spec, seed_used,
                     dict(rules=rules, output=output, until=until, backend=backend, immune=with_disease,
                          disease_until=disease_until))
    run.check_window("a streamed run")
    chunk = _StreamChunk(kind, disease if with_disease else None, disease_until, decisions_path is not None)
    keep: dict[str, list] = {"ids": [], "status": [], "steps": [], "nadirs": [], "grades": [],
                             "decisions": [], "disease": [], "end": []}
    disease_prov: dict[str, Any] = {}
    baselines: dict[str, list] = {}
    first: dict[str, Any] | None = None
    until_d = None
    if dask is None:    # the chunks in flight are on this machine: none so large that they would not fit
        # (the workers as many as smaller chunks could bring, at most one a patient)
        chunk_size = stream_chunk_size(chunk_size, local_workers(workers, total), _table_values(mdl, output, until))
    with chunk_client(dask, workers, -(-total // chunk_size)) as (client, _):   # first: a bad address leaves no file
        callback = progress_callback(progress, total)
        sink = TableSink(path)
        dsink = TableSink(decisions_path, float_format="%.10g") if decisions_path is not None else None
        ok = False
        try:
            for piece in in_order(chunk, run.tasks(total, chunk_size, table), client):
                if first is None:     # what the result needs of the first chunk (not its values)
                    first = piece.first
                    assert first is not None  # the chunks come in order, and the first (start 0) carries it
                    prov = dict(first["provenance"]) | {"n_patients": total, "chunk_size": chunk_size, "streamed": True}
                    if dask is not None:
                        prov["dask"] = describe(dask)
                    sink.metadata = {b"mschemo.provenance": json.dumps(prov, default=str).encode()}
                sink.write(piece.frame)
                for key in ("ids", "status", "steps", "nadirs", "grades"):
                    keep[key].append(getattr(piece, key))
                if piece.decisions is not None:
                    keep["decisions"].append(piece.decisions)
                    if dsink is not None and piece.decision_rows is not None and len(piece.decision_rows):
                        dsink.write(piece.decision_rows)
                for o, v in piece.baselines.items():
                    baselines.setdefault(o, []).append(v)
                if with_disease:
                    keep["disease"].append(piece.disease)
                    keep["end"].append(piece.end)
                    until_d = piece.until_d
                    disease_prov = disease_prov or piece.disease_provenance
                callback(piece.stop, total)
                del piece     # the chunk's table goes once written, before the next one arrives
            ok = True
        finally:
            callback(-1, total)
            sink.close(ok)
            if dsink is not None:
                if ok and dsink.rows == 0:      # no course decided (or no rules): the file still has its columns
                    dsink.write(pd.DataFrame(columns=DECISION_COLUMNS))
                dsink.close(ok)
    assert first is not None
    prov = dict(first["provenance"]) | {"n_patients": total, "seed": seed_used, "chunk_size": chunk_size,
                                     "streamed_to": str(path)}
    if dask is not None:
        prov["dask"] = describe(dask)
    end = None
    if with_disease:
        end = {s: np.concatenate([e[s] for e in keep["end"]]) for s in keep["end"][0]}
    return StreamedResult(
        path=path, kind=kind, ids=np.concatenate(keep["ids"]), times_d=first["times_d"], columns=first["columns"],
        count_outputs=first["count_outputs"], status=np.concatenate(keep["status"]),
        baselines={o: np.concatenate(v) for o, v in baselines.items()},
        nadir_table=_in_run_order(keep["nadirs"]), grade_table=_in_run_order(keep["grades"]),
        counted_decisions=add_decision_counts(keep["decisions"]) if keep["decisions"] else None,
        decisions_path=Path(decisions_path) if decisions_path is not None else None,
        disease_patients=pd.concat(keep["disease"], ignore_index=True) if with_disease else None,
        disease_at_end=end, disease_until_d=until_d if with_disease else None,
        provenance=json.loads(json.dumps(prov, default=str)), model=first["model"], steps=np.concatenate(keep["steps"]),
        disease_provenance=disease_prov)


@dataclass
class _Piece:
    """What a streamed run takes from one chunk: the table to write and each patient's small tables."""

    stop: int
    frame: pd.DataFrame
    ids: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    nadirs: pd.DataFrame
    grades: pd.DataFrame
    decisions: pd.DataFrame | None          # counted by action and rule (count_decisions)
    baselines: dict[str, np.ndarray]
    decision_rows: pd.DataFrame | None = None     # the decisions themselves, when a file takes them
    disease: pd.DataFrame | None = None
    end: dict[str, np.ndarray] | None = None
    until_d: float | None = None
    disease_provenance: dict[str, Any] = field(default_factory=dict)
    first: dict[str, Any] | None = None     # of the first chunk: output times, columns, provenance, model


@dataclass(frozen=True)
class _StreamChunk:
    """One chunk of a streamed run, here or on a Dask worker: simulated (with its disease), then cut
    down to the table to write and what the summaries read."""

    kind: str
    disease: Any            # None, True or a Treatments
    disease_until: float | str | None
    decision_rows: bool = False     # the chunk's decisions themselves, for a decisions file

    def __call__(self, run: ChunkedRun, start: int, stop: int, table: Population | None) -> _Piece:
        res = run.result(start, stop, table)
        # copies: a view into a chunk's arrays would keep the whole chunk (its values) alive
        piece = _Piece(
            stop=stop, frame=res.to_pandas(self.kind), ids=np.array(res.ids, copy=True),
            status=np.array(res.status, copy=True), steps=np.array(res.steps, copy=True),
            nadirs=_compact_nadirs(res.nadirs()),
            grades=res.grades()[["id", "output", "worst_grade"]].astype({"output": "category"}),
            decisions=count_decisions(res.decisions) if res.decisions is not None else None,
            decision_rows=res.decisions.copy(deep=True) if res.decisions is not None and self.decision_rows else None,
            baselines={o: res.column(o)[:, 0].copy() for o in res.count_outputs})
        if self.disease is not None:
            from ..disease import attach_disease

            dis = attach_disease(res, self.disease if not isinstance(self.disease, bool) else None,
                                 until=self.disease_until, start=start)
            piece.disease = dis.patients().copy(deep=True)
            piece.end = {k: v.copy() for k, v in dis.symptoms_at_end().items()}
            piece.until_d = dis.until_d
            piece.disease_provenance = dict(dis.provenance or {})
        if start == 0:
            piece.first = {"times_d": res.times_d, "columns": list(res.columns),
                           "count_outputs": list(res.count_outputs), "provenance": dict(res.provenance),
                           "model": res.model}
        return piece


def _table_values(model: ChainedModel, output: Any, until: float | str | None) -> int:
    """About how many values a patient adds to a streamed run's table: its output times x the columns
    (id, time, the model's outputs, the AUC and a derived count)."""
    return OutputTimes.parse(output, until).count(ESTIMATE_UNTIL_D) * (len(model.outputs) + 4)


def _compact_nadirs(nadirs: pd.DataFrame) -> pd.DataFrame:
    """What the summary reads of every patient's nadirs, at most two rows per patient and output: the
    first dosed interval's and the lowest of the dosed intervals (the interval before any dose has no
    nadir), so memory grows by about 100 bytes per patient, not by the number of courses."""
    cols = ["id", "output", "interval", "nadir_1e9_per_L", "nadir_day"]
    dosed = nadirs[nadirs["interval"] >= 1][cols]
    first = dosed[dosed["interval"] == 1]
    low = dosed.loc[dosed.groupby(["output", "id"], sort=False)["nadir_1e9_per_L"].idxmin()] if len(dosed) else dosed
    low = low[low["interval"] != 1]
    both = pd.concat([first, low], ignore_index=True) if len(low) else first.reset_index(drop=True)
    return both.astype({"output": "category", "interval": np.int16})


def _in_run_order(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunk tables joined in the order the in-memory run gives: by output, then patient, then the rest."""
    df = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)   # a chunk may have none
    if "output" not in df.columns or not len(df):
        return df
    df["output"] = df["output"].astype(str)
    order = {o: i for i, o in enumerate(dict.fromkeys(df["output"]))}
    return df.sort_values("output", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
