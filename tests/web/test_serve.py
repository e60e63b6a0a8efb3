"""``mschemo serve``: its help imports nothing heavy, it binds to this computer unless told, and it
prints its address and answers there."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mschemo


def subprocess_env() -> dict[str, str]:
    """A subprocess that imports the same mschemo as this test session."""
    env = dict(os.environ)
    root = str(Path(mschemo.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_serve_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from mschemo.interfaces.cli import run\n"
        "code = run(['serve', '--help'])\n"
        "heavy = sorted(m for m in ('numba', 'scipy', 'pandas', 'matplotlib', 'pyarrow', 'fastapi', 'uvicorn', "
        "'starlette', 'plotly') if m in sys.modules)\n"
        "print('CODE', code, 'HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert "CODE 0 HEAVY []" in proc.stderr, proc.stderr
    assert "--expose" in proc.stdout and "127.0.0.1" in proc.stdout


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.org", "::"])
def test_another_address_needs_expose(host: str) -> None:
    from mschemo.interfaces.cli import run

    assert run(["serve", "--host", host]) == 2


def test_loopback_addresses_need_no_flag() -> None:
    from mschemo.interfaces.cli.serve import _is_loopback

    assert _is_loopback("127.0.0.1") and _is_loopback("localhost") and _is_loopback("::1") and _is_loopback("127.0.0.2")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("10.0.0.1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_prints_its_address_and_serves_the_explainer() -> None:
    import httpx2 as httpx

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mschemo", "serve", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=subprocess_env())
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        for _ in range(100):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert r.status_code == 200 and "How chemotherapy slows multiple sclerosis" in r.text
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    # nothing a person asked for is logged: the server writes no access log
    assert "GET /" not in err


def test_no_worker_outlives_a_killed_server() -> None:
    """SIGKILL gives the server no shutdown: its compute workers and trial processes end by themselves
    (they hold the server's output pipes, so the pipes close only when every one of them has ended)."""
    import signal

    import httpx2 as httpx

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mschemo", "serve", "--port", str(port), "--trial-workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env())
    try:
        proc.stdout.readline()
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v1/drugs", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        plan = httpx.post(f"http://127.0.0.1:{port}/api/v1/personalise", json={"example": "cyclophosphamide"}, timeout=120)
        assert plan.status_code == 200
        job = httpx.post(f"http://127.0.0.1:{port}/api/v1/trials", json={"example": "clarity", "n_per_arm": 500},
                         timeout=30)
        assert job.status_code == 202
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGKILL)
    t0 = time.time()
    proc.communicate(timeout=30)
    assert time.time() - t0 < 15
