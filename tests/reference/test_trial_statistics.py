"""Trial statistics (mschemo.trials.outcomes) on data with known answers.

Relapse counts are gamma-Poisson (= negative binomial NB2 with alpha = 1/k) with a known rate ratio;
times to event are exponential with a known hazard ratio; shares and means are counted by hand.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mschemo.errors import InputError, OptionError
from mschemo.trials import outcomes as oc
from trial_tables import make_trial

DAYS = 365.25


def nb_trial(rng: np.random.Generator, n: int, ratios: dict[str, float], *, base: float = 0.6, k: float = 1.5,
             poisson: bool = False) -> pd.DataFrame:
    """Patients with follow-up U(1, 3) y and relapses ~ Poisson(u * base * ratio * years), u ~ Gamma(k, 1/k)."""
    arm = np.repeat(list(ratios), n)
    years = rng.uniform(1.0, 3.0, arm.size)
    mu = base * np.array([ratios[a] for a in arm]) * years
    lam = mu if poisson else mu * rng.gamma(k, 1.0 / k, arm.size)
    return pd.DataFrame({"arm": arm, "relapses": rng.poisson(lam), "followup_d": years * DAYS})


def exp_trial(rng: np.random.Generator, n: int, hazards: dict[str, float], end_y: float = 3.0) -> pd.DataFrame:
    """Exponential times (hazard per year) with administrative censoring at ``end_y`` years, in days."""
    arm = np.repeat(list(hazards), n)
    t = rng.exponential(1.0 / np.array([hazards[a] for a in arm]))
    return pd.DataFrame({"arm": arm, "t_d": np.minimum(t, end_y) * DAYS, "event": t < end_y})


def test_negative_binomial_recovers_rate_ratio_and_dispersion():
    """Truth: ARR 0.6 (reference), rate ratio 0.5, alpha = 1/k = 0.667; 3000 patients per arm.

    The SE of log(rate ratio) is about 0.037 here, so 0.15 on the log scale is 4 SE; the crude ARR is
    relapses / patient-years exactly; the dispersion's SE is about 0.04, so 0.15 absolute is > 3 SE.
    """
    rng = np.random.default_rng(11)
    d = nb_trial(rng, 3000, {"control": 1.0, "treated": 0.5})
    r = oc.relapse_rate(d, "control").set_index("arm")
    t = r.loc["treated"]
    assert abs(np.log(t.rate_ratio / 0.5)) < 0.15
    assert t.rr_low < 0.5 < t.rr_high and t.p < 1e-6
    assert abs(r.loc["control", "alpha"] - 1 / 1.5) < 0.15
    assert abs(r.loc["control", "arr_model"] - 0.6) < 0.05
    treated = d[d.arm == "treated"]
    assert t.arr_crude == pytest.approx(treated.relapses.sum() / (treated.followup_d.sum() / DAYS), rel=1e-12)
    assert r.loc["control", "rate_ratio"] == 1.0 and np.isnan(r.loc["control", "p"])


def test_negative_binomial_ci_coverage_over_seeds():
    """Truth: rate ratio 0.5 (arm B) and 1.0 (arm C) vs A, k = 1.5; 200 seeds x 3 arms x 200 patients.

    Each nominal 95 % Wald CI should cover its true ratio in ~95 % of seeds: with 200 seeds the binomial
    SD is 1.5 points; a calibrated CI falls outside 0.90-0.99 with probability 0.0016 (binomial). The mean log rate ratio over seeds (SE of
    one estimate ~0.15, of the mean ~0.011) must be within 0.04 of log 0.5 (about 3.5 SE: no bias).
    """
    truth = {"A": 1.0, "B": 0.5, "C": 1.0}
    est, cover = [], {"B": 0, "C": 0}
    seeds = 200
    for seed in range(seeds):
        r = oc.relapse_rate(nb_trial(np.random.default_rng(seed), 200, truth), "A").set_index("arm")
        for arm in cover:
            cover[arm] += r.loc[arm, "rr_low"] <= truth[arm] <= r.loc[arm, "rr_high"]
        est.append(np.log(r.loc["B", "rate_ratio"]))
    for arm, hits in cover.items():
        assert 0.90 <= hits / seeds <= 0.99, (arm, hits)
    assert abs(np.mean(est) - np.log(0.5)) < 0.04


def _poisson_score(d: pd.DataFrame, reference: str) -> float:
    """The overdispersion score at a Poisson fit made here, independently of relapse_rate."""
    import statsmodels.api as sm

    exog = np.column_stack([np.ones(len(d)), (d["arm"] != reference).to_numpy(float)])
    off = np.log(d["followup_d"].to_numpy() / DAYS)
    fit = sm.GLM(d["relapses"].to_numpy(float), exog, family=sm.families.Poisson(), offset=off).fit()
    mu = fit.predict(exog, offset=off)
    return float(0.5 * np.sum((d["relapses"].to_numpy(float) - mu) ** 2 - d["relapses"].to_numpy(float)))


@pytest.mark.parametrize("seed", [5, 6])
def test_negative_binomial_on_poisson_counts(seed: int):
    """Truth: Poisson counts (alpha = 0), rate ratio 0.5; 1500 patients per arm. Whether the dispersion is
    identified is decided from the data: the Poisson model is fitted exactly when the overdispersion score
    (Cameron & Trivedi 1986) at a Poisson fit is <= 0 (computed here with a GLM, apart from relapse_rate).
    Either way the ratio's CI covers 0.5 (fixed seeds), alpha < 0.05, and no warning."""
    d = nb_trial(np.random.default_rng(seed), 1500, {"A": 1.0, "B": 0.5}, poisson=True)
    r = oc.relapse_rate(d, "A").set_index("arm")
    assert r.loc["B", "rr_low"] < 0.5 < r.loc["B", "rr_high"]
    assert r.loc["A", "alpha"] < 0.05
    assert ("Poisson model" in r.loc["B", "note"]) == (_poisson_score(d, "A") <= 0)


def test_poisson_fallback_when_counts_are_underdispersed():
    """Truth: binomial counts (variance below the mean, so no NB2 dispersion can be fitted), rate ratio 0.5,
    2000 patients per arm, 2 years each. The Poisson model is fitted (noted, alpha exactly 0) and its CI
    covers 0.5; with overdispersed counts of the same means (gamma frailty, k = 1.5) NB2 is kept."""
    rng = np.random.default_rng(11)
    arm = np.repeat(["A", "B"], 2000)
    p = np.where(arm == "A", 0.4, 0.2)                   # 2 trials: mean 0.8 vs 0.4, ratio 0.5
    under = pd.DataFrame({"arm": arm, "relapses": rng.binomial(2, p), "followup_d": 2 * DAYS})
    assert oc.overdispersion_score(under["relapses"], 2 * p) < 0
    r = oc.relapse_rate(under, "A").set_index("arm")
    assert "Poisson model" in r.loc["B", "note"] and r.loc["A", "alpha"] == 0.0
    assert r.loc["B", "rr_low"] < 0.5 < r.loc["B", "rr_high"]
    over = under.assign(relapses=rng.poisson(2 * p * rng.gamma(1.5, 1 / 1.5, arm.size)))
    r = oc.relapse_rate(over, "A").set_index("arm")
    assert "Poisson" not in r.loc["B", "note"] and 0.3 < r.loc["A", "alpha"] < 1.2


def test_cox_hazard_ratio_and_km_median():
    """Truth: hazards 0.35/y (control) and 0.21/y (HR 0.6), censoring at 3 y, 1500 patients per arm.

    The Cox 95 % CI must cover 0.6 (fixed seed), and log HR be within 0.15 of log 0.6 (its SE is ~0.05
    with ~1400 events, so 3 SE). The KM median of the control arm must be close to ln 2 / 0.35 y = 723 d:
    its CI covers it and it is within 8 % (SE of the median ~ median / sqrt(events) ~ 3 %).
    """
    d = exp_trial(np.random.default_rng(2), 1500, {"control": 0.35, "treated": 0.21})
    r = oc.time_to_event(d, "control", "t_d", "event").set_index("arm")
    t, c = r.loc["treated"], r.loc["control"]
    assert t.hr_low < 0.6 < t.hr_high and abs(np.log(t.hr / 0.6)) < 0.15 and t.p < 1e-6
    median = np.log(2) / 0.35 * DAYS
    assert c.median_low < median < c.median_high
    assert abs(c["median"] / median - 1) < 0.08
    # the event-free share at the end: exp(-0.35 * 3) = 0.35, within its CI (fixed seed)
    assert c.event_free_low < np.exp(-0.35 * 3) < c.event_free_high and c.t_end == pytest.approx(3 * DAYS)
    assert c.hr == 1.0 and t.events == d[(d.arm == "treated")].event.sum()


def test_cox_ci_coverage_over_seeds():
    """Truth: HR 0.6 (arm B) and 1.0 (arm C) vs A (hazard 0.5/y, 2-y censoring); 30 seeds x 3 arms x 100.

    60 nominal 95 % CIs (few: lifelines' fits take ~0.1 s): expected 57 covering; a calibrated CI gives
    fewer than 51 with probability 0.0007 (binomial), and fewer than 25 of 30 in one arm with 0.003."""
    truth = {"A": 1.0, "B": 0.6, "C": 1.0}
    cover = {"B": 0, "C": 0}
    for seed in range(30):
        d = exp_trial(np.random.default_rng(1000 + seed), 100, {a: 0.5 * h for a, h in truth.items()}, end_y=2.0)
        r = oc.time_to_event(d, "A", "t_d", "event").set_index("arm")
        for arm in cover:
            cover[arm] += r.loc[arm, "hr_low"] <= truth[arm] <= r.loc[arm, "hr_high"]
    assert sum(cover.values()) >= 51 and min(cover.values()) >= 25, cover


def test_no_events_and_all_events_give_nan_with_a_note():
    """Truth: arm B has no events/relapses, arm C all events. Their ratios' MLEs are 0 or undefined: the
    functions return NaN with a note (no exception, no warning: pytest turns warnings into errors)."""
    rng = np.random.default_rng(3)
    d = exp_trial(rng, 40, {"A": 0.5, "B": 0.5, "C": 0.5})
    d.loc[d.arm == "B", "event"] = False
    d.loc[d.arm == "C", ["event", "t_d"]] = [True, 100.0]
    r = oc.time_to_event(d, "A", "t_d", "event").set_index("arm")
    assert np.isnan(r.loc["B", "hr"]) and r.loc["B", "note"] == r.loc["B", "hr_note"] == "no events"
    assert r.loc["B", "event_free"] == 1.0 and np.isnan(r.loc["B", "event_free_low"])
    assert r.loc["C", "event_free"] == 0.0 and "all patients" in r.loc["C", "note"]
    r = oc.time_to_event(d, "B", "t_d", "event").set_index("arm")
    assert r[["hr_low", "hr_high", "p"]].isna().all().all() and "reference arm" in r.loc["A", "hr_note"]
    assert r.loc["A", "note"] == "" and np.isfinite(r.loc["A", "median"])

    n = nb_trial(rng, 50, {"A": 1.0, "B": 0.5, "C": 1.0})
    n.loc[n.arm == "B", "relapses"] = 0
    n.loc[n.arm == "C", "relapses"] = np.nan   # e.g. an arm simulated without the disease model
    r = oc.relapse_rate(n, "A").set_index("arm")
    assert np.isnan(r.loc["B", "rate_ratio"]) and r.loc["B", "note"] == "no relapses"
    assert r.loc["C", "patients"] == 0 and np.isnan(r.loc["C", "relapses"])
    assert np.isfinite(r.loc["A", "arr_model"])
    r = oc.relapse_rate(n, "B").set_index("arm")
    assert np.isnan(r.loc["A", "rate_ratio"]) and np.isfinite(r.loc["A", "arr_model"])


def test_toxicity_dosing_disability_count_by_hand():
    """Truth: grades and flags set by hand; shares, means and SDs are exact (to rounding)."""
    from mschemo.trials.spec import Endpoint

    d = pd.DataFrame({
        "arm": ["x", "x", "x", "x", "p", "p"],
        "neutropenia": pd.array([False, False, True, True, None, None], dtype="boolean"),
        "neutropenia_true": pd.array([False, True, True, True, None, None], dtype="boolean"),
        "who": pd.array([False, True, True, True, None, None], dtype="boolean"),
        "who_true": pd.array([True, True, True, True, None, None], dtype="boolean"),
        "courses_planned": [4, 4, 4, 4, 0, 0], "courses_given": [4, 3, 4, 2, 0, 0], "courses_delayed": [0, 1, 2, 0, 0, 0],
        "courses_withheld": [0, 1, 0, 2, 0, 0], "discontinued": [False, False, False, True, False, False],
        "cumulative_dose": [48.0, 36.0, 48.0, 24.0, 0.0, 0.0], "dose_unit": ["mg/m2"] * 4 + [None, None],
        "cumulative_dose_mg": [96.0, 72.0, 90.0, 40.0, 0.0, 0.0],
        "edss_baseline": [2.0, 3.0, 4.0, 3.0, 2.0, 2.0], "edss_change": [0.0, 0.5, 1.0, -0.5, 1.0, 0.0],
        "first_relapse_event": [False, True, False, False, True, True]})
    eps = [Endpoint(name="neutropenia", kind="toxicity", count="anc", schedule="labs"),
           Endpoint(name="who", kind="toxicity", count="wbc", scale="who", grade=1, schedule="labs"),
           Endpoint(name="first_relapse", kind="time_to_relapse"), Endpoint(name="edss_change", kind="edss_change")]
    tox = oc.toxicity(d, eps).set_index(["arm", "endpoint", "basis"])
    assert tox.loc[("x", "neutropenia", "visits"), "share"] == 0.5
    assert tox.loc[("x", "neutropenia", "true nadir"), "share"] == 0.75
    assert tox.loc[("x", "who", "visits"), "share"] == 0.75 and tox.loc[("x", "who", "true nadir"), "share"] == 1.0
    assert tox.loc[("x", "who", "visits"), "scale"] == "WHO (Miller 1981)" and tox.loc["p"]["share"].isna().all()
    dose = oc.dosing(d).set_index("arm")
    assert dose.loc["x", "courses_given"] == 3.25 and dose.loc["x", "courses_withheld"] == 0.75
    assert dose.loc["x", "discontinued"] == 0.25 and dose.loc["x", "cumulative_dose_mean"] == 39.0
    assert dose.loc["x", "cumulative_dose_sd"] == pytest.approx(np.std([48, 36, 48, 24], ddof=1))
    assert dose.loc["x", "dose_unit"] == "mg/m2" and dose.loc["x", "cumulative_dose_mg_mean"] == 74.5
    dis = oc.disability(d, eps).set_index("arm")
    assert dis.loc["x", "edss_change_mean"] == 0.25 and dis.loc["x", "relapse_free"] == 0.75
    assert dis.loc["x", "edss_change_low"] < 0.25 < dis.loc["x", "edss_change_high"]
    assert dis.loc["p", "relapse_free"] == 0.0


@pytest.mark.parametrize("strings", ["arrow", "object", "categorical"])
def test_outcome_table_on_a_three_arm_trial(strings: str):
    """Truth: the synthetic 3-arm trial of tests/trial_tables.py (placebo without counts). The table has
    every outcome for every arm, ratios of the reference arm read 'reference', texts look like
    '0.42 (0.35-0.51)', every finite estimate lies in its CI, and arm dtype does not matter."""
    patients, _ = make_trial(40, seed=4, strings="arrow" if strings == "arrow" else "object")
    if strings == "categorical":   # trial order from the categories, not from the rows
        patients = patients.iloc[::-1].assign(arm=pd.Categorical(patients["arm"].iloc[::-1],
                                                                 categories=list(dict.fromkeys(patients["arm"]))))
    t = oc.outcome_table(patients, "placebo")
    assert list(t.columns) == ["arm", "outcome", "estimate", "ci_low", "ci_high", "p", "text", "note"]
    assert list(dict.fromkeys(t["arm"])) == ["placebo", "mitoxantrone 12 mg/m2", "mitoxantrone 5 mg/m2"]
    assert len(t) == 3 * t["outcome"].nunique() and t["outcome"].nunique() == 20
    ref = t[(t.arm == "placebo") & t.outcome.str.contains("ratio")]
    assert (ref["text"] == "reference").all() and len(ref) == 4
    assert t.loc[(t.arm == "placebo") & t.outcome.str.contains("grade >= 3"), "text"].str.startswith("NE").all()
    assert t.outcome.str.contains(r"CTCAE v5.0, at labs visits").any() and t.outcome.str.contains("true nadir").any()
    finite = t[np.isfinite(t[["estimate", "ci_low", "ci_high"]]).all(axis=1)]
    assert ((finite.ci_low <= finite.estimate + 1e-12) & (finite.estimate <= finite.ci_high + 1e-12)).all()
    pattern = re.compile(r"^(reference|not reached|NE( \(.+\))?|-?\d+(\.\d+)?%?( \(-?\d+(\.\d+)?( to |-)-?\d+(\.\d+)?\))?)$")
    assert all(pattern.match(s) for s in t["text"]), [s for s in t["text"] if not pattern.match(s)]
    rr = t[(t.arm == "mitoxantrone 12 mg/m2") & (t.outcome == "Rate ratio, relapse rate")].iloc[0]
    assert rr.text == f"{rr.estimate:.2f} ({rr.ci_low:.2f}-{rr.ci_high:.2f})" and 0 <= rr.p <= 1


def test_bad_reference_and_missing_columns_are_input_errors():
    """Truth: 'drug' is no arm of the table, and a table without 'relapses' cannot give relapse rates."""
    patients, _ = make_trial(5, seed=1)
    with pytest.raises(OptionError, match="reference arm 'drug'"):
        oc.outcome_table(patients, "drug")
    with pytest.raises(InputError, match="relapses"):
        oc.relapse_rate(patients.drop(columns="relapses"), "placebo")


def test_columns_read_the_same_whatever_their_dtype():
    """Truth: a column read as floats (NumPy's own read directly, others through the nullable Float64)
    and an arm's rows (a categorical by its codes) are what the generic conversion gives."""
    columns = [pd.Series([1, 2, 3]), pd.Series([True, False]), pd.Series([1.5, np.nan]), pd.Series(np.array([1, 2], np.uint8)),
               pd.Series([1, None], dtype="Int64"), pd.Series([True, None], dtype="boolean"), pd.Series([1, None, "2"], dtype=object)]
    for s in columns:
        assert np.array_equal(oc._floats(s), s.astype("Float64").to_numpy(dtype=float, na_value=np.nan), equal_nan=True)
    arms = [pd.Series(pd.Categorical(["a", "b", "a", "b"], categories=["c", "b", "a"])), pd.Series(pd.Categorical([1, 2, 1])),
            pd.Series(["a", "b", "a"], dtype=object)]
    for col in arms:
        table = pd.DataFrame({"arm": col})
        for arm in ("a", "b", "c", "1", "2"):
            assert np.array_equal(oc._arm_mask(table, arm), (col.astype(str) == arm).to_numpy())
