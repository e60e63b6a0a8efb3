"""Load on the web app, on loopback only, bounded in count and time (a benchmark, not a test).

    python benchmarks/web_load.py [--explain-requests 3000] [--concurrency 16] [--planner-requests 48]
                                  [--trial-n 1000] [--save]

It starts ``mschemo serve`` on a free loopback port (one uvicorn process, as a clinic or a class would
run it) and measures, from a second process (this one, asyncio + httpx2):

1. the explainer's simulate endpoint (POST /api/v1/explain) under ``--concurrency`` clients:
   a. repeated choices (the 10 mitoxantrone doses of the slider, answered from the server's memory
      after their first time): requests/s, errors, p50/p99 latency;
   b. new choices (every request a combination not asked before): the same figures;
2. the planner (POST /api/v1/personalise, the example patient) with 8 concurrent clients: p50/p99;
3. the explainer page (GET /) while a 3-arm trial of ``--trial-n`` patients per arm runs as a job:
   its p50/p99 and the trial's own time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx2 as httpx
from _results import results_path

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "mschemo", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/drugs", timeout=2)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))] if s else float("nan")


async def hammer(base: str, bodies: list[tuple[str, str, dict | None]], concurrency: int) -> dict:
    """Send every (method, path, body) with ``concurrency`` clients; latency of each, errors, rate."""
    queue: asyncio.Queue = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    lat: list[float] = []
    errors: list[str] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            method, path, body = queue.get_nowait()
            t0 = time.perf_counter()
            try:
                r = await client.request(method, path, json=body)
                if r.status_code >= 400:
                    errors.append(f"{r.status_code} {r.text[:120]}")
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            lat.append(time.perf_counter() - t0)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return {"requests": len(lat), "errors": len(errors), "first_errors": errors[:3], "wall_s": round(wall, 2),
            "rate_per_s": round(len(lat) / wall, 1), "p50_ms": round(1000 * pct(lat, 50), 1),
            "p99_ms": round(1000 * pct(lat, 99), 1), "max_ms": round(1000 * max(lat), 1)}


async def page_during_trial(base: str, n: int, limit_s: float) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        job = (await client.post("/api/v1/trials", json={"example": "mims", "n_per_arm": n, "seed": 1})).json()
        if "id" not in job:
            raise SystemExit(f"the trial was refused: {job}")
        lat: list[float] = []
        t0 = time.perf_counter()
        state = "running"
        while time.perf_counter() - t0 < limit_s:
            t = time.perf_counter()
            r = await client.get("/")
            lat.append(time.perf_counter() - t)
            assert r.status_code == 200
            if len(lat) % 10 == 0:
                state = (await client.get(f"/api/v1/trials/{job['id']}")).json()["state"]
                if state != "running" and state != "queued":
                    break
            await asyncio.sleep(0.05)
        trial_s = time.perf_counter() - t0
        if state in ("running", "queued"):
            await client.delete(f"/api/v1/trials/{job['id']}")
    return {"trial": f"mims (3 arms) x {n} per arm", "trial_state": state, "trial_s": round(trial_s, 1),
            "page_requests": len(lat), "page_p50_ms": round(1000 * pct(lat, 50), 1),
            "page_p99_ms": round(1000 * pct(lat, 99), 1), "page_max_ms": round(1000 * max(lat), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--explain-requests", type=int, default=3000)
    ap.add_argument("--fresh-requests", type=int, default=40)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--planner-requests", type=int, default=48)
    ap.add_argument("--planner-clients", type=int, default=8)
    ap.add_argument("--trial-n", type=int, default=1000)
    ap.add_argument("--trial-limit-s", type=float, default=600)
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/web_load_<date>.json")
    args = ap.parse_args()
    port = _port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port)
    out: dict = {"date": date.today().isoformat(), "cores": len(os.sched_getaffinity(0))}
    try:
        doses = [{"drug": "mitoxantrone", "dose": d} for d in range(5, 15)]
        first = asyncio.run(hammer(base, [("POST", "/api/v1/explain", b) for b in doses], 1))
        out["explain_first_time_each"] = first
        bodies = [("POST", "/api/v1/explain", doses[i % len(doses)]) for i in range(args.explain_requests)]
        out["explain_repeated_choices"] = asyncio.run(hammer(base, bodies, args.concurrency))
        fresh = [("POST", "/api/v1/explain", {"drug": "cyclophosphamide", "dose": 400 + 100 * (i % 13),
                                                "courses": 1 + i // 13 % 12, "seed": 100 + i})
                 for i in range(args.fresh_requests)]
        out["explain_new_choices"] = asyncio.run(hammer(base, fresh, args.concurrency))
        plan = [("POST", "/api/v1/personalise", {"example": "mitoxantrone", "seed": 1 + i % 4})
                for i in range(args.planner_requests)]
        out["planner"] = asyncio.run(hammer(base, plan, args.planner_clients))
        out["page_during_trial"] = asyncio.run(page_during_trial(base, args.trial_n, args.trial_limit_s))
    finally:
        server.terminate()
        server.wait(timeout=30)
    for k, v in out.items():
        print(f"{k}: {v}")
    if args.save:
        path = results_path("web_load")
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
