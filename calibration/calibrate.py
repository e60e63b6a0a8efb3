"""Calibrate a drug's white-cell effect parameters to published clinical facts.

    python calibration/calibrate.py mitoxantrone [--n 1000] [--seed 20261125] [--max-evaluations 300] [--write]

Seeded and reproducible: the virtual cohort is drawn once from --seed, and Nelder-Mead on log
parameters minimises the sum of squared target misfits (targets and fitted parameters:
src/mschemo/calibration/targets.py). With --write, the fitted values go into the drug's parameter
file together with a [calibration] table: the targets, their sources, the published and simulated
values and the remaining misfit.
"""

from __future__ import annotations

import argparse
import sys
import time

from mschemo.calibration.fit import calibrate, write_calibration
from mschemo.calibration.targets import TARGETS


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("drug", choices=sorted(TARGETS))
    ap.add_argument("--n", type=int, default=1000, help="virtual patients (default 1000)")
    ap.add_argument("--seed", type=int, default=20261125, help="seed of the virtual cohort")
    ap.add_argument("--max-evaluations", type=int, default=300, help="objective evaluations (default 300)")
    ap.add_argument("--write", action="store_true", help="write the fitted values into the parameter file")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    start, fit, evaluations = calibrate(a.drug, n=a.n, seed=a.seed, max_evaluations=a.max_evaluations)
    print(f"\n{a.drug}: objective {start.objective:.4f} -> {fit.objective:.4f} after {evaluations} evaluations "
          f"({time.perf_counter() - t0:.0f} s)")
    print(f"{'target':28s} {'kind':9s} {'published':>10s} {'start':>10s} {'fitted':>10s} {'misfit':>8s}")
    for t in TARGETS[a.drug]:
        print(f"{t.name:28s} {t.kind:9s} {t.published:10.3f} {start.simulated[t.name]:10.3f} "
              f"{fit.simulated[t.name]:10.3f} {fit.misfits[t.name]:8.2f}")
    for k, v in fit.values.items():
        print(f"  {k:14s} {start.values[k]:10.4g} -> {v:10.4g}")
    if a.write:
        path = write_calibration(a.drug, start, fit, n=a.n, seed=a.seed, evaluations=evaluations)
        print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
