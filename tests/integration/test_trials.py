"""In-silico trials: spec validation, randomisation, per-patient data, reproducibility across chunk
sizes and Dask workers, streamed Parquet, and the built-in examples."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.trials import (
    PATIENT_COLUMNS,
    VISIT_COLUMNS,
    TrialSpec,
    TrialSpecError,
    example_trials,
    load_trial_example,
    run_trial,
)
from mschemo.trials.run import arm_of

SMALL = {
    "name": "small", "duration": "6 months", "seed": 3,
    "population": {"ms_course": {"distribution": "categorical", "values": ["RRMS", "SPMS"], "p": [0.7, 0.3]}},
    "eligibility": [{"field": "edss", "max": 5.5}],
    "arms": [{"name": "placebo"},
             {"name": "mitox", "drug": "mitoxantrone", "regimen": "12 mg/m2 over 30 min every 3 months x 2"},
             {"name": "natalizumab", "dmt": "natalizumab"}],
}


@pytest.fixture(scope="module")
def small() -> TrialSpec:
    return TrialSpec.from_dict(SMALL)


@pytest.fixture(scope="module")
def whole(small, tmp_path_factory):
    out = tmp_path_factory.mktemp("trial")
    return run_trial(small, 20, chunk_size=1000, out=out)


def test_tables_have_the_documented_columns(whole):
    assert list(whole.patients.columns) == list(PATIENT_COLUMNS)
    assert list(whole.visits.columns) == list(VISIT_COLUMNS)
    assert whole.patients.groupby("arm", observed=True).size().to_dict() == {"placebo": 20, "mitox": 20, "natalizumab": 20}
    assert whole.patients["id"].tolist() == list(range(1, 61))


def test_eligibility_holds_for_every_patient(whole):
    assert whole.patients["edss_baseline"].max() <= 5.5
    assert set(whole.patients["ms_course"]) <= {"RRMS", "SPMS"}


def test_only_the_drug_arm_is_dosed_and_depleted(whole):
    p = whole.patients.set_index("arm")
    assert (p.loc["mitox", "courses_given"] > 0).all() and (p.loc["placebo", "courses_given"] == 0).all()
    assert p.loc["mitox", "lymphopenia_min_1e9_per_L"].mean() < p.loc["placebo", "lymphopenia_min_1e9_per_L"].mean()


def test_parquet_files_hold_every_patient(whole):
    p = pd.read_parquet(whole.out / "patients.parquet")
    v = pd.read_parquet(whole.out / "visits.parquet")
    assert len(p) == 60 and v["id"].nunique() == 60
    pd.testing.assert_frame_equal(p, whole.patients.astype({"arm": str}), check_dtype=False)


def test_the_outcome_table_is_worked_out_once_for_report_and_summary(whole, tmp_path, monkeypatch):
    """The report and the summary use one outcome table (its model fits are the report's slowest part);
    a new patients table gets its own."""
    from mschemo.trials import outcomes as oc

    calls = []
    real = oc.outcome_table
    monkeypatch.setattr(oc, "outcome_table", lambda *a, **k: calls.append(1) or real(*a, **k))
    trial = dataclasses.replace(whole)          # a fresh result: nothing worked out yet
    first = trial.outcomes()
    first.loc[:, "text"] = "changed"            # a copy: the kept table is not touched
    trial.report(tmp_path / "r.html")
    second = trial.outcomes()
    assert len(calls) == 1
    pd.testing.assert_frame_equal(second, real(trial.patients, trial.spec.reference_arm, trial.spec.all_endpoints()))
    assert (second["text"] != "changed").all()
    trial.patients = trial.patients.iloc[::-1].reset_index(drop=True)
    trial.outcomes()
    assert len(calls) == 2


def test_same_patients_for_any_chunk_size(small, whole):
    for size in (1, 7):
        other = run_trial(small, 20, chunk_size=size)
        pd.testing.assert_frame_equal(other.patients, whole.patients)
        pd.testing.assert_frame_equal(other.visits, whole.visits)


def test_same_patients_in_one_process_or_several(small, whole):
    """The chunks run in worker processes on this machine (by default one per core) or here: the
    same patients and visits."""
    for workers in (1, 3):
        other = run_trial(small, 20, chunk_size=6, workers=workers)
        assert other.provenance["workers"] == workers
        pd.testing.assert_frame_equal(other.patients, whole.patients)
        pd.testing.assert_frame_equal(other.visits, whole.visits)
    with pytest.raises(ms.OptionError, match="workers = 0"):
        run_trial(small, 20, workers=0)


def test_same_patients_on_a_local_dask_cluster(small, whole):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = run_trial(small, 20, chunk_size=9, dask=client)
    pd.testing.assert_frame_equal(remote.patients, whole.patients)
    pd.testing.assert_frame_equal(remote.visits, whole.visits)


def test_permuted_blocks_balance_the_arms_with_their_ratios():
    spec = TrialSpec.from_dict({**SMALL, "arms": [{"name": "a"}, {"name": "b", "ratio": 2}]})
    arms = arm_of(spec, 5, np.arange(300))
    assert np.bincount(arms).tolist() == [100, 200]
    blocks = arms.reshape(-1, 3)
    assert np.all(np.sort(blocks, axis=1) == [0, 1, 1])
    assert len({tuple(b) for b in blocks}) == 3          # the blocks are shuffled


@pytest.mark.parametrize(("change", "fragment"), [
    ({"arms": []}, "arms: List should have at least 1 item"),
    ({"arms": [{"name": "a"}, {"name": "a"}]}, "arm names repeat"),
    ({"arms": [{"name": "x", "drug": "aspirin"}]}, "arms[0].drug: 'aspirin' is not a drug"),
    ({"arms": [{"name": "x", "drug": "mitoxantrone", "regimen": "12 mg/m2 every fortnight"}]}, "arms[0].regimen"),
    ({"arms": [{"name": "x", "regimen": "12 mg/m2"}]}, "arms[0]: regimen, options, cap_region and max_dose need a drug"),
    ({"arms": [{"name": "x", "dmt": "aspirin"}]}, "arms[0].dmt"),
    ({"eligibility": [{"field": "height", "min": 1}]}, "eligibility[0]: field 'height' is not a baseline field"),
    ({"eligibility": [{"field": "edss", "min": 5, "max": 3}]}, "eligibility[0]: min 5.0 is above max 3.0"),
    ({"population": {"edss": {"distribution": "normal", "mean": 3}}}, "population: covariate 'edss' (normal) lacks sd"),
    ({"duration": "forever"}, "duration"),
    ({"reference": "control"}, "reference 'control' is not an arm"),
    ({"visits": {"counts_every": "sometimes"}}, "visits"),
    ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
])
def test_spec_errors_are_one_sentence_with_their_location(change, fragment):
    with pytest.raises(TrialSpecError) as err:
        TrialSpec.from_dict({**SMALL, **change}, "my.toml")
    msg = str(err.value)
    assert msg.startswith("my.toml: ") and fragment in msg, msg
    assert "\n" not in msg and msg.endswith(".")


def test_spec_files_toml_and_yaml_read_alike(tmp_path):
    import yaml
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(SMALL))
    assert TrialSpec.from_file(tmp_path / "t.yaml") == TrialSpec.from_dict(SMALL)
    (tmp_path / "bad.toml").write_text("name = [")
    with pytest.raises(TrialSpecError, match="is not valid TOML"):
        TrialSpec.from_file(tmp_path / "bad.toml")
    with pytest.raises(TrialSpecError, match="does not exist"):
        TrialSpec.from_file(tmp_path / "missing.toml")


def test_impossible_eligibility_is_reported():
    spec = TrialSpec.from_dict({**SMALL, "eligibility": [{"field": "age_y", "min": 70}]})
    with pytest.raises(Exception, match="fewer than 1 in 1000 screened patients"):
        run_trial(spec, 1)


def test_built_in_examples_load_and_run_briefly():
    assert example_trials() == ["clarity", "clarity_extension", "cyclophosphamide", "edan1997", "edan2011", "mims"]
    for name in example_trials():
        spec = load_trial_example(name)
        res = run_trial(spec, 3)
        assert res.patients["arm"].nunique() == len(spec.arms)
    with pytest.raises(TrialSpecError, match="no example trial named 'x'"):
        load_trial_example("x")


EVERY_FEATURE = """name = "every feature"
duration = "1 year"
seed = 3
year = 2010
reference = "glatiramer"
[population]
edss = { distribution = "normal", mean = 3.0, sd = 1.0, lower = 0, upper = 6 }
[[eligibility]]
field = "prior_relapses_1y"
min = 1
[screening]
measured = true
[[screening.labs]]
count = "wbc"
min = 4.0
[[screening.labs]]
count = "alc"
min = 1.0
[measurement]
assay = true
biological = false
[[arms]]
name = "glatiramer"
steroids = "severe"
[[arms.phases]]
dmt = "glatiramer"
[[arms]]
name = "mitoxantrone then interferon"
steroids = "moderate_or_severe"
plasma_exchange = true
[[arms.phases]]
drug = "mitoxantrone"
regimen = "12 mg/m2 over 30 min every 1 month x 4"
max_dose = "20 mg"
stop = "5 months"
[[arms.phases]]
dmt = "interferon_beta_1a_sc"
start_after_course = 4
start = "1 month"
[[arms.comedication]]
name = "methylprednisolone"
every = "1 month"
count = 4
[schedules.predose]
measures = "counts"
before_each_dose = true
[schedules.nadir]
measures = "counts"
after_each_dose = ["10 days", "14 days"]
[schedules.monthly]
measures = "counts"
every = "1 month"
until = "6 months"
[schedules.extra]
measures = "counts"
days = [200, 300]
baseline = false
[schedules.neuro]
measures = "edss"
every = "3 months"
[[endpoints]]
name = "arr_confirmed"
kind = "relapse_rate"
relapses = "confirmed"
[[endpoints]]
name = "arr_late"
kind = "relapse_rate"
start = "6 months"
[[endpoints]]
name = "first_treated"
kind = "time_to_relapse"
relapses = "treated"
window = "9 months"
[[endpoints]]
name = "free_of_severe"
kind = "relapse_free"
relapses = "severe"
[[endpoints]]
name = "cdp"
kind = "confirmed_progression"
confirm = "6 months"
steps = { from_0 = 1.0, default = 1.0, high = 0.5, high_from = 5.0 }
[[endpoints]]
name = "cdi"
kind = "confirmed_improvement"
min_baseline = 2.0
[[endpoints]]
name = "change_6m"
kind = "edss_change"
at = "6 months"
[[endpoints]]
name = "stopped"
kind = "discontinuation"
[[endpoints]]
name = "failure"
kind = "composite"
parts = ["first_treated", "cdp", "discontinuation"]
[[endpoints]]
name = "neutropenia_v3"
kind = "toxicity"
count = "anc"
scale = "ctcae_v3"
schedule = "nadir"
[[endpoints]]
name = "leukopenia_who"
kind = "toxicity"
count = "wbc"
scale = "who"
grade = 2
schedule = "predose"
[[endpoints]]
name = "lymphopenia_v4"
kind = "toxicity"
count = "alc"
scale = "ctcae_v4"
schedule = "monthly"
window = "6 months"
"""


def test_a_spec_with_every_feature_runs_through_the_cli(cli, tmp_path):
    """Schedules of every kind, screening labs, lab error, phases (cap, stop, a DMT after a course),
    co-medication, steroid rules, an era, and every endpoint kind: the CLI runs it, the tables carry
    every endpoint's columns and the visits follow each patient's own doses."""
    spec = tmp_path / "every.toml"
    spec.write_text(EVERY_FEATURE)
    out = tmp_path / "run"
    res = cli("trial", spec, "--n-per-arm", "6", "--outdir", out, "--quiet")
    assert res.code == 0, res.stderr
    p, v = pd.read_parquet(out / "patients.parquet"), pd.read_parquet(out / "visits.parquet")
    for col in ("arr_confirmed", "arr_late_followup_d", "first_treated_event", "free_of_severe", "cdp_d", "cdi_event",
                "change_6m", "stopped_event", "failure_d", "neutropenia_v3_true_grade", "leukopenia_who_grade",
                "lymphopenia_v4_min_1e9_per_L"):
        assert col in p.columns, col
    assert set(v["schedule"]) == {"predose", "nadir", "monthly", "extra", "neuro"}
    drug = v[(v.arm == "mitoxantrone then interferon") & (v.schedule == "nadir") & (v.day > 0)]
    assert len(drug) and ((drug.groupby("id").size()) % 2 == 0).all()      # two visits after each dose given
    assert (p["arr_late_followup_d"] == 365.25 - 365.25 / 2).all()
    assert (p.loc[p.arm == "glatiramer", "courses_given"] == 0).all()
    assert (p["screened_out_labs"] >= 0).all() and "screened" in (out / "report.html").read_text()


def test_design_example_in_the_docs_is_the_file(tmp_path):
    """docs/trials.md shows docs/examples/trial_design.toml whole."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    page = (root / "docs" / "trials.md").read_text()
    shown = next(b for b in re.findall(r"```toml\n(.*?)```", page, re.S) if "max_dose" in b)
    assert shown in (root / "docs" / "examples" / "trial_design.toml").read_text()


def test_every_feature_gives_the_same_patients_and_visits_for_any_chunk_size():
    spec = TrialSpec.from_dict(__import__("tomllib").loads(EVERY_FEATURE))
    whole = run_trial(spec, 4, chunk_size=1000)
    for size in (1, 3):
        part = run_trial(spec, 4, chunk_size=size)
        pd.testing.assert_frame_equal(part.patients, whole.patients)
        pd.testing.assert_frame_equal(part.visits.reset_index(drop=True), whole.visits.reset_index(drop=True))


def test_every_feature_gives_the_same_patients_and_visits_on_a_local_dask_cluster():
    distributed = pytest.importorskip("distributed")
    spec = TrialSpec.from_dict(__import__("tomllib").loads(EVERY_FEATURE))
    whole = run_trial(spec, 4, chunk_size=1000)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = run_trial(spec, 4, chunk_size=3, dask=client)
    pd.testing.assert_frame_equal(remote.patients, whole.patients)
    pd.testing.assert_frame_equal(remote.visits.reset_index(drop=True), whole.visits.reset_index(drop=True))
