"""In-silico trials: spec validation, randomisation, per-patient data, reproducibility across chunk
sizes and Dask workers, streamed Parquet, and the built-in examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
    assert p.loc["mitox", "alc_min_1e9_per_L"].mean() < p.loc["placebo", "alc_min_1e9_per_L"].mean()


def test_parquet_files_hold_every_patient(whole):
    p = pd.read_parquet(whole.out / "patients.parquet")
    v = pd.read_parquet(whole.out / "visits.parquet")
    assert len(p) == 60 and v["id"].nunique() == 60
    pd.testing.assert_frame_equal(p, whole.patients.astype({"arm": str}), check_dtype=False)


def test_same_patients_for_any_chunk_size(small, whole):
    for size in (1, 7):
        other = run_trial(small, 20, chunk_size=size)
        pd.testing.assert_frame_equal(other.patients, whole.patients)
        pd.testing.assert_frame_equal(other.visits, whole.visits)


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
    ({"arms": [{"name": "x", "regimen": "12 mg/m2"}]}, "arms[0]: regimen, options and cap_region need a drug"),
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
    assert example_trials() == ["clarity", "cyclophosphamide", "mims"]
    for name in example_trials():
        spec = load_trial_example(name)
        res = run_trial(spec, 3)
        assert res.patients["arm"].nunique() == len(spec.arms)
    with pytest.raises(TrialSpecError, match="no example trial named 'x'"):
        load_trial_example("x")
