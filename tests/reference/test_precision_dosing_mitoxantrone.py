"""An in-silico precision-dosing trial for mitoxantrone: the second course at the label's 12 mg/m2
for everyone, or the highest dose (5-12 mg/m2) that keeps P(CTCAE grade >= 3 of WBC or ANC) at or
below 10 % under the patient's posterior.

Virtual patients are drawn from the mitoxantrone population model; each gets course 1 (12 mg/m2
over 30 min) with WBC and ANC measured at baseline and on days 10, 21 and 84, each with the
proportional residual error of params/residual_error.toml, and a normal LVEF. Course 2 is on day 91.
Both arms are judged on the TRUE patient: grade >= 3 of WBC (< 2.0) or ANC (< 1.0) in the 91 days
after course 2, and the dose given (the guided arm trades dose for safety; the mean dose is printed).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.estimation.map import PatientModel, estimate_map, residual_sigmas
from mschemo.estimation.patient import PatientRecord
from mschemo.planning import recommend_dose
from mschemo.regimen import Dose, Regimen
from mschemo.results import ctcae_grade

DRUG = "mitoxantrone"
START = dt.date(2026, 1, 5)
COUNT_DAYS = (0.0, 10.0, 21.0, 84.0)
COURSE_D = 91.0
DOSE = 12.0
INFUSION_D = 0.5 / 24.0
N_PATIENTS = 60
SEED = 20261202


def _cohort(n: int, seed: int) -> list[tuple[PatientRecord, PatientModel, np.ndarray]]:
    drug = ms.load_drug(DRUG)
    table = drug.population_spec().sample(n, seed, drug.model).table
    rng = np.random.default_rng(seed + 1)
    sig = residual_sigmas()
    doses = pd.DataFrame([{"day": 0.0, "date": START, "amount": DOSE, "unit": "mg/m2", "duration_h": 0.5, "route": "iv"}])
    lvef = pd.DataFrame([{"day": 84.0, "date": START + dt.timedelta(days=84), "lvef_pct": 60.0}])
    empty = pd.DataFrame(columns=["day", "date", "kind", "value"])
    out = []
    for i, row in table.iterrows():
        cov = {"sex": row["sex"], "age_y": float(row["age_y"]), "height_cm": float(row["height_cm"]),
               "weight_kg": float(row["weight_kg"]), "lvef_pct": 60.0}
        pid = f"M{i + 1:03d}"
        model = PatientModel(drug, PatientRecord(pid, DRUG, cov, START, doses, empty, lvef))
        truth = np.array([row[f"ETA_{name}"] for name in model.eta_names])
        true = model.predict(truth[None, :], np.array(COUNT_DAYS))
        counts = pd.DataFrame([{"day": d, "date": START + dt.timedelta(days=int(d)), "kind": k,
                                "value": round(float(true[k][0, j] * np.exp(sig[k] * rng.standard_normal())), 2)}
                               for j, d in enumerate(COUNT_DAYS) for k in ("wbc", "anc")])
        out.append((PatientRecord(pid, DRUG, cov, START, doses, counts, lvef), model, truth))
    return out


def _true_grade3(model: PatientModel, truth: np.ndarray, amount: float) -> bool:
    doses = [Dose(0.0, DOSE, "mg/m2", duration_d=INFUSION_D)]
    if amount > 0:
        doses.append(Dose(COURSE_D, amount, "mg/m2", duration_d=INFUSION_D))
    pred = model.predict(truth[None, :], np.arange(COURSE_D, 2 * COURSE_D + 1), Regimen.from_doses(doses))
    return bool(np.any(ctcae_grade(pred["wbc"][0], "wbc") >= 3) or np.any(ctcae_grade(pred["anc"][0], "anc") >= 3))


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    rows = []
    for rec, model, truth in _cohort(N_PATIENTS, SEED):
        post = estimate_map(DRUG, rec)
        plan = recommend_dose(post, max_risk_grade3=0.10, on=START + dt.timedelta(days=int(COURSE_D)), n_draws=150, seed=1)
        # "review": no dose meets the risk limit and the plan shows the lowest for the clinician; taken as given
        guided = plan.dose if (plan.dose is not None and plan.decision in ("give", "review")) else 0.0
        rows.append({"fixed_grade3": _true_grade3(model, truth, DOSE), "guided_dose": guided,
                     "guided_grade3": _true_grade3(model, truth, guided), "decision": plan.decision,
                     "p_grade3": plan.p_grade3})
    return pd.DataFrame(rows)


def test_guided_mitoxantrone_has_fewer_grade3_events(trial):
    """The fixed 12 mg/m2 arm's true grade >= 3 share is compared with the guided arm's: guided
    dosing must cut it by at least a third and by at least 10 percentage points (60 patients:
    the SE of a difference of paired shares near 30 % is about 6 points), while at least 80 % of the
    patients still get a dose (a "review" plan, where even 5 mg/m2 exceeds the limit, is counted as
    giving that lowest dose)."""
    fixed, guided = 100 * trial["fixed_grade3"].mean(), 100 * trial["guided_grade3"].mean()
    given = trial["guided_dose"] > 0
    print(f"\nmitoxantrone precision dosing, {len(trial)} virtual patients: grade >= 3 fixed {fixed:.0f} %, "
          f"guided {guided:.0f} %; guided mean dose {trial.loc[given, 'guided_dose'].mean():.1f} mg/m2 "
          f"({given.mean():.0%} dosed); decisions {trial['decision'].value_counts().to_dict()}")
    assert guided <= fixed - 10 and guided <= fixed * 2 / 3
    assert given.mean() >= 0.8
