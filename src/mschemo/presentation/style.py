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
from ..units import MONTH_D, YEAR_D

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results import SimulationResult

__all__ = ["save_figure", "FIGURE_SUFFIXES", "DISCLAIMER", "DAYS_AXIS_UP_TO_D", "time_axis", "set_time_axis"]

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


#: a time window up to this many days (about 6 months) is labelled in days; a longer one in months or years
DAYS_AXIS_UP_TO_D = 190.0


def time_axis(span_d: float, *, days_up_to: float = DAYS_AXIS_UP_TO_D) -> tuple[float, str, float | None]:
    """(days per unit, unit name, tick step in that unit) for a window of ``span_d`` days: days up to
    ``days_up_to`` (step None: matplotlib's ticks), months up to 3 years, years beyond."""
    if span_d <= days_up_to:
        return 1.0, "days", None
    if span_d <= 3.0 * YEAR_D + 1.0:
        months = span_d / MONTH_D
        return MONTH_D, "months", 1.0 if months <= 8 else 3.0 if months <= 30 else 6.0
    years = span_d / YEAR_D
    return YEAR_D, "years", 1.0 if years <= 15 else 2.0 if years <= 30 else 5.0


def set_time_axis(ax: Axes, start_d: float, end_d: float, label: str = "Time ({unit})", *,
                  days_up_to: float = DAYS_AXIS_UP_TO_D) -> str:
    """Label the x axis of ``ax``, whose data are days, in days, months or years (:func:`time_axis`
    of the window ``start_d``-``end_d``): round ticks in that unit and ``label`` with ``{unit}``
    filled in. The data stay in days. Returns the unit."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    scale, unit, step = time_axis(end_d - min(start_d, 0.0), days_up_to=days_up_to)
    if step is not None:
        ax.xaxis.set_major_locator(MultipleLocator(step * scale))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{round(x / scale, 2) + 0.0:g}"))
    ax.set_xlabel(label.format(unit=unit))
    return unit


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
