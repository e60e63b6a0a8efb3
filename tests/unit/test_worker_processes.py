"""A run's worker processes never outlive it: stopped on an error they are killed at once, not waited
for, and they end when the process that started them is killed (PR_SET_PDEATHSIG on Linux)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest

from mschemo.simulation.cluster import LocalProcesses
from proctools import gone_within, running

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process table in /proc")


def test_an_error_kills_the_workers_without_waiting_for_their_chunks() -> None:
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="stop"), LocalProcesses(2) as pool:
        running = [pool.submit(time.sleep, 30.0) for _ in range(4)]   # two running, two queued
        time.sleep(0.3)
        pids = [p.pid for p in pool._pool._processes.values()]
        raise RuntimeError("stop")
    assert time.monotonic() - t0 < 10.0          # not the 30 s of a chunk
    assert gone_within(pids, 2.0), pids
    end = time.monotonic() + 5.0      # each cancelled, or failed as the pool broke: none left waiting
    while not all(f.done() for f in running) and time.monotonic() < end:
        time.sleep(0.02)
    assert all(f.done() for f in running), running


def test_an_error_while_a_worker_sends_its_result_lets_the_process_end() -> None:
    """A worker killed halfway through sending a large result left the pool's thread waiting for the
    rest of the message, and the interpreter waited for that thread at exit, for ever."""
    script = textwrap.dedent("""
        import time
        from mschemo.simulation.cluster import LocalProcesses

        def big(k):
            return bytes(150_000_000)

        try:
            with LocalProcesses(2) as pool:
                futures = [pool.submit(big, k) for k in range(4)]
                time.sleep(0.5)      # the first results are on their way
                raise RuntimeError("stop")
        except RuntimeError:
            print("left the pool", flush=True)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "left the pool", proc.stderr[-2000:]
    assert proc.stderr == "", proc.stderr[-2000:]


def test_a_normal_exit_waits_for_the_chunks() -> None:
    with LocalProcesses(2) as pool:
        fut = pool.submit(time.sleep, 0.3)
    assert fut.done() and fut.exception() is None


def test_workers_from_a_fork_server_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once JAX is loaded the workers come from a fork server, whose child they are (not this
    process's): they must still run their chunks."""
    monkeypatch.setitem(sys.modules, "jax", types.ModuleType("jax"))
    with LocalProcesses(2) as pool:
        assert pool._pool._mp_context.get_start_method() == "forkserver"
        assert [pool.submit(abs, -k).result(timeout=60) for k in range(4)] == [0, 1, 2, 3]


def test_workers_end_with_a_killed_parent(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import os, sys, time
        from mschemo.simulation.cluster import LocalProcesses
        pool = LocalProcesses(2).__enter__()
        futs = [pool.submit(time.sleep, 60.0) for _ in range(2)]
        time.sleep(0.5)
        print(*[p.pid for p in pool._pool._processes.values()], flush=True)
        time.sleep(60)
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            pids = [int(p) for p in proc.stdout.readline().split()]
            assert len(pids) == 2 and all(running(p) for p in pids)
            proc.kill()                            # SIGKILL: no handler, no shutdown runs in the parent
            proc.wait(timeout=10)
            assert gone_within(pids, 5.0), pids
        finally:
            if proc.poll() is None:
                proc.kill()


def _kernel_threads() -> int:
    from mschemo.backends import Compiled

    return Compiled().n_threads


def test_workers_share_the_cores_among_the_kernels_threads() -> None:
    """Two workers on this machine: each compiled kernel runs on its share of the cores, not on all of
    them (two processes with a thread per core each would compete for the cores); here, all of them."""
    from mschemo._internal.processes import usable_cores

    with LocalProcesses(2) as pool:
        shares = {pool.submit(_kernel_threads).result(timeout=60) for _ in range(4)}
    assert shares == {max(1, usable_cores() // 2)}
    assert _kernel_threads() == usable_cores()
