"""Actions in modal coordinates (backends._modal), against the compartment-space truth.

The compiled kernel receives every dose as a modal increment dw (w = V^-1 A); V @ dw must be the
amounts the dose adds. Boluses and infusion rates are checked against the unit vector of their
compartment; steady states against an independent solution with the matrix exponential
(scipy_backend.steady_state_amounts: (I - expm(K*II))^-1 applied to one interval's response).
"""

from __future__ import annotations

import numpy as np
import pytest

from mschemo.backends._events import BOLUS, RATE_OFF, RATE_ON, RESET, SS, expand_actions
from mschemo.backends._modal import action_increments, phi1
from mschemo.backends.scipy_backend import steady_state_amounts

FIELDS = ("time", "evid", "cmt", "amt", "rate", "dur", "ii", "addl", "ss", "f", "lag")


def _records(rows: list[dict]) -> dict[str, np.ndarray]:
    base = {"evid": 1, "f": 1.0}
    ints = {"evid", "cmt", "addl", "ss"}
    return {k: np.asarray([{**base, **r}.get(k, 0) for r in rows], dtype=np.int64 if k in ints else float)
            for k in FIELDS}


def _pk(n_patients: int = 2):
    """Two patients' 3-compartment oral models (depot 0, central 1, peripherals 2-3): K, V, V^-1."""
    rng = np.random.default_rng(7)
    Ks, lams, Vs, Vinvs = [], [], [], []
    for _ in range(n_patients):
        ka, cl, v1, q2, v2, q3, v3 = rng.uniform([5, 10, 5, 20, 50, 5, 200], [15, 40, 20, 60, 150, 20, 800])
        K = np.zeros((4, 4))
        K[0, 0] = -ka
        K[1, 0] = ka
        K[1, 1] = -(cl + q2 + q3) / v1
        K[1, 2], K[2, 1], K[2, 2] = q2 / v2, q2 / v1, -q2 / v2
        K[1, 3], K[3, 1], K[3, 3] = q3 / v3, q3 / v1, -q3 / v3
        lam, V = np.linalg.eig(K)
        Ks.append(K)
        lams.append(lam.real)
        Vs.append(V.real)
        Vinvs.append(np.linalg.inv(V.real))
    return Ks, np.array(lams), np.array(Vs), np.array(Vinvs)


def test_phi1_matches_its_definition_and_its_small_argument_limit():
    lam = np.array([-3.0, -1e-9, 2.0, -50.0])
    tau = np.array([0.7, 2.0, 0.1, 1e-8])
    want = np.array([np.expm1(-2.1) / -3.0, 2.0 * (1 - 1e-9), np.expm1(0.2) / 2.0, 1e-8 * (1 - 2.5e-7)])
    np.testing.assert_allclose(phi1(lam, tau), want, rtol=1e-12)


def test_bolus_and_rate_increments_are_the_dose_in_modal_form():
    Ks, lam, V, Vinv = _pk()
    rec = _records([{"time": 0.0, "amt": 100.0, "cmt": 0, "f": 0.6},
                    {"time": 1.0, "amt": 50.0, "cmt": 1, "dur": 0.5},
                    {"time": 0.0, "amt": 80.0, "cmt": 1}])
    acts = expand_actions(rec, np.array([0, 2, 3]))
    dw = action_increments(acts, lam, Vinv, rec["ii"], rec["lag"])
    patient = np.repeat([0, 1], np.diff(acts.off))
    kinds = set()
    for q in range(acts.time.size):
        p, c = patient[q], acts.cmt[q]
        e = np.zeros(4)
        e[c] = 1.0
        kinds.add(int(acts.kind[q]))
        want = acts.val[q] * e   # mg for a bolus, mg/d for a rate
        np.testing.assert_allclose(V[p] @ dw[q], want, atol=1e-12 * abs(acts.val[q]))
    assert kinds == {BOLUS, RATE_ON, RATE_OFF}


@pytest.mark.parametrize("case", [
    {"amt": 100.0, "ii": 1.0},                              # bolus
    {"amt": 100.0, "ii": 1.0, "lag": 0.3},                  # bolus with a lag: the latest implied dose is 0.7 d old
    {"amt": 100.0, "ii": 1.0, "lag": 2.4},                  # lag > II: two implied doses are still in the future
    {"amt": 100.0, "ii": 1.0, "dur": 0.3},                  # infusion, over before TIME
    {"amt": 100.0, "ii": 1.0, "dur": 0.3, "lag": 0.9},      # infusion still running at TIME
    {"amt": 100.0, "ii": 0.5, "dur": 1.3, "lag": 0.2},      # infusions longer than II: several running at TIME
    {"amt": 0.0, "rate": 40.0, "ii": 0.0},                  # constant-rate infusion at steady state
], ids=["bolus", "bolus-lag", "bolus-lag-over-ii", "infusion", "infusion-running", "overlapping", "constant"])
@pytest.mark.parametrize("cmt", [0, 1])
def test_steady_state_increment_equals_the_matrix_exponential_solution(case, cmt):
    Ks, lam, V, Vinv = _pk(1)
    rec = _records([{"time": 0.0, "ss": 1, "cmt": cmt, "f": 0.8, **case}])
    acts = expand_actions(rec, np.array([0, 1]))
    dw = action_increments(acts, lam, Vinv, rec["ii"], rec["lag"])
    q = np.flatnonzero(acts.kind == SS)
    assert q.size == 1 and acts.kind[0] == RESET
    r = acts.rec[q[0]]
    want = steady_state_amounts(Ks[0], cmt, acts.amt_f[r], acts.rate[r], acts.dur[r], rec["ii"][r], rec["lag"][r])
    np.testing.assert_allclose(V[0] @ dw[q[0]], want, rtol=1e-9, atol=1e-12 * np.abs(want).max())
    # a reset adds nothing
    assert not dw[0].any()
