"""The drug library on the command line: `mschemo drugs`, `simulate --drug NAME` with dosing rules,
`--decisions`, and `mschemo example` (the three drugs side by side)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import mschemo
from mschemo.drugs import load_drug

DISCLAIMER = mschemo.DISCLAIMER


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """A wide terminal, so that Rich does not wrap table cells across lines (substring checks)."""
    monkeypatch.setenv("COLUMNS", "1000")


def _text(out: str) -> str:
    """Screen text with Rich's wrapping and table borders undone (for substring checks)."""
    for ch in "│┃┏┓┗┛┡┩└┘┌┐━─╇╋┳┻┯┷╈┼":
        out = out.replace(ch, " ")
    return " ".join(out.split())


def test_drugs_table(cli) -> None:
    res = cli("drugs")
    assert res.code == 0, res.stderr
    assert "Built-in drugs (3)" in res.stdout
    text = _text(res.stdout)
    for name in ("mitoxantrone", "cyclophosphamide", "cladribine"):
        assert name in text
    assert "12 mg/m2 over 30 min every 3 months x 8" in text      # mitoxantrone's label regimen
    assert "label tablets" in text                                # cladribine's, built per patient
    assert "mitox-2y" in text                                     # models without a [drug] table still listed
    assert DISCLAIMER in res.stdout


def test_drugs_one_drug_with_sources(cli) -> None:
    res = cli("drugs", "cladribine", "--sources")
    assert res.code == 0, res.stderr
    text = _text(res.stdout)
    drug = load_drug("cladribine")
    assert "first-order absorption" in text                       # model.describe()
    assert "Merck Europe B.V. 2017" in text                       # label regimen source
    for rule in drug.rules:
        assert _text(rule.label) in text
    for cov in drug.covariates:
        assert cov.name in text
    for row in drug.model.parameter_set.table():                  # every parameter, with its source
        assert f"{row['parameter']} = {row['value']:g}" in text
    assert "Savic" in text
    assert "mitoxantrone" not in text.split("cladribine: parameters")[-1]   # only this drug
    assert DISCLAIMER in res.stdout


def test_drugs_one_drug_lists_rules_regimens_and_parameters(cli) -> None:
    res = cli("drugs", "mitoxantrone")
    assert res.code == 0, res.stderr
    text = _text(res.stdout)
    assert "lifetime dose at most 72 mg/m2 (EU)" in text and "--cap-region eu" in text
    assert "lvef_pct" in text and "Dosing rules (4" in text
    assert "ANC_SLOPE" in text and "WBC_OTHER" in text and "omega" in text
    assert DISCLAIMER in res.stdout


def test_simulate_drug_eu_cap_decisions(cli, tmp_path: Path) -> None:
    d = tmp_path / "d.csv"
    png = tmp_path / "p.png"
    res = cli("simulate", "--drug", "mitoxantrone", "--n", "20", "--seed", "1", "--cap-region", "eu",
              "--decisions", d, "--plot", png)
    assert res.code == 0, res.stderr
    text = _text(res.stdout)
    assert "the label regimen" in text and "cap region eu" in text
    assert "Dosing decisions" in text and "lifetime dose at most 72 mg/m2 (EU)" in text
    assert DISCLAIMER in res.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"
    df = pd.read_csv(d)
    assert list(df.columns[:5]) == ["id", "course", "planned_day", "day", "action"]
    assert df["id"].nunique() == 20
    given = df[df["action"] == "given"].groupby("id").size()
    six = given[given == 6].index
    assert len(six) > 0
    stops = df[(df["action"] == "stopped") & df["rule"].str.contains("72 mg/m2", regex=False)]
    assert set(stops["id"]) == set(six)                            # every patient with 6 doses hit the EU cap
    assert (stops["course"] == 7).all() and stops["reason"].str.contains("EU limit of 72 mg/m2").all()
    assert not df.loc[df["id"].isin(six) & (df["course"] > 7)].shape[0]   # nothing after the stop
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_simulate_drug_no_rules_parquet_decisions(cli, tmp_path: Path) -> None:
    d = tmp_path / "d.parquet"
    res = cli("simulate", "--drug", "mitoxantrone", "--regimen", "12 mg/m2 over 30 min every 3 months x 7", "--n", "3",
              "--seed", "2", "--no-rules", "--until", "30 days", "--decisions", d, "--quiet")
    assert res.code == 0, res.stderr
    df = pd.read_parquet(d)
    assert len(df) == 21 and (df["action"] == "given").all()      # no cap, no LVEF check: every dose given


def test_simulate_drug_population_csv(cli, inputs, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    res = cli("simulate", "--drug", "cladribine", "--population", inputs["patients"], "--seed", "3", "--out", out)
    assert res.code == 0, res.stderr
    assert "crcl_ml_min, fed drawn" in _text(res.stdout)
    assert sorted(pd.read_csv(out)["id"].unique()) == [1, 2]


def test_simulate_drug_option_titrate(cli, tmp_path: Path) -> None:
    drug = load_drug("cyclophosphamide")
    if "titrate" not in drug.rules.available_options:
        pytest.skip("cyclophosphamide.toml defines no 'titrate' option (yet)")
    d = tmp_path / "d.csv"
    res = cli("simulate", "--drug", "cyclophosphamide", "--n", "10", "--seed", "1", "--option", "titrate",
              "--decisions", d)
    assert res.code == 0, res.stderr
    assert "titrate" in res.stdout and DISCLAIMER in res.stdout
    df = pd.read_csv(d)
    titration = [r.label for r in drug.rules.with_options("titrate").in_force() if r.option == "titrate"]
    assert titration and df["rule"].fillna("").isin(titration).any()   # later courses set from the nadir


def test_simulate_model_without_rules_unchanged(cli, tmp_path: Path) -> None:
    """--drug with a model that has no [drug] table (mitox-2y) runs as before: no rules, no decisions."""
    res = cli("simulate", "--drug", "mitox-2y", "--regimen", "12 mg/m2 over 30 min", "--n", "2", "--seed", "1",
              "--until", "30 days")
    assert res.code == 0, res.stderr
    assert "Dosing decisions" not in res.stdout and "dosing rules" not in res.stdout


def test_example_three_drugs(cli_process, tmp_path: Path) -> None:
    """The README's main job, as a user runs it: `mschemo example` (here with 10 patients per drug)."""
    res = cli_process("example", "--n", "10", cwd=tmp_path)
    assert res.code == 0, res.stderr
    assert "Traceback" not in res.stderr
    png = tmp_path / "mschemo_example.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = _text(res.stdout)
    for name in ("mitoxantrone", "cyclophosphamide", "cladribine"):
        assert name in text
    assert "first nadir" in text and "grade >= 3" in text and "courses given" in text
    assert DISCLAIMER in res.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["mschemo_example.png"]   # no temporary files left


def test_example_plot_option_and_seed(cli, tmp_path: Path) -> None:
    png = tmp_path / "sub" / "fig.svg"
    res = cli("example", "--n", "2", "--seed", "5", "--plot", png, "--quiet")
    assert res.code == 0, res.stderr
    assert res.stdout == ""
    assert png.read_text().lstrip().startswith("<?xml")
