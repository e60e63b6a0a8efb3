"""Figures from simulation results (matplotlib, drawn off-screen). They never simulate.

Example::

    import mschemo as ms
    from mschemo.presentation import plot_counts, plot_timeline, save_figure

    res = ms.simulate("mitox-2y", "12 mg/m2 over 30 min every 91 days x 8", 200, seed=1)
    fig = plot_counts(res)             # median and 5-95 % band per count output (also res.plot())
    save_figure(fig, "counts.png")     # written atomically (temporary file, then rename)

    res = ms.load_drug("mitoxantrone").simulate(5, seed=1, disease=True)
    plot_timeline(res.disease, patient=2, counts=res, path="timeline.png")   # one patient, all panels

matplotlib is imported when a figure is made, not when mschemo is imported. Figures are built as
``matplotlib.figure.Figure`` objects (no pyplot state, no GUI backend), so they are safe in scripts,
servers and threads; in a notebook the returned figure displays itself.

Modules: ``style`` (colours, labels, footer, ``save_figure``), ``counts`` (``plot_counts`` and the
count panels with their CTCAE grade-3 line), ``drugs`` (``plot_drugs``) and ``timeline``
(``plot_timeline``). They import the results they draw only for type checking, so
``mschemo.results`` can import them.
"""

from __future__ import annotations

from .counts import FEW_PATIENTS, plot_counts
from .drugs import plot_drugs
from .style import DISCLAIMER, FIGURE_SUFFIXES, save_figure
from .timeline import plot_timeline

__all__ = ["plot_counts", "plot_drugs", "plot_timeline", "save_figure", "FIGURE_SUFFIXES", "FEW_PATIENTS",
           "DISCLAIMER"]
