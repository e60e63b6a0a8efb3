"""The validation page: `python validation/run.py --quick` runs every fact of validation/facts.toml on
small cohorts and writes a page with a table of calibrated and one of predicted facts, each row with
its published value, band and either a simulated value with pass or miss or a "not run: needs ..."
reason. Whether a fact passes is what the page shows; these tests do not judge the science.
Bad input ends in one sentence and exit code 2."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "validation" / "run.py"
FACTS = REPO / "validation" / "facts.toml"
NUMBER = re.compile(r"^(-?\d[\d.e+-]*|not reached)\b")


def _run_module():
    if "validation_run" in sys.modules:
        return sys.modules["validation_run"]
    sys.path.insert(0, str(RUN.parent))
    spec = importlib.util.spec_from_file_location("validation_run", RUN)
    module = importlib.util.module_from_spec(spec)
    sys.modules["validation_run"] = module
    spec.loader.exec_module(module)
    return module


def _facts() -> list[dict]:
    return tomllib.loads(FACTS.read_text(encoding="utf-8"))["facts"]


def _tables(page: str) -> dict[str, list[list[str]]]:
    """{section title: rows of cells} for the two fact tables."""
    out: dict[str, list[list[str]]] = {}
    for title in ("Calibrated facts", "Predicted facts"):
        block = page.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in block.splitlines() if line.startswith("| ") and not line.startswith("| Fact |")]
        out[title] = [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in rows]
    return out


@pytest.fixture(scope="module")
def quick_page(tmp_path_factory) -> tuple[str, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("validation") / "validation.md"
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--out", str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out.read_text(encoding="utf-8"), proc


def test_quick_run_writes_both_tables_with_every_fact(quick_page):
    page, proc = quick_page
    tables = _tables(page)
    facts = _facts()
    assert {f["kind"] for f in facts} == {"calibrated", "predicted"}
    for f in facts:
        title = "Calibrated facts" if f["kind"] == "calibrated" else "Predicted facts"
        hits = [row for row in tables[title] if f"(`{f['id']}`)" in row[0]]
        assert len(hits) == 1, f["id"]
    assert sum(len(rows) for rows in tables.values()) == len(facts)
    # a progress line per fact and the summary
    assert len(re.findall(r"^\[\s*\d+/\d+\] ", proc.stdout, flags=re.M)) == len(facts)
    assert re.search(r"predicted: \d+ of \d+ within their band", proc.stdout)
    assert re.search(r"\*\*Summary\.\*\* calibrated: \d+ of \d+ within their band", page)


def test_every_row_has_a_published_value_a_band_and_a_result(quick_page):
    page, _ = quick_page
    needs = {f["id"] for f in _facts() if "needs" in f}
    for rows in _tables(page).values():
        for fact, source, published, band, simulated, result in rows:
            fid = re.search(r"\(`([a-z0-9_]+)`\)$", fact).group(1)
            assert source and published and re.search(r"\d", published), fid
            assert re.search(r"\d", band), fid
            if fid in needs:
                assert simulated.startswith("not run: needs ") and result == "not run", fid
            else:
                assert NUMBER.match(simulated) and "(seed 11; n = " in simulated, (fid, simulated)
                assert result == "pass" or result.startswith("**miss**: "), (fid, result)


def test_the_page_explains_itself(quick_page):
    page, _ = quick_page
    for words in ("Calibrated", "Predicted", "before any run", "python validation/run.py --quick", "## Designs"):
        assert words in page
    assert "quick run" in page


def test_only_runs_the_named_facts_and_lists_the_others(tmp_path):
    out = tmp_path / "v.md"
    run = _run_module()
    assert run.main(["--quick", "--only", "affirm_placebo_arr,dmt_natalizumab_ratio", "--out", str(out)]) == 0
    page = out.read_text()
    assert "left out of this run (--only)" in page
    row = next(line for line in page.splitlines() if "(`affirm_placebo_arr`)" in line)
    assert "(seed 11; n = 200)" in row


def _bad(tmp_path: Path, text: str, capsys) -> str:
    facts = tmp_path / "facts.toml"
    facts.write_text(text, encoding="utf-8")
    out = tmp_path / "page.md"
    code = _run_module().main(["--facts", str(facts), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and err.strip().endswith(".")
    return err


GOOD_RUN = "[run]\nseeds = [1]\nquick_seeds = [1]\nquick_n = 10\n"
GOOD_SCENARIO = ('[scenarios.c]\nrunner = "cohort"\ndescription = "a cohort"\nuntil = "1 year"\nn = 10\n')
GOOD_FACT = ('[[facts]]\nid = "x"\nkind = "predicted"\nclaim = "c"\npublished = 1.0\nunit = "1"\nband = [0.5, 1.5]\n'
             'band_reason = "r"\nsource = "s"\nreference = "ref"\nscenario = "c"\ncompute = "relapse_rate"\n'
             'args = {}\nendpoint = "e"\n')


@pytest.mark.parametrize(("text", "words"), [
    ("[run\n", "not valid TOML"),
    (GOOD_SCENARIO + GOOD_FACT, "no [run] table"),
    (GOOD_RUN + GOOD_SCENARIO + GOOD_FACT.replace('kind = "predicted"', 'kind = "guessed"'), "facts[0] (id 'x').kind is 'guessed'"),
    (GOOD_RUN + GOOD_SCENARIO + GOOD_FACT.replace('"relapse_rate"', '"relapse_rat"'), ".compute is 'relapse_rat', which is not a computation"),
    (GOOD_RUN + GOOD_SCENARIO + GOOD_FACT.replace("band = [0.5, 1.5]", "band = [1.5, 0.5]"), ".band is [1.5, 0.5]"),
    (GOOD_RUN + GOOD_SCENARIO + GOOD_FACT.replace('band_reason = "r"\n', ""), "has no band_reason"),
    (GOOD_RUN + GOOD_SCENARIO + GOOD_FACT.replace('"predicted"', '"calibrated"'), ".fitted is []"),
    (GOOD_RUN + GOOD_SCENARIO + GOOD_FACT.replace('scenario = "c"', 'scenario = "d"'), ".scenario is 'd'"),
    (GOOD_RUN + GOOD_SCENARIO + GOOD_FACT.replace("args = {}", "args = { arm = 1, colour = 2 }"), ".args do not fit relapse_rate"),
    (GOOD_RUN + GOOD_SCENARIO.replace('"cohort"', '"lab"') + GOOD_FACT, "scenarios.c.runner is 'lab'"),
    (GOOD_RUN + GOOD_SCENARIO + GOOD_FACT + GOOD_FACT, "repeats an earlier id"),
])
def test_a_bad_facts_file_is_one_sentence_and_exit_code_2(tmp_path, capsys, text, words):
    assert words in _bad(tmp_path, text, capsys)


def test_bad_options_are_one_sentence_and_exit_code_2(tmp_path, capsys):
    run = _run_module()
    assert run.main(["--only", "no_such_fact", "--out", str(tmp_path / "p.md")]) == 2
    assert "--only names the unknown fact 'no_such_fact'" in capsys.readouterr().err
    assert run.main(["--facts", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert run.main(["--colour"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --colour" in err and len(err.strip().splitlines()) == 1
