"""`mschemo trial` on the command line: a built-in example end to end, a spec file of one's own,
the report, and bad input (one sentence, exit 2, no folder or file left)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from clitools import HtmlTags, flat

DISCLAIMER = "Research and education only, not a prescription."

SPEC = """name = "my trial"
duration = "6 months"
seed = 4
[[arms]]
name = "placebo"
[[arms]]
name = "cyclophosphamide"
drug = "cyclophosphamide"
regimen = "800 mg/m2 over 1 h every 4 weeks x 3"
"""


def test_example_trial_writes_parquet_and_a_report(cli, tmp_path: Path) -> None:
    out = tmp_path / "mims"
    res = cli("trial", "--example", "mims", "--n-per-arm", "12", "--seed", "9", "--outdir", out)
    assert res.code == 0, res.stderr
    text = flat(res.stdout)
    assert "Outcomes (estimate and 95 % CI)" in text and "reference" in text   # table cells may wrap
    assert "placebo 12" in text and "mitoxantrone 12 mg/m2 12" in text and "seed 9" in text
    assert DISCLAIMER in text
    assert {p.name for p in out.iterdir()} == {"patients.parquet", "visits.parquet", "report.html"}
    patients = pd.read_parquet(out / "patients.parquet")
    assert len(patients) == 36 and set(patients["arm"]) == {"placebo", "mitoxantrone 5 mg/m2", "mitoxantrone 12 mg/m2"}
    parser = HtmlTags()
    parser.feed((out / "report.html").read_text())
    assert parser.tags.count("img") >= 3 and "table" in parser.tags


def test_same_seed_same_patients_any_chunk_size(cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("trial", "--example", "clarity", "--n-per-arm", "5", "--outdir", a, "--quiet").code == 0
    assert cli("trial", "--example", "clarity", "--n-per-arm", "5", "--outdir", b, "--chunk-size", "3", "--quiet").code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(a / "patients.parquet"), pd.read_parquet(b / "patients.parquet"))


def test_a_spec_file_of_ones_own_and_a_separate_report(cli, tmp_path: Path) -> None:
    spec = tmp_path / "my_trial.toml"
    spec.write_text(SPEC)
    report = tmp_path / "reports" / "my.html"
    res = cli("trial", spec, "--n-per-arm", "6", "--outdir", tmp_path / "run", "--report", report)
    assert res.code == 0, res.stderr
    assert report.exists() and not (tmp_path / "run" / "report.html").exists()
    assert "my trial" in report.read_text()


@pytest.mark.parametrize(("args", "fragment"), [
    (["trial"], "give a trial spec file or --example NAME"),
    (["trial", "--example", "mims", "x.toml"], "not both"),
    (["trial", "--example", "nope"], "no example trial named 'nope'"),
    (["trial", "missing.toml"], "SPEC file 'missing.toml' does not exist"),
    (["trial", "--example", "mims", "--n-per-arm", "0"], "--n-per-arm 0 is below 1"),
    (["trial", "--example", "mims", "--n-per-arm", "many"], "--n-per-arm 'many' is not a whole number"),
    (["trial", "--example", "mims", "--chunk-size", "-1"], "--chunk-size -1 is below 1"),
    (["trial", "--example", "mims", "--report", "r.pdf"], "--report 'r.pdf' has suffix '.pdf'"),
    (["trial", "--example", "mims", "--dask", " "], "--dask is empty"),
    (["trial", "--example", "mims", "--workers", "0"], "--workers 0 is below 1"),
    (["trial", "--example", "mims", "--workers", "2", "--dask", "local"], "give one of them"),
])
def test_bad_options_are_one_sentence(cli, tmp_path: Path, monkeypatch, args, fragment) -> None:
    monkeypatch.chdir(tmp_path)
    res = cli(*args)
    assert res.code == 2
    msg = flat(res.stderr)
    assert fragment in msg and "Traceback" not in res.stderr and msg.replace("e.g. ", "").count(". ") == 0, msg
    assert list(tmp_path.iterdir()) == []


def test_a_bad_spec_names_its_location_and_leaves_nothing(cli, tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(SPEC.replace('drug = "cyclophosphamide"', 'drug = "cyclophosphamide"\nrules = "sometimes"'))
    res = cli("trial", spec, "--outdir", tmp_path / "run")
    assert res.code == 2
    assert "arms[1].rules" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "run").exists()


def test_a_failing_run_leaves_no_folder(cli, tmp_path: Path) -> None:
    spec = tmp_path / "strict.toml"
    spec.write_text(SPEC + '[[eligibility]]\nfield = "age_y"\nmin = 90\n')
    res = cli("trial", spec, "--n-per-arm", "2", "--outdir", tmp_path / "run")
    assert res.code == 2 and "fewer than 1 in 1000 screened patients" in flat(res.stderr)
    assert not (tmp_path / "run").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["strict.toml"]
