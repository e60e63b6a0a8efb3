"""Calibrate the relapse history of a cohort: the unselected rate and the pre-entry activity.

    python calibration/calibrate_cohort_activity.py [--write]

A patient's relapses before entry are Poisson with mean PRE_ENTRY_ACTIVITY * ARR_UNSELECTED * Z * T
(frailty Z ~ Gamma(1/k, k), window T before entry, the rate at the window's middle), and on study the
rate is ARR_UNSELECTED * Z. AFFIRM selected patients with at least one relapse in the year before
entry; their mean count in that year was 1.52 (Butzkueven H et al. 2014, J Neurol Neurosurg
Psychiatry, Table 1) and the placebo arm's relapse rate in year 1 was 0.70 (ARR_REF, Polman 2006).
For the typical patient (reference duration, the reference sex mix) both are closed forms of the
negative binomial:

    E[N | N >= 1] = m / (1 - p0),                 p0 = (1 + k m)^(-1/k),  m = A * ARR_UNSELECTED * T * d
    E[Z | N >= 1] = (1 - (1 + k m)^(-1/k - 1)) / (1 - p0),   ARR_REF = ARR_UNSELECTED * E[Z | N >= 1]

(d = exp(-DURATION_SLOPE * T/2), the higher rate half a year earlier in the disease). The first fixes
m, the second ARR_UNSELECTED, and A = m / (ARR_UNSELECTED * T * d). With --write both values go into
src/mschemo/params/ms_relapses.toml.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

from scipy.optimize import brentq

import mschemo as ms
from mschemo.disease.relapses import RelapseModel

AFFIRM_PRIOR_MEAN = 1.52     # relapses in the year before entry, all >= 1 (Butzkueven 2014 Table 1)
WINDOW_Y = 1.0


def solve(model: RelapseModel, prior_mean: float = AFFIRM_PRIOR_MEAN, window_y: float = WINDOW_Y) -> tuple[float, float]:
    """(ARR_UNSELECTED per year, PRE_ENTRY_ACTIVITY) for the reference cohort."""
    k = model.frailty_k
    slope_y = model.duration_slope * 365.25

    def p0(m: float, extra: float = 0.0) -> float:
        return (1.0 + k * m) ** (-1.0 / k - extra)

    m = brentq(lambda m: m / (1.0 - p0(m)) - prior_mean, 1e-6, 50.0, xtol=1e-12)
    z_selected = (1.0 - p0(m, 1.0)) / (1.0 - p0(m))
    arr_ref_y = model.arr_ref * 365.25
    unselected = arr_ref_y / z_selected
    activity = m / (unselected * window_y * math.exp(-slope_y * window_y / 2.0))
    return unselected, activity


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    model = RelapseModel.load()
    unselected, activity = solve(model)
    print(f"ARR_UNSELECTED = {unselected:.4f} /year, PRE_ENTRY_ACTIVITY = {activity:.4f}")
    if a.write:
        path = Path(ms.params.PARAMS_DIR) / "ms_relapses.toml"
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"(\[parameters\.ARR_UNSELECTED\]\nvalue = )[^\n]*", rf"\g<1>{unselected:.4f}", text)
        text = re.sub(r"(\[parameters\.PRE_ENTRY_ACTIVITY\]\nvalue = )[^\n]*", rf"\g<1>{activity:.4f}", text)
        path.write_text(text, encoding="utf-8")
        print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
