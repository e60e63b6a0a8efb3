"""How many steps other integrators take where the compiled kernel spends its time: the mitox-2y
leukocyte block (typical patient, one dose of 12 mg/m2 x 1.8 m2 over 30 min), days 1-91 after the
dose, at the kernel's tolerances (rtol 1e-6, atol 1e-9, the same RMS error norm).

    python benchmarks/integrators.py

Beside SciPy's Dormand-Prince 5(4) (the kernel's method), DOP853, Radau and BDF runs a 4th-order
Rosenbrock method with the exact Jacobian (the coefficients of Shampine 1982, ACM TOMS 8:93-113, as
in Press et al., Numerical Recipes, 2nd ed., section 16.6: three evaluations of f and one 5x5 LU a
step), and Lawson's integrating-factor form of Dormand-Prince 5(4): the linear transit chain solved
exactly by its matrix exponential, Dormand-Prince on the proliferating cells' own term (the kernel's
step-size control; each step's "f evals" there are evaluations of that term). The concentration is exact (the 3-compartment PK by its eigenvalues); the state on day 1 comes
from a tight Radau solve through the capped phase. Each method's largest relative error at its step
ends is measured against DOP853 at rtol 1e-13. This counts steps; it times nothing.

A second table says what holds the kernel's step in the quiet weeks, where two thirds of its steps
are: the block's Jacobian at its baseline has a real eigenvalue near -1.6 ktr (the feedback loop:
mu (mu + 1)^4 = -gamma with mu = lambda / ktr, for kcirc = ktr), and Dormand-Prince's region of
absolute stability ends at -3.31 on the real axis, so no step longer than about 2.1 / ktr is stable,
whatever the tolerance. The kernel's mean step over days 100-181 (the second course's quiet weeks,
50 patients of the workload) at rtol 1e-4 to 1e-8 shows it: where the steps stop growing as the
tolerance loosens, stability holds them, not accuracy (accuracy alone lets a step grow as the fifth
root of the tolerance).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg as sl
from scipy.integrate import solve_ivp

import mschemo as ms

RTOL, ATOL = 1e-6, 1e-9
T0, T1 = 1.0, 91.0
DOSE_MG, T_INF = 12.0 * 1.8, 0.5 / 24.0

p = ms.load_model("mitox-2y").typical_parameters()        # per day
CL, V1, Q2, V2, Q3, V3 = (p[k] for k in ("CL", "V1", "Q2", "V2", "Q3", "V3"))
CIRC0, GAMMA, SLOPE, CAP = p["WBC_CIRC0"], p["WBC_GAMMA"], p["WBC_SLOPE"], p["WBC_CAP"]
KTR = 4.0 / p["WBC_MTT"]                                    # three transit compartments
K = np.array([[-(CL + Q2 + Q3) / V1, Q2 / V2, Q3 / V3], [Q2 / V1, -Q2 / V2, 0.0], [Q3 / V1, 0.0, -Q3 / V3]])
A_END = sl.solve(K, (sl.expm(K * T_INF) - np.eye(3)) @ np.array([DOSE_MG / T_INF, 0.0, 0.0]))
LAM, VEC = np.linalg.eig(K)
LAM, VEC = LAM.real, VEC.real
W = np.linalg.solve(VEC, A_END)


def conc(t: float) -> float:
    """mg/L after the infusion."""
    return float((VEC[0] * W * np.exp(LAM * (t - T_INF))).sum() / V1)


def dconc(t: float) -> float:
    return float((VEC[0] * W * LAM * np.exp(LAM * (t - T_INF))).sum() / V1)


def f(t: float, y: np.ndarray) -> np.ndarray:
    e = min(SLOPE * conc(t), CAP)
    prol, t1, t2, t3, circ = y
    fb = (CIRC0 / circ) ** GAMMA
    return np.array([KTR * prol * ((1 - e) * fb - 1), KTR * (prol - t1), KTR * (t1 - t2), KTR * (t2 - t3),
                     KTR * (t3 - circ)])


def jac(t: float, y: np.ndarray) -> np.ndarray:
    e = min(SLOPE * conc(t), CAP)
    prol, circ = y[0], y[4]
    fb = (CIRC0 / circ) ** GAMMA
    j = np.diag([KTR * ((1 - e) * fb - 1)] + [-KTR] * 4) + np.diag([KTR] * 4, -1)
    j[0, 4] = -GAMMA * KTR * prol * (1 - e) * fb / circ
    return j


def dfdt(t: float, y: np.ndarray) -> np.ndarray:
    if SLOPE * conc(t) >= CAP:
        return np.zeros(5)
    return np.array([-KTR * y[0] * (CIRC0 / y[4]) ** GAMMA * SLOPE * dconc(t), 0.0, 0.0, 0.0, 0.0])


# Shampine (1982): gamma, a, c (the stage couplings), b (4th order), e (the error estimate), gamma_i, alpha_i
GAM, A21, A31, A32 = 0.5, 2.0, 48 / 25, 6 / 25
C21, C31, C32, C41, C42, C43 = -8.0, 372 / 25, 12 / 5, -112 / 125, -54 / 125, -2 / 5
B = np.array([19 / 9, 1 / 2, 25 / 108, 125 / 108])
E = np.array([17 / 54, 7 / 36, 0.0, 125 / 108])
GX = np.array([1 / 2, -3 / 2, 121 / 50, 29 / 250])
A2X, A3X = 1.0, 3 / 5


def rosenbrock_step(t: float, y: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    ft = dfdt(t, y)
    lu = sl.lu_factor(np.eye(5) / (GAM * h) - jac(t, y))
    g1 = sl.lu_solve(lu, f(t, y) + h * GX[0] * ft)
    g2 = sl.lu_solve(lu, f(t + A2X * h, y + A21 * g1) + h * GX[1] * ft + C21 * g1 / h)
    f3 = f(t + A3X * h, y + A31 * g1 + A32 * g2)
    g3 = sl.lu_solve(lu, f3 + h * GX[2] * ft + (C31 * g1 + C32 * g2) / h)
    g4 = sl.lu_solve(lu, f3 + h * GX[3] * ft + (C41 * g1 + C42 * g2 + C43 * g3) / h)
    g = np.array([g1, g2, g3, g4])
    return y + B @ g, E @ g


def adaptive(step: Callable[[float, np.ndarray, float], tuple[np.ndarray, np.ndarray]], y0: np.ndarray,
             order: int, rtol: float = RTOL, atol: float = ATOL) -> tuple[np.ndarray, np.ndarray, int]:
    """A method's steps (``step(t, y, h)``: the new state and its error estimate) from T0 to T1 with
    the kernel's step-size control: RMS error scaled by ATOL + RTOL*|y|, factor 0.9 err^(-1/order)
    within 0.2-10. Returns the step ends, the states there and the rejected steps."""
    t, y, h, rejected = T0, y0.copy(), 0.05, 0
    ts, ys = [t], [y]
    while t < T1 - 1e-12:
        h = min(h, T1 - t)
        yn, e = step(t, y, h)
        err = float(np.sqrt(np.mean((e / (atol + rtol * np.maximum(abs(y), abs(yn)))) ** 2)))
        if err <= 1.0:
            t, y = t + h, yn
            ts.append(t)
            ys.append(y)
        else:
            rejected += 1
        h *= 10.0 if err == 0.0 else min(10.0, max(0.2, 0.9 * err ** (-1.0 / order)))
    return np.array(ts), np.array(ys), rejected


# Lawson's integrating-factor form of Dormand-Prince 5(4) (Lawson 1967, SIAM J Numer Anal 4:372-380;
# Hochbruck & Ostermann 2010, Acta Numerica 19:209-286, section 2.7): y' = L y + N(t, y) with the
# linear transit chain in L (each compartment's outflow and the next one's inflow; the proliferating
# cells' own rate stays in N, with the feedback and the drug), solved exactly by exp(tau L), and
# Dormand-Prince on the rest: stage i at y_i = exp(c_i h L) y + h sum_j a_ij exp((c_i - c_j) h L) N_j.
DP_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
DP_A = [[], [1 / 5], [3 / 40, 9 / 40], [44 / 45, -56 / 15, 32 / 9],
        [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
        [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
        [35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]]
DP_E = np.array([71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40])
L_CHAIN = np.diag([0.0] + [-KTR] * 4) + np.diag([KTR] * 4, -1)


def n_part(t: float, y: np.ndarray) -> np.ndarray:
    """f - L y: the proliferating cells' own term (feedback, drug), zero elsewhere."""
    return f(t, y) - L_CHAIN @ y


def lawson_step(t: float, y: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """One step: the new state and its error estimate (N at the new state is the next step's first
    stage; worked out again here, as only steps are counted)."""
    ex = {}

    def e(tau: float) -> np.ndarray:
        key = round(tau, 15)
        if key not in ex:
            ex[key] = sl.expm(tau * h * L_CHAIN)
        return ex[key]

    ns = [n_part(t, y)]
    ys = [y]
    for i in range(1, 7):
        yi = e(DP_C[i]) @ y + h * sum(a * (e(DP_C[i] - DP_C[j]) @ ns[j]) for j, a in enumerate(DP_A[i]) if a != 0.0)
        ys.append(yi)
        ns.append(n_part(t + DP_C[i] * h, yi))
    err = h * sum(DP_E[j] * (e(1.0 - DP_C[j]) @ ns[j]) for j in range(7) if DP_E[j] != 0.0)
    return ys[6], err


# Tsitouras 5(4) (Tsitouras 2011, Comput Math Appl 62:770-775, Table 1): like Dormand-Prince, seven stages
# with the last one the next step's first, 5th order propagated and an embedded 4th-order estimate;
# its coefficients satisfy only the first column simplifying assumption, which buys smaller error
# coefficients and a slightly longer real stability interval
TS_A = np.zeros((7, 7))
TS_A[1, :1] = [0.161]
TS_A[2, :2] = [-0.008480655492356989, 0.335480655492357]
TS_A[3, :3] = [2.8971530571054935, -6.359448489975075, 4.3622954328695815]
TS_A[4, :4] = [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525]
TS_A[5, :5] = [5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401, -0.028269050394068383]
TS_A[6, :6] = [0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081,
               2.324710524099774]
# the 5th-order weights minus the 4th-order ones: the error estimate
TS_E = np.array([-0.00178001105222577714, -0.0008164344596567469, 0.007880878010261995, -0.1447110071732629,
                 0.5823571654525552, -0.45808210592918697, 1.0 / 66.0])


def erk_step(a: np.ndarray, e: np.ndarray) -> Callable[[float, np.ndarray, float], tuple[np.ndarray, np.ndarray]]:
    """A step of the explicit pair with seven stages ``a`` (row 7: the 5th-order weights, its stage the
    next step's first) and error weights ``e``: the new state and its error estimate."""
    c = a.sum(axis=1)

    def step(t: float, y: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
        k: list[np.ndarray] = []
        for i in range(7):
            k.append(f(t + c[i] * h, y + h * sum((a[i, j] * k[j] for j in range(i)), np.zeros(5))))
        return y + h * sum(a[6, j] * k[j] for j in range(6)), h * sum(e[j] * k[j] for j in range(7))
    return step


def main() -> None:
    y1 = solve_ivp(lambda t, y: f(max(t, T_INF), y), (T_INF, T0), np.full(5, CIRC0), method="Radau",
                   rtol=1e-12, atol=1e-14).y[:, -1]
    ref = solve_ivp(f, (T0, T1), y1, method="DOP853", rtol=1e-13, atol=1e-15, dense_output=True)
    rows = []
    for name in ("RK45", "DOP853", "Radau", "BDF"):
        kw = {"jac": jac} if name in ("Radau", "BDF") else {}
        s = solve_ivp(f, (T0, T1), y1, method=name, rtol=RTOL, atol=ATOL, **kw)
        err = np.max(np.abs(s.y - ref.sol(s.t)) / np.abs(ref.sol(s.t)))
        rows.append((name, len(s.t) - 1, s.nfev, int((s.t > 30).sum()), err))
    ts, ys, rejected = adaptive(rosenbrock_step, y1, 4)
    err = np.max(np.abs(ys.T - ref.sol(ts)) / np.abs(ref.sol(ts)))
    rows.append(("Rosenbrock 4 (Shampine)", len(ts) - 1, 3 * (len(ts) - 1 + rejected), int((ts > 30).sum()), err))
    ts, ys, rejected = adaptive(erk_step(TS_A, TS_E), y1, 5)
    err = np.max(np.abs(ys.T - ref.sol(ts)) / np.abs(ref.sol(ts)))
    rows.append(("Tsitouras 5(4)", len(ts) - 1, 6 * (len(ts) - 1 + rejected) + 1, int((ts > 30).sum()), err))
    # its error estimate is less cautious than Dormand-Prince's: at the same error, a tighter tolerance
    ts, ys, rejected = adaptive(erk_step(TS_A, TS_E), y1, 5, 0.6 * RTOL, 0.6 * ATOL)
    err = np.max(np.abs(ys.T - ref.sol(ts)) / np.abs(ref.sol(ts)))
    rows.append(("Tsitouras 5(4), rtol 6e-7", len(ts) - 1, 6 * (len(ts) - 1 + rejected) + 1, int((ts > 30).sum()),
                 err))
    ts, ys, rejected = adaptive(lawson_step, y1, 5)
    err = np.max(np.abs(ys.T - ref.sol(ts)) / np.abs(ref.sol(ts)))
    rows.append(("Lawson Dormand-Prince 5(4)", len(ts) - 1, 6 * (len(ts) - 1 + rejected) + 1, int((ts > 30).sum()), err))
    print(f"mitox-2y leukocyte block, days {T0:g}-{T1:g} after one dose, rtol {RTOL:g}, atol {ATOL:g}")
    print(f"{'method':26s} {'steps':>6s} {'f evals':>8s} {'steps after day 30':>19s} {'max rel error':>14s}")
    for name, steps, nfev, late, e in rows:
        print(f"{name:26s} {steps:6d} {nfev:8d} {late:19d} {e:14.1e}")


def dp5_stability(z: complex) -> complex:
    """The stability function R(z) of Dormand-Prince 5(4)'s 5th-order solution (the kernel's)."""
    a = np.zeros((7, 7), complex)
    a[1, :1] = [1 / 5]
    a[2, :2] = [3 / 40, 9 / 40]
    a[3, :3] = [44 / 45, -56 / 15, 32 / 9]
    a[4, :4] = [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729]
    a[5, :5] = [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]
    a[6, :6] = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]
    return 1 + z * a[6] @ np.linalg.solve(np.eye(7) - z * a, np.ones(7))


def quiet_weeks() -> None:
    """The stability bound of the quiet weeks' step, and the kernel's steps there by tolerance."""
    jac0 = KTR * np.array([[0, 0, 0, 0, -GAMMA], [1, -1, 0, 0, 0], [0, 1, -1, 0, 0], [0, 0, 1, -1, 0],
                           [0, 0, 0, 1, -1.0]])     # at the baseline, no drug: the feedback loop alone
    ev = np.linalg.eigvals(jac0)
    real_bound = next(x for x in np.arange(-3.0, -4.0, -1e-4) if abs(dp5_stability(x)) > 1)
    h_max = next(h for h in np.arange(0.01, 10.0, 0.005) if max(abs(dp5_stability(h * e)) for e in ev) > 1)
    print(f"\nquiet weeks (typical patient, ktr = {KTR:.3g}/d): Jacobian eigenvalues / ktr "
          + ", ".join(f"{e / KTR:.3f}" for e in sorted(ev, key=lambda e: e.real)))
    print(f"Dormand-Prince 5(4) is stable on the real axis to {real_bound:.2f}; every eigenvalue stays "
          f"inside for steps up to {h_max:.2f} d ({h_max * KTR:.2f} / ktr)")
    # Any explicit pair that propagates a 5th-order solution with six evaluations of f a step (both pairs
    # here) has the stability function 1 + z + ... + z^5/120 + alpha z^6: one free coefficient, alpha =
    # b A^5 1 (Dormand-Prince 1/600); where it ends on the real axis, and the longest stable step of the
    # typical patient's quiet weeks, by alpha
    print("stability by the one free coefficient of a 6-evaluation 5th-order pair, R(z) = T5(z) + alpha z^6:")
    print(f"{'alpha':>10s} {'real bound':>11s} {'stable step':>12s}")
    ts_alpha = float(TS_A[6] @ np.linalg.matrix_power(TS_A, 5) @ np.ones(7))
    for alpha, name in ((1 / 600, "Dormand-Prince"), (ts_alpha, "Tsitouras"), (0.0012, ""), (0.001, ""),
                        (0.0009, ""), (0.0008, ""), (0.0007, ""), (0.0005, "")):
        def r(z: complex, alpha: float = alpha) -> complex:
            return sum(z ** k / np.prod(np.arange(1, k + 1)) for k in range(6)) + alpha * z ** 6
        bound = next(x for x in np.arange(-0.01, -8.0, -0.001) if abs(r(x)) > 1)
        step = next(h for h in np.arange(0.01, 10.0, 0.005) if max(abs(r(h * e)) for e in ev) > 1)
        print(f"{alpha:10.6f} {bound:11.2f} {step:10.2f} d  {name}")
    ex = ms.load_example("mitox-2y", n=50)
    print(f"{'rtol':>6s} {'mean step, days 100-181':>24s} {'rejected':>9s}")
    for rtol in (1e-4, 1e-5, 1e-6, 1e-7, 1e-8):
        backend = ms.backends.Compiled(threads=1, rtol=rtol, atol=rtol * 1e-3)
        steps = [np.asarray(ms.simulate(ex.model, ex.regimen, ex.population, backend=backend,
                                        output=ms.OutputTimes(times=(0.0, day))).steps).mean(axis=0)
                 for day in (100.0, 181.0)]
        acc, rej = steps[1] - steps[0]
        print(f"{rtol:6.0e} {81.0 / acc:21.2f} d {rej:9.2f}")


if __name__ == "__main__":
    main()
    quiet_weeks()
