"""Relapse sites and MS symptoms against the published prevalences and treatment effects.

Parameters: src/mschemo/params/ms_symptoms.toml (sources there). Each anchor prevalence holds in a
reference cohort at the covariates of the study it comes from (EDSS, disease duration); the slopes
are checked against the second study they were derived from. Unless a test says otherwise the
tolerance is 4 simulation standard errors, 4 * sqrt(p (1 - p) / N) with N = 20,000 patients
(< 1.5 points), well inside the published studies' own sampling errors (n = 77 to 2,029).
Treatment effects use the same random numbers with and without treatment, so their odds ratios
are estimated much more precisely than two independent cohorts would allow.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal, norm

import mschemo as ms
from mschemo.disease.symptoms import (
    SITES,
    SYMPTOMS,
    SymptomTreatments,
    relapse_sites,
    symptom_timeline,
)
from mschemo.errors import OptionError, PopulationError
from mschemo.params import load_parameters

N = 20_000
MONTH = 365.25 / 12


def _cohort(n: int = N, duration_y: float = 5.0) -> ms.Population:
    return ms.Population(pd.DataFrame({"id": np.arange(1, n + 1), "height_cm": 170.0, "weight_kg": 70.0,
                                       "sex": ["F", "M"] * (n // 2) + ["F"] * (n % 2), "age_y": 40.0,
                                       "ms_duration_y": duration_y}))


def _prevalence(edss: float = 2.5, duration_y: float = 5.0, seed: int = 11, n: int = N,
                treatments: SymptomTreatments | None = None) -> pd.Series:
    """Share of a reference cohort with each symptom at t = 0 (constant EDSS, no relapses)."""
    tl = symptom_timeline(_cohort(n, duration_y), np.array([0.0]), np.full((n, 1), edss), seed, treatments=treatments)
    return tl.prevalence().iloc[0]


def _tol(p: float, n: int = N) -> float:
    return 4 * math.sqrt(p * (1 - p) / n)


def _log_or(p1: float, p0: float) -> float:
    return math.log(p1 / (1 - p1)) - math.log(p0 / (1 - p0))


# --------------------------------------------------------------------------------------------
# Anchors
def test_fatigue_prevalence_broch_2021():
    """Broch 2021 (1,599 Norwegian patients, median EDSS 2.5, median duration 16 y): fatigue 81 %.
    Reference cohort at EDSS 2.5 and 16 years; tolerance 4 simulation SE (1.1 points; the study's
    own SE is 1.0 point)."""
    assert _prevalence(2.5, 16.0)["fatigue"] == pytest.approx(0.81, abs=_tol(0.81))


def test_spasticity_prevalence_narcoms():
    """Rizzo 2004 (NARCOMS registrants): 16 % report no spasticity, so 84 % any. The registry's
    duration (15 y) is an assumption of the parameter file; tolerance 4 simulation SE."""
    assert _prevalence(3.0, 15.0)["spasticity"] == pytest.approx(0.84, abs=_tol(0.84))


def test_tremor_prevalence_community():
    """Pittock 2004 (Olmsted County, 200 patients, via Labiano-Fontcuberta 2012): tremor 25.5 %, at
    11 years' duration (the median tremor latency of Alusi 2001). Tolerance 4 simulation SE."""
    assert _prevalence(3.0, 11.0)["tremor"] == pytest.approx(0.255, abs=_tol(0.255))


def test_dysarthria_prevalence_hartelius():
    """Hartelius (MS incidence cohort, 77 patients): dysarthria 51 % on clinical testing, at EDSS
    3.5 (assumed cohort EDSS). Tolerance 4 simulation SE; the study's own SE is 5.7 points."""
    assert _prevalence(3.5)["speech_disorder"] == pytest.approx(0.51, abs=_tol(0.51))


def test_seizure_prevalence_mirmosayyeb_2021():
    """Mirmosayyeb 2021 meta-analysis (39 studies): seizures 2 % (95 % CI 1-3 %), with no EDSS or
    duration slope. Tolerance: the published confidence interval, at two EDSS levels."""
    for edss in (1.0, 6.0):
        assert 0.01 <= _prevalence(edss)["seizure"] <= 0.03


def test_dizziness_prevalence_in_published_range():
    """MSAA review / BMC Neurol 2020: dizziness or other vestibular symptoms in 49-59 % of people
    with MS (vertigo alone about a third); the model takes 49 %. Tolerance: the published range,
    widened by 4 simulation SE."""
    p = _prevalence()["dizziness"]
    assert 0.49 - _tol(0.49) <= p <= 0.59


def test_walking_difficulty_prevalence():
    """NMSS/Harris survey (Larocca 2011): 41 % difficulty and 13 % inability to walk at least twice a
    week, 54 % in all, at an assumed EDSS 3.5. Tolerance 4 simulation SE."""
    assert _prevalence(3.5)["walking"] == pytest.approx(0.54, abs=_tol(0.54))


def test_visual_complaints_prevalence_jasse():
    """Jasse 2013: persistent visual complaints in 105 of 303 patients (34.6 %), no EDSS or
    duration slope (Kister 2015: not clearly more frequent later). Tolerance 4 simulation SE."""
    for duration in (2.0, 25.0):
        assert _prevalence(2.5, duration)["vision"] == pytest.approx(0.346, abs=_tol(0.346))


# --------------------------------------------------------------------------------------------
# Slopes on EDSS and duration
def test_fatigue_progressive_vs_non_progressive():
    """Rooney 2019 (412 respondents): fatigue 81 % in progressive vs 64 % in non-progressive MS, an
    odds ratio of 2.40. The model spreads it over the EDSS gap of progressive and relapsing trial
    cohorts (ORATORIO 4.7 vs AFFIRM 2.3). Tolerance 0.12 on the log odds ratio (4 SE of two
    independent cohorts of 20,000)."""
    hi, lo = _prevalence(4.7, seed=1)["fatigue"], _prevalence(2.3, seed=2)["fatigue"]
    assert hi > lo
    assert _log_or(hi, lo) == pytest.approx(_log_or(0.81, 0.64), abs=0.12)


def test_spasticity_rises_with_duration_to_spanish_survey():
    """Oreja-Guevara 2013 (2,029 Spanish patients, mean duration 8.7 y): spasticity 65.7 %, below
    NARCOMS's 84 % at longer duration (Kister 2015: more common with duration). Tolerance 4
    simulation SE."""
    early, late = _prevalence(3.0, 8.7)["spasticity"], _prevalence(3.0, 20.0)["spasticity"]
    assert early == pytest.approx(0.657, abs=_tol(0.657))
    assert late > 0.84


def test_tremor_is_late():
    """Alusi 2001 (clinic, mean duration 18.8 y): tremor reported by 37 % (median latency 11 y after
    onset), against 25.5 % at 11 y. Tolerance 4 simulation SE; tremor is rare early."""
    assert _prevalence(3.0, 18.8)["tremor"] == pytest.approx(0.37, abs=_tol(0.37))
    assert _prevalence(3.0, 1.0)["tremor"] < 0.2


def test_prevalence_follows_edss_and_duration_over_time():
    """Over 10 years with EDSS rising from 2 to 5, symptoms with a disability or duration slope in
    their sources (fatigue, spasticity, tremor, dysarthria, walking) become more common, while
    seizures and vision (no slope: Mirmosayyeb 2021, Kister 2015) stay put. The marginal share at
    every time equals the model's probability; tolerance 5 SE at each of 121 times."""
    n = 10_000
    times = np.arange(121) * MONTH
    edss = np.tile(np.linspace(2.0, 5.0, times.size), (n, 1))
    prev = symptom_timeline(_cohort(n, 5.0), times, edss, 3).prevalence()
    for s in ("fatigue", "spasticity", "tremor", "speech_disorder", "walking"):
        assert prev[s].iloc[-1] > prev[s].iloc[0] + 0.05, s
    se = math.sqrt(0.25 / n)
    for s in ("seizure", "vision", "dizziness"):
        assert abs(prev[s].iloc[-1] - prev[s].iloc[0]) < 5 * math.sqrt(2) * se, s
    ps = load_parameters("ms-symptoms")
    eta = (math.log(0.81 / 0.19) + ps["EDSS_SLOPE_FATIGUE"].value * (edss[0] - 2.5))
    expected = 1 / (1 + np.exp(-eta))
    assert np.max(np.abs(prev["fatigue"].to_numpy() - expected)) < 5 * se


def test_symptoms_persist_between_grid_times():
    """Persistence (assumption: 60 % stable trait, 180-day correlation time): the chance that
    fatigue present one month is present the next equals the bivariate-normal value of the latent
    model (correlation 0.6 + 0.4 exp(-30.4/180) = 0.94), far above the 81 % of independent draws.
    Tolerance 4 SE of a conditional share over ~16,000 patients times 12 months."""
    n = 20_000
    times = np.arange(13) * MONTH
    tl = symptom_timeline(_cohort(n, 16.0), times, np.full((n, times.size), 2.5), 4)
    f = tl.present["fatigue"]
    both = (f[:, 1:] & f[:, :-1]).sum() / f[:, :-1].sum()
    r = 0.6 + 0.4 * math.exp(-MONTH / 180.0)
    c = norm.ppf(0.81)
    expected = multivariate_normal([0, 0], [[1, r], [r, 1]]).cdf([c, c]) / 0.81
    assert both == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / f.sum()))
    assert both > 0.9


# --------------------------------------------------------------------------------------------
# Treatments
def _paired(symptom: str, treatments: SymptomTreatments, edss: float, duration_y: float) -> tuple[np.ndarray, np.ndarray]:
    pop, t = _cohort(N, duration_y), np.array([0.0])
    e = np.full((N, 1), edss)
    base = symptom_timeline(pop, t, e, 21).present[symptom][:, 0]
    treated = symptom_timeline(pop, t, e, 21, treatments=treatments).present[symptom][:, 0]
    return base, treated


def test_nabiximols_changes_spasticity_by_responder_odds():
    """Collin 2010 (337 patients): >= 30 % spasticity improvement in 36 % on nabiximols vs 24 % on
    placebo, odds ratio 1.78; the model divides the odds of spasticity by it. Same random numbers
    with and without the drug (treated patients with spasticity are a subset); tolerance 0.07 on the
    log odds ratio (4 SE of the paired estimate, SE 0.016 measured over 12 seeds)."""
    base, treated = _paired("spasticity", SymptomTreatments(("nabiximols",)), 3.0, 15.0)
    assert not np.any(treated & ~base)
    assert _log_or(base.mean(), treated.mean()) == pytest.approx(_log_or(0.36, 0.24), abs=0.07)


def test_fampridine_changes_walking_by_enhance_odds():
    """ENHANCE (Hobart 2019): MSWS-12 response 43.2 % vs 33.6 %, OR 1.61, applied to the odds of
    walking difficulty. Tolerance 0.03 on the log odds ratio (4 SE of the paired estimate, SE 0.007
    over 12 seeds)."""
    base, treated = _paired("walking", SymptomTreatments(("fampridine",)), 3.5, 5.0)
    assert _log_or(base.mean(), treated.mean()) == pytest.approx(math.log(1.61), abs=0.03)


def test_exercise_lowers_fatigue_by_converted_smd():
    """Harrison 2021 network meta-analysis: balance exercise SMD 0.84 on fatigue, converted with
    Chinn 2000, ln(OR) = SMD * pi / sqrt(3) = 1.52 (OR 4.6). Tolerance 0.06 on the log odds ratio
    (4 SE of the paired estimate, SE 0.015 over 12 seeds)."""
    base, treated = _paired("fatigue", SymptomTreatments(exercise=True), 2.5, 16.0)
    assert _log_or(base.mean(), treated.mean()) == pytest.approx(0.84 * math.pi / math.sqrt(3), abs=0.06)


@pytest.mark.parametrize("treatments", [SymptomTreatments(("amantadine",)), SymptomTreatments(("modafinil",)),
                                        SymptomTreatments(("methylphenidate",)),
                                        SymptomTreatments(("baclofen", "tizanidine")),
                                        SymptomTreatments(rehabilitation=True), SymptomTreatments(diet=True)],
                         ids=["amantadine", "modafinil", "methylphenidate", "baclofen+tizanidine", "rehabilitation",
                              "diet"])
def test_treatments_without_shown_effect_change_nothing(treatments):
    """No effect shown, so the output is identical to no treatment: amantadine, modafinil and
    methylphenidate on fatigue (TRIUMPHANT-MS, Nourbakhsh 2021: none better than placebo); oral
    baclofen and tizanidine (Cochrane, Shakespeare 2003: efficacy poorly documented, no effect
    size on patient-reported spasticity); rehabilitation (Cochrane, Khan 2007: activity gains
    without change in impairment; speech therapy, Cochrane CD002088: no evidence) and diet
    (Cochrane, Parks 2020: no quantified benefit). Exact equality."""
    n, times = 500, np.arange(25) * MONTH
    pop, edss = _cohort(n), np.full((n, 25), 3.0)
    base = symptom_timeline(pop, times, edss, 5)
    treated = symptom_timeline(pop, times, edss, 5, treatments=treatments)
    for s in SYMPTOMS:
        np.testing.assert_array_equal(base.present[s], treated.present[s])


def test_unknown_medication_is_one_sentence():
    """An unknown drug name raises OptionError in one sentence naming the value and the choices."""
    with pytest.raises(OptionError) as exc:
        SymptomTreatments(("aspirin",))
    msg = str(exc.value)
    assert "'aspirin'" in msg and "nabiximols" in msg and "fampridine" in msg
    assert msg.endswith(".") and msg.count(". ") == 0


# --------------------------------------------------------------------------------------------
# Relapse sites and relapse symptoms
def _relapse_table(n_patients: int, per_patient: int) -> pd.DataFrame:
    ids = np.repeat(np.arange(1, n_patients + 1), per_patient)
    k = np.tile(np.arange(1, per_patient + 1), n_patients)
    return pd.DataFrame({"id": ids, "relapse": k, "day": 100.0 * k, "recovery_d": 60.0})


def test_relapse_site_shares_match_the_parameter_file():
    """Site shares as set in ms_symptoms.toml (optic nerve 25 %, brainstem 28 %, spinal cord 32 %,
    cerebellum and cerebrum 7.5 % each; optic nerve + brainstem + spinal cord = 85 % of onsets,
    Miller 2005), and each site's symptom probabilities. 50,000 relapses; tolerance 4 SE."""
    ps = load_parameters("ms-symptoms")
    pop = _cohort(5_000)
    out = relapse_sites(_relapse_table(5_000, 10), pop, 7)
    assert set(out["site"]) <= set(SITES)
    shares = out["site"].value_counts(normalize=True)
    for site in SITES:
        p = ps[f"SITE_SHARE_{site.upper()}"].value
        assert shares[site] == pytest.approx(p, abs=_tol(p, len(out))), site
    assert sum(ps[f"SITE_SHARE_{s.upper()}"].value for s in ("optic_nerve", "brainstem", "spinal_cord")) == pytest.approx(0.85)
    tokens = out["symptoms"].str.split(";")
    for site in ("optic_nerve", "cerebellum"):
        at = tokens[out["site"] == site]
        for s in SYMPTOMS:
            key = "P_RELAPSE_FATIGUE" if s == "fatigue" else f"P_{site.upper()}_{s.upper()}"
            p = ps[key].value if key in ps else 0.0
            share = at.map(lambda t, s=s: s in t).mean()
            assert share == pytest.approx(p, abs=_tol(max(p, 0.01), len(at)) + 1e-12), (site, s)


def test_relapse_symptoms_present_during_recovery():
    """A relapse's symptoms are present from onset to onset + recovery_d (CombiRx median 111 d is
    the default when recovery_d is missing); grid times inside the window show them for sure."""
    n = 50
    pop = _cohort(n)
    times = np.arange(0, 400, 10.0)
    rel = pd.DataFrame({"id": [3, 7], "relapse": [1, 1], "day": [100.0, 50.0], "recovery_d": [60.0, 20.0],
                        "symptoms": ["tremor;seizure", "vision"]})
    tl = symptom_timeline(pop, times, np.zeros((n, times.size)), 9, relapses=rel)
    inside3 = (times >= 100) & (times <= 160)
    assert tl.present["tremor"][2, inside3].all() and tl.present["seizure"][2, inside3].all()
    assert tl.present["vision"][6, (times >= 50) & (times <= 70)].all()
    without = symptom_timeline(pop, times, np.zeros((n, times.size)), 9)
    outside = ~inside3
    np.testing.assert_array_equal(tl.present["seizure"][2, outside], without.present["seizure"][2, outside])
    np.testing.assert_array_equal(tl.present["fatigue"], without.present["fatigue"])
    # without a symptoms column the sites are drawn from the site stream, as relapse_sites does
    bare = rel.drop(columns="symptoms")
    a = symptom_timeline(pop, times, np.zeros((n, times.size)), 9, relapses=bare)
    b = symptom_timeline(pop, times, np.zeros((n, times.size)), 9, relapses=relapse_sites(bare, pop, 9))
    for s in SYMPTOMS:
        np.testing.assert_array_equal(a.present[s], b.present[s])


def test_empty_relapse_table_gets_the_columns():
    out = relapse_sites(pd.DataFrame({"id": [], "relapse": [], "day": []}), _cohort(3), 1)
    assert list(out.columns[-2:]) == ["site", "symptoms"] and len(out) == 0


# --------------------------------------------------------------------------------------------
# Determinism and chunking
def test_chunking_gives_the_same_patients():
    """Patients 0..n-1 in one call equal the same patients in two calls with ``start``: sites and
    timelines come from per-patient streams."""
    n, k = 300, 117
    pop = _cohort(n)
    times = np.arange(40) * MONTH
    rng = np.random.default_rng(0)
    edss = np.cumsum(rng.uniform(0, 0.05, (n, times.size)), axis=1)
    rel = _relapse_table(n, 3)
    rel = rel[rng.random(len(rel)) < 0.6].reset_index(drop=True)
    rel["day"] = rng.uniform(0, times[-1], len(rel))
    whole_sites = relapse_sites(rel, pop, 42)
    whole = symptom_timeline(pop, times, edss, 42, relapses=whole_sites)
    parts, part_sites = [], []
    for lo, hi in ((0, k), (k, n)):
        sub = ms.Population(pop.table.iloc[lo:hi].reset_index(drop=True))
        r = rel[rel["id"].isin(sub.ids)].reset_index(drop=True)
        s = relapse_sites(r, sub, 42, start=lo)
        part_sites.append(s)
        parts.append(symptom_timeline(sub, times, edss[lo:hi], 42, relapses=s, start=lo))
    joined = pd.concat(part_sites).sort_values(["id", "relapse"]).reset_index(drop=True)
    expected = whole_sites.sort_values(["id", "relapse"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(joined, expected)
    for s in SYMPTOMS:
        np.testing.assert_array_equal(np.vstack([p.present[s] for p in parts]), whole.present[s])
    np.testing.assert_array_equal(whole.to_frame()["id"].unique(), pop.ids)


def test_seed_determinism_and_frames():
    n, times = 200, np.arange(12) * MONTH
    pop, edss = _cohort(n), np.full((n, 12), 2.0)
    a = symptom_timeline(pop, times, edss, 1)
    b = symptom_timeline(pop, times, edss, 1)
    c = symptom_timeline(pop, times, edss, 2)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    assert not a.to_frame().equals(c.to_frame())
    frame = a.to_frame()
    assert list(frame.columns) == ["id", "day", *SYMPTOMS] and len(frame) == n * 12
    assert list(a.prevalence().columns) == ["day", *SYMPTOMS]


def test_edss_shape_is_checked():
    with pytest.raises(PopulationError):
        symptom_timeline(_cohort(5), np.arange(3.0), np.zeros((5, 4)), 1)
