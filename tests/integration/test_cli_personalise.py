"""`mschemo personalise` on the command line: the three built-in example patients end to end (plan on
screen, figure and infusion-centre sheet written), a patient file of one's own, bad input (one
sentence on stderr, exit 2, no file left) and counts the model cannot fit (the fit's sentence and
numbered checklist on stderr, exit 2, no file left)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from clitools import HtmlTags, flat

import mschemo as ms

DISCLAIMER = "Research and education only, not a prescription."

PATIENT_CSV = """record,date,value,unit,duration
drug,,cyclophosphamide,,
sex,,F,,
age,,34,years,
height,,165,cm,
weight,,62,kg,
wbc,2026-02-27,6.1,x10^9/L,
anc,2026-02-27,3.9,x10^9/L,
dose,2026-03-03,800,mg/m2,1 h
wbc,2026-03-13,2.8,x10^9/L,
anc,2026-03-13,1.5,x10^9/L,
wbc,2026-03-30,4.6,x10^9/L,
anc,2026-03-30,3.0,x10^9/L,
"""

#: a WBC of 0 (read as 0.01 x10^9/L) on day 10 and of 90 on day 11: no parameters reach both
UNFITTABLE_CSV = """record,date,value,unit,duration
id,,UNFIT-7,,
drug,,cyclophosphamide,,
sex,,F,,
age,,34,years,
height,,165,cm,
weight,,62,kg,
dose,2026-03-03,800,mg/m2,1 h
wbc,2026-02-28,6.1,x10^9/L,
wbc,2026-03-13,0,x10^9/L,
wbc,2026-03-14,90,x10^9/L,
"""


@pytest.mark.parametrize(("example", "dose_text"), [("cyclophosphamide", "mg/m2"), ("mitoxantrone", "mg/m2"),
                                                    ("cladribine", "tablets of 10 mg")])
def test_examples_run_and_write_the_figure_and_the_sheet(cli, tmp_path: Path, example: str, dose_text: str) -> None:
    plot, sheet = tmp_path / "plan.png", tmp_path / "sheet.html"
    res = cli("personalise", "--example", example, "--draws", "60", "--plot", plot, "--sheet", sheet)
    assert res.code == 0, res.stderr
    text = flat(res.stdout)
    assert DISCLAIMER in text
    assert "Proposed next dose" in text and dose_text in text and "mg" in text
    assert "Rules and checks before the dose" in text and "Estimated parameters of this patient" in text
    assert "next count" in text
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"
    html = sheet.read_text(encoding="utf-8")
    assert html.count(DISCLAIMER) >= 2
    assert "Standard pre-infusion checks (not model outputs)" in html and "Pregnancy test" in html
    parser = HtmlTags()
    parser.feed(html)
    assert "img" in parser.tags and "table" in parser.tags
    assert all(s.startswith("data:image/png;base64,") for s in parser.srcs)       # no external asset
    assert "@media print" in html
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.png", "sheet.html"]    # no temporary file left
    # no folder of this machine anywhere on the sheet (the example lives inside the installed package)
    visible = re.sub(r"data:image/png;base64,[^\"]+", "", html)
    assert "site-packages" not in visible and str(Path(ms.__file__).parent) not in visible
    assert not re.search(r"(?<![\w.^/])/(?:[\w.-]+/){2,}", visible), "an absolute path is on the sheet"
    assert re.search(rf"source {example}\.(csv|json)\.", visible)                       # the file name only
    # the figure spans the page (no height cap shrinking it to a thumbnail)
    assert "<figure>" in html and "max-height" not in html and "prediction interval" in html


def test_a_failed_check_reads_needs_review_not_give(cli, tmp_path: Path) -> None:
    """The cyclophosphamide example's day-10 counts lie below the model's fit (check 'to-check'): the
    model would give, but the screen and the sheet say NEEDS REVIEW and list that check, never GIVE."""
    sheet = tmp_path / "sheet.html"
    res = cli("personalise", "--example", "cyclophosphamide", "--draws", "60", "--sheet", sheet)
    assert res.code == 0, res.stderr
    text = flat(res.stdout)
    assert text.startswith("patient DEMO-CY-01") and "NEEDS REVIEW:" in text and "GIVE:" not in text
    assert "Review before giving: model fit to the measured counts (to-check)" in text
    html = sheet.read_text(encoding="utf-8")
    assert '<p class="decision needs-review">NEEDS REVIEW</p>' in html and 'class="decision give"' not in html
    review = html.split('<ul class="review-list">')[1].split("</ul>")[0]
    assert "model fit to the measured counts: to-check" in review


def test_sheet_shows_give_only_when_every_check_passes() -> None:
    """The same plan with every check passed reads GIVE (green); one failed check makes it NEEDS REVIEW."""
    from mschemo.planning.sheet import file_names_only

    folder = Path(ms.__file__).parent / "estimation" / "examples"
    rec = ms.read_patient(folder / "cyclophosphamide.csv")
    plan = ms.recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=40)
    assert plan.decision == "give" and plan.verdict == "needs review" and len(plan.open_checks) >= 1
    passed = replace(plan, checks=plan.checks.assign(status="pass"))
    assert passed.verdict == "give" and not len(passed.open_checks)
    html = passed.sheet_html(figure=False)
    assert '<p class="decision give">GIVE</p>' in html and "NEEDS REVIEW" not in html
    failed = passed.checks.copy()
    failed.loc[0, "status"] = "fail"
    html = replace(passed, checks=failed).sheet_html(figure=False)
    assert "NEEDS REVIEW" in html and 'class="decision give"' not in html
    assert file_names_only("read /opt/venv/lib/python3.12/site-packages/mschemo/x.csv; 12 mg/m2/day") == \
        "read x.csv; 12 mg/m2/day"


def test_mitoxantrone_example_shows_lvef_and_lifetime_dose(cli) -> None:
    res = cli("personalise", "--example", "mitoxantrone", "--draws", "40", "--cap-region", "eu", "--quiet")
    assert res.code == 0 and res.stdout == ""
    res = cli("personalise", "--example", "mitoxantrone", "--draws", "40")
    text = flat(res.stdout)
    assert "LVEF" in text and "lifetime dose" in text and "(US)" in text


def test_own_patient_file_with_target_and_options(cli, tmp_path: Path) -> None:
    path = tmp_path / "patient.csv"
    path.write_text(PATIENT_CSV, encoding="utf-8")
    res = cli("personalise", path, "--target-nadir", "3.0-4.0", "--max-risk-grade3", "0.2", "--on", "2026-04-07",
              "--draws", "40", "--seed", "3")
    assert res.code == 0, res.stderr
    text = flat(res.stdout)
    assert "2026-04-07" in text and "target 3-4" in text and "limit 20%" in text
    again = cli("personalise", path, "--target-nadir", "3.0-4.0", "--max-risk-grade3", "0.2", "--on", "2026-04-07",
                "--draws", "40", "--seed", "3")
    assert again.stdout == res.stdout                                  # same seed, same plan
    sir = cli("personalise", path, "--samples", "200", "--draws", "40", "--quiet")
    assert sir.code == 0, sir.stderr


@pytest.mark.parametrize(("args", "fragment"), [
    ((), "give a patient file"),
    (("--example", "aspirin"), "--example 'aspirin' is not one of"),
    (("--example", "cladribine", "--on", "31/03/2027"), "--on '31/03/2027' is not a date"),
    (("--example", "cyclophosphamide", "--target-low", "1.5"), "add --target-high"),
    (("--example", "cyclophosphamide", "--target-nadir", "2-1"), "target range 2-1"),
    (("--example", "cyclophosphamide", "--target-nadir", "abc"), "is not a range"),
    (("--example", "cyclophosphamide", "--max-risk", "1.5"), "not a probability"),
    (("--example", "cyclophosphamide", "--risk-grade", "2"), "--risk-grade '2'"),
    (("--example", "cyclophosphamide", "--cap-region", "eu"), "has none"),
    (("--example", "mitoxantrone", "--cap-region", "uk"), "--cap-region 'uk'"),
    (("--example", "cyclophosphamide", "--on", "2026-03-01"), "is not after the last dose"),
    (("--example", "cyclophosphamide", "--draws", "5"), "--draws 5 is below 20"),
    (("--example", "cyclophosphamide", "--sheet", "sheet.pdf"), "--sheet 'sheet.pdf' has suffix"),
    (("missing.csv",), "does not exist"),
    (("patient.txt",), "has suffix '.txt'"),
])
def test_bad_input_is_one_sentence_exit_2_and_no_file(cli, tmp_path: Path, monkeypatch, args, fragment) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "patient.txt").write_text("x")
    res = cli("personalise", *args, "--plot", "plan.png", "--sheet", "out.html") if "--sheet" not in args else \
        cli("personalise", *args, "--plot", "plan.png")
    assert res.code == 2, res.stdout + res.stderr
    assert res.stderr.startswith("error: ") and fragment in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["patient.txt"]


@pytest.mark.parametrize(("line", "fragment"), [
    ("wbc,2026-03-13,1100,,", "has no unit"),
    ("wbc,2026-01-01,5.0,x10^9/L,", "more than 30 days before the first dose"),
])
def test_patient_file_errors_name_the_row(cli, tmp_path: Path, line: str, fragment: str) -> None:
    """The neurologist's story: WBC '1100' without units, or a date before the first dose."""
    path = tmp_path / "patient.csv"
    path.write_text(PATIENT_CSV + line + "\n", encoding="utf-8")
    sheet = tmp_path / "sheet.html"
    res = cli("personalise", path, "--sheet", sheet)
    assert res.code == 2 and fragment in res.stderr and "line 14" in res.stderr
    assert not sheet.exists()


def test_counts_the_model_cannot_fit_exit_2_with_the_checklist(cli, tmp_path: Path) -> None:
    """A WBC of 0 on day 10 and of 90 on day 11: the MAP fit stops away from the mode."""
    path = tmp_path / "patient.csv"
    path.write_text(UNFITTABLE_CSV, encoding="utf-8")
    res = cli("personalise", path, "--plot", tmp_path / "plan.png", "--sheet", tmp_path / "sheet.html")
    assert res.code == 2, res.stdout + res.stderr
    first, *rest = res.stderr.strip().splitlines()
    assert first.startswith("error: the MAP estimate for patient UNFIT-7 (cyclophosphamide, 3 count(s)) did not "
                            "converge") and first.endswith(".")
    assert rest[0] == "Likely causes and fixes:" and len(rest) >= 4
    assert all(line.startswith(f"  {k}. ") for k, line in enumerate(rest[1:], 1))
    assert "WBC on day 11" in rest[1]
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["patient.csv"]


def test_help_lists_personalise(cli) -> None:
    res = cli("--help")
    assert "personalise" in res.stdout
    res = cli("personalise", "--help")
    assert res.code == 0 and "--target-nadir" in res.stdout and "--max-risk" in res.stdout
