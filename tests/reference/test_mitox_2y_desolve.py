"""mschemo against R deSolve on the mitox-2y reference workload (50 patients, seed 20240601).

Reference: ``tests/reference/data/mitox_2y_desolve_n50.csv``, made by
``tests/reference/data/make_mitox_2y_desolve.sh`` from ``../shared/bench/peer_desolve.R``:
R 4.2.2, deSolve 1.34 ``lsoda`` per patient, restarted at every infusion start and stop,
rtol 1e-10, atol 1e-12. The file's ``# `` header records the commands, the sha256 of the peer
script, the tool versions and the measured accuracy of the file itself (deSolve at ten times
tighter tolerances and SciPy LSODA at the same tolerances both agree with it to about 1e-9
relative), so it is a reference about four orders of magnitude tighter than the checks below.

mschemo solves the same patients with the compiled backend (rtol 1e-8, atol 1e-10) and must give
- ``bsa_m2`` and ``dose_mg`` equal to the file's within 1e-6 relative (the file went through CSV
  text at 15 significant digits),
- every nadir (``nadir_1`` .. ``nadir_8``, smallest daily-grid leukocyte count per dosing
  interval, 10^9/L) within 1e-5 relative,
- ``first_nadir_day`` identical.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "mitox_2y_desolve_n50.csv"
MAKE_SCRIPT = DATA / "make_mitox_2y_desolve.sh"
SHARED_BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "bench"

N = 50
SEED = 20240601
NADIRS = [f"nadir_{k}" for k in range(1, 9)]
COLUMNS = ["id", "bsa_m2", "dose_mg", *NADIRS, "first_nadir_day"]
RTOL_COVARIATES = 1e-6
RTOL_NADIR = 1e-5


def _header() -> list[str]:
    """The golden file's '# ' comment lines, without the '# '."""
    lines = []
    with GOLDEN.open() as f:
        for line in f:
            if not line.startswith("#"):
                break
            lines.append(line[1:].strip())
    return lines


@pytest.fixture(scope="module")
def golden() -> pd.DataFrame:
    if not GOLDEN.exists():
        pytest.fail(f"golden file {GOLDEN} is missing; regenerate it with: bash {MAKE_SCRIPT}")
    return pd.read_csv(GOLDEN, comment="#")


@pytest.fixture(scope="module")
def mschemo_table() -> pd.DataFrame:
    import mschemo as ms  # here, so the golden-file checks below run even while the engine is incomplete

    ex = ms.load_example("mitox-2y", n=N, seed=SEED)
    res = ms.simulate(
        ex.model, ex.regimen, ex.population, output=ex.output, backend=ms.backends.Compiled(rtol=1e-8, atol=1e-10)
    )
    return ex.peer_table(res)


def test_golden_file_is_the_desolve_reference(golden):
    header = "\n".join(_header())
    assert "deSolve" in header, f"{GOLDEN.name} does not say it comes from deSolve; is it the right file?"
    assert "peer_desolve.R" in header
    assert re.search(r"rtol 1e-10\b", header), "the golden file was not made at rtol 1e-10"
    assert re.search(rf"seed {SEED}\b", header) and re.search(rf"\bN {N}\b", header)
    assert list(golden.columns) == COLUMNS
    assert len(golden) == N and golden["id"].tolist() == list(range(1, N + 1))
    assert np.isfinite(golden[NADIRS].to_numpy()).all()


def test_golden_file_matches_the_shared_peer_script():
    """The sha256 in the header is that of ../shared/bench/peer_desolve.R, if that folder is here."""
    peer = SHARED_BENCH / "peer_desolve.R"
    if not peer.exists():
        pytest.skip(f"{peer} not found (the shared benchmark folder sits beside the repository)")
    recorded = [line for line in _header() if line.startswith("Peer script:")]
    assert recorded, f"{GOLDEN.name} header has no 'Peer script: ... sha256 ...' line"
    actual = hashlib.sha256(peer.read_bytes()).hexdigest()
    assert actual in recorded[0], f"{peer} changed since {GOLDEN.name} was made; regenerate it with: bash {MAKE_SCRIPT}"


def test_same_patients_as_desolve(golden, mschemo_table):
    got = mschemo_table.set_index("id").sort_index()
    ref = golden.set_index("id").sort_index()
    assert got.index.tolist() == ref.index.tolist(), "mschemo and deSolve simulated different patient ids"
    for col in ("bsa_m2", "dose_mg"):
        np.testing.assert_allclose(
            got[col].to_numpy(float), ref[col].to_numpy(float), rtol=RTOL_COVARIATES, atol=0, err_msg=col
        )


def test_nadirs_match_desolve(golden, mschemo_table):
    got = mschemo_table.set_index("id").sort_index()
    ref = golden.set_index("id").sort_index()
    assert got.index.tolist() == ref.index.tolist(), "mschemo and deSolve simulated different patient ids"
    g, r = got[NADIRS].to_numpy(float), ref[NADIRS].to_numpy(float)
    rel = np.abs(g / r - 1.0)
    worst = np.unravel_index(np.argmax(rel), rel.shape)
    assert rel.max() <= RTOL_NADIR, (
        f"{int((rel > RTOL_NADIR).sum())} of {rel.size} nadirs differ from deSolve by more than "
        f"{RTOL_NADIR:g} relative; worst: patient {ref.index[worst[0]]} {NADIRS[worst[1]]} "
        f"mschemo {g[worst]:.10g} vs deSolve {r[worst]:.10g} (rel err {rel.max():.2e})"
    )


def test_first_nadir_day_matches_desolve(golden, mschemo_table):
    got = mschemo_table.set_index("id").sort_index()["first_nadir_day"]
    ref = golden.set_index("id").sort_index()["first_nadir_day"]
    diff = got.to_numpy(int) != ref.to_numpy(int)
    assert not diff.any(), (
        f"first_nadir_day differs for patients {ref.index[diff].tolist()}: "
        f"mschemo {got.to_numpy(int)[diff].tolist()} vs deSolve {ref.to_numpy(int)[diff].tolist()}"
    )
