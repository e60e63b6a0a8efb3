"""The web app under test: an in-process client, and a real server on a free loopback port for the
browser tests."""

from __future__ import annotations

import socket
import threading
import time
import warnings

import pytest

pytest.importorskip("fastapi", reason="the web extra (pip install 'mschemo[web]') is not installed")


@pytest.fixture(scope="session")
def web_app():
    from mschemo.interfaces.web import create_app
    from mschemo.interfaces.web.settings import WebSettings

    return create_app(WebSettings(compute_workers=0, trial_workers=1, trial_queue=2, trial_max_patients=600))


@pytest.fixture(scope="session")
def client(web_app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # starlette's TestClient on httpx
        from fastapi.testclient import TestClient
    with TestClient(web_app) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    """A uvicorn server in a thread on 127.0.0.1 (its own app, so jobs do not mix with ``client``'s)."""
    import uvicorn

    from mschemo.interfaces.web import create_app
    from mschemo.interfaces.web.settings import WebSettings

    port = _free_port()
    app = create_app(WebSettings(compute_workers=1, trial_workers=1, trial_queue=4, trial_max_patients=2000))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
