"""Where the time of one mitox-2y solve goes, on one core: the compiled kernel's steps, its daily
output rows, and the Python around it (building the problem, the output array, ``peer_table``).

    python benchmarks/kernel_parts.py               # N = 1000, 15 repeats, about 10 s
    python benchmarks/kernel_parts.py --n 200 --repeats 5

The kernel is timed by wrapping ``solve_population`` (the compiled call) inside ``ms.simulate``; the
same patients are solved with the workload's daily outputs (731 per patient) and with only the first
and last day, so the difference is the cost of the output rows (dense output, the closed-form
concentration and AUC at each one). Steps do not depend on the outputs (the outputs fall between
steps), and the script checks that. Each figure is the fastest of the repeats. Prints a table and
writes benchmarks/results/kernel_parts_<date>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from _results import results_path

import mschemo as ms
import mschemo.backends._kernel as kernel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args()

    solve = kernel.solve_population
    in_kernel = [0.0]

    def timed(*a):
        t0 = time.perf_counter()
        solve(*a)
        in_kernel[0] += time.perf_counter() - t0

    kernel.solve_population = timed     # ms.backends.Compiled imports it from the package at each call
    backend = ms.backends.Compiled(threads=1)
    ex = ms.load_example("mitox-2y", n=args.n, seed=args.seed)
    runs: dict[str, dict] = {}
    for name, out in (("daily", ex.output), ("first and last day", ms.OutputTimes(times=(0.0, 730.0)))):
        res = ms.simulate(ex.model, ex.regimen, ex.population, output=out, backend=backend)   # compiles
        total, k_s, peer = [], [], []
        for _ in range(args.repeats):
            in_kernel[0] = 0.0
            t0 = time.perf_counter()
            res = ms.simulate(ex.model, ex.regimen, ex.population, output=out, backend=backend)
            t1 = time.perf_counter()
            if name == "daily":
                ex.peer_table(res)
            peer.append(time.perf_counter() - t1)
            total.append(t1 - t0)
            k_s.append(in_kernel[0])
        steps = np.asarray(res.steps)
        runs[name] = {"simulate_s": min(total), "kernel_s": min(k_s), "peer_table_s": min(peer),
                      "outputs_per_patient": int(np.asarray(res.times_d).size),
                      "accepted_steps_per_patient": float(steps[:, 0].mean()),
                      "rejected_steps_per_patient": float(steps[:, 1].mean())}
    daily, ends = runs["daily"], runs["first and last day"]
    if daily["accepted_steps_per_patient"] != ends["accepted_steps_per_patient"]:
        raise SystemExit("the steps differ with the outputs: the output cost below would not be the rows' alone")
    n = args.n
    us = 1e6 / n
    steps = daily["accepted_steps_per_patient"] + daily["rejected_steps_per_patient"]
    rows = daily["outputs_per_patient"] - ends["outputs_per_patient"]
    derived = {
        "kernel_us_per_patient": daily["kernel_s"] * us,
        "steps_us_per_patient": ends["kernel_s"] * us,
        "ns_per_step": ends["kernel_s"] * 1e9 / n / steps,
        "ns_per_output_row": (daily["kernel_s"] - ends["kernel_s"]) * 1e9 / n / rows,
        "python_us_per_patient": (daily["simulate_s"] - daily["kernel_s"]) * us,
        "peer_table_us_per_patient": daily["peer_table_s"] * us,
    }
    whole = daily["simulate_s"] + daily["peer_table_s"]
    print(f"mitox-2y, N = {n}, one thread; fastest of {args.repeats} (per patient)")
    print(f"  steps: {daily['accepted_steps_per_patient']:.1f} accepted, {daily['rejected_steps_per_patient']:.1f} rejected")
    for label, key, share in (
            ("kernel, daily outputs", "kernel_us_per_patient", daily["kernel_s"]),
            ("  of which steps and segments (2 outputs)", "steps_us_per_patient", ends["kernel_s"]),
            ("  of which output rows", None, daily["kernel_s"] - ends["kernel_s"]),
            ("Python in simulate", "python_us_per_patient", daily["simulate_s"] - daily["kernel_s"]),
            ("peer_table", "peer_table_us_per_patient", daily["peer_table_s"])):
        value = derived[key] if key else share * us
        print(f"  {label:44s} {value:7.1f} us  {100 * share / whole:5.1f} %")
    print(f"  {derived['ns_per_step']:.0f} ns per step, {derived['ns_per_output_row']:.0f} ns per output row")
    path = results_path("kernel_parts")
    path.write_text(json.dumps({"n": n, "repeats": args.repeats, "seed": args.seed, "runs": runs, "derived": derived,
                                "machine": platform.processor() or platform.machine(),
                                "mschemo": ms.__version__}, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
