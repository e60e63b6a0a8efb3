"""Figures from simulation results: the names of :mod:`mschemo.presentation`, kept here for one release.

Import them from ``mschemo.presentation`` (``plot_counts``, ``plot_drugs``, ``plot_timeline``,
``save_figure``); this module will be removed in the next release.
"""

from __future__ import annotations

from .presentation import DISCLAIMER as DISCLAIMER
from .presentation import FEW_PATIENTS as FEW_PATIENTS
from .presentation import FIGURE_SUFFIXES as FIGURE_SUFFIXES
from .presentation import plot_counts as plot_counts
from .presentation import plot_drugs as plot_drugs
from .presentation import plot_timeline as plot_timeline
from .presentation import save_figure as save_figure

__all__ = ["plot_counts", "plot_drugs", "plot_timeline", "save_figure", "FIGURE_SUFFIXES"]
