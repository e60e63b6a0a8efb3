"""The JAX backend (``backends.Jax``, the optional ``mschemo[jax]`` extra): the message without jax, that
``import mschemo`` does not import jax, its options, and agreement with the compiled backend on the
NONMEM event semantics driving transit models (steady states, resets, lag, infusions crossing an effect
cap). The contract suite (tests/contract/test_models.py) and the NONMEM parity suite
(tests/reference/test_nonmem_parity.py) run the JAX backend on every model and scenario as well.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from helpers import TIGHT_COMPILED, assert_one_sentence, rel_err, synthetic
from mschemo.backends import get_backend
from mschemo.backends.problem import build_problem
from mschemo.errors import OptionError
from mschemo.regimen import Dose

INSTALL = 'pip install "mschemo[jax]"'


def test_importing_mschemo_does_not_import_jax():
    """Nor does importing the JAX backend's module or asking for the backend: only a solve imports jax."""
    code = ("import sys, mschemo as ms, mschemo.backends.jax_backend\n"
            "try:\n    ms.backends.get_backend('jax')\nexcept ms.errors.OptionError:\n    pass\n"
            "print(sorted(m for m in sys.modules if m == 'jax' or m.startswith('jax.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_jax_the_backend_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)       # import jax now fails, as where it is not installed
    for ask in (lambda: get_backend("jax"), lambda: ms.backends.Jax(), lambda: get_backend("JAX")):
        with pytest.raises(OptionError) as err:
            ask()
        assert_one_sentence(err.value, INSTALL)


def test_without_jax_the_cli_exits_2_with_the_install_hint(monkeypatch, capsys):
    from mschemo.interfaces.cli import run

    monkeypatch.setitem(sys.modules, "jax", None)
    code = run(["simulate", "--model", "mitox-2y", "--regimen", "12 mg/m2 over 30 min", "--n", "1",
                "--until", "10 days", "--backend", "jax"])
    err = capsys.readouterr().err
    assert code == 2
    assert INSTALL in " ".join(err.split()) and "Traceback" not in err


@pytest.mark.parametrize(("options", "quoted"), [
    ({"rtol": 0.0}, "rtol is 0.0"), ({"atol": 2}, "atol is 2"), ({"rtol": float("nan")}, "rtol is nan"),
    ({"max_steps": 0}, "max_steps is 0"), ({"chunk": 2.5}, "chunk is 2.5"), ({"chunk": True}, "chunk is True"),
    ({"device": "quantum"}, "device is 'quantum'"),
])
def test_bad_options_get_one_sentence(options, quoted):
    pytest.importorskip("jax")
    with pytest.raises(OptionError) as err:
        ms.backends.Jax(**options)
    assert_one_sentence(err.value, quoted)


# -- with jax ---------------------------------------------------------------------------------------


def _patients(name: str, n: int) -> tuple[ms.models.ChainedModel, ms.Population]:
    """n patients of the synthetic model ``name`` with spread-out clearances and drug-effect slopes."""
    model, pop, _ = synthetic(name)
    table = pd.concat([pop.table] * n, ignore_index=True)
    table["id"] = np.arange(1, n + 1)
    spread = np.linspace(0.6, 1.6, n)
    table["CL"] = table["CL"] * spread
    for col in [c for c in table.columns if c.endswith("_SLOPE")]:
        table[col] = table[col] * spread[::-1]
    return model, ms.Population(table)


def _agree(a: np.ndarray, b: np.ndarray, columns: list[str]) -> None:
    for k, col in enumerate(columns):
        ref = a[..., k]
        assert rel_err(b[..., k], ref, floor=1e-6 * np.abs(ref).max()) < 1e-6, col


def test_event_semantics_on_transit_models_match_the_compiled_backend():
    """Steady state (SS=1 infusion, SS=2 bolus with a lag), ADDL, a reset (EVID 3), a reset and dose
    (EVID 4) and 30-minute infusions whose effect crosses its cap, on ANC (Friberg, capped linear
    effect) and ALC (precursor feedback, direct kill); four patients at once with their own records
    (one has none, one fewer than the others), so their action lists are padded."""
    pytest.importorskip("jax")
    model, pop = _patients("pk3_lymph_precursor", 4)
    doses = (
        Dose(time_d=0.0, amount=60.0, duration_d=1 / 48, ii_d=21.0, ss=1),
        Dose(time_d=10.0, amount=45.0, duration_d=1 / 48, ii_d=7.0, addl=2),
        Dose(time_d=30.0, amount=5.0, ii_d=3.0, ss=2, lag_d=0.25),
        Dose(time_d=40.0, evid=3),
        Dose(time_d=45.0, amount=60.0, duration_d=1 / 48, evid=4),
    )
    own = [doses, (), doses[1:4], doses]
    table = ms.EventTable({pid: ms.Regimen(d, text="event semantics") for pid, d in zip(pop.ids, own)}, {})
    mid_infusion = np.array([0.0, 10.0, 17.0, 24.0, 45.0]) + 1 / 96
    t_out = np.union1d(np.arange(0.0, 70.0, 0.25), mid_infusion)
    problem = build_problem(model, table, pop, t_out, record_states=True)
    a = TIGHT_COMPILED.solve(problem)
    b = ms.backends.Jax(rtol=1e-10, atol=1e-12).solve(problem)
    assert np.all(a.status == 0) and np.all(b.status == 0)
    assert b.columns == a.columns
    _agree(a.values, b.values, a.columns)
    # the effect did cross its cap (both ways) in every dosed patient: the crossings were handled
    above = problem.param("ANC_SLOPE")[:, None] * a.values[:, :, 0] > problem.param("ANC_CAP")[:, None]
    assert np.all((above.any(axis=1) & ~above.all(axis=1))[[0, 2, 3]])
    assert np.all(b.values[1, :, 0] == 0.0)                 # no doses, no drug
    # one patient per device call (the contract suite's shape): the same numbers
    split = ms.backends.Jax(rtol=1e-10, atol=1e-12, chunk=1).solve(problem)
    np.testing.assert_allclose(split.values, b.values, rtol=1e-12, atol=0.0)
    assert np.array_equal(split.steps, b.steps)
    # the dosed patients out of steps: the compiled backend's status, and nothing recorded after it
    short = ms.backends.Jax(rtol=1e-10, atol=1e-12, max_steps=15).solve(problem)
    compiled = ms.backends.Compiled(rtol=1e-10, atol=1e-12, max_steps=15).solve(problem)
    assert list(short.status[[0, 2, 3]]) == list(compiled.status[[0, 2, 3]]) == [1, 1, 1]
    assert np.isnan(short.values[[0, 2, 3], -1]).all() and short.steps.sum(axis=1).max() <= 15


def test_default_tolerances_agree_with_the_compiled_backend_on_mitox_2y():
    """Both backends at their default tolerances: leukocytes within 1e-4 of each other (the
    tolerances' size: both are within about 1e-5 of a tight solution)."""
    pytest.importorskip("jax")
    ex = ms.load_example("mitox-2y", n=6, seed=3)
    a = ms.simulate(ex.model, ex.regimen, ex.population, output=ex.output, backend=ms.backends.Compiled())
    b = ms.simulate(ex.model, ex.regimen, ex.population, output=ex.output, backend="jax")
    assert b.all_ok
    assert rel_err(b.column("wbc"), a.column("wbc")) < 1e-4
    assert b.provenance["backend"]["backend"] == "jax" and "device" in b.provenance["backend"]
