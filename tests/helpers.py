"""Models and backends that the contract suite runs over (every model x every backend)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.backends.jax_backend import jax_available
from mschemo.models import Friberg, LinearPK, LymphocyteTransit, chain

TIGHT_COMPILED = ms.backends.Compiled(rtol=1e-10, atol=1e-12)
TIGHT_SCIPY = ms.backends.Scipy(method="LSODA", rtol=1e-10, atol=1e-14)
# the JAX backend joins where its optional extra is installed (pip install "mschemo[jax]")
HAS_JAX = jax_available()
TIGHT_JAX = ms.backends.Jax(rtol=1e-10, atol=1e-12) if HAS_JAX else None
NEEDS_JAX = pytest.mark.skipif(not HAS_JAX, reason='jax is not installed (pip install "mschemo[jax]")')
ALL_BACKENDS = (ms.backends.Compiled(), ms.backends.Scipy()) + ((ms.backends.Jax(),) if HAS_JAX else ())

PK_PARAMS = {"CL": 480.0, "V1": 10.0, "Q2": 960.0, "V2": 200.0, "Q3": 360.0, "V3": 1500.0, "KA": 12.0, "F": 0.7,
             "TLAG": 0.05}
FRIBERG_LINEAR = {"CIRC0": 6.5, "MTT": 5.0, "GAMMA": 0.2, "SLOPE": 1.5, "CAP": 1.0}
FRIBERG_EMAX = {"CIRC0": 2.5, "MTT": 4.0, "GAMMA": 0.16, "EMAX": 0.9, "EC50": 0.3, "HILL": 1.5}
LYMPH = {"CIRC0": 1.8, "MTT": 20.0, "GAMMA": 0.1, "SLOPE": 0.8, "CAP": 0.95, "HALF_LIFE": 60.0, "KILL": 2.0}


def synthetic(name: str) -> tuple[ms.models.ChainedModel, ms.Population, str]:
    """(model, one-patient population with all parameters as columns, regimen text)."""
    if name == "pk1_iv":
        model, extra, reg = chain(LinearPK(1)), {}, "100 mg over 2 h every 1 day x 3"
    elif name == "pk2_oral":
        model, extra, reg = chain(LinearPK(2, "first-order")), {}, "100 mg orally every 12 h x 4"
    elif name == "pk3_friberg":
        model, extra, reg = chain(LinearPK(3), Friberg("wbc")), {f"WBC_{k}": v for k, v in FRIBERG_LINEAR.items()}, \
            "12 mg/m2 over 30 min every 21 days x 3"
    elif name == "pk1_iv_cells_lymph":
        model = chain(LinearPK(1), LymphocyteTransit("alc", drug_site="cells"))
        extra = {f"ALC_{k}": v for k, v in LYMPH.items()} | {"ALC_KE0": 0.05}
        reg = "100 mg over 2 h every 1 day x 3"
    elif name == "pk3_lymph_precursor":   # the built-in drugs' layout: register path, feedback on the precursors
        model = chain(LinearPK(3), Friberg("anc"), LymphocyteTransit("alc", feedback="precursor"))
        extra = {f"ANC_{k}": v for k, v in FRIBERG_LINEAR.items()} | {f"ALC_{k}": v for k, v in LYMPH.items()}
        reg = "12 mg/m2 over 30 min every 21 days x 3"
    elif name == "pk1_iv_cells_emax_lymph_precursor":   # array path: drug in the cells, Emax, 2 transits
        model = chain(LinearPK(1), LymphocyteTransit("alc", transits=2, effect="emax", drug_site="cells",
                                                     feedback="precursor"))
        emax = {k: FRIBERG_EMAX[k] for k in ("EMAX", "EC50", "HILL")}
        extra = {f"ALC_{k}": v for k, v in (LYMPH | emax).items() if k not in ("SLOPE", "CAP")} | {"ALC_KE0": 0.05}
        reg = "100 mg over 2 h every 1 day x 3"
    elif name == "pk2_oral_emax_lymph":
        model = chain(LinearPK(2, "first-order"), Friberg("anc", effect="emax"), LymphocyteTransit("alc", transits=2))
        extra = {f"ANC_{k}": v for k, v in FRIBERG_EMAX.items()} | {f"ALC_{k}": v for k, v in LYMPH.items()}
        reg = "10 mg orally every 1 day x 5"
    else:
        raise KeyError(name)
    cols = {k: [v] for k, v in PK_PARAMS.items() if k in model.parameters} | {k: [v] for k, v in extra.items()}
    pop = ms.Population(pd.DataFrame({"id": [1], "height_cm": [170.0], "weight_kg": [70.0]} | cols))
    return model, pop, reg


ALL_MODELS = ("pk1_iv", "pk2_oral", "pk3_friberg", "pk2_oral_emax_lymph", "pk1_iv_cells_lymph", "pk3_lymph_precursor",
              "pk1_iv_cells_emax_lymph_precursor")


def rel_err(a: np.ndarray, b: np.ndarray, floor: float = 1e-12) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


def assert_one_sentence(err: BaseException, quoted: str) -> None:
    """The message is one sentence (no newline, ends with '.') that quotes the offending value."""
    import re

    from mschemo.errors import InputError

    msg = str(err)
    assert isinstance(err, InputError), type(err)
    assert "\n" not in msg, msg
    assert msg.endswith("."), msg
    assert not re.search(r"[.!?]\s+[A-Z]", msg), f"more than one sentence: {msg}"
    assert quoted in msg, f"{quoted!r} not in {msg!r}"
