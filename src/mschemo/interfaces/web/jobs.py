"""Trials as background jobs: queued, at most ``trial_workers`` running (each in its own process, so a
cancel stops it at once and the server stays responsive), progress as patients done, files in a
folder the server owns (never a path the user names), deleted when the job is cancelled or evicted."""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TrialJobs", "Job", "QueueFull"]

STATES = ("queued", "running", "done", "failed", "cancelled")


class QueueFull(Exception):
    """No room for another trial; the message says how many run and wait."""


@dataclass
class Job:
    """One trial job as the API shows it."""

    id: str
    label: str
    n_per_arm: int
    total: int
    fields: dict[str, Any]
    state: str = "queued"
    done: int = 0
    error: str = ""
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    folder: Path | None = None
    summary: list[dict[str, Any]] = field(default_factory=list)
    process: Any = field(default=None, repr=False)

    def public(self, disclaimer: str = "") -> dict[str, Any]:
        pct = 100.0 * self.done / self.total if self.total else 0.0
        out = {"id": self.id, "label": self.label, "state": self.state, "n_per_arm": self.n_per_arm,
               "patients_done": self.done, "patients_total": self.total, "progress_pct": round(pct, 1),
               "error": self.error or None, "created": self.created, "started": self.started,
               "finished": self.finished, "disclaimer": disclaimer or None}
        if self.state == "done":
            base = f"/api/v1/trials/{self.id}"
            out["summary"] = self.summary
            out["links"] = {"report": f"{base}/report", "patients": f"{base}/files/patients.parquet",
                            "visits": f"{base}/files/visits.parquet"}
        return out


def _run(fields: dict[str, Any], folder: str, queue: Any, parent: int) -> None:
    """In the worker process: run the trial, writing its files into ``folder``; progress and the end
    go to ``queue``. The process ends with the server's."""
    from ..._internal.processes import exit_with_parent

    exit_with_parent(parent)
    try:
        from ..requests import API, TrialRequest

        # one process per trial: the server runs at most trial_workers of them side by side
        job = TrialRequest(**fields, workers=1).resolve(API)
        result = job.run(Path(folder), progress=lambda done, total: queue.put(("progress", done)) if done >= 0 else None)
        result.report(Path(folder) / "report.html")
        table = result.outcomes()
        rows = table.astype(object).where(table.notna(), None).to_dict("records")
        queue.put(("done", rows))
    except Exception as exc:   # the message goes to the job, whatever failed
        queue.put(("failed", str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__))


class TrialJobs:
    """The queue of trial jobs of one server."""

    def __init__(self, workers: int, queue: int, keep: int) -> None:
        self.workers, self.queue_size, self.keep = workers, queue, keep
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()
        self.root = Path(tempfile.mkdtemp(prefix="mschemo-web-"))
        self.ctx = mp.get_context("spawn")

    # -- the API's verbs ------------------------------------------------------------------------------
    def submit(self, fields: dict[str, Any], label: str, n_per_arm: int, total: int) -> Job:
        with self.lock:
            running = sum(j.state == "running" for j in self.jobs.values())
            waiting = sum(j.state == "queued" for j in self.jobs.values())
            if waiting >= self.queue_size:
                raise QueueFull(f"{running} trial(s) are running and {waiting} are waiting, the most this server "
                                "queues; try again when one has finished, or cancel one.")
            job = Job(uuid.uuid4().hex[:12], label, n_per_arm, total, fields)
            self.jobs[job.id] = job
            self._evict()
        self._start_waiting()
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        if job is None:
            return None
        with self.lock:
            if job.state in ("queued", "running"):
                if job.process is not None and job.process.is_alive():
                    job.process.terminate()
                job.state, job.finished = "cancelled", time.time()
                self._remove_files(job)
        self._start_waiting()
        return job

    def close(self) -> None:
        for job in list(self.jobs.values()):
            if job.process is not None and job.process.is_alive():
                job.process.terminate()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- inside ---------------------------------------------------------------------------------------
    def _start_waiting(self) -> None:
        with self.lock:
            running = sum(j.state == "running" for j in self.jobs.values())
            for job in self.jobs.values():
                if running >= self.workers:
                    break
                if job.state == "queued":
                    self._start(job)
                    running += 1

    def _start(self, job: Job) -> None:
        job.folder = self.root / job.id
        job.folder.mkdir()
        queue = self.ctx.Queue()
        job.process = self.ctx.Process(target=_run, args=(job.fields, str(job.folder), queue, os.getpid()), daemon=True)
        job.state, job.started = "running", time.time()
        job.process.start()
        threading.Thread(target=self._watch, args=(job, queue), daemon=True).start()

    def _watch(self, job: Job, queue: Any) -> None:
        value: Any      # the worker's message: patients done, the summary rows or the failure
        while True:
            try:
                kind, value = queue.get(timeout=0.5)
            except Exception:   # queue.Empty: is the process still there?
                if job.state != "running":
                    return
                if job.process is not None and not job.process.is_alive():
                    kind, value = "failed", f"the trial's process ended unexpectedly (exit code {job.process.exitcode})"
                else:
                    continue
            if job.state != "running":       # cancelled meanwhile
                return
            if kind == "progress":
                job.done = int(value)
                continue
            with self.lock:
                job.finished = time.time()
                if kind == "done":
                    job.state, job.summary, job.done = "done", value, job.total
                else:
                    job.state, job.error = "failed", str(value)
                    self._remove_files(job)
            self._start_waiting()
            return

    def _remove_files(self, job: Job) -> None:
        if job.folder is not None:
            shutil.rmtree(job.folder, ignore_errors=True)
            job.folder = None

    def _evict(self) -> None:
        ended = [j for j in self.jobs.values() if j.state in ("done", "failed", "cancelled")]
        for job in ended[: max(0, len(ended) - self.keep)]:
            self._remove_files(job)
            del self.jobs[job.id]
