"""NONMEM 7.5.1 dosing parity: the 29 scenarios of ../shared/nonmem-parity (from mrgsolve/nmtests).

Each scenario is one ID of one data set, simulated by NONMEM with ADVAN2 TRANS2 (one compartment with
first-order absorption; CL 1.1, V 20, KA 1.5 per hour). CP = 1000*A(2)/V is tabled at every record,
dose and reset records included, with 5 significant digits. The model's F2 = BIOAV and ALAG2 = LAGT
act only on doses into CMT 2 and D2 = DUR2 is the duration of RATE = -2 doses; the test applies
that $PK logic to the records, as NONMEM did. Each backend (compiled, SciPy, JAX) runs every scenario. Tolerance 1e-4 relative (the table's rounding is
up to 5e-5), absolute 1e-3 on CP values that are zero in NONMEM's table.
The data files are read in place (GPL-2; not copied into this project).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mschemo as ms

SCENARIOS = list(range(1, 30))
CL_L_PER_H, V_L, KA_PER_H = 1.1, 20.0, 1.5


def _scenario(shared_dir, n):
    folder = shared_dir / "nonmem-parity"
    raw = pd.read_csv(folder / f"scenario_{n}_events.csv")
    table = ms.EventTable.read(folder / f"scenario_{n}_events.csv", time_unit="h", columns={"D": "DUR2", "F": None})
    (pid,) = table.ids
    doses = list(table.for_id(pid).doses)
    rows = raw[raw["EVID"].isin([1, 3, 4])].reset_index(drop=True)
    assert len(rows) == len(doses)
    fixed = []
    for d, (_, row) in zip(doses, rows.iterrows()):
        if int(row["CMT"]) == 2 and d.evid != 3:          # F2 and ALAG2 act on CMT 2 doses only
            d = d.replace(bioavailability=float(row["BIOAV"]), lag_d=float(row["LAGT"]) / 24.0)
        fixed.append(d)
    nm = pd.read_csv(folder / f"scenario_{n}_nonmem.csv")
    return ms.Regimen(tuple(fixed), text=f"nonmem scenario {n}"), raw["TIME"].to_numpy(float) / 24.0, nm["CP"].to_numpy(float)


def _model():
    model = ms.models.chain(ms.models.LinearPK(1, "first-order"))
    pop = ms.Population(pd.DataFrame({"id": [1], "CL": [CL_L_PER_H * 24.0], "V1": [V_L], "KA": [KA_PER_H * 24.0],
                                      "F": [1.0], "TLAG": [0.0]}))
    return model, pop


def _simulate(regimen, times_d, backend):
    model, pop = _model()
    # records at equal times: the table reports the value after every record at that time
    t_unique, inverse = np.unique(times_d, return_inverse=True)
    res = ms.simulate(model, regimen, pop, output=t_unique, backend=backend)
    return 1000.0 * res.column("conc_mg_per_L")[0][inverse]


def _check(cp, ref, n):
    zero = ref == 0.0
    assert np.all(np.abs(cp[zero]) < 1e-3), f"scenario {n}: CP should be 0 where NONMEM has 0"
    rel = np.abs(cp[~zero] / ref[~zero] - 1.0)
    assert rel.max() < 1e-4, f"scenario {n}: max relative difference {rel.max():.2e} at row {np.argmax(rel)}"


@pytest.mark.parametrize("n", SCENARIOS)
def test_compiled_backend_matches_nonmem(shared_dir, n):
    regimen, times_d, ref = _scenario(shared_dir, n)
    _check(_simulate(regimen, times_d, ms.backends.Compiled()), ref, n)


@pytest.mark.parametrize("n", SCENARIOS)
def test_scipy_backend_matches_nonmem(shared_dir, n):
    regimen, times_d, ref = _scenario(shared_dir, n)
    _check(_simulate(regimen, times_d, ms.backends.Scipy(rtol=1e-10, atol=1e-12)), ref, n)


@pytest.mark.parametrize("n", SCENARIOS)
def test_jax_backend_matches_nonmem(shared_dir, n):
    pytest.importorskip("jax", reason='the JAX backend needs jax (pip install "mschemo[jax]")')
    regimen, times_d, ref = _scenario(shared_dir, n)
    _check(_simulate(regimen, times_d, ms.backends.Jax()), ref, n)


def test_all_scenarios_present(shared_dir):
    meta = json.loads((shared_dir / "nonmem-parity" / "models.json").read_text())
    assert sorted(int(k) for k in meta["scenarios"]) == SCENARIOS
