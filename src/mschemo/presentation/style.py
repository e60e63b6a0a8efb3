"""What every figure shares: colours, count labels, the footer and save_figure.

Figures are built as ``matplotlib.figure.Figure`` objects (no pyplot state, no GUI backend); matplotlib
is imported when a figure is made or written, not when this module is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .._internal.meta import DISCLAIMER
from ..dosing.actions import GIVEN
from ..errors import OptionError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..results import SimulationResult

__all__ = ["save_figure", "FIGURE_SUFFIXES", "DISCLAIMER"]

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")

#: count output -> (short label, long name)
_COUNT_LABELS = {"wbc": ("WBC", "Leukocytes"), "anc": ("ANC", "Neutrophils"), "alc": ("ALC", "Lymphocytes")}
_COLORS = {"wbc": "#1f5fa8", "anc": "#b2472a", "alc": "#2f7d4f", "conc": "#6a4c93"}
_DOSE_COLOR = "#7a7a7a"
_G3_COLOR = "#c0392b"
_REFUSED_COLOR = "#d62728"
#: decision actions that give a course (the dose may be changed by titration)
_GIVEN_ACTIONS = GIVEN


def _footer(result: SimulationResult) -> str:
    prov = result.provenance or {}
    bits = [f"mschemo {prov.get('mschemo_version', '')}".strip()]
    be = prov.get("backend")
    if isinstance(be, dict) and be.get("backend"):
        bits.append(f"{be['backend']} backend")
    return ", ".join(bits)


def save_figure(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Write ``fig`` to .png, .pdf or .svg atomically (a temporary file beside it, then rename)."""
    from .._internal.files import atomic_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FIGURE_SUFFIXES:
        raise OptionError(f"figure file '{path}' has suffix {suffix or '(none)'}; use .png, .pdf or .svg.")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=suffix[1:], dpi=dpi, facecolor="white")
    return path
