"""The package's version and disclaimer, for modules below the package root (which must not import it)."""

from __future__ import annotations

__all__ = ["__version__", "DISCLAIMER"]

__version__ = "0.1.0"
#: shown wherever a dose, a figure or a report is
DISCLAIMER = "Research and education only, not a prescription."
