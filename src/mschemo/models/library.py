"""Built-in and user model files: a TOML file with a [model] structure and its [parameters]."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..params import PARAMS_DIR, load_parameters, parameter_files
from .chain import ChainedModel, LeukocyteSum
from .pk_linear import LinearPK
from .transit import Friberg, LymphocyteTransit, TransitPD

__all__ = ["load_model", "available_models", "model_from_spec"]

_BLOCKS: dict[str, type[TransitPD]] = {"friberg": Friberg, "lymphocyte": LymphocyteTransit}


def available_models() -> list[str]:
    """Names of the built-in model files that define a [model] table."""
    from ..params import read_toml

    names = []
    for path in parameter_files():
        data, _ = read_toml(path, copy=False)
        if "model" in data:
            names.append(path.stem.replace("_", "-"))
    return names


def model_from_spec(spec: Mapping[str, Any], where: str) -> tuple[LinearPK, tuple[TransitPD, ...], dict[str, Any]]:
    """Build the PK model and PD blocks that a [model] table describes."""
    pk_spec = spec.get("pk")
    if not isinstance(pk_spec, Mapping):
        raise ModelError(f"{where} has no pk = {{ compartments = 1|2|3, absorption = \"iv\"|\"first-order\" }}; add it.")
    pk = LinearPK(int(pk_spec.get("compartments", 1)), str(pk_spec.get("absorption", "iv")))
    blocks = []
    for k, b in enumerate(spec.get("pd", [])):
        kind = b.get("block")
        if kind not in _BLOCKS:
            raise ModelError(f"PD block {k + 1} in {where} has block = {kind!r}; use one of {', '.join(_BLOCKS)}.")
        blocks.append(_BLOCKS[kind](output=str(b.get("output", "wbc")), transits=int(b.get("transits", 3)),
                                    effect=str(b.get("effect", "linear")), drug_site=str(b.get("drug_site", "plasma")),
                                    feedback=str(b.get("feedback", "circulating"))))
    return pk, tuple(blocks), dict(spec)


def load_model(name_or_path: str | Path) -> ChainedModel:
    """A model with its parameters, by built-in name ("mitox-2y") or path to a model TOML file.

    >>> load_model("mitox-2y").outputs
    ('conc_mg_per_L', 'wbc_1e9_per_L')
    """
    ps = load_parameters(name_or_path)
    spec = ps.raw.get("model")
    if not isinstance(spec, Mapping):
        known = ", ".join(available_models())
        raise ModelError(f"'{name_or_path}' has no [model] table, so it is a parameter file, not a model; use one of {known}.")
    pk, blocks, spec = model_from_spec(spec, ps.path)
    derived = ()
    wbc = spec.get("wbc")
    if isinstance(wbc, Mapping):
        if wbc.get("from") != "sum":
            raise ModelError(f"[model.wbc] in {ps.path} has from = {wbc.get('from')!r}; use from = \"sum\" (WBC = ANC + ALC + other).")
        derived = (LeukocyteSum("wbc", str(wbc.get("neutrophils", "anc")), str(wbc.get("lymphocytes", "alc"))),)
    return ChainedModel(pk, blocks, ps, name=str(spec.get("name", ps.name)), title=str(spec.get("title", "")),
                        derived=derived)


_ = PARAMS_DIR  # re-exported for tools that list the folder
