"""Benchmark: mschemo on the mitox-2y workload, beside the SciPy and R deSolve peers, in one run.

    python benchmarks/mitox_2y.py                  # N = 100, 1000, 10000 (peers at 10000 take ~30 min)
    python benchmarks/mitox_2y.py --quick          # N = 100 only
    python benchmarks/mitox_2y.py --n 1000 --peer-max-n 100   # mschemo at 1000, peers "not run"

The workload and the peers live in ../shared/bench (relative to the repository root); see
benchmarks/README.md for what each number means. Every measurement runs in its own subprocess,
so its peak memory (max RSS, from os.wait4 on that child) belongs to that run alone. The numbers
go to a table on stdout and to benchmarks/results/mitox_2y_<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import results_path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "bench"
DEFAULT_SEED = 20240601
DEFAULT_NS = (100, 1000, 10000)
FIRST_CALL_N = 10
ALL_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------------
# Running one child process and measuring it


def run_child(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict:
    """Run cmd to completion; return its wall time, exit code, output and peak memory (MiB).

    Output goes to files, not pipes, so the parent can reap the child with os.wait4 and read
    the resource usage of exactly that child.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall_s = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4; tell Popen
        out.seek(0)
        err.seek(0)
        return {
            "cmd": cmd,
            "rc": proc.returncode,
            "wall_s": wall_s,
            "max_rss_mib": usage.ru_maxrss / 1024.0,  # ru_maxrss is in KiB on Linux
            "stdout": out.read(),
            "stderr": err.read(),
        }


def check(run: dict, what: str) -> dict:
    if run["rc"] != 0:
        tail = "\n".join((run["stderr"] or run["stdout"]).strip().splitlines()[-15:])
        raise RuntimeError(f"{what} failed (exit {run['rc']}): {' '.join(map(str, run['cmd']))}\n{tail}")
    return run


def progress(msg: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


# --------------------------------------------------------------------------------------------------
# mschemo (the API contract: load_example / simulate / backends.Compiled / peer_table)


def mschemo_env(**extra: str) -> dict[str, str]:
    """The environment for mschemo children: this checkout's src/ first on PYTHONPATH."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    return env


# Runs in a fresh interpreter: compile on a small example, then time simulate + peer_table on
# N patients `repeats` times; write the last table as CSV; print one JSON line.
IN_PROCESS = r"""
import json, sys, time
import mschemo as ms
n, seed, threads, repeats, out, tol = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], json.loads(sys.argv[6])
backend = ms.backends.Compiled(threads=threads, **tol)
warm = ms.load_example("mitox-2y", n=10, seed=seed)
ms.simulate(warm.model, warm.regimen, warm.population, output=warm.output, backend=backend)  # compile
ex = ms.load_example("mitox-2y", n=n, seed=seed)
times, sim_times = [], []
for _ in range(repeats):
    t0 = time.perf_counter()
    res = ms.simulate(ex.model, ex.regimen, ex.population, output=ex.output, backend=backend)
    t1 = time.perf_counter()
    table = ex.peer_table(res)
    times.append(time.perf_counter() - t0)
    sim_times.append(t1 - t0)
table.to_csv(out, index=False)
print(json.dumps({"solve_s": times, "simulate_only_s": sim_times, "backend": repr(backend),
                  "version": getattr(ms, "__version__", None)}))
"""

# The first call a user makes: import, build the example, simulate (compiling on the way).
FIRST_CALL = r"""
import time
t0 = time.perf_counter()
import mschemo as ms
ex = ms.load_example("mitox-2y", n=%d, seed=%d)
ms.simulate(ex.model, ex.regimen, ex.population, output=ex.output, backend=ms.backends.Compiled())
print(f"elapsed_s={time.perf_counter() - t0:.6f}")
"""


def mschemo_in_process(n: int, seed: int, threads: int, repeats: int, out_csv: Path, tol: dict, work: Path) -> dict:
    run = check(
        run_child(
            [
                sys.executable,
                "-c",
                IN_PROCESS,
                str(n),
                str(seed),
                str(threads),
                str(repeats),
                str(out_csv),
                json.dumps(tol),
            ],
            cwd=work,
            env=mschemo_env(),
        ),
        f"mschemo in-process n={n} threads={threads}",
    )
    res = json.loads(run["stdout"].strip().splitlines()[-1])
    solve_s = median(res["solve_s"])
    return {
        "threads": threads,
        "solve_s": solve_s,
        "solve_s_repeats": res["solve_s"],
        "simulate_only_s": median(res["simulate_only_s"]),
        "ms_per_patient": 1e3 * solve_s / n,
        "max_rss_mib": run["max_rss_mib"],
        "process_wall_s": run["wall_s"],
        "backend": res["backend"],
        "version": res["version"],
        "csv": str(out_csv),
    }


def mschemo_first_call(seed: int, repeats: int, work: Path) -> dict:
    """Fresh process, n=10, with an empty numba cache each time (cold) and then the same cache again (warm)."""
    cold, warm, cold_wall, rss = [], [], [], []
    for i in range(repeats):
        cache = work / f"numba_cache_{i}"
        for bucket in (cold, warm):
            run = check(
                run_child(
                    [sys.executable, "-c", FIRST_CALL % (FIRST_CALL_N, seed)],
                    cwd=work,
                    env=mschemo_env(NUMBA_CACHE_DIR=str(cache)),
                ),
                "mschemo first call",
            )
            m = re.search(r"elapsed_s=([\d.]+)", run["stdout"])
            if m is None:
                raise RuntimeError(f"mschemo first call printed no elapsed_s=: {run['stdout'][-500:]!r}")
            bucket.append(float(m.group(1)))
            if bucket is cold:
                cold_wall.append(run["wall_s"])
                rss.append(run["max_rss_mib"])
    return {
        "n": FIRST_CALL_N,
        "cold_cache_s": median(cold),
        "cold_cache_s_repeats": cold,
        "cold_cache_process_wall_s": median(cold_wall),
        "warm_cache_s": median(warm),
        "warm_cache_s_repeats": warm,
        "max_rss_mib": max(rss),
    }


def mschemo_cli(n: int, seed: int, repeats: int, work: Path) -> dict:
    """Whole process: `python -m mschemo simulate --example mitox-2y ...`, timed from outside."""
    walls, rss = [], []
    out = work / f"mschemo_cli_{n}.csv"
    for _ in range(repeats):
        run = check(
            run_child(
                [
                    sys.executable,
                    "-m",
                    "mschemo",
                    "simulate",
                    "--example",
                    "mitox-2y",
                    "--n",
                    str(n),
                    "--seed",
                    str(seed),
                    "--out",
                    str(out),
                ],
                cwd=work,
                env=mschemo_env(),
            ),
            f"mschemo CLI n={n}",
        )
        walls.append(run["wall_s"])
        rss.append(run["max_rss_mib"])
    return {"process_s": median(walls), "process_s_repeats": walls, "max_rss_mib": max(rss), "csv": str(out)}


def bench_mschemo(n: int, seed: int, repeats: int, solve_repeats: int, tol: dict, work: Path) -> dict:
    """In-process with 1 thread and with all cores, then the CLI; a part that fails is recorded as such."""
    res = {}
    for threads in sorted({1, ALL_CORES}):
        try:
            r = mschemo_in_process(n, seed, threads, solve_repeats, work / f"mschemo_{n}_t{threads}.csv", tol, work)
            progress(
                f"mschemo  n={n:>6} threads={threads}: {r['ms_per_patient']:.4f} ms/patient "
                f"(median of {solve_repeats}), max RSS {r['max_rss_mib']:.0f} MiB"
            )
        except (RuntimeError, ValueError, KeyError) as e:  # engine missing or broken: keep going
            r = {"error": str(e)}
            progress(f"mschemo  n={n:>6} threads={threads}: FAILED\n{e}")
        res[f"threads_{threads}"] = r
    try:
        res["cli"] = mschemo_cli(n, seed, repeats, work)
        progress(
            f"mschemo  n={n:>6} CLI: {res['cli']['process_s']:.2f} s whole process (median of {repeats}), "
            f"max RSS {res['cli']['max_rss_mib']:.0f} MiB"
        )
    except RuntimeError as e:
        res["cli"] = {"error": str(e)}
        progress(f"mschemo  n={n:>6} CLI: FAILED\n{e}")
    return res


# --------------------------------------------------------------------------------------------------
# Peers (run once each: they are slow)


def parse_peer(stdout: str) -> dict:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("peer="))
    return {k: float(v) for k, v in re.findall(r"(solve_s|process_s)=([\d.]+)", line)} | {"line": line}


def bench_scipy(n: int, seed: int, work: Path) -> dict:
    out = work / f"scipy_{n}.csv"
    run = check(
        run_child(
            [sys.executable, str(BENCH / "peer_scipy.py"), str(n), "--seed", str(seed), "--out", str(out)], cwd=work
        ),
        f"SciPy peer n={n}",
    )
    res = parse_peer(run["stdout"]) | {
        "max_rss_mib": run["max_rss_mib"],
        "process_wall_s": run["wall_s"],
        "csv": str(out),
    }
    progress(
        f"SciPy    n={n:>6}: solve {res['solve_s']:.2f} s, process {res['process_s']:.2f} s, "
        f"max RSS {res['max_rss_mib']:.0f} MiB"
    )
    return res


def bench_desolve(n: int, seed: int, work: Path) -> dict:
    pop, out = work / f"pop_{n}.csv", work / f"desolve_{n}.csv"
    check(
        run_child(
            [sys.executable, str(BENCH / "workload.py"), str(n), "--seed", str(seed), "--out", str(pop)], cwd=work
        ),
        f"workload.py n={n}",
    )
    run = check(
        run_child(
            [
                "Rscript",
                str(BENCH / "peer_desolve.R"),
                str(n),
                "--seed",
                str(seed),
                "--pop",
                str(pop),
                "--out",
                str(out),
            ],
            cwd=work,
        ),
        f"deSolve peer n={n}",
    )
    res = parse_peer(run["stdout"]) | {
        "max_rss_mib": run["max_rss_mib"],
        "process_wall_s": run["wall_s"],
        "csv": str(out),
    }
    progress(
        f"deSolve  n={n:>6}: solve {res['solve_s']:.2f} s, process {res['process_s']:.2f} s, "
        f"max RSS {res['max_rss_mib']:.0f} MiB"
    )
    return res


def agreement(ref_csv: str, others: dict[str, str], seed: int, work: Path) -> dict:
    """compare.py with ref_csv as reference; {name: compare.py's numbers}."""
    out_json = work / "compare.json"
    paths = list(others.values())
    check(
        run_child(
            [sys.executable, str(BENCH / "compare.py"), ref_csv, *paths, "--seed", str(seed), "--json", str(out_json)],
            cwd=work,
        ),
        "compare.py",
    )
    rows = json.loads(out_json.read_text())["results"]
    return {name: rows[path] for name, path in others.items()}


# --------------------------------------------------------------------------------------------------
# One N, then the report


def bench_one_n(n: int, args: argparse.Namespace, tol: dict, work: Path) -> dict:
    row: dict = {"n": n}
    if args.skip_mschemo:
        row["mschemo"] = {"skipped": "--skip-mschemo"}
    else:
        row["mschemo"] = bench_mschemo(n, args.seed, args.repeats, args.solve_repeats, tol, work)
    for name, fn in (("scipy", bench_scipy), ("desolve", bench_desolve)):
        if n > args.peer_max_n:
            row[name] = {"skipped": f"not run (n > --peer-max-n {args.peer_max_n})"}
            continue
        try:
            row[name] = fn(n, args.seed, work)
        except RuntimeError as e:
            row[name] = {"error": str(e)}
            progress(f"{name:8} n={n:>6}: FAILED\n{e}")

    ms1 = row["mschemo"].get(f"threads_{1}", {})
    cli = row["mschemo"].get("cli", {})
    row["ratios"] = {}
    for name in ("scipy", "desolve"):
        peer = row[name]
        if "solve_s" in peer and "solve_s" in ms1:
            row["ratios"][f"{name}_per_core_in_process"] = peer["solve_s"] / ms1["solve_s"]
        if "process_s" in peer and "process_s" in cli:
            row["ratios"][f"{name}_whole_process"] = peer["process_s"] / cli["process_s"]

    if "csv" in row["scipy"]:
        others = {name: row[name]["csv"] for name in ("desolve",) if "csv" in row[name]}
        if "csv" in ms1:
            others = {"mschemo": ms1["csv"], **others}
        if others:
            row["agreement_vs_scipy"] = agreement(row["scipy"]["csv"], others, args.seed, work)
    return row


def fmt(x: float | None, spec: str = ".3g") -> str:
    return "-" if x is None else format(x, spec)


def cell(part: dict, key: str, spec: str = ".3g") -> str:
    if "skipped" in part:
        return "not run" if part["skipped"].startswith("not run") else "skipped"
    if "error" in part:
        return "failed"
    return fmt(part.get(key), spec)


def print_tables(rows: list[dict], first_call: dict | None) -> None:
    t_cols = [
        "N",
        "mschemo 1 thr ms/pt",
        f"mschemo {ALL_CORES} thr ms/pt",
        "mschemo CLI s",
        "SciPy solve s",
        "SciPy process s",
        "deSolve solve s",
        "deSolve process s",
        "SciPy/ms per core",
        "deSolve/ms per core",
        "SciPy/ms process",
        "deSolve/ms process",
    ]
    t_rows = []
    m_cols = [
        "N",
        "RSS MiB: ms 1 thr",
        f"ms {ALL_CORES} thr",
        "ms CLI",
        "SciPy",
        "deSolve",
        "mschemo vs SciPy: nadir rel",
        "depth rel",
        "day mism.",
        "deSolve vs SciPy: nadir rel",
        "depth rel",
        "day mism.",
    ]
    m_rows = []
    for r in rows:
        ms = r["mschemo"]
        ms1 = ms.get("threads_1", ms)
        msa = ms.get(f"threads_{ALL_CORES}", ms)
        cli = ms.get("cli", ms)
        ra = r["ratios"]
        t_rows.append(
            [
                str(r["n"]),
                cell(ms1, "ms_per_patient", ".4f"),
                cell(msa, "ms_per_patient", ".4f"),
                cell(cli, "process_s", ".2f"),
                cell(r["scipy"], "solve_s", ".2f"),
                cell(r["scipy"], "process_s", ".2f"),
                cell(r["desolve"], "solve_s", ".2f"),
                cell(r["desolve"], "process_s", ".2f"),
                *(
                    fmt(ra.get(k), ".0f")
                    for k in (
                        "scipy_per_core_in_process",
                        "desolve_per_core_in_process",
                        "scipy_whole_process",
                        "desolve_whole_process",
                    )
                ),
            ]
        )
        agree = r.get("agreement_vs_scipy", {})
        a_cells = []
        for name in ("mschemo", "desolve"):
            a = agree.get(name)
            a_cells += (
                ["-", "-", "-"]
                if a is None
                else [
                    f"{a['max_rel_err_nadir']:.1e}",
                    f"{a['max_rel_err_depth']:.1e}",
                    str(a["first_nadir_day_mismatches"]),
                ]
            )
        m_rows.append(
            [
                str(r["n"]),
                cell(ms1, "max_rss_mib", ".0f"),
                cell(msa, "max_rss_mib", ".0f"),
                cell(cli, "max_rss_mib", ".0f"),
                cell(r["scipy"], "max_rss_mib", ".0f"),
                cell(r["desolve"], "max_rss_mib", ".0f"),
                *a_cells,
            ]
        )
    show("Time (mschemo: median of repeats; peers: one run each)", t_cols, t_rows)
    show(
        "Peak memory (max RSS of each child process) and agreement (compare.py, SciPy peer as reference)",
        m_cols,
        m_rows,
    )
    if first_call:
        if "error" in first_call or "skipped" in first_call:
            print(f"mschemo first call: {first_call.get('error') or first_call.get('skipped')}")
        else:
            print(
                f"mschemo first call in a fresh process (import + n={first_call['n']} + compile): "
                f"{first_call['cold_cache_s']:.2f} s with an empty numba cache, "
                f"{first_call['warm_cache_s']:.2f} s with a warm one (medians); target < 10 s"
            )


def show(title: str, cols: list[str], rows: list[list[str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(f"\n{title}")
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
        for line in [cols, *rows]:
            print("  ".join(s.rjust(w) for s, w in zip(line, widths, strict=True)))
        return
    table = Table(title=title)
    for c in cols:
        table.add_column(c, justify="right")
    for r in rows:
        table.add_row(*r)
    Console(width=max(200, shutil.get_terminal_size().columns)).print(table)


def environment() -> dict:
    def first_line(cmd: list[str]) -> str | None:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
        except (OSError, subprocess.CalledProcessError, IndexError):
            return None

    import numpy
    import scipy

    return {
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cores": ALL_CORES,
        "R": first_line(["R", "--version"]),
        "deSolve": first_line(["Rscript", "-e", 'cat(as.character(packageVersion("deSolve")))']),
        "git_commit": first_line(["git", "-C", str(REPO), "rev-parse", "HEAD"]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--n", type=int, nargs="+", default=list(DEFAULT_NS), help="population sizes (default: 100 1000 10000)"
    )
    ap.add_argument("--quick", action="store_true", help="N = 100 only")
    ap.add_argument("--peer-max-n", type=int, default=10000, help="skip the peers above this N (default 10000)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--repeats", type=int, default=3,
                    help="mschemo first-call and CLI repeats; the median is reported (default 3)")
    ap.add_argument("--solve-repeats", type=int, default=9,
                    help="mschemo in-process solve repeats; the median is reported (default 9)")
    ap.add_argument("--rtol", type=float, help="mschemo backend rtol (default: the backend's own)")
    ap.add_argument("--atol", type=float, help="mschemo backend atol (default: the backend's own)")
    ap.add_argument("--skip-mschemo", action="store_true", help="run the peers only")
    ap.add_argument("--keep", action="store_true", help="keep the working folder (CSV files) and print its path")
    args = ap.parse_args(argv)
    if not BENCH.is_dir():
        print(
            f"mitox_2y.py: {BENCH} not found; the shared benchmark folder (workload.py, peer_scipy.py, "
            "peer_desolve.R, compare.py) must sit at ../shared/bench beside the repository.",
            file=sys.stderr,
        )
        return 2
    ns = [100] if args.quick else args.n
    tol = {k: v for k, v in (("rtol", args.rtol), ("atol", args.atol)) if v is not None}
    started = dt.datetime.now().astimezone()

    work = Path(tempfile.mkdtemp(prefix="mitox_2y_bench_"))
    try:
        progress(
            f"mitox-2y benchmark: N = {ns}, seed {args.seed}, {ALL_CORES} cores, peers up to N = "
            f"{args.peer_max_n}; working folder {work}"
        )
        first_call = None
        if args.skip_mschemo:
            first_call = {"skipped": "--skip-mschemo"}
        else:
            try:
                first_call = mschemo_first_call(args.seed, args.repeats, work)
                progress(
                    f"mschemo first call: {first_call['cold_cache_s']:.2f} s cold, "
                    f"{first_call['warm_cache_s']:.2f} s warm cache"
                )
            except RuntimeError as e:
                first_call = {"error": str(e)}
                progress(f"mschemo first call: FAILED\n{e}")
        rows = [bench_one_n(n, args, tol, work) for n in ns]
    finally:
        if args.keep:
            print(f"working folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print_tables(rows, first_call)
    path = results_path("mitox_2y")
    report = {
        "workload": "mitox-2y",
        "started": started.isoformat(timespec="seconds"),
        "seed": args.seed,
        "repeats_mschemo": args.repeats,
        "solve_repeats_mschemo": args.solve_repeats,
        "repeats_peers": 1,
        "mschemo_tolerances": tol or "backend default",
        "environment": environment(),
        "first_call": first_call,
        "rows": rows,
    }
    path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(f"results: {path.relative_to(REPO)}")
    parts = [first_call, *(p for r in rows for p in (*r["mschemo"].values(), r["scipy"], r["desolve"]))]
    return 1 if any(isinstance(p, dict) and "error" in p for p in parts) else 0


if __name__ == "__main__":
    sys.exit(main())
