"""Small helpers for the self-contained HTML pages (trial report, infusion-centre sheet)."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

__all__ = ["esc", "png_img"]


def esc(value: Any) -> str:
    """Text escaped for HTML content and attributes."""
    return html.escape(str(value), quote=True)


def png_img(fig: Any, alt: str, dpi: int = 100) -> str:
    """A matplotlib figure as an <img> with the PNG inline (base64), no external file."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
