"""Calibrate the lymphocyte link of the relapse rate to CLARITY's cladribine effect.

    python calibration/calibrate_relapse_link.py [--n 2000] [--seed 20261125] [--write]

The relapse rate is multiplied by (ALC/ALC0)^beta. The cladribine label (tablets by weight band,
with its lymphocyte rules) is simulated for 96 weeks; relapses are drawn with and without the link
from the same random streams (common random numbers), and beta is solved so that their ratio is
CLARITY's 0.14/0.33 (3.5 mg/kg vs placebo; Giovannoni 2010). With --write the value goes into
src/mschemo/params/ms_relapses.toml (ALC_LINK_EXPONENT).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from scipy.optimize import brentq

import mschemo as ms
from mschemo.disease.relapses import lymphocyte_multiplier, simulate_relapses

CLARITY_RATIO = 0.14 / 0.33
WEEKS_96 = 96 * 7.0


def rate_ratio(drug: str, n: int, seed: int, until_d: float):
    """beta -> relapses with the link / relapses without it, on one seeded cohort."""
    res = ms.load_drug(drug).simulate(n, seed=seed, until=f"{until_d} days")
    pop = ms.Population(res.patients)
    base = len(simulate_relapses(pop, until_d, seed))
    return lambda beta: len(simulate_relapses(pop, until_d, seed, multiplier=lymphocyte_multiplier(res, beta))) / base


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    f = rate_ratio("cladribine", a.n, a.seed, WEEKS_96)
    beta = brentq(lambda b: f(b) - CLARITY_RATIO, 0.5, 5.0, xtol=1e-4)
    print(f"ALC_LINK_EXPONENT = {beta:.4g}: cladribine/untreated relapse ratio {f(beta):.4f} (CLARITY {CLARITY_RATIO:.4f})")
    if a.write:
        path = Path(ms.params.PARAMS_DIR) / "ms_relapses.toml"
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"(\[parameters\.ALC_LINK_EXPONENT\]\nvalue = )[^\n]*", rf"\g<1>{beta:.4g}", text)
        path.write_text(text, encoding="utf-8")
        print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
