"""The command line says the same thing the same way in every command: --seed, --out and --outdir,
--example, --n and --n-per-arm, help without type placeholders, tables that split no number or
name, plain text when piped, folders not created silently, old spellings kept for one release."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest

from mschemo.interfaces.cli import SUMMARIES
from mschemo.interfaces.cli import _common as c
from mschemo.interfaces.requests import CLI, SimulateRequest
from mschemo.interfaces.requests.trial import default_folder

MODEL = ("simulate", "--drug", "mitox-2y", "--regimen", "12 mg/m2 over 30 min", "--n", "3", "--until", "30 days",
         "--no-disease")
COMMANDS = ("simulate", "timeline", "trial", "example", "drugs", "personalise")


# -- --seed --------------------------------------------------------------------------------------------
def test_without_seed_the_same_command_gives_the_same_result_and_prints_the_seed(cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    first = cli(*MODEL, "--out", a)
    second = cli(*MODEL, "--out", b)
    assert first.code == second.code == 0, first.stderr
    assert a.read_bytes() == b.read_bytes()
    assert "seed 1" in first.stdout


def test_seed_has_one_help_text_in_every_command_that_draws(cli) -> None:
    texts = set()
    for command in ("simulate", "timeline", "trial", "example", "personalise"):
        res = cli(command, "--help")
        assert res.code == 0
        flat = " ".join(res.stdout.replace("│", " ").split())
        m = re.search(r"--seed INTEGER (Seed of the run's random draws.*?printed\]\.)", flat)
        assert m, (command, flat[:2000])
        texts.add(m.group(1))
    assert len(texts) == 1, texts


# -- --out and --outdir; old spellings ---------------------------------------------------------------------
def test_trial_writes_into_outdir_and_the_old_out_still_works_with_a_note(cli, tmp_path: Path) -> None:
    new = cli("trial", "--example", "clarity", "--n-per-arm", "3", "--outdir", tmp_path / "new", "--quiet")
    assert new.code == 0, new.stderr
    assert (tmp_path / "new" / "patients.parquet").exists()
    old = cli("trial", "--example", "clarity", "--n-per-arm", "3", "--out", tmp_path / "old", "--quiet")
    assert old.code == 0, old.stderr
    assert (tmp_path / "old" / "patients.parquet").exists()
    notes = [line for line in old.stderr.splitlines() if "deprecated" in line]
    assert notes == ["note: --out FOLDER is deprecated and will be removed in the next release; use --outdir FOLDER."]
    both = cli("trial", "--example", "clarity", "--out", tmp_path / "x", "--outdir", tmp_path / "y")
    assert both.code == 2 and "old spelling of --outdir" in both.stderr


def test_the_old_disease_out_still_works_with_a_one_line_note(cli, tmp_path: Path) -> None:
    res = cli(*MODEL[:-1], "--disease-out", tmp_path / "d", "--quiet")
    assert res.code == 0, res.stderr
    assert (tmp_path / "d" / "disease_relapses.parquet").exists()
    assert "note: --disease-out is deprecated and will be removed in the next release; use --disease-outdir." \
        in res.stderr.splitlines()


def test_an_option_another_command_spells_otherwise_gets_a_hint(cli) -> None:
    res = cli("trial", "--example", "mims", "--n", "10")
    assert res.code == 2
    assert "give --n-per-arm N" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = cli("example", "--out", "x")
    assert res.code == 2 and "--outdir FOLDER" in res.stderr


# -- --example -------------------------------------------------------------------------------------------
def test_example_means_a_built_in_input_in_every_command(cli) -> None:
    for command in ("simulate", "trial", "personalise"):
        flat = " ".join(cli(command, "--help").stdout.replace("│", " ").split())
        assert "--example NAME A built-in example instead of your own input" in flat, command


# -- help pages ------------------------------------------------------------------------------------------
def test_help_shows_no_type_placeholders(cli) -> None:
    for args in ([], *[[command] for command in COMMANDS]):
        res = cli(*args, "--help")
        assert res.code == 0
        assert not re.search(r"<(bool|str|int|float|text|integer)>", res.stdout), (args, res.stdout)


def test_command_summaries_are_whole_sentences_in_the_overview(cli) -> None:
    flat = " ".join(cli("--help").stdout.replace("│", " ").split())
    for name, summary in SUMMARIES.items():
        assert summary.endswith(".")
        assert f"{name} {summary}" in flat, name


def test_a_paragraph_of_command_help_is_not_broken_mid_sentence(cli) -> None:
    res = cli("trial", "--help")
    lines = [line.strip() for line in res.stdout.splitlines()]
    assert not any(line in ("first relapse and confirmed disability progression, toxicity and dosing, for every",
                            "visit.") for line in lines)
    flat = " ".join(res.stdout.split())
    assert "Kaplan-Meier and Cox for the first relapse" in flat


# -- tables ----------------------------------------------------------------------------------------------
def _render(table, width: int) -> str:
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(table)
    return buf.getvalue()


def test_tables_at_80_columns_split_no_number_and_no_name() -> None:
    df = pd.DataFrame({"outcome": ["annualised relapse rate ratio against the reference arm (negative binomial)"],
                       "cyclophosphamide": ["2.71 (2.24-3.25)"], "mitoxantrone": ["0.356 (0.291-0.436)"],
                       "placebo": ["1 (reference)"]})
    text = _render(c.frame_table(df, title="Outcomes"), 80)
    assert "cyclophosphamide" in text and "2.71 (2.24-3.25)" in text and "0.356 (0.291-0.436)" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_piped_output_is_plain_text_one_line_per_row(cli) -> None:
    res = cli("drugs")                                # the test captures stdout: not a terminal
    assert res.code == 0
    assert not set("│┃━─╭╮") & set(res.stdout)
    rows = [line for line in res.stdout.splitlines() if line.strip().startswith(("mitoxantrone", "cyclophosphamide",
                                                                                 "cladribine"))]
    assert len(rows) == 3                                  # one line per drug: nothing wrapped
    assert any("Cyclophosphamide, IV alkylating agent (pulse therapy)" in r and "800 mg/m2 over 1 h every 4 weeks x 6"
               in r for r in rows)


# -- folders -----------------------------------------------------------------------------------------------
def test_a_missing_folder_is_created_and_said_so(cli, tmp_path: Path) -> None:
    out = tmp_path / "new" / "sub" / "r.csv"
    res = cli(*MODEL, "--seed", "1", "--out", out)
    assert res.code == 0, res.stderr
    assert out.exists()
    notes = [line for line in res.stderr.splitlines() if line.startswith("note: created the folder")]
    assert len(notes) == 2 and notes[0].endswith("new/ for the outputs.") and notes[1].endswith("sub/ for the outputs.")


def test_quiet_prints_nothing_but_errors(cli, tmp_path: Path) -> None:
    """--quiet: no progress, no tables, and no note on a folder made for the outputs (errors only)."""
    out = tmp_path / "new" / "sub" / "r.csv"
    res = cli(*MODEL, "--seed", "1", "--out", out, "--quiet")
    assert res.code == 0, res.stderr
    assert out.exists() and (res.stdout, res.stderr) == ("", "")


def test_a_failed_run_removes_the_folders_it_created(cli, tmp_path: Path, monkeypatch) -> None:
    import mschemo

    def broken(fig, path, dpi=150):
        raise mschemo.OptionError("the figure cannot be written in this test.")

    monkeypatch.setattr(mschemo, "save_figure", broken)
    res = cli(*MODEL, "--seed", "1", "--out", tmp_path / "a" / "r.csv", "--plot", tmp_path / "b" / "r.png")
    assert res.code == 2
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_the_default_trial_folder_name_is_whole() -> None:
    name = "Mitoxantrone induction then interferon beta versus interferon beta alone"
    assert default_folder(name).name == ("trial_mitoxantrone_induction_then_interferon_beta_versus_interferon_beta"
                                         "_alone")


# -- the requests speak the interface's words ----------------------------------------------------------------
@pytest.mark.parametrize("spelling, expected", [(CLI, "--table sets the layout of --out"),
                                                (None, "table sets the layout of out")])
def test_a_request_names_fields_as_its_interface_does(spelling, expected) -> None:
    from mschemo.errors import OptionError
    from mschemo.interfaces.requests import API

    with pytest.raises(OptionError, match=expected):
        SimulateRequest(drug="mitoxantrone", table="long").resolve(spelling or API)
