"""Equations only: PK, white-cell transit models and their chains. No doses, no patients."""

from .base import Model as Model
from .chain import ChainedModel as ChainedModel
from .chain import chain as chain
from .library import available_models as available_models
from .library import load_model as load_model
from .pk_linear import LinearPK as LinearPK
from .transit import Friberg as Friberg
from .transit import LymphocyteTransit as LymphocyteTransit
from .transit import TransitPD as TransitPD

__all__ = ["Model", "ChainedModel", "chain", "available_models", "load_model", "LinearPK", "Friberg",
           "LymphocyteTransit", "TransitPD"]
