"""``mschemo serve``: the web app (explainer, dose planner, give-or-hold checklist, trial runner and
the HTTP API) on this computer. FastAPI and uvicorn are imported only when it starts."""

from __future__ import annotations

import ipaddress
import sys
from typing import Annotated

import typer

import mschemo as ms

from ..requests.base import quote

_LOOPBACK = ("localhost",)


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(
    host: Annotated[str, typer.Option("--host", metavar="ADDRESS",
                                      help="Address to listen on. Only this computer can reach the default; any other "
                                           "address needs --expose.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="N", min=1, max=65535, help="Port to listen on.")] = 8000,
    expose: Annotated[bool, typer.Option("--expose", help="Allow an address other computers can reach (the app has "
                                                          "no log-in: use it only on a trusted network).")] = False,
    trial_workers: Annotated[int | None, typer.Option("--trial-workers", metavar="N", min=1,
                                                      help="Trials running at once \\[default: one per core].")] = None,
    trial_max_patients: Annotated[int | None, typer.Option("--trial-max-patients", metavar="N", min=1,
                                                           help="Most patients one trial request may simulate "
                                                                "\\[default: 6000].")] = None,
) -> None:
    """Start the web app and print its address (stop it with Ctrl+C).

    Pages: / (how chemotherapy works in MS, for patients and students), /plan (a next dose from a
    patient's counts), /check (give or hold today), /trials (in-silico trials). The API is under
    /api/v1 (OpenAPI schema at /api/v1/openapi.json). Everything runs on this computer: no page
    loads anything from the internet, and patient data is neither stored nor logged.
    """
    if not _is_loopback(host) and not expose:
        raise ms.OptionError(f"--host {quote(host, 40)} can be reached from other computers; add --expose to allow it, or leave "
                             "--host out to serve this computer only.")
    try:
        import uvicorn

        from ..web import create_app
        from ..web.settings import WebSettings
    except ImportError as exc:
        raise ms.OptionError(f"the web app needs {exc.name or 'FastAPI and uvicorn'}; install the web extra: "
                             "pip install 'mschemo[web]'.") from None
    settings = WebSettings.from_env(trial_workers=trial_workers, trial_max_patients=trial_max_patients)
    if not _is_loopback(host):
        print(f"warning: serving on {host}, reachable from other computers; the app has no log-in.", file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    print(f"mschemo {ms.__version__} web app: http://{shown}:{port}/  (Ctrl+C to stop)", flush=True)
    print(ms.DISCLAIMER, flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", access_log=False)
