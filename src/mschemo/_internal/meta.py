"""The package's version and disclaimer, for modules below the package root (which none imports)."""

__version__ = "0.1.0"
DISCLAIMER = "Research and education only, not a prescription."
