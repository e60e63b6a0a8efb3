"""Benchmark: the JAX backend on a GPU beside the compiled backend on the same machine's CPU cores,
on the mitox-2y workload (N patients, 12 mg/m2 every 91 days x 8, daily leukocytes for 2 years).

    python benchmarks/jax_gpu.py                          # N = 1,000,000 and 10,000,000 patient-2-years
    python benchmarks/jax_gpu.py --n 200 --chunk 256 --block 256 --compiled-sample 200 --json /tmp/j.json  # CPU smoke

Needs ``pip install "mschemo[jax]"`` and, for a GPU, a CUDA build of jax (``pip install "jax[cuda12]"``).
The patients are those of ``ms.load_example("mitox-2y", n=N, seed=S)`` (drawn as
../shared/bench/workload.py draws them). They are solved in equal blocks of at most ``--block`` patients (the
values of a block, N_block x 731 days x 3 columns in float64, are reduced to nadirs and dropped, so 10
million patients fit in memory); the JAX backend sends each block to the device in chunks of
``--chunk`` patients (lower it if the device runs out of memory: about 20 KB of device memory per
patient). Per N it prints:

- JAX: wall time of all blocks (building the problem, ``backend.solve`` with its host-side
  preparation and transfers, nadirs), the part in ``backend.solve``, and patients per second. The
  first N is run twice: cold (it includes JAX's compilation for the chunk's shape) and warm; later
  N reuse the compilation;
- compiled: the same on all CPU cores, on the first ``--compiled-sample`` patients of N; when that is
  fewer than N its time is extrapolated linearly to N and labelled "extrapolated";
- the ratio (compiled / JAX, wall time for N), and the agreement of the two on the patients both ran:
  the largest relative difference of the 8 per-interval WBC nadirs.

The device (``jax.devices()``), versions and CPU cores are printed first; the numbers also go to
benchmarks/results/jax_gpu_<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import mschemo as ms  # noqa: E402
from mschemo.backends.problem import build_problem  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def log(msg: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


def nadirs(values: np.ndarray, columns: list[str], t: np.ndarray, dose_days: np.ndarray) -> np.ndarray:
    """(n, n_doses) smallest daily WBC in [dose_k, dose_k+1) (the last interval to the end, included)."""
    wbc = values[:, :, columns.index("wbc_1e9_per_L")]
    bounds = np.searchsorted(t, dose_days, side="left").tolist() + [t.size]
    return np.stack([wbc[:, a:b].min(axis=1) for a, b in zip(bounds[:-1], bounds[1:])], axis=1)


def run(backend, ex, n: int, block: int) -> dict:
    """Solve the first n patients of ``ex`` block by block; wall time, time in backend.solve, nadirs, status."""
    t = ex.output.times_d()
    doses = ex.regimen.dose_times_d()
    parts, bad, solve_s = [], 0, 0.0
    # blocks of equal size (to one patient): one device shape for all of them, so one compilation
    edges = np.linspace(0, n, -(-n // block) + 1).round().astype(int)
    t0 = time.perf_counter()
    for start, stop in zip(edges[:-1].tolist(), edges[1:].tolist()):
        problem = build_problem(ex.model, ex.regimen, ex.population.subset(start, stop), t)
        s0 = time.perf_counter()
        sol = backend.solve(problem)
        solve_s += time.perf_counter() - s0
        parts.append(nadirs(sol.values, sol.columns, t, doses))
        bad += int(np.count_nonzero(sol.status))
        del sol, problem
    wall = time.perf_counter() - t0
    return {"n": n, "wall_s": wall, "solve_s": solve_s, "patients_per_s": n / wall, "failed": bad,
            "nadirs": np.concatenate(parts)}


def max_rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.abs(b)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[1_000_000, 10_000_000], help="patients (default 1e6 1e7)")
    ap.add_argument("--chunk", type=int, default=1 << 20, help="JAX: patients per device call (default 1048576)")
    ap.add_argument("--block", type=int, default=1 << 20,
                    help="patients per problem built and reduced to nadirs (default 1048576)")
    ap.add_argument("--compiled-sample", type=int, default=200_000,
                    help="compiled backend: patients actually run, extrapolated to N (default 200000)")
    ap.add_argument("--device", default=None, help="JAX device: gpu, cpu, ... (default: JAX's default)")
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--atol", type=float, default=1e-9)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--json", type=Path, default=None,
                    help="where to write the numbers (default benchmarks/results/jax_gpu_<date>_<time>.json)")
    args = ap.parse_args(argv)

    import jax

    jx = ms.backends.Jax(rtol=args.rtol, atol=args.atol, chunk=args.chunk, device=args.device)
    cp = ms.backends.Compiled(rtol=args.rtol, atol=args.atol)
    env = {"jax": jax.__version__, "devices": [str(d) for d in jax.devices()],
           "device_kind": [getattr(d, "device_kind", "?") for d in jax.devices()], "cpu_cores": CORES,
           "python": sys.version.split()[0], "numpy": np.__version__, "platform": platform.platform(),
           "mschemo": ms.__version__}
    log(f"devices: {env['devices']} ({', '.join(env['device_kind'])}); jax {env['jax']}; {CORES} CPU cores "
        f"for the compiled backend")
    n_max = max(args.n)
    log(f"drawing the mitox-2y patients (N = {n_max:,}, seed {args.seed})")
    ex = ms.load_example("mitox-2y", n=n_max, seed=args.seed)
    log("compiling the compiled backend (numba) on 10 patients")
    cp.solve(build_problem(ex.model, ex.regimen, ex.population.subset(0, 10), ex.output.times_d()))

    rows = []
    for i, n in enumerate(args.n):
        row: dict = {"n": n}
        if i == 0:
            cold = run(jx, ex, n, args.block)
            log(f"JAX      N={n:>11,} cold (with compilation): {cold['wall_s']:9.2f} s")
            row["jax_cold_wall_s"] = cold["wall_s"]
        j = run(jx, ex, n, args.block)
        log(f"JAX      N={n:>11,}: {j['wall_s']:9.2f} s wall, {j['solve_s']:9.2f} s in solve, "
            f"{j['patients_per_s']:,.0f} patients/s, {j['failed']} failed")
        n_c = min(n, args.compiled_sample)
        c = run(cp, ex, n_c, args.block)
        scale = n / n_c
        label = "" if n_c == n else f" (extrapolated from {n_c:,} patients run)"
        log(f"compiled N={n:>11,}: {c['wall_s'] * scale:9.2f} s wall, {c['solve_s'] * scale:9.2f} s in solve, "
            f"{c['patients_per_s']:,.0f} patients/s on {cp.n_threads} threads{label}, {c['failed']} failed")
        agree = max_rel(j["nadirs"][:n_c], c["nadirs"])
        ratio = c["wall_s"] * scale / j["wall_s"]
        log(f"ratio    N={n:>11,}: compiled/JAX wall time {ratio:.2f} (solve only: "
            f"{c['solve_s'] * scale / j['solve_s']:.2f}); nadirs: max relative difference {agree:.2e} "
            f"over {n_c:,} patients")
        row.update({"jax_wall_s": j["wall_s"], "jax_solve_s": j["solve_s"], "jax_patients_per_s": j["patients_per_s"],
                    "jax_failed": j["failed"], "compiled_patients_run": n_c,
                    "compiled_wall_s": c["wall_s"] * scale, "compiled_solve_s": c["solve_s"] * scale,
                    "compiled_extrapolated": n_c != n, "compiled_patients_per_s": c["patients_per_s"],
                    "compiled_threads": cp.n_threads, "compiled_failed": c["failed"],
                    "ratio_compiled_over_jax_wall": ratio, "nadir_max_rel_diff": agree})
        rows.append(row)

    print("\n     N  JAX s (wall)  JAX pat/s  compiled s (wall)  compiled pat/s  compiled/JAX  nadir rel diff")
    for r in rows:
        mark = "*" if r["compiled_extrapolated"] else " "
        print(f"{r['n']:>10,}  {r['jax_wall_s']:12.2f}  {r['jax_patients_per_s']:9,.0f}  {r['compiled_wall_s']:16.2f}{mark} "
              f"{r['compiled_patients_per_s']:14,.0f}  {r['ratio_compiled_over_jax_wall']:12.2f}  "
              f"{r['nadir_max_rel_diff']:14.2e}")
    if any(r["compiled_extrapolated"] for r in rows):
        print("* compiled: extrapolated linearly from the patients it ran (--compiled-sample)")
    path = args.json or RESULTS / f"jax_gpu_{dt.datetime.now():%Y-%m-%d_%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"workload": "mitox-2y", "seed": args.seed, "rtol": args.rtol, "atol": args.atol,
                                "chunk": args.chunk, "block": args.block, "environment": env, "rows": rows},
                               indent=1) + "\n")
    print(f"results: {path}")
    return 1 if any(r["jax_failed"] or r["compiled_failed"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
