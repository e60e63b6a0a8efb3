"""The web app: an explainer for patients and students (``/``), a dose planner (``/plan``), a
give-or-hold checklist for the infusion chair (``/check``), a trial runner (``/trials``) and the HTTP
API under ``/api/v1``; started by ``mschemo serve``. Research and education only.

It calls the request objects of :mod:`mschemo.interfaces.requests` (the same as the command line)
and the public API; FastAPI, uvicorn and plotly are the ``web`` extra, imported only here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .settings import WebSettings

__all__ = ["create_app"]


def create_app(settings: WebSettings | None = None) -> Any:
    """The FastAPI app (see :class:`~mschemo.interfaces.web.settings.WebSettings` for the limits)."""
    from .app import build

    return build(settings)
