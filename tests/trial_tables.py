"""Synthetic per-patient and per-visit trial tables with the columns of ``mschemo.trials.schema`` (for tests).

Not a disease model: relapses are gamma-Poisson with a per-arm rate, disability progression is exponential,
counts dip after each course in treated arms and are NaN in an arm without a count model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mschemo.trials.schema import PATIENT_COLUMNS, VISIT_COLUMNS

#: default toxicity endpoints: name -> (count, lower limits of grades 1-4 of their scale)
_TOX = {"leukopenia": "wbc", "neutropenia": "anc", "lymphopenia": "alc"}

#: arm -> (annualised relapse rate, CDP hazard per year, depth of the count dip (None: no counts), dose mg/m2)
DEFAULT_ARMS: dict[str, tuple[float, float, float | None, float]] = {
    "placebo": (0.8, 0.15, None, 0.0),
    "mitoxantrone 12 mg/m2": (0.35, 0.06, 0.8, 12.0),
    "mitoxantrone 5 mg/m2": (0.55, 0.10, 0.45, 5.0),
}
#: CTCAE v5 lower limits (10^9/L) of grades 1-4 of WBC, neutrophil and lymphocyte count decrease
_LIMITS = {"wbc": (4.0, 3.0, 2.0, 1.0), "anc": (2.0, 1.5, 1.0, 0.5), "alc": (1.0, 0.8, 0.5, 0.2)}


def arrow_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas 3's default string dtype (Arrow storage, NaN as missing)."""
    dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, str) or v is None).all():
            out[c] = out[c].astype(dtype)
    return out


def _grade(value: np.ndarray, limits: tuple[float, ...]) -> np.ndarray:
    g = sum((value < lim).astype(float) for lim in limits)
    return np.where(np.isfinite(value), g, np.nan)


def make_trial(n_per_arm: int = 20, arms: dict[str, tuple[float, float, float | None, float]] | None = None, *,
               duration_d: int = 730, visit_every_d: int = 30, course_every_d: int = 91, k: float = 2.0,
               seed: int = 0, strings: str = "arrow") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(patients, visits) of a synthetic trial; ``strings='arrow'`` gives text columns pandas 3's string dtype."""
    rng = np.random.default_rng(seed)
    arms = DEFAULT_ARMS if arms is None else arms
    visit_days = np.arange(0, duration_d + 1, visit_every_d, dtype=float)
    last = visit_days[-1]
    patients, visits = [], []
    pid = 0
    for arm, (arr, cdp_rate, depth, dose) in arms.items():
        for _ in range(n_per_arm):
            pid += 1
            h, w = rng.normal(168, 9), rng.normal(72, 12)
            bsa = float(np.sqrt(h * w / 3600))
            edss0 = float(rng.choice(np.arange(0.0, 6.0, 0.5)))
            n_rel = rng.poisson(arr * rng.gamma(k, 1 / k) * duration_d / 365.25)
            rel_days = np.sort(rng.uniform(0, duration_d, n_rel))
            t_cdp = rng.exponential(365.25 / cdp_rate)
            seen = visit_days[visit_days >= t_cdp]
            cdp3 = bool(seen.size and seen[0] <= last - 90)
            cdp3_d = float(seen[0]) if cdp3 else last
            cdp6 = bool(cdp3 and cdp3_d <= last - 180 and rng.random() < 0.7)
            edss = edss0 + np.where(cdp3 & (visit_days >= cdp3_d), 1.0 if edss0 < 5.5 else 0.5, 0.0)
            for r in rel_days:   # a relapse in progress counts at the visit after it
                edss = edss + np.where((visit_days >= r) & (visit_days < r + 45), 0.5, 0.0)
            courses = int(np.ceil(duration_d / course_every_d)) if dose else 0
            if depth is None:
                counts = {c: np.full(visit_days.size, np.nan) for c in _LIMITS}
            else:
                since = np.mod(visit_days, course_every_d)
                dip = depth * rng.uniform(0.7, 1.3) * np.exp(-((since - 20) / 30) ** 2) * (visit_days > 0)
                wbc = 6.5 * (1 - np.minimum(dip, 0.95)) * rng.lognormal(0, 0.08, visit_days.size)
                counts = {"wbc": wbc, "anc": 0.6 * wbc * rng.lognormal(0, 0.1, visit_days.size),
                          "alc": 0.28 * wbc * rng.lognormal(0, 0.1, visit_days.size)}
            withheld = int(rng.binomial(courses, 0.05))
            given = courses - withheld
            mins = {c: float(np.nanmin(v)) if np.isfinite(v).any() else np.nan for c, v in counts.items()}
            row = {
                "id": pid, "arm": arm, "age_y": rng.uniform(18, 55), "sex": str(rng.choice(["F", "M"], p=[0.7, 0.3])),
                "height_cm": h, "weight_kg": w, "bsa_m2": bsa, "ms_course": "RRMS", "ms_duration_y": rng.uniform(1, 15),
                "edss_baseline": edss0, "prior_relapses_1y": int(rng.poisson(0.8) + 1),
                "prior_relapses_2y": int(rng.poisson(1.5) + 1), "screened_out_criteria": int(rng.poisson(0.5)),
                "screened_out_labs": 0, "followup_d": float(duration_d), "relapses_total": int(n_rel),
                "relapses": int(n_rel), "relapses_followup_d": float(duration_d),
                "first_relapse_event": bool(n_rel), "first_relapse_d": float(rel_days[0]) if n_rel else float(duration_d),
                "cdp3_event": cdp3, "cdp3_d": cdp3_d, "cdp6_event": cdp6, "cdp6_d": cdp3_d if cdp6 else last,
                "edss_change": float(edss[-1] - edss0),
            }
            for name, c in _TOX.items():
                g = _grade(np.array(mins[c]), _LIMITS[c]).item()
                row |= {name: (g >= 3) if np.isfinite(g) else None, f"{name}_grade": g, f"{name}_min_1e9_per_L": mins[c],
                        f"{name}_true": (g >= 3) if np.isfinite(g) else None, f"{name}_true_grade": g}
            who = (mins["wbc"] < 4.0) if np.isfinite(mins["wbc"]) else None
            row |= {"who_leukopenia": who, "who_leukopenia_grade": _grade(np.array(mins["wbc"]), _LIMITS["wbc"]).item(),
                    "who_leukopenia_min_1e9_per_L": mins["wbc"], "who_leukopenia_true": who,
                    "who_leukopenia_true_grade": _grade(np.array(mins["wbc"]), _LIMITS["wbc"]).item()}
            row |= {
                "courses_planned": courses, "courses_given": given, "courses_delayed": int(rng.binomial(given, 0.1)),
                "courses_withheld": withheld, "discontinued": bool(rng.random() < 0.05) if courses else False,
                "cumulative_dose": given * dose, "dose_unit": "mg/m2" if dose else None,
                "cumulative_dose_mg": given * dose * bsa,
            }
            patients.append(row)
            visits.append(pd.DataFrame({"id": pid, "arm": arm, "visit": np.arange(visit_days.size), "schedule": "labs",
                                        "day": visit_days, "wbc_1e9_per_L": counts["wbc"], "anc_1e9_per_L": counts["anc"],
                                        "alc_1e9_per_L": counts["alc"], "edss": edss}))
    pt = pd.DataFrame(patients, columns=list(PATIENT_COLUMNS))
    for name in (*_TOX, "who_leukopenia"):
        pt[name] = pt[name].astype("boolean")
        pt[f"{name}_true"] = pt[f"{name}_true"].astype("boolean")
    vt = pd.concat(visits, ignore_index=True)[list(VISIT_COLUMNS)]
    if strings == "arrow":
        pt, vt = arrow_strings(pt), arrow_strings(vt)
    return pt, vt
