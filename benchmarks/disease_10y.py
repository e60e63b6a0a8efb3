"""The disease model's cost: 10,000 patients for 10 years on top of the white-cell model.

    python benchmarks/disease_10y.py [--n 10000] [--years 10] [--seed 20261125] [--repeats 3]

1. counts: mitoxantrone's label regimen (12 mg/m2 every 3 months, with its dosing rules) simulated
   for the whole window with weekly output (compiled backend, all cores), once plainly and once
   recording the immune memory compartment on its weekly grid (immune=True);
2. disease on top: the immune record's own cost (the second run minus the first) plus relapses
   linked to it, relapse courses, sites and symptoms, EDSS paths, the weekly EDSS and symptom grids
   (attach_disease; NumPy, one core);
3. disease alone for the same cohort untreated (simulate_disease).
Times are the median of the repeats; the figure reported is milliseconds per patient-decade of the
disease model (target: 2 ms or less on one core). No peer tool ships an MS disease model, so there
is no side-by-side ratio here; the count engine's ratios are in mitox_2y.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

from _results import results_path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--years", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/disease_10y_<date>.json")
    a = ap.parse_args(argv)
    import mschemo as ms
    from mschemo.disease import attach_disease, simulate_disease

    until = f"{a.years * 365.25:g} days"
    decades = a.n * a.years / 10.0
    drug = ms.load_drug("mitoxantrone")
    t0 = time.perf_counter()
    ms.simulate(drug, n=a.n, seed=a.seed, until=until, output="weekly", progress=True)
    t_counts = time.perf_counter() - t0
    t0 = time.perf_counter()
    counts = ms.simulate(drug, n=a.n, seed=a.seed, until=until, output="weekly", progress=True, immune=True)
    t_immune = time.perf_counter() - t0 - t_counts
    on_top, alone = [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        d = attach_disease(counts)
        on_top.append(t_immune + time.perf_counter() - t0)
        pop = ms.Population(counts.patients)
        t0 = time.perf_counter()
        u = simulate_disease(pop, until, a.seed)
        alone.append(time.perf_counter() - t0)
    rows = {
        "counts (white-cell model, rules, weekly output)": t_counts,
        "immune record (weekly grid, memory compartment)": t_immune,
        "disease on top of the counts (immune record included)": statistics.median(on_top),
        "disease alone, untreated": statistics.median(alone),
    }
    print(f"\n{a.n} patients x {a.years:g} years ({decades:g} patient-decades), {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores")
    for name, sec in rows.items():
        print(f"  {name:<52} {sec:8.2f} s   {1000 * sec / decades:7.3f} ms per patient-decade")
    print(f"  relapses: {len(d.relapses)} treated, {len(u.relapses)} untreated "
          f"(ratio {len(d.relapses) / max(len(u.relapses), 1):.2f})")
    if a.save:
        out = results_path("disease_10y")
        out.write_text(json.dumps({"n": a.n, "years": a.years, "seed": a.seed, "repeats": a.repeats,
                                   "seconds": rows, "ms_per_patient_decade": {k: 1000 * v / decades for k, v in rows.items()},
                                   "python": sys.version.split()[0], "cores": os.cpu_count()}, indent=2) + "\n")
        print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
