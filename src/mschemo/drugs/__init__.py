"""The drug library: mitoxantrone, cyclophosphamide and cladribine, each a parameter file with a
``[model]`` and a ``[drug]`` table (label regimen, dosing rules, covariates); see :mod:`.library`."""

from .library import Drug, available_drugs, load_drug

__all__ = ["Drug", "available_drugs", "load_drug"]
