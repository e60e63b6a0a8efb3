"""Derive 3-compartment mitoxantrone PK parameters (per m2) from Alberts et al. 1985.

Source: Alberts DS, Peng YM, Leigh S, Davis TP, Woodward DL. Disposition of mitoxantrone in cancer
patients. Cancer Res 1985;45:1879-1884 (12 mg/m2 IV over 30-35 min, n = 8): t1/2 alpha 0.1 h,
beta 1.1 h, gamma 42.6 h; Vc 12.2 L/m2; Vd 1875 L/m2; plasma CL 0.57 L/min/m2 (= 34.2 L/h/m2).

Method. Mammillary 3-compartment model with micro-constants k10 = CL/V1, k12 = Q2/V1, k21 = Q2/V2,
k13 = Q3/V1, k31 = Q3/V3. Its rate matrix has the eigenvalues -lambda_i (lambda_i = ln 2 / t1/2_i),
and the characteristic polynomial gives three equations (Vieta):

    k10 + k12 + k13 + k21 + k31                      = l1 + l2 + l3
    k10*(k21 + k31) + k12*k31 + k13*k21 + k21*k31    = l1*l2 + l1*l3 + l2*l3
    k10*k21*k31                                      = l1*l2*l3

With V1 and CL fixed (so k10 fixed) there are four unknowns (k12, k21, k13, k31) and three
equations: the half-lives alone UNDER-determine the model by one degree of freedom (the
tri-exponential coefficients, which would fix it, are not in the abstract). For each trial k21
the equations give k31 = l1*l2*l3 / (k10*k21) and two linear equations for k12 and k13, so the
solutions form a one-parameter family that reproduces the three half-lives exactly.

Which volume is the reported Vd = 1875 L/m2? Not Vz: Vz = CL/lambda_z = 34.2 * 42.6 / ln 2 =
2102 L/m2 is fixed by CL and the gamma half-life alone. Not Vss either: along the family
Vss = V1 * (1 + k12/k21 + k13/k31) stays below ~1260 L/m2 (reached only where Q2 -> 0, i.e. the
beta phase vanishes), so no member has Vss = 1875. Adding Vss = 1875 as a fourth equation makes the
system over-determined; its least-squares solution on log half-lives and log Vss is degenerate
(Q3 -> 0) and misses the gamma half-life by ~18 %, so we do not use it. The most consistent
reading is that 1875 L/m2 is an area volume (Vz = Dose/(AUC * lambda_z)) averaged over the eight
patients; a mean of per-patient ratios differs from the ratio of the mean CL and mean half-life
(2102 L/m2) by the 11 % seen here.

The fourth condition therefore comes from the label: Vss > 1000 L/m2 (Novantrone PI, pkpd_facts
2a). The family allows Vss in [1000, Vss_max]; we take the midpoint of that window. CL, V1 and the
three half-lives are reproduced exactly (misfit printed, zero to rounding).

IIV of CL. Two data sets give a range, not an SD:
  * Novantrone US PI, special populations: CL 16.2-28.3 L/h/m2. These are the MEANS of three
    studies (lymphoma, elderly breast cancer, nasopharyngeal cancer), so their spread is a lower
    bound on between-patient variability: read as +/-1.96 SD, omega >= ln(28/16)/3.92.
  * AML patients, 10 mg/m2 over 30 min, n = 18 (PMID 8127148): AUCinf 80-1030 ng*h/mL. With the
    dose per m2 fixed, AUC = dose/CL, so SD(ln AUC) = SD(ln CL per m2). The expected range of 18
    normal draws is d2(18) = 3.640 SD, so omega = ln(1030/80)/3.640. This also holds assay and
    AUC-extrapolation error and leukaemic organ dysfunction, so it is an upper bound for MS.
  The chosen omega is the midpoint of the two bounds (an assumption, stated as such in the TOML).

Run: python calibration/derive_mitoxantrone_pk.py   (prints; writes nothing). The values are copied
by hand into src/mschemo/params/mitoxantrone.toml.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

LN2 = math.log(2.0)

# Alberts et al. 1985 (per m2 body-surface area)
T_HALF_H = np.array([0.1, 1.1, 42.6])  # alpha, beta, gamma
V1 = 12.2  # L/m2 (Vc)
CL = 0.57 * 60.0  # L/h/m2 (0.57 L/min/m2)
VD_REPORTED = 1875.0  # L/m2
REFERENCE_BSA = 1.8  # m2, the typical adult used for the TOML's typical values

LAM = LN2 / T_HALF_H  # 1/h
K10 = CL / V1


def micro_constants(k21: float) -> tuple[float, float, float, float]:
    """(k12, k21, k13, k31) that reproduce the three half-lives for a given k21 (the free parameter)."""
    s1 = LAM.sum() - K10                                            # k12 + k13 + k21 + k31
    s2 = LAM[0] * LAM[1] + LAM[0] * LAM[2] + LAM[1] * LAM[2]
    k31 = LAM.prod() / (K10 * k21)
    # k12 + k13 = s1 - k21 - k31 ;  k31*k12 + k21*k13 = s2 - k10*(k21 + k31) - k21*k31
    a = np.array([[1.0, 1.0], [k31, k21]])
    b = np.array([s1 - k21 - k31, s2 - K10 * (k21 + k31) - k21 * k31])
    k12, k13 = np.linalg.solve(a, b)
    return k12, k21, k13, k31


def to_clearances(k12: float, k21: float, k13: float, k31: float) -> dict[str, float]:
    q2, q3 = k12 * V1, k13 * V1
    return {"CL": CL, "V1": V1, "Q2": q2, "V2": q2 / k21, "Q3": q3, "V3": q3 / k31}


def rate_matrix(p: dict[str, float]) -> np.ndarray:
    """dA/dt = K A (1/h), compartments central, shallow, deep."""
    k10, k12, k13 = p["CL"] / p["V1"], p["Q2"] / p["V1"], p["Q3"] / p["V1"]
    k21, k31 = p["Q2"] / p["V2"], p["Q3"] / p["V3"]
    return np.array([[-(k10 + k12 + k13), k21, k31], [k12, -k21, 0.0], [k13, 0.0, -k31]])


def half_lives(p: dict[str, float]) -> np.ndarray:
    lam = np.sort(-np.linalg.eigvals(rate_matrix(p)).real)[::-1]
    return LN2 / lam


def vss(p: dict[str, float]) -> float:
    return p["V1"] + p["V2"] + p["V3"]


def feasible_k21_interval() -> tuple[float, float]:
    """k21 values (shallow exit rate, between the gamma and alpha rates) with k12, k13 > 0."""
    grid = np.geomspace(LAM[2] * 1.0001, LAM[0] * 0.9999, 20001)
    ok = [k for k in grid if min(micro_constants(k)) > 0 and k > LAM.prod() / (K10 * k)]  # k21 > k31: 2 = shallow
    return min(ok), max(ok)


def main() -> None:
    halves = ", ".join(f"{t:g}" for t in T_HALF_H)
    print(f"Alberts 1985 inputs (per m2): t1/2 = {halves} h, V1 = {V1:.1f} L, CL = {CL:.1f} L/h, Vd = {VD_REPORTED:.0f} L")
    lo, hi = feasible_k21_interval()
    ks = np.geomspace(lo, hi, 4001)
    fam = np.array([vss(to_clearances(*micro_constants(k))) for k in ks])
    vss_max = fam.max()
    print(f"half-lives + V1 + CL leave one free parameter: feasible k21 {lo:.4f}-{hi:.4f} 1/h, "
          f"Vss over that family {fam.min():.0f}-{vss_max:.0f} L/m2 (max where Q2 -> 0)")
    vz = CL / LAM[2]
    print(f"Vz = CL/lambda_z = {vz:.0f} L/m2 (model-independent): the reported {VD_REPORTED:.0f} L/m2 is "
          f"{100 * (VD_REPORTED / vz - 1):+.1f} % from it and above every attainable Vss, so it is read as a "
          "patient-averaged area volume Vz, not Vss")

    vss_target = 0.5 * (1000.0 + vss_max)  # label: Vss > 1000 L/m2; midpoint of the attainable window
    i = int(np.argmax(fam))
    k21 = brentq(lambda k: vss(to_clearances(*micro_constants(k))) - vss_target, ks[i], hi, xtol=1e-14)
    p = to_clearances(*micro_constants(k21))
    print(f"fourth condition: Vss = midpoint of [1000 (label lower bound), {vss_max:.0f}] = {vss_target:.0f} L/m2")

    print("\nDerived parameters (V1, CL fixed; 3 half-lives + Vss: 4 equations, 4 unknowns, exact)")
    print(f"{'':4}{'per m2':>12}{'x 1.8 m2':>12}")
    for name, unit in (("CL", "L/h"), ("V1", "L"), ("Q2", "L/h"), ("V2", "L"), ("Q3", "L/h"), ("V3", "L")):
        print(f"{name:4}{p[name]:12.4g}{p[name] * REFERENCE_BSA:12.4g}  {unit}")

    # the TOML holds the 1.8 m2 values rounded to 4 significant figures: check that rounding keeps the fit
    rounded = {k: float(f"{v * REFERENCE_BSA:.4g}") / REFERENCE_BSA for k, v in p.items()}
    for label, q in (("exact", p), ("rounded as in TOML", rounded)):
        th = half_lives(q)
        misfit = np.sqrt(np.mean(np.log(th / T_HALF_H) ** 2))
        print(f"{label:>20}: t1/2 = {th[0]:.4f}, {th[1]:.4f}, {th[2]:.3f} h; RMS misfit on ln t1/2 = {misfit:.1e}; "
              f"Vss = {vss(q):.0f} L/m2; Vz = {q['CL'] * th[2] / LN2:.0f} L/m2 (reported Vd {VD_REPORTED:.0f})")
    print(f"AUC per mg/m2 = 1/CL = {1 / CL:.5f} mg*h/L ({1000 / CL:.2f} ng*h/mL); "
          f"12 mg/m2 -> {12000 / CL:.0f} ng*h/mL; 10 mg/m2 -> {10000 / CL:.0f} ng*h/mL "
          f"(AML n = 18: geometric mean of 80-1030 = {math.sqrt(80 * 1030):.0f})")

    print("\nIIV of CL (log-normal, omega = SD of eta)")
    omega_label = math.log(28.0 / 16.0) / (2 * 1.96)
    d2_18 = 3.640  # expected range of 18 standard-normal draws (tables of d2, n = 18)
    omega_aml = math.log(1030.0 / 80.0) / d2_18
    omega = 0.5 * (omega_label + omega_aml)
    for label, w in (("label 16-28 L/h/m2 (study means; lower bound)", omega_label),
                     ("AML AUC 80-1030 ng*h/mL, n = 18 (upper bound)", omega_aml),
                     ("chosen: midpoint of the bounds", omega)):
        print(f"{label:>48}: omega = {w:.3f} (CV = {100 * math.sqrt(math.expm1(w * w)):.0f} %)")
    print(f"{'':>48}  90 % of patients within CL x {math.exp(-1.645 * omega):.2f} - x {math.exp(1.645 * omega):.2f}")


if __name__ == "__main__":
    main()
