"""Streamed runs at scale: a drug under its dosing rules, N patients for 2 years, written to Parquet chunk
by chunk; wall time, CPU time, output size and memory, at each N, so that memory can be seen not to grow
with N.

    python benchmarks/stream_scale.py                      # N = 10,000 and 100,000 (about 2 minutes)
    python benchmarks/stream_scale.py --n 1000000          # about 14 minutes on 2 cores, a 29 GB file
    python benchmarks/stream_scale.py --no-rules           # every planned dose given

Each run is one child process, the command a user types:

    mschemo simulate --drug mitoxantrone --n N --seed 1 --until "2 years" --out FILE.parquet --stream

with the disease model on (the default) and daily counts. Memory is measured two ways: the largest
resident set of any one process of the run (os.wait4 on the child, which covers its worker processes),
and the peak of the whole run's proportional set size (PSS, from /proc/PID/smaps_rollup, the run's
processes summed every half second: PSS shares each shared page out among the processes that map it,
so the sum does not count the compiled code and libraries once per worker). The output file is
deleted after each run. No peer tool runs this workload; the numbers are for memory that stays flat as
N grows, and for the time a patient costs. Writes benchmarks/results/stream_scale_<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _results import results_path

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    """The processes below ``pid`` (Linux: /proc/PID/task/TID/children)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            kids = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for k in map(int, kids):
            out += [k, *_children(k)]
    return out


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Samples the summed PSS of a process and its descendants every ``every`` seconds; ``peak_mb``."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_mb, self.samples = pid, every, 0.0, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            total = sum(_pss_kb(p) for p in [self.pid, *_children(self.pid)])
            self.peak_mb = max(self.peak_mb, total / 1024)
            self.samples += 1
            self._done.wait(self.every)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run(n: int, seed: int, rules: bool, tmpdir: str | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory(dir=tmpdir) as tmp:
        out = Path(tmp) / "out.parquet"
        cmd = [sys.executable, "-m", "mschemo", "simulate", "--drug", "mitoxantrone", "--n", str(n),
               "--seed", str(seed), "--until", "2 years", "--out", str(out), "--stream", "--quiet",
               *([] if rules else ["--no-rules"])]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
        mem = TreeMemory(proc.pid)
        mem.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        mem.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"the run of {n} patients failed (exit {proc.returncode})")
        size = out.stat().st_size
    return {"n": n, "rules": rules, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "ms_per_patient": 1000 * wall / n, "output_gb": size / 1e9,
            "max_rss_one_process_mb": usage.ru_maxrss / 1024, "peak_pss_all_processes_mb": mem.peak_mb,
            "memory_samples": mem.samples}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000], help="patients per run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-rules", action="store_true", help="every planned dose given (--no-rules)")
    ap.add_argument("--tmpdir", default=None, help="where the output files go while they are measured")
    args = ap.parse_args(argv)
    rows = []
    print(f"{'patients':>10s} {'wall':>9s} {'CPU':>9s} {'ms/patient':>11s} {'output':>9s} "
          f"{'max RSS, one process':>21s} {'peak PSS, all':>14s}", flush=True)
    for n in args.n:
        r = run(n, args.seed, not args.no_rules, args.tmpdir)
        rows.append(r)
        print(f"{n:10,d} {r['wall_s']:8.1f}s {r['cpu_s']:8.1f}s {r['ms_per_patient']:11.3f} "
              f"{r['output_gb']:7.2f}GB {r['max_rss_one_process_mb']:19.0f}MB "
              f"{r['peak_pss_all_processes_mb']:12.0f}MB", flush=True)
    path = results_path("stream_scale")
    path.write_text(json.dumps({"runs": rows, "seed": args.seed, "cores": len(os.sched_getaffinity(0)),
                                "machine": platform.machine(), "python": platform.python_version()},
                               indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
