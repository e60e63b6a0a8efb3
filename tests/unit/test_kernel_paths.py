"""The compiled kernel's two forms of one Dormand-Prince step, held to each other and to the truth.

A block with three transit compartments and no drug-in-cells state steps in ``_step_chain3`` (states
in registers); every other layout steps in ``_step_any`` (arrays). Both must give the same step for the
same block, whatever its drug effect. The stage concentrations come from each mode's term at the
step's start, carried from step to step, and powers of exp(lam*h/90); a cap crossing from a bracketed
Newton search; each must equal the closed form.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import pytest

import mschemo as ms
from mschemo.backends import _kernel as K
from mschemo.backends.problem import build_problem


@nb.njit(cache=False)
def _both_paths(y, k0, h, cst, capped, bint, bpar, rtol, atol):
    """(ynew, k, err) of the register path, then of the array path, for block 0 at offset 0."""
    n = y.size
    est = np.empty(7)
    ys = np.empty(n)
    k_a = np.zeros((7, n))
    k_b = np.zeros((7, n))
    k_a[0] = k0
    k_b[0] = k0
    ynew_a = np.empty(n)
    ynew_b = np.empty(n)
    # the feedback at y, as the kernel keeps it beside k[0]
    fbs = np.array([K._feedback(y[0] if bint[0, K.BI_FEEDBACK] != 0 else y[4], bpar[0, K.BP_CIRC0],
                                bpar[0, K.BP_GAMMA]), np.nan])
    fcg = np.empty(9)   # the series' coefficients, as the kernel works them out once a patient
    K._feedback_coefficients(bpar[0, K.BP_GAMMA], fcg, 0)
    err_a = K._step_chain3(y, ynew_a, k_a, 0, h, cst, est, capped, bint, bpar, 0, rtol, atol, fbs, fcg)
    err_b = K._step_any(y, ynew_b, ys, k_b, 0, n, h, cst, capped, bint, bpar, 0, rtol, atol)
    return ynew_a, k_a, err_a, ynew_b, k_b, err_b


@nb.njit(cache=False)
def _stage_concs(h, tau, c_inf, seg_g, lam):
    """The stage concentrations of a step of h days from segment time tau."""
    cst = np.zeros(7)
    K._stage_concs(tau, tau + h, c_inf, seg_g * np.exp(lam * tau), lam, cst, np.zeros(lam.size))
    return cst


@nb.njit(cache=False)
def _f_both(y, tau, c_inf, seg_g, lam, capped, bint, bpar):
    """f at y by the register form and by the array form."""
    k_a = np.zeros((7, y.size))
    k_b = np.zeros((7, y.size))
    fb_a = np.zeros(bint.shape[0])
    fb_b = np.zeros(bint.shape[0])
    K._f_at_chain3(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k_a, fb_a)
    K._f_at_any(y, tau, c_inf, seg_g, lam, capped, bint, bpar, k_b, fb_b)
    return k_a[0], k_b[0], fb_a, fb_b


def _block(effect: int, kill: bool, hill: float = 1.0, precursor: bool = False) -> tuple[np.ndarray, np.ndarray]:
    bint = np.zeros((1, K.N_BLOCK_INT), np.int64)
    bint[0, K.BI_NTRANSIT] = 3
    bint[0, K.BI_EFFECT] = effect
    bint[0, K.BI_KILL] = int(kill)
    bint[0, K.BI_FEEDBACK] = int(precursor)
    bpar = np.zeros((1, K.N_BLOCK_PAR))
    bpar[0, K.BP_CIRC0] = 5.4
    bpar[0, K.BP_KTR] = 4.0 / 5.2
    bpar[0, K.BP_KCIRC] = 0.31 if kill else 4.0 / 5.2
    bpar[0, K.BP_GAMMA] = 0.17
    bpar[0, K.BP_SLOPE] = 1.3
    bpar[0, K.BP_CAP] = 0.9
    bpar[0, K.BP_EMAX] = 0.8
    bpar[0, K.BP_EC50] = 0.4
    bpar[0, K.BP_HILL] = hill
    bpar[0, K.BP_KILL] = 0.6 if kill else 0.0
    return bint, bpar


@pytest.mark.parametrize(
    ("effect", "kill", "hill", "capped", "precursor"),
    [(0, False, 1.0, False, False), (0, False, 1.0, True, False), (0, True, 1.0, False, False),
     (1, False, 1.0, False, False), (1, True, 2.5, False, False), (0, True, 1.0, False, True),
     (0, True, 1.0, True, True), (1, True, 2.5, False, True)],
    ids=["linear", "linear-capped", "linear-kill", "emax", "emax-hill-kill", "linear-kill-precursor",
         "linear-capped-kill-precursor", "emax-hill-kill-precursor"],
)
def test_register_path_equals_array_path(effect: int, kill: bool, hill: float, capped: bool, precursor: bool) -> None:
    rng = np.random.default_rng(11)
    bint, bpar = _block(effect, kill, hill, precursor)
    for _ in range(20):
        y = 5.4 * rng.uniform(0.3, 1.5, 5)
        k0 = rng.normal(0.0, 0.5, 5)
        h = float(rng.uniform(0.01, 3.0))
        cst = rng.uniform(0.0, 1.0, 7)
        cst[6] = cst[5]
        ya, ka, ea, yb, kb, eb = _both_paths(y, k0, h, cst, np.array([capped, False]), bint, bpar, 1e-6, 1e-9)
        np.testing.assert_allclose(ya, yb, rtol=1e-13)
        np.testing.assert_allclose(ka[1:], kb[1:], rtol=1e-12, atol=1e-14)
        assert ea == pytest.approx(eb, rel=1e-9)
        assert ea > 0.0


@pytest.mark.parametrize("lam", [(-180.0, -2.3, -0.13), (-0.05,), (-4000.0, -1.0), (-1.0, -1.0 - 1e-9)])
@pytest.mark.parametrize(("tau", "h"), [(0.0, 1e-4), (0.3, 0.02), (2.0, 2.5), (40.0, 12.0)])
def test_stage_concentrations_are_the_closed_form(lam: tuple[float, ...], tau: float, h: float) -> None:
    lam_a = np.array(lam)
    seg_g = np.linspace(3.0, -1.0, lam_a.size)
    c_inf = 0.25
    cst = _stage_concs(h, tau, c_inf, seg_g, lam_a)
    for s, c_s in enumerate((0.2, 0.3, 0.8, 8.0 / 9.0, 1.0), start=1):
        ts = tau + c_s * h
        truth = c_inf + sum(g * math.exp(la * ts) for g, la in zip(seg_g, lam_a) if la * tau > -60.0)
        assert cst[s] == pytest.approx(truth, rel=1e-13, abs=1e-300), s
    assert cst[6] == cst[5]


@nb.njit(cache=False)
def _carried_terms(h, tau, n_steps, seg_g, lam):
    """Each mode's term g_j exp(lam_j tau) carried over ``n_steps`` steps of ``h`` days from ``tau``, as
    the kernel carries it (times 0 for a mode that has died out)."""
    eg = seg_g * np.exp(lam * tau)
    u90 = np.zeros(lam.size)
    cst = np.zeros(7)
    for i in range(n_steps):
        t0 = tau + i * h
        K._stage_concs(t0, t0 + h, 0.0, eg, lam, cst, u90)
        eg *= u90
    return eg


@pytest.mark.parametrize(("h", "n_steps"), [(2.5, 36), (0.01, 1000), (0.37, 240)])
def test_the_carried_mode_terms_stay_the_closed_form(h: float, n_steps: int) -> None:
    """A segment's terms g_j exp(lam_j tau), multiplied on by each accepted step's exp(lam_j h): within
    1e-13 of the closed form after a long segment (90 days of 2.5-day steps, a thousand short steps);
    a mode that has died out (lam_j tau < -60) gets 0 and stays out."""
    lam = np.array([-180.0, -2.3, -0.13])
    seg_g = np.array([3.0, 1.0, -0.5])
    got = _carried_terms(h, 0.0, n_steps, seg_g, lam)
    tau = n_steps * h
    for j in range(lam.size):
        if lam[j] * tau < -60.0:
            assert got[j] == 0.0
        else:
            assert got[j] == pytest.approx(seg_g[j] * math.exp(lam[j] * tau), rel=1e-13)


@nb.njit(cache=False)
def _exp_series(xs, out):
    for i in range(xs.size):
        out[i] = K._exp_near0(xs[i])


def test_the_stage_exp_near_zero_is_as_exact_as_the_library_s() -> None:
    """exp(lam*h/90) of the stage concentrations by its Taylor series where |x| <= 1/8: within 2 ulp of
    exp(x) (reference: NumPy's extended-precision exp), exactly 1 at 0; the library's exp outside."""
    rng = np.random.default_rng(7)
    xs = np.concatenate([rng.uniform(-0.125, 0.125, 50_000), np.linspace(-0.125, 0.125, 2001), [0.0, -1e-300]])
    got = np.empty_like(xs)
    _exp_series(xs, got)
    truth = np.exp(xs.astype(np.longdouble))
    assert float(np.max(np.abs((got - truth) / np.spacing(got)))) <= 2.0
    assert got[-2] == 1.0
    outside = np.array([-0.126, 0.2, -3.0, -700.0])
    got = np.empty_like(outside)
    _exp_series(outside, got)
    np.testing.assert_array_equal(got, np.exp(outside))


@nb.njit(cache=False)
def _cross(c_inf, seg_g, lam, lo, hi, slope, cap, above):
    return K._crossing(c_inf, seg_g, lam, lo, hi, slope, cap, above)


@nb.njit(cache=False)
def _conc_at(c_inf, seg_g, lam, t):
    c, _ = K.conc_and_slope(c_inf, seg_g, lam, t)
    return c


def _side(c_inf, seg_g, lam, t, slope, cap):
    return slope * _conc_at(c_inf, seg_g, lam, t) - cap > 0.0


def test_a_cap_crossing_is_bracketed_to_rounding() -> None:
    """The crossing of slope*C with the cap, from a bracket [lo, hi]: the time returned is on lo's side,
    and within the tolerance (1e-15 relative, at least 1e-15 d) of a time on the other side. Rising
    (an infusion) and falling (after it) concentrations, fast and slow modes, 2,000 random cases."""
    rng = np.random.default_rng(4)
    checked = 0
    while checked < 2000:
        n = int(rng.integers(1, 4))
        lam = -np.exp(rng.uniform(-3.0, 5.5, n))
        seg_g = rng.uniform(0.05, 3.0, n) * (1.0 if rng.uniform() < 0.5 else -1.0)
        c_inf = 0.0 if seg_g[0] > 0 else float(-seg_g.sum() + rng.uniform(0.1, 2.0))   # falling, or rising to c_inf
        hi = float(rng.uniform(0.01, 5.0))
        slope = float(rng.uniform(0.5, 3.0))
        c_lo = _conc_at(c_inf, seg_g, lam, 0.0)
        c_hi = _conc_at(c_inf, seg_g, lam, hi)
        cap = slope * float(rng.uniform(min(c_lo, c_hi), max(c_lo, c_hi)))
        above = slope * c_lo > cap
        if above == (slope * c_hi > cap):
            continue
        t = _cross(c_inf, seg_g, lam, 0.0, hi, slope, cap, above)
        assert 0.0 <= t < hi
        assert _side(c_inf, seg_g, lam, t, slope, cap) == above
        tol = 1e-15 * max(1.0, hi)
        # the other side is reached within the tolerance, unless C is flat there to rounding
        past = t + 2.0 * tol
        if _side(c_inf, seg_g, lam, past, slope, cap) == above:
            assert abs(slope * _conc_at(c_inf, seg_g, lam, t) - cap) <= 64 * np.spacing(cap), (t, hi)
        checked += 1


@pytest.mark.parametrize("power", [2, 3])
def test_a_crossing_where_the_curve_is_flat_is_still_found(power: int) -> None:
    """C(t) = (1 - exp(-t))^2 or ^3 (modes and a constant that cancel at t = 0) leaves 0 flat, so with
    a cap just above 0 Newton's method converges only linearly: the search still ends on the low side,
    at the crossing t = -log(1 - cap^(1/power)), to the precision the cancelling terms allow (their
    rounding, about 1e-16, is a part in 1e7 of a cap of 1e-9)."""
    lam = -np.arange(1.0, power + 1.0)
    seg_g = np.array([math.comb(power, k) * (-1.0) ** k for k in range(1, power + 1)])
    for cap in (1e-9, 1e-6, 1e-3, 0.1):
        t = _cross(1.0, seg_g, lam, 0.0, 2.0, 1.0, cap, False)
        assert not _side(1.0, seg_g, lam, t, 1.0, cap)
        assert t == pytest.approx(-math.log(1.0 - cap ** (1.0 / power)), rel=1e-6)


@pytest.mark.parametrize("precursor", [False, True], ids=["count-feedback", "precursor-feedback"])
def test_f_at_a_point_is_the_same_in_both_forms(precursor: bool) -> None:
    """Two blocks (a Friberg-type one with a capped linear effect, a lymphocyte-type one with Emax and
    a direct kill, its feedback on the count or on the precursors), ten states: f at a point from the
    register form equals the array form."""
    rng = np.random.default_rng(5)
    b0, p0 = _block(0, False)
    b1, p1 = _block(1, True, hill=1.7, precursor=precursor)
    bint, bpar = np.vstack([b0, b1]), np.vstack([p0, p1])
    assert not K.needs_general_path(bint)
    lam, seg_g = np.array([-30.0, -0.4]), np.array([2.0, 0.5])
    for capped in (False, True):
        for _ in range(10):
            y = 5.4 * rng.uniform(0.2, 1.6, 10)
            fa, fb, fba, fbb = _f_both(y, float(rng.uniform(0, 3)), 0.05, seg_g, lam,
                                       np.array([capped, False, False]), bint, bpar)
            np.testing.assert_allclose(fa, fb, rtol=1e-13, atol=1e-15)
            np.testing.assert_array_equal(fba, fbb)


@nb.njit(cache=False)
def _near(x, xref, circ0, gamma, use):
    """The feedback at x from its exact value at xref by the series (_feedback_near)."""
    inv = 1.0 / xref if use else math.nan
    c = np.empty(9)
    K._feedback_coefficients(gamma, c, 0)
    f = K._feedback(xref, circ0, gamma)
    fc = (f * c[0], f * c[1], f * c[2], f * c[3], f * c[4], f * c[5], f * c[6], f * c[7], f * c[8])
    return K._feedback_near(x, inv, fc, circ0, gamma)


@nb.njit(cache=False)
def _exact(x, circ0, gamma):
    return K._feedback(x, circ0, gamma)


@pytest.mark.parametrize("gamma", [0.0, 0.05, 0.17, 0.2, 0.5, 0.999, 1.0])
def test_the_stage_feedback_from_the_step_start_is_as_exact_as_pow(gamma: float) -> None:
    """(Circ0/x)^gamma within a step is fbref * (1 + r)^-gamma, its binomial series to r^8 for |r| up to
    1/64 (else exp/log): within a few ulp of pow() (4, and the |gamma ln b| ulp of the exp/log form of
    b^gamma) on both sides of the switch."""
    rng = np.random.default_rng(3)
    circ0 = 6.5
    for xref in (6.5, 0.7, 13.0, 1e-3):
        rs = np.concatenate([rng.uniform(-1 / 64, 1 / 64, 400), [-1 / 64, 1 / 64, 0.0, 0.02, -0.02, 0.3, -0.5]])
        for r in rs:
            x = xref * (1.0 + r)
            truth = (circ0 / x) ** gamma
            got = _near(x, xref, circ0, gamma, True)
            # exp(gamma * log(b)) carries about |gamma * ln b| ulp of its own beyond pow's
            assert abs(got - truth) <= (4 + abs(gamma * math.log(circ0 / x))) * np.spacing(truth), (xref, r, got, truth)
    # at the reference itself: the reference value exactly (a baseline state stays exactly at rest)
    assert _near(circ0, circ0, circ0, gamma, True) == 1.0
    # not used (inv NaN): the exact form
    assert _near(6.0, 6.1, circ0, gamma, False) == _exact(6.0, circ0, gamma)


@pytest.mark.parametrize(("name", "general"),
                         [("pk3_friberg", False), ("pk1_iv_cells_lymph", True), ("pk2_oral_emax_lymph", True)])
def test_which_layouts_take_the_general_path(name: str, general: bool) -> None:
    """Three transit compartments and the drug in plasma: registers; two transits, or a drug-in-cells
    state: the general array path (compiled only then)."""
    import mschemo as ms
    from helpers import synthetic
    from mschemo.backends.compiled import block_arrays
    from mschemo.backends.problem import build_problem

    model, pop, reg = synthetic(name)
    bint, _ = block_arrays(build_problem(model, ms.Regimen.parse(reg), pop, np.array([0.0, 1.0])))
    assert K.needs_general_path(bint) is general


@pytest.mark.parametrize("drug", ["mitox-2y", "mitoxantrone", "cyclophosphamide", "cladribine"])
def test_the_built_in_models_step_in_registers(drug: str) -> None:
    import mschemo as ms

    blocks = ms.load_model(drug).pd
    assert blocks and all(b.transits == 3 and not b.in_cells for b in blocks)


def test_workspace_points_the_dense_output_at_each_count() -> None:
    """Between steps the kernel interpolates each block's count (its last state), whatever the block's
    layout, or every state when all are recorded; the scratch arrays have the kernel's sizes."""
    bint = np.zeros((3, K.N_BLOCK_INT), np.int64)
    bint[:, K.BI_NTRANSIT] = [3, 2, 20]
    bint[1, K.BI_SITE] = 1   # layout: 5 states, then Ce + 4, then 22
    work, k, capped, dense_idx = K.workspace(2, bint, record_states=False)
    np.testing.assert_array_equal(dense_idx, [4, 9, 31])
    assert work.size == 6 * 2 + 4 * 32 + 14 + (2 + 9) * 3 and k.shape == (11, 32)
    assert capped.shape == (4,) and not capped.any()
    _, _, _, every = K.workspace(2, bint, record_states=True)
    np.testing.assert_array_equal(every, np.arange(32))
    assert all(a.flags.c_contiguous for a in (work, k, capped, dense_idx))


def test_recording_the_states_leaves_the_other_columns_bit_for_bit() -> None:
    """The kernel is compiled apart for calls that record every state (record_states None or an
    array): both write the same concentration, counts and AUC, bit for bit (label regimen, two blocks,
    cap crossings)."""
    import mschemo as ms

    backend = ms.backends.Compiled(threads=1)
    args = ("mitoxantrone", "12 mg/m2 over 30 min every 91 days x 3", 12)
    plain = ms.simulate(*args, seed=2, until="300 days", backend=backend, rules=False)
    states = ms.simulate(*args, seed=2, until="300 days", backend=backend, rules=False, record_states=True)
    assert len(states.columns) > len(plain.columns)
    for column in plain.columns:
        np.testing.assert_array_equal(states.column(column), plain.column(column))


def test_a_patient_out_of_steps_leaves_nan_where_it_did_not_reach() -> None:
    """A patient out of steps (here within its first course) has NaN at every output it did not
    reach, and before that the values of a full solve."""
    ex = ms.load_example("mitox-2y", n=4, seed=3)
    problem = build_problem(ex.model, ex.regimen, ex.population, ex.output.times_d())
    full = ms.backends.Compiled().solve(problem)
    short = ms.backends.Compiled(max_steps=15).solve(problem)
    assert list(short.status) == [K.MAX_STEPS] * 4
    reached = ~np.isnan(short.values).any(axis=2)
    last = reached.sum(axis=1)
    assert np.all(last >= 1) and np.all(last < 30)       # the first day or so, then NaN to the end
    for p in range(4):
        assert reached[p, :last[p]].all() and np.isnan(short.values[p, last[p]:]).all()
        np.testing.assert_array_equal(short.values[p, :last[p]], full.values[p, :last[p]])


@nb.njit(cache=False)
def _coefficients(gamma):
    c = np.empty(9)
    K._feedback_coefficients(gamma, c, 0)
    return c


@pytest.mark.parametrize("gamma", [0.0, 0.17, 0.2, 0.5, 1.0, 1.7])
def test_the_feedback_series_coefficients_are_the_binomials(gamma: float) -> None:
    """The coefficients of (1 + r)^-gamma: binom(-gamma, k) = prod_{j<k} (-gamma - j) / (j + 1), k = 0..8,
    here in exact rational arithmetic."""
    from fractions import Fraction

    exact, c = [], Fraction(1)
    for j in range(9):
        exact.append(float(c))
        c *= (-Fraction(gamma) - j) / (j + 1)
    np.testing.assert_allclose(_coefficients(gamma), exact, rtol=1e-14, atol=0.0)
