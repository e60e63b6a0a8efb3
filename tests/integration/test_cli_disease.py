"""The disease model on the command line: `mschemo simulate` with and without it, `--untreated`,
`--disease-out`, `mschemo timeline`, and bad disease input (one sentence, exit 2, no file)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from clitools import flat

DISCLAIMER = "Research and education only, not a prescription."
PEER_COLUMNS = ["id", "bsa_m2", "dose_mg", *[f"nadir_{k}" for k in range(1, 9)], "first_nadir_day"]
DISEASE_TABLES = {"disease_relapses.parquet", "disease_edss.parquet", "disease_symptoms.parquet",
                  "disease_events.parquet", "disease_patients.parquet"}
#: a short mitoxantrone run (label regimen and rules): 3 patients, 4 months of counts
DRUG = ["simulate", "--drug", "mitoxantrone", "--n", "3", "--seed", "2", "--until", "120 days"]


def _no_leftovers(folder: Path) -> None:
    hidden = [p.name for p in folder.rglob(".*")]
    assert hidden == [], f"temporary files left behind: {hidden}"


def test_simulate_runs_the_disease_by_default(cli, tmp_path: Path) -> None:
    out = tmp_path / "disease"
    res = cli(*DRUG, "--disease-until", "3 years", "--steroids", "--dmt", "natalizumab", "--disease-outdir", out)
    assert res.code == 0, res.stderr
    text = flat(res.stdout)
    # the counts summary first, then the disease summary
    assert text.index("White-cell counts") < text.index("Disease over 3 years, 3 patient(s)")
    assert "annualised relapse rate" in text and "relapse-free" in text
    assert "immune memory compartment" in text and "steroids for relapses" in text and "natalizumab" in text
    assert DISCLAIMER in text
    assert {p.name for p in out.iterdir()} == DISEASE_TABLES
    patients = pd.read_parquet(out / "disease_patients.parquet")
    assert patients["id"].tolist() == [1, 2, 3]
    relapses = pd.read_parquet(out / "disease_relapses.parquet")
    assert {"id", "relapse", "day", "site", "symptoms", "edss_rise", "recovery_d", "steroids"} <= set(relapses.columns)
    assert relapses["steroids"].all() and (relapses["day"] <= 3 * 365.25).all()
    edss = pd.read_parquet(out / "disease_edss.parquet")
    assert edss["day"].max() == pytest.approx(3 * 365.25) and set(edss["id"]) == {1, 2, 3}
    _no_leftovers(tmp_path)


def test_no_disease_switches_it_off(cli, tmp_path: Path) -> None:
    res = cli(*DRUG, "--no-disease")
    assert res.code == 0, res.stderr
    assert "White-cell counts" in res.stdout and "Disease over" not in res.stdout
    assert DISCLAIMER in res.stdout


def test_disease_out_into_an_existing_folder_and_quiet(cli, tmp_path: Path) -> None:
    out = tmp_path / "existing"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = cli(*DRUG, "--disease-outdir", out, "--quiet")
    assert res.code == 0, res.stderr
    assert res.stdout == ""
    assert {p.name for p in out.iterdir()} == DISEASE_TABLES | {"keep.txt"}
    _no_leftovers(tmp_path)


def test_untreated_cohort(cli, tmp_path: Path) -> None:
    out = tmp_path / "untreated"
    args = ["simulate", "--untreated", "--n", "60", "--seed", "4", "--until", "10 years"]
    res = cli(*args, "--disease-outdir", out)
    assert res.code == 0, res.stderr
    text = flat(res.stdout)
    assert "untreated" in text and "without chemotherapy" in text
    assert "Disease over 10 years, 60 patient(s)" in text and "White-cell counts" not in text
    patients = pd.read_parquet(out / "disease_patients.parquet")
    assert len(patients) == 60 and patients["relapses"].sum() > 0
    # the same seed gives the same disease
    again = tmp_path / "again"
    assert cli(*args, "--disease-outdir", again, "--quiet").code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "disease_relapses.parquet"),
                                  pd.read_parquet(again / "disease_relapses.parquet"))


def test_untreated_with_a_patient_table(cli, tmp_path: Path) -> None:
    pts = tmp_path / "pts.csv"
    pts.write_text("id,height_cm,weight_kg,sex,ms_course,edss,ms_duration_y\n"
                   "a1,165,60,F,RRMS,2.0,3\n"
                   "b2,180,85,M,SPMS,5.5,15\n")
    res = cli("simulate", "--untreated", "--population", pts, "--seed", "1", "--until", "5 years",
              "--symptomatic", "fampridine", "--exercise")
    assert res.code == 0, res.stderr
    text = flat(res.stdout)
    assert "patients from pts.csv" in text and "fampridine" in text and "exercise" in text


def test_example_keeps_its_table_and_skips_the_disease(cli, tmp_path: Path) -> None:
    out = tmp_path / "nadirs.csv"
    res = cli("simulate", "--example", "mitox-2y", "--n", "3", "--seed", "1", "--out", out)
    assert res.code == 0, res.stderr
    assert "Disease over" not in res.stdout
    assert out.read_text().splitlines()[0] == ",".join(PEER_COLUMNS)
    # asked for, the disease runs and prints, and the benchmark table stays as it is
    out2 = tmp_path / "nadirs2.csv"
    res = cli("simulate", "--example", "mitox-2y", "--n", "3", "--seed", "1", "--out", out2, "--disease")
    assert res.code == 0, res.stderr
    assert "Disease over" in res.stdout and "no lymphocyte model" in flat(res.stdout)
    assert out2.read_bytes() == out.read_bytes()


def test_seed_applies_to_a_patient_table_when_the_disease_runs(cli, inputs, tmp_path: Path) -> None:
    res = cli("simulate", "--model", "mitox-2y", "--events", inputs["events"], "--time-unit", "h",
              "--population", inputs["patients"], "--until", "60 days", "--seed", "5")
    assert res.code == 0, res.stderr
    assert "seed 5" in flat(res.stdout)


def test_timeline_of_a_treated_patient(cli, tmp_path: Path) -> None:
    png = tmp_path / "patient.png"
    res = cli("timeline", "--drug", "mitoxantrone", "--seed", "2", "--until", "120 days", "--disease-until", "2 years",
              "--plot", png)
    assert res.code == 0, res.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = flat(res.stdout)
    assert "patient 1" in text and "mitoxantrone" in text
    assert "Relapses of patient 1" in text and "Events of patient 1" in text
    assert DISCLAIMER in res.stdout
    _no_leftovers(tmp_path)


def test_timeline_of_an_untreated_patient(cli, tmp_path: Path) -> None:
    res = cli("timeline", "--untreated", "--n", "5", "--patient", "4", "--seed", "3", "--until", "8 years",
              "--steroids", "--plot", tmp_path / "t.svg")
    assert res.code == 0, res.stderr
    assert (tmp_path / "t.svg").read_text().lstrip().startswith("<?xml")
    assert "patient 4" in res.stdout and "no chemotherapy" in flat(res.stdout)


def test_timeline_default_file(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = cli("timeline", "--untreated", "--seed", "1", "--quiet")
    assert res.code == 0, res.stderr
    assert res.stdout == ""
    assert [p.name for p in tmp_path.iterdir()] == ["timeline.png"]


# -- bad input: one sentence on stderr, exit 2, no file -----------------------------------------
PTS_WITH_DMT = "id,height_cm,weight_kg,dmt\n1,170,70,natalizumab\n"

BAD: list[tuple[str, list[str]]] = [
    ("symptomatic-unknown", [*DRUG, "--symptomatic", "unobtainium"]),
    ("dmt-unknown", [*DRUG, "--dmt", "snake-oil"]),
    ("dmt-empty", [*DRUG, "--dmt", " "]),
    ("no-disease-with-steroids", [*DRUG, "--no-disease", "--steroids"]),
    ("no-disease-with-disease-out", [*DRUG, "--no-disease", "--disease-outdir", "{tmp}/d"]),
    ("no-disease-untreated", ["simulate", "--untreated", "--no-disease"]),
    ("disease-until-no-unit", [*DRUG, "--disease-until", "10"]),
    ("disease-until-zero", [*DRUG, "--disease-until", "0 days"]),
    ("disease-out-is-a-file", [*DRUG, "--disease-outdir", "{tmp}/pts.csv"]),
    ("disease-out-looks-like-a-file", [*DRUG, "--disease-outdir", "{tmp}/d.parquet"]),
    ("dmt-with-dmt-column", ["simulate", "--drug", "mitox-2y", "--regimen", "12 mg/m2 over 30 min",
                             "--population", "{tmp}/pts.csv", "--dmt", "natalizumab"]),
    ("untreated-with-drug", ["simulate", "--untreated", "--drug", "mitoxantrone"]),
    ("untreated-with-out", ["simulate", "--untreated", "--out", "{tmp}/r.csv"]),
    ("untreated-with-plot", ["simulate", "--untreated", "--plot", "{tmp}/r.png"]),
    ("untreated-two-windows", ["simulate", "--untreated", "--until", "5 years", "--disease-until", "6 years"]),
    ("untreated-until-no-unit", ["simulate", "--untreated", "--until", "5"]),
    ("untreated-symptomatic-unknown", ["simulate", "--untreated", "--symptomatic", "nope",
                                       "--disease-outdir", "{tmp}/d"]),
    ("timeline-nothing", ["timeline", "--plot", "{tmp}/t.png"]),
    ("timeline-untreated-with-drug", ["timeline", "--untreated", "--drug", "mitoxantrone", "--plot", "{tmp}/t.png"]),
    ("timeline-untreated-regimen", ["timeline", "--untreated", "--regimen", "12 mg/m2 x 1", "--plot", "{tmp}/t.png"]),
    ("timeline-patient-beyond-n", ["timeline", "--drug", "mitoxantrone", "--patient", "5", "--plot", "{tmp}/t.png"]),
    ("timeline-patient-not-a-number", ["timeline", "--untreated", "--patient", "abc", "--plot", "{tmp}/t.png"]),
    ("timeline-patient-not-in-table", ["timeline", "--untreated", "--population", "{tmp}/pts.csv", "--patient", "9",
                                       "--plot", "{tmp}/t.png"]),
    ("timeline-plot-suffix", ["timeline", "--untreated", "--plot", "{tmp}/t.txt"]),
    ("timeline-bad-regimen", ["timeline", "--drug", "mitoxantrone", "--regimen", "12 mg/m over 30 min",
                              "--plot", "{tmp}/t.png"]),
    ("timeline-unknown-drug", ["timeline", "--drug", "aspirin", "--plot", "{tmp}/t.png"]),
    ("timeline-symptomatic-unknown", ["timeline", "--untreated", "--symptomatic", "nope", "--plot", "{tmp}/t.png"]),
    ("timeline-n-zero", ["timeline", "--untreated", "--n", "0", "--plot", "{tmp}/t.png"]),
]


@pytest.mark.parametrize("args", [pytest.param(a, id=i) for i, a in BAD])
def test_bad_disease_input(cli, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "pts.csv").write_text(PTS_WITH_DMT)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if argv[0] == "simulate" and "--untreated" not in argv:
        argv += ["--out", str(tmp_path / "r.csv"), "--disease-outdir", str(tmp_path / "dz")] \
            if "--disease-outdir" not in argv else ["--out", str(tmp_path / "r.csv")]
    res = cli(*argv)
    assert res.code == 2, (res.code, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    lines = res.stderr.rstrip("\n").split("\n")
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ") and lines[0].endswith("."), lines[0]
    assert res.stdout == ""
    left = sorted(p.name for p in tmp_path.rglob("*") if p.name != "pts.csv")
    assert left == [], f"files left behind: {left}"


def test_failure_while_writing_the_disease_leaves_nothing(cli, tmp_path: Path, monkeypatch) -> None:
    """The disease tables are staged with the other outputs: an error while writing them removes all."""
    from mschemo.disease import DiseaseResult
    from mschemo.errors import OptionError

    def broken(self, directory):
        raise OptionError("the disease tables cannot be written in this test; nothing should be left.")

    monkeypatch.setattr(DiseaseResult, "write", broken)
    res = cli(*DRUG, "--out", tmp_path / "r.csv", "--disease-outdir", tmp_path / "dz")
    assert res.code == 2 and res.stderr.startswith("error: the disease tables cannot be written")
    assert list(tmp_path.iterdir()) == []
