"""An in-silico precision-dosing trial: model-guided cyclophosphamide dosing against a fixed dose.

Virtual patients are drawn from the cyclophosphamide population model (covariates and etas: the
model's inter-individual variability). Each gets cycle 1 at 800 mg/m2 over 1 h with sparse counts,
WBC and ANC at baseline (day 0, before the dose), day 10 and day 27, each with the proportional
residual error of params/residual_error.toml (Friberg 2002). Cycle 2 (day 28; a week later if the
day-27 ANC is below 1.5, the label rule) is either

* fixed: 800 mg/m2 again, or
* model-guided: estimate_map on the patient's cycle-1 counts, then recommend_dose with a WBC nadir
  target and P(CTCAE grade >= 3 of WBC or ANC) <= 10 %,

and both are judged on the TRUE patient: its simulated cycle-2 WBC nadir (days 0-28 after the dose)
in the target range, and CTCAE grade >= 3 of WBC or ANC in that window.

Why the target is WBC 3.0-4.0 x10^9/L and not the clinical 1.5-2.0: the calibrated cyclophosphamide
model (params/cyclophosphamide.toml) cannot reach 1.5-2.0 within the label's 400-1600 mg/m2: its drug
effect saturates (linear effect capped at full inhibition, parent half-life 7.4 h), so 1600 mg/m2
gives a median WBC nadir of about 3.5 x10^9/L and almost no virtual patient reaches 2.0 (see
``test_the_clinical_target_is_out_of_the_models_reach``, which fails - and says to move this trial
back to 1.5-2.0 - once a recalibrated model can reach it). A target inside the reachable range
tests what precision dosing can do: read the patient's sensitivity from sparse counts and move the
dose the right way. With 1.5-2.0 both arms score 0 % in range (benchmarks/precision_dosing.py
prints both).

The helpers here are reused by benchmarks/precision_dosing.py (more patients, MAP timing).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.estimation.map import PatientModel, estimate_map, residual_sigmas
from mschemo.estimation.patient import PatientRecord
from mschemo.planning import NadirTarget, recommend_dose
from mschemo.regimen import Dose, Regimen
from mschemo.results import ctcae_grade

DRUG = "cyclophosphamide"
START = dt.date(2026, 1, 5)
COUNT_DAYS = (0.0, 10.0, 27.0)
CYCLE_D = 28.0
DOSE = 800.0                       # mg/m2, cycle 1 and the fixed arm
INFUSION_D = 1.0 / 24.0
TRIAL_TARGET = NadirTarget(wbc=(3.0, 4.0))
CLINICAL_TARGET = NadirTarget(wbc=(1.5, 2.0))
N_PATIENTS = 100
SEED = 20261201
N_DRAWS = 100


@dataclass
class VirtualPatient:
    record: PatientRecord       # what the clinic sees: covariates, cycle-1 dose, noisy sparse counts
    model: PatientModel         # the patient under the population model
    truth: np.ndarray           # the patient's true etas


def cohort(n: int, seed: int) -> list[VirtualPatient]:
    """n patients drawn from the cyclophosphamide population model, with their cycle-1 counts."""
    drug = ms.load_drug(DRUG)
    table = drug.population_spec().sample(n, seed, drug.model).table
    rng = np.random.default_rng(seed + 1)
    sig = residual_sigmas()
    doses = pd.DataFrame([{"day": 0.0, "date": START, "amount": DOSE, "unit": "mg/m2", "duration_h": 1.0,
                           "route": "iv"}])
    no_counts = pd.DataFrame(columns=["day", "date", "kind", "value"])
    no_lvef = pd.DataFrame(columns=["day", "date", "lvef_pct"])
    out = []
    for i, row in table.iterrows():
        cov = {"sex": row["sex"], "age_y": float(row["age_y"]), "height_cm": float(row["height_cm"]),
               "weight_kg": float(row["weight_kg"])}
        pid = f"V{i + 1:03d}"
        model = PatientModel(drug, PatientRecord(pid, DRUG, cov, START, doses, no_counts, no_lvef))
        truth = np.array([row[f"ETA_{name}"] for name in model.eta_names])
        true = model.predict(truth[None, :], np.array(COUNT_DAYS))
        counts = pd.DataFrame([{"day": d, "date": START + dt.timedelta(days=int(d)), "kind": k,
                                "value": round(float(true[k][0, j] * np.exp(sig[k] * rng.standard_normal())), 2)}
                               for j, d in enumerate(COUNT_DAYS) for k in ("wbc", "anc")])
        out.append(VirtualPatient(PatientRecord(pid, DRUG, cov, START, doses, counts, no_lvef), model, truth))
    return out


def true_cycle2(p: VirtualPatient, day: float, amount: float) -> tuple[float, float]:
    """The true patient's lowest WBC and ANC in the 28 days after a cycle-2 dose (0: no dose)."""
    doses = [Dose(0.0, DOSE, "mg/m2", duration_d=INFUSION_D)]
    if amount > 0:
        doses.append(Dose(day, amount, "mg/m2", duration_d=INFUSION_D))
    pred = p.model.predict(p.truth[None, :], np.arange(day, day + CYCLE_D + 1), Regimen.from_doses(doses))
    return float(pred["wbc"][0].min()), float(pred["anc"][0].min())


def _grade3(wbc: float, anc: float) -> bool:
    return bool(ctcae_grade(np.array([wbc]), "wbc")[0] >= 3 or ctcae_grade(np.array([anc]), "anc")[0] >= 3)


def run_trial(patients: list[VirtualPatient], target: NadirTarget, *, max_risk: float = 0.10,
              n_draws: int = N_DRAWS) -> pd.DataFrame:
    """One row per patient: the fixed and the guided arm's cycle-2 dose and true outcome, the MAP time."""
    rows = []
    for p in patients:
        anc27 = float(p.record.counts.query("kind == 'anc' and day == 27")["value"].iloc[0])
        fixed_day = CYCLE_D if anc27 >= 1.5 else CYCLE_D + 7        # the label's ANC rule, a week's delay
        fw, fa = true_cycle2(p, fixed_day, DOSE)
        t0 = time.perf_counter()
        post = estimate_map(DRUG, p.record)
        map_s = time.perf_counter() - t0
        plan = recommend_dose(post, target=target, max_risk_grade3=max_risk, on=START + dt.timedelta(days=CYCLE_D),
                              n_draws=n_draws, seed=1)
        g_day = plan.day if plan.dose is not None else CYCLE_D
        gw, ga = true_cycle2(p, g_day, plan.dose or 0.0)
        rows.append({"id": p.record.id, "fixed_dose": DOSE, "fixed_nadir_wbc": fw, "fixed_nadir_anc": fa,
                     "fixed_in_range": bool(target.contains(fw)), "fixed_grade3": _grade3(fw, fa),
                     "decision": plan.decision, "guided_dose": plan.dose if plan.dose is not None else 0.0,
                     "guided_day": g_day, "guided_nadir_wbc": gw, "guided_nadir_anc": ga,
                     "guided_in_range": bool(target.contains(gw)), "guided_grade3": _grade3(gw, ga),
                     "predicted_p_target": plan.p_target, "predicted_p_grade3": plan.p_grade3, "map_s": map_s})
    return pd.DataFrame(rows)


def summary(df: pd.DataFrame, target: NadirTarget) -> pd.DataFrame:
    """Fixed vs guided: % in range, % grade >= 3, median nadir, median distance to the range's middle."""
    mid = np.sqrt(target.low * target.high)
    out = []
    for arm in ("fixed", "guided"):
        w = df[f"{arm}_nadir_wbc"]
        out.append({"arm": arm, "patients": len(df), "in_range_pct": 100 * df[f"{arm}_in_range"].mean(),
                    "grade3_pct": 100 * df[f"{arm}_grade3"].mean(), "median_nadir_wbc": float(w.median()),
                    "median_abs_log_error": float(np.median(np.abs(np.log(w / mid)))),
                    "median_dose_mg_m2": float(df[f"{arm}_dose"].median())})
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def patients() -> list[VirtualPatient]:
    return cohort(N_PATIENTS, SEED)


@pytest.fixture(scope="module")
def trial(patients) -> pd.DataFrame:
    return run_trial(patients, TRIAL_TARGET)


def test_guided_dosing_hits_the_target_more_often_without_more_grade3(trial):
    """Model-guided cycle 2 puts the true WBC nadir in the target range at least 15 percentage
    points more often than the fixed 800 mg/m2 (with 100 patients the SE of a difference of two
    shares near 25-45 % is about 7 points for independent arms, less here since the arms are the same
    patients), brings the median nadir closer to the range's middle, and has no more grade >= 3
    events (WBC < 2.0 or ANC < 1.0)."""
    s = summary(trial, TRIAL_TARGET).set_index("arm")
    print(f"\nprecision-dosing trial, {len(trial)} virtual patients, target {TRIAL_TARGET}:")
    print(s.round(2).to_string())
    print("guided doses (mg/m2):", trial["guided_dose"].value_counts().sort_index().to_dict())
    assert s.loc["guided", "in_range_pct"] >= s.loc["fixed", "in_range_pct"] + 15
    assert s.loc["guided", "median_abs_log_error"] < s.loc["fixed", "median_abs_log_error"]
    assert trial["guided_grade3"].sum() <= trial["fixed_grade3"].sum()
    assert set(trial["decision"]) <= {"give", "delay", "withhold"}


def test_guided_doses_stay_within_the_label_range_and_move_both_ways(trial):
    given = trial.loc[trial["guided_dose"] > 0, "guided_dose"]
    assert given.between(400, 1600).all()
    assert (given < DOSE).any() and (given > DOSE).any()          # some reduced, some raised


def test_the_clinical_target_is_out_of_the_models_reach(patients):
    """Why the trial above aims at 3.0-4.0: at the label's highest dose (1600 mg/m2) fewer than 10 %
    of these virtual patients reach a true WBC nadir of 2.0 or less. If a recalibrated model reaches
    1.5-2.0, this fails: then set TRIAL_TARGET = CLINICAL_TARGET."""
    nadirs = np.array([true_cycle2(p, CYCLE_D, 1600.0)[0] for p in patients])
    reached = float(np.mean(nadirs <= CLINICAL_TARGET.high))
    print(f"\nWBC nadir at 1600 mg/m2: median {np.median(nadirs):.2f}, share <= 2.0: {reached:.0%}")
    assert reached < 0.10
