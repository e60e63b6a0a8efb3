"""The heavy answers (a new explainer choice, a dose plan, its sheet) computed in a pool of worker
processes, one per core by default, so that several clinicians' requests use every core and the
server's own process stays free to answer pages, progress and cached choices. With no worker
(``compute_workers=0``) they run in the server's thread pool (tests, one-core machines).

The functions here run in the workers: they take a checked request and give JSON-ready data."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import mschemo as ms

from ..._internal.processes import exit_with_parent
from ..requests import API

__all__ = ["Compute", "explain_bytes", "simulate_json", "plan_json", "plan_sheet", "json_safe", "frame", "too_many"]


class Compute:
    """Where the heavy answers run: a process pool, or the server's threads when ``workers`` is 0."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = self._new_pool() if workers > 0 else None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"),
                                   initializer=exit_with_parent, initargs=(os.getpid(),))

    def warm(self) -> None:
        """Start every worker now (each loads the compiled kernel once) instead of at its first request."""
        if self.pool is not None:
            for _ in range(self.workers):
                self.pool.submit(_warm)

    async def __call__(self, fn: Any, *args: Any) -> Any:
        if self.pool is None:
            from starlette.concurrency import run_in_threadpool

            return await run_in_threadpool(fn, *args)
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        except BrokenProcessPool:
            self.pool = self._new_pool()
            raise ms.SolverError("a worker process of the server stopped while computing this answer; send the "
                                 "request again.") from None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _warm() -> None:
    import mschemo as ms

    ms.simulate(ms.load_drug("cyclophosphamide").model, "800 mg/m2 over 1 h", n=1, seed=1)


# -- JSON -------------------------------------------------------------------------------------------------
def json_safe(x: Any) -> Any:
    """Plain JSON values: NaN and infinity as null, dates as text, NumPy scalars as Python ones."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (dt.date, dt.datetime)):
        return x.isoformat()
    if hasattr(x, "item") and callable(x.item):
        return json_safe(x.item())
    return x


def frame(df: Any) -> list[dict[str, Any]]:
    return json_safe(df.astype(object).where(df.notna(), None).to_dict("records"))


# -- in the workers ---------------------------------------------------------------------------------------
def explain_bytes(job: Any) -> bytes:
    """The explainer's answer as JSON bytes (encoded once: FastAPI's encoder would walk every one of its
    ~30,000 numbers on each request)."""
    out = json_safe(job.run())
    out["disclaimer"] = ms.DISCLAIMER
    return json.dumps(out, separators=(",", ":")).encode()


def simulate_json(request: Any, max_patients: int) -> dict[str, Any]:
    """A simulation as ``mschemo simulate`` shows it: the counts' summary, each patient's worst grade and
    nadirs, the dosing decisions, and the disease's summary (or the disease alone, untreated)."""
    from ..requests import UntreatedJob

    job = request.resolve(API)
    n = len(job.population) if isinstance(job, UntreatedJob) else job.total
    too_many(n, max_patients)
    out: dict[str, Any] = {"n": n, "population": job.population_label, "seed": job.seed}
    if isinstance(job, UntreatedJob):
        dis = job.run()
        out.update(kind="untreated", until_d=job.until_d, disease=frame(dis.summary()))
        return json_safe(out | {"disclaimer": ms.DISCLAIMER})
    result = job.run()
    out.update(kind="drug" if job.drug is not None else "model", regimen=job.regimen_label,
               rules=job.rules_in_force(), rules_text=job.rules_text(), summary=frame(result.summary()),
               grades=frame(result.grades()), nadirs=frame(result.nadirs()),
               decisions=frame(result.decisions) if result.decisions is not None else None,
               failed=int((result.status != 0).sum()))
    if job.disease is not None:
        out["disease"] = frame(job.attach_disease(result).summary())
    return json_safe(out | {"disclaimer": ms.DISCLAIMER})


def too_many(n: int, max_patients: int) -> None:
    """One simulate request lists every patient, so its size is capped (checked before any draw)."""
    if n > max_patients:
        raise ms.OptionError(f"n {n} is more patients than this server simulates in one request ({max_patients:,}); "
                             f"give a smaller n, e.g. n = {min(100, max_patients)}, or use 'mschemo simulate'.")


def plan_json(request: Any) -> dict[str, Any]:
    """A dose plan as JSON, with the verdict a clinic reads first (``DosePlan.verdict``): "give" only when
    the decision is to give and every check (the model's fit to the counts included) passes, else
    "needs review" (as on the printable sheet)."""
    plan = request.resolve(API).run()
    checks = frame(plan.checks)
    verdict = plan.verdict
    fit = next((c for c in checks if str(c.get("rule", "")).startswith("model fit")), None)
    record = plan.record
    return json_safe({
        "patient_id": plan.patient_id, "drug": plan.drug, "decision": plan.decision, "verdict": verdict,
        "reason": plan.reason, "dose_text": plan.dose_text(), "dose": plan.dose, "dose_unit": plan.dose_unit,
        "mg": plan.mg, "date": plan.date, "administration": plan.administration,
        "proposal": [{"label": k, "text": v} for k, v in plan.proposal_rows()],
        "p_target": plan.p_target, "p_grade3": plan.p_grade3, "p_grade4": plan.p_grade4,
        "nadir": {"kind": plan.kind, "median": plan.nadir_median, "p5": plan.nadir_p5, "p95": plan.nadir_p95,
                  "day": plan.nadir_day},
        "target": None if plan.target is None else {"kind": plan.target.kind, "low": plan.target.low,
                                                     "high": plan.target.high},
        "next_count_date": plan.next_count_date, "next_count_reason": plan.next_count_reason,
        "checks": checks, "model_fit": fit, "candidates": frame(plan.candidates),
        "predicted": frame(plan.predicted), "parameters": frame(plan.parameters),
        "measured": frame(record.counts[["date", "day", "kind", "value"]]) if record is not None else [],
        "doses": frame(record.doses[["date", "day", "amount", "unit"]]) if record is not None else [],
        "notes": list(plan.notes), "posterior_method": plan.posterior_method, "seed": plan.seed,
        "disclaimer": plan.disclaimer})


def plan_sheet(request: Any) -> str:
    """The printable infusion-centre sheet of the plan (HTML text)."""
    return request.resolve(API).run().sheet_html()
