"""run_trial: a trial spec to per-patient data, outcomes and a report, in chunks, locally or on Dask.

    trial = run_trial(TrialSpec.from_file("trial.toml"), n_per_arm=500, seed=7, out="trial_out")
    trial.outcomes()            # the outcome table (rate ratios, hazard ratios, CDP, toxicity, ...)
    trial.report("trial.html")

Chunks of patients are simulated one after another (or on Dask workers) and streamed to
``patients.parquet`` and ``visits.parquet`` in ``out``; only the per-patient table and the visits
of the first patients of each arm (for the report's trajectories) stay in memory. The per-patient
data do not depend on the chunk size or on the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._internal.files import TableSink
from .._internal.meta import __version__
from .._internal.progress import progress_callback
from .._internal.rng import root_seed
from ..errors import OptionError
from ..simulation.cluster import chunk_client, describe, in_order
from .run import chunks, run_chunk
from .spec import TrialSpec

__all__ = ["TrialResult", "run_trial", "TRACE_PATIENTS_PER_ARM"]

TRACE_PATIENTS_PER_ARM = 2000     # visits kept in memory per arm for the report's trajectories


@dataclass
class TrialResult:
    """A finished trial: per-patient table, visits kept for the report, where the files are."""

    spec: TrialSpec
    n_per_arm: int
    seed: int
    patients: pd.DataFrame
    visits: pd.DataFrame
    out: Path | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    #: the outcome table and the patients table it was worked out from (its model fits take about a
    #: second at 10,000 patients per arm; the report and the summary both need it)
    _outcomes: tuple[pd.DataFrame, pd.DataFrame] | None = field(default=None, init=False, repr=False, compare=False)

    def outcomes(self) -> pd.DataFrame:
        """The trial's outcome table by arm against the reference arm (a copy: change it freely). It is
        worked out once per patients table (a new ``patients`` gets a new one)."""
        if self._outcomes is None or self._outcomes[0] is not self.patients:
            from .outcomes import outcome_table
            self._outcomes = (self.patients,
                              outcome_table(self.patients, self.spec.reference_arm, self.spec.all_endpoints()))
        return self._outcomes[1].copy()

    def screening(self) -> dict[str, float]:
        """Candidates screened, and the shares screened out by the eligibility criteria and by the
        screening labs (of all candidates)."""
        p = self.patients
        crit, labs = float(p["screened_out_criteria"].sum()), float(p["screened_out_labs"].sum())
        total = crit + labs + len(p)
        return {"candidates": total, "share_out_criteria": crit / total, "share_out_labs": labs / total}

    def report(self, path: str | Path) -> Path:
        """Write the HTML report (outcome table, Kaplan-Meier curves, trajectories, forest plot)."""
        from .report import write_report
        return write_report(self.patients, self.visits, path, title=self.spec.name,
                            reference=self.spec.reference_arm, provenance=self.provenance,
                            endpoints=self.spec.all_endpoints(), outcomes=self.outcomes())


def run_trial(spec: TrialSpec, n_per_arm: int | None = None, *, seed: int | None = None, chunk_size: int = 1000,
              out: str | Path | None = None, dask: Any = None, workers: int | None = None,
              progress: bool | Callable[[int, int], None] = False) -> TrialResult:
    """Run ``spec`` with ``n_per_arm`` patients per allocation unit (an arm of ratio 2 gets twice as
    many). seed: the randomisation and every patient's streams (default: the spec's). out: a
    folder for patients.parquet and visits.parquet (written as the chunks finish). dask: a Dask
    Client, a scheduler address or "local". workers: without dask, the chunks run in this many
    processes on this machine (default one per core; 1 runs them here). Results are the same
    whatever runs them."""
    if n_per_arm is None or isinstance(n_per_arm, bool) or not isinstance(n_per_arm, (int, np.integer)) or n_per_arm < 1:
        raise OptionError(f"n_per_arm = {n_per_arm!r}; give a whole number of patients per arm >= 1.")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise OptionError(f"chunk_size = {chunk_size!r}; give a whole number of patients >= 1.")
    seed_used = spec.seed if seed is None else root_seed(seed)
    total = int(n_per_arm) * sum(a.ratio for a in spec.arms)
    bounds = list(chunks(total, int(chunk_size)))
    with chunk_client(dask, workers, len(bounds)) as (client, n_workers):   # first: a bad address leaves no folder
        sinks = {}
        if out is not None:
            folder = Path(out)
            folder.mkdir(parents=True, exist_ok=True)
            sinks = {"patients": TableSink(folder / "patients.parquet"), "visits": TableSink(folder / "visits.parquet")}
        callback = progress_callback(progress, total, "trial")
        patients, traces = [], []
        kept: dict[Hashable, int] = {}
        ok = False
        try:
            done = 0
            for p, v in in_order(run_chunk, ((spec, seed_used, a, b) for a, b in bounds), client):
                patients.append(p)
                if sinks:
                    sinks["patients"].write(p)
                    sinks["visits"].write(v)
                keep = []
                for arm, ids in p.groupby("arm", sort=False)["id"]:
                    room = TRACE_PATIENTS_PER_ARM - kept.get(arm, 0)
                    if room > 0:
                        keep.extend(ids.iloc[:room])
                        kept[arm] = kept.get(arm, 0) + min(room, len(ids))
                traces.append(v[v["id"].isin(keep)])
                done += len(p)
                callback(done, total)
            ok = True
        finally:
            callback(-1, total)
            for s in sinks.values():
                s.close(ok)
    prov = {"spec_name": spec.name, "spec_sha256": spec.sha256(), "seed": seed_used, "mschemo_version": __version__,
            "n_per_arm": int(n_per_arm), "n_patients": total, "chunk_size": int(chunk_size),
            "reference_arm": spec.reference_arm, "duration": spec.duration,
            "dask": describe(dask), "workers": n_workers}
    order = [a.name for a in spec.arms]
    table, visits = pd.concat(patients, ignore_index=True), pd.concat(traces, ignore_index=True)
    table["arm"] = pd.Categorical(table["arm"], categories=order)        # the spec's arm order
    visits["arm"] = pd.Categorical(visits["arm"], categories=order)
    return TrialResult(spec, int(n_per_arm), seed_used, table, visits, Path(out) if out is not None else None, prov)
