"""Precision dosing at scale: model-guided vs fixed cyclophosphamide in virtual patients, and the MAP fit time.

    python benchmarks/precision_dosing.py [--n 300] [--seed 20261201] [--draws 100] [--map-only] [--save]

The trial is the one of tests/reference/test_precision_dosing.py (its helpers are imported from there):
cycle 1 at 800 mg/m2 with WBC and ANC at baseline, day 10 and day 27 (Friberg 2002 residual error),
then cycle 2 either fixed at 800 mg/m2 or model-guided (estimate_map + recommend_dose, P(grade >= 3)
<= 10 %), judged on the true patients' cycle-2 WBC nadir. It runs for two targets: WBC 3.0-4.0
(reachable by the calibrated model within 400-1600 mg/m2) and the clinical WBC 1.5-2.0 (which the
model does not reach; see the test's docstring). The MAP time is per patient, after one warm-up fit
(numba compilation); the target is under 50 ms. Then every patient's fit is timed one by one and in one
batch (estimate_map_many, on one core and on all; the modes must be the same): target under 20 ms per
patient per core. ``--map-only`` runs only that.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

from _results import results_path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _trial_module():
    path = ROOT / "tests" / "reference" / "test_precision_dosing.py"
    spec = importlib.util.spec_from_file_location("precision_dosing_trial", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod            # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--draws", type=int, default=100, help="posterior draws per candidate dose")
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/precision_dosing_<date>.json")
    ap.add_argument("--map-only", action="store_true", help="only the MAP fits, one by one and in one batch")
    a = ap.parse_args(argv)
    t = _trial_module()
    from mschemo.estimation.map import estimate_map

    patients = t.cohort(a.n, a.seed)
    estimate_map(t.DRUG, patients[0].record)                    # warm-up: compile the kernels
    batch = map_batch(t.DRUG, [p.record for p in patients])
    runs = {}
    for name, target in () if a.map_only else (("reachable", t.TRIAL_TARGET), ("clinical", t.CLINICAL_TARGET)):
        t0 = time.perf_counter()
        df = t.run_trial(patients, target, n_draws=a.draws)
        wall = time.perf_counter() - t0
        s = t.summary(df, target)
        print(f"\n{a.n} virtual patients, target {target} ({name}); {wall:.0f} s, "
              f"{1000 * wall / a.n:.0f} ms per patient (MAP + plan)")
        print(f"{'arm':<8}{'in range %':>12}{'grade>=3 %':>12}{'median nadir':>14}{'|log err|':>11}{'median dose':>13}")
        for r in s.itertuples(index=False):
            print(f"{r.arm:<8}{r.in_range_pct:>12.1f}{r.grade3_pct:>12.1f}{r.median_nadir_wbc:>14.2f}"
                  f"{r.median_abs_log_error:>11.2f}{r.median_dose_mg_m2:>13.0f}")
        print("guided doses (mg/m2):", {int(k): int(v) for k, v in df["guided_dose"].value_counts().sort_index().items()})
        runs[name] = {"target": [target.low, target.high], "wall_s": wall, "summary": s.to_dict(orient="records"),
                      "map_ms": (1000 * df["map_s"]).describe(percentiles=[0.5, 0.9]).to_dict()}
    if runs:
        print(f"\nMAP fit per patient: median {runs['reachable']['map_ms']['50%']:.0f} ms, "
              f"90th percentile {runs['reachable']['map_ms']['90%']:.0f} ms (target < 50 ms); "
              f"{os.cpu_count()} cores")
    if a.save:
        out = results_path("precision_dosing")
        out.write_text(json.dumps({"n": a.n, "seed": a.seed, "draws": a.draws, "runs": runs, "map_batch": batch,
                                   "cores": os.cpu_count(),
                                   "python": sys.version.split()[0]}, indent=2) + "\n")
        print(f"written: {out}")
    return 0


def map_batch(drug: str, records: list) -> dict:
    """The MAP fits of every record one by one (estimate_map) and in one batch (estimate_map_many), on one
    core and on all: ms per patient, and the check that both give the same modes."""
    import numpy as np

    from mschemo.backends import Compiled
    from mschemo.estimation.batch import estimate_map_many
    from mschemo.estimation.map import estimate_map

    n = len(records)
    t0 = time.perf_counter()
    one = [estimate_map(drug, r) for r in records]
    single = time.perf_counter() - t0
    out = {"n": n, "one_by_one_ms_per_patient": 1000 * single / n}
    for label, threads in (("batch_1_core", 1), ("batch_all_cores", None)):
        backend = Compiled(rtol=1e-7, atol=1e-9, threads=threads) if threads else None
        t0 = time.perf_counter()
        many = estimate_map_many(drug, records, backend=backend)
        wall = time.perf_counter() - t0
        same = all(np.array_equal(a.mode, b.mode) and a.iterations == b.iterations for a, b in zip(one, many))
        out[f"{label}_ms_per_patient"] = 1000 * wall / n
        out[f"{label}_same_modes"] = same
    out["speed_up_1_core"] = out["one_by_one_ms_per_patient"] / out["batch_1_core_ms_per_patient"]
    print(f"MAP fits of {n} patients: one by one {out['one_by_one_ms_per_patient']:.1f} ms per patient "
          f"(single patients use one core); in one batch {out['batch_1_core_ms_per_patient']:.1f} ms per patient on "
          f"1 core ({out['speed_up_1_core']:.1f}x), {out['batch_all_cores_ms_per_patient']:.1f} ms per patient on "
          f"{os.cpu_count()} cores; same modes: {out['batch_1_core_same_modes'] and out['batch_all_cores_same_modes']}")
    return out


if __name__ == "__main__":
    sys.exit(main())
