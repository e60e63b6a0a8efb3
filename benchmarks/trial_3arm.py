"""A 2-year, 3-arm trial (the built-in MIMS design: placebo, mitoxantrone 5 and 12 mg/m2 every 3
months) at scale: wall time and peak memory, in memory and streamed to Parquet.

    python benchmarks/trial_3arm.py [--n 10000 100000] [--chunk-size 2000] [--features] [--save]

With --features, the same design written with the design features of a spec (screening labs, lab
error, schedules before and after each dose, phases with a cap, a steroid rule, endpoints of every
kind: benchmarks/mims_features.toml) runs beside it at each N, and the ratio of their times is printed.

Each run is a child process (``mschemo trial --example mims --n-per-arm N --out ...``); its peak
memory is the child's maximum resident set size (os.wait4). Per-patient data go to Parquet chunk by
chunk, so memory is bounded by the chunk size plus the per-patient table (about 40 columns).
No peer tool runs MS trial simulations. Beside each trial runs what its counts alone cost: the two
drug arms' patients simulated by ``mschemo simulate`` (the same regimens under the same label rules,
counts every month for 2 years, no disease model, streamed to Parquet), and the ratio of the times is
printed (the trial adds screening, the placebo arm, the disease model, visits, outcomes and reports).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import results_path

ROOT = Path(__file__).resolve().parents[1]


def run(n: int, chunk: int, seed: int, spec: str | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as tmp:
        what = ["--example", "mims"] if spec is None else [spec]
        cmd = [sys.executable, "-m", "mschemo", "trial", *what, "--n-per-arm", str(n),
               "--chunk-size", str(chunk), "--seed", str(seed), "--outdir", str(Path(tmp) / "out"), "--quiet"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if status != 0:
            raise SystemExit(f"trial with n-per-arm {n} failed (status {status})")
        size = sum(f.stat().st_size for f in (Path(tmp) / "out").iterdir())
    return {"n_per_arm": n, "patients": 3 * n, "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024,
            "ms_per_patient": 1000 * wall / (3 * n), "output_mb": size / 2**20}


REGIMENS = ("5 mg/m2 over 30 min every 3 months x 8", "12 mg/m2 over 30 min every 3 months x 8")


def counts_only(n: int, seed: int) -> dict:
    """The counts of the trial's two drug arms alone: ``mschemo simulate`` for each regimen, n patients."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    wall, peak = 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for k, regimen in enumerate(REGIMENS):
            cmd = [sys.executable, "-m", "mschemo", "simulate", "--drug", "mitoxantrone", "--regimen", regimen,
                   "--n", str(n), "--until", "2 years", "--every", "1 month", "--no-disease", "--seed", str(seed + k), "--out", str(Path(tmp) / f"arm{k}.parquet"), "--stream",
                   "--quiet"]
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            wall += time.perf_counter() - t0
            if status != 0:
                raise SystemExit(f"simulate with n {n} failed (status {status})")
            peak = max(peak, usage.ru_maxrss / 1024)
    return {"n_per_arm": n, "patients": 2 * n, "wall_s": wall, "peak_rss_mb": peak,
            "ms_per_patient": 1000 * wall / (2 * n)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--chunk-size", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=2002)
    ap.add_argument("--features", action="store_true", help="also run benchmarks/mims_features.toml, print the ratio")
    ap.add_argument("--no-counts", action="store_true", help="leave out the counts-only runs beside each trial")
    ap.add_argument("--save", action="store_true")
    a = ap.parse_args(argv)
    rows = []
    for n in a.n:
        r = run(n, a.chunk_size, a.seed)
        rows.append(r)
        print(f"n per arm {n:>7}: {r['wall_s']:8.1f} s, {r['ms_per_patient']:6.2f} ms per patient, "
              f"peak memory {r['peak_rss_mb']:7.0f} MB, Parquet {r['output_mb']:6.1f} MB", flush=True)
        if not a.no_counts:
            c = counts_only(n, a.seed)
            r["counts_only"] = c
            r["ratio_to_counts_only"] = r["wall_s"] / c["wall_s"]
            print(f"  its counts alone (2 drug arms, simulate --stream): {c['wall_s']:8.1f} s, "
                  f"peak memory {c['peak_rss_mb']:7.0f} MB: the trial takes {r['ratio_to_counts_only']:.2f} x",
                  flush=True)
        if a.features:
            f = run(n, a.chunk_size, a.seed, str(Path(__file__).parent / "mims_features.toml"))
            f["spec"] = "mims_features.toml"
            f["ratio_to_plain"] = f["wall_s"] / r["wall_s"]
            rows.append(f)
            print(f"  with the design features: {f['wall_s']:8.1f} s, {f['ms_per_patient']:6.2f} ms per patient, "
                  f"peak memory {f['peak_rss_mb']:7.0f} MB: {f['ratio_to_plain']:.2f} x the plain design", flush=True)
    if a.save:
        out = results_path("trial_3arm")
        out.write_text(json.dumps({"runs": rows, "chunk_size": a.chunk_size, "cores": os.cpu_count(),
                                   "python": sys.version.split()[0]}, indent=2) + "\n")
        print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
