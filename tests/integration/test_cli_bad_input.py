"""Malformed CLI input: one sentence on stderr ("error: ... ."), exit code 2, no traceback, no file.

Each case is (id, command line, files to write first). ``{tmp}`` in an argument is the test's
tmp_path; ``{out}`` is the --out file that must not exist afterwards (every simulate case gets
``--out {out}`` and ``--plot`` unless it sets them itself).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clitools import assert_refused

REG = "12 mg/m2 over 30 min every 91 days x 2"
BASE = ["simulate", "--drug", "mitox-2y"]
EVENTS_HEADER = "ID,TIME,EVID,AMT,CMT,DUR,II,ADDL,SS,RATE"
GOOD_EVENT = "1,0,1,12,1,0.5,0,0,0,0"


def events(*rows: str, header: str = EVENTS_HEADER) -> dict[str, str]:
    return {"ev.csv": "\n".join([header, *rows]) + "\n"}


def patients(*rows: str, header: str = "id,height_cm,weight_kg") -> dict[str, str]:
    return {"pts.csv": "\n".join([header, *rows]) + "\n"}


EV = ["--events", "{tmp}/ev.csv"]
DRUG = ["simulate", "--drug", "mitoxantrone", "--n", "2", "--seed", "1"]
POP = ["--population", "{tmp}/pts.csv"]

CASES: list[tuple[str, list[str], dict[str, str]]] = [
    # -- regimen text ------------------------------------------------------------------------
    ("regimen-unit-mg-per-m", [*BASE, "--regimen", "12 mg/m over 30 min x 8"], {}),
    ("regimen-negative-duration", [*BASE, "--regimen", "12 mg/m2 over -30 min every 3 months x 8"], {}),
    ("regimen-no-amount", [*BASE, "--regimen", "every 3 months"], {}),
    ("regimen-empty", [*BASE, "--regimen", ""], {}),
    ("regimen-blank", [*BASE, "--regimen", "   "], {}),
    ("regimen-no-end", [*BASE, "--regimen", "12 mg/m2 every 3 months"], {}),
    ("regimen-count-without-interval", [*BASE, "--regimen", "12 mg/m2 x 8"], {}),
    ("regimen-unknown-time-unit", [*BASE, "--regimen", "12 mg/m2 over 30 minz every 3 months x 8"], {}),
    ("regimen-zero-interval", [*BASE, "--regimen", "12 mg/m2 every 0 days x 8"], {}),
    ("regimen-words", [*BASE, "--regimen", "twelve mg"], {}),
    ("regimen-fractional-count", [*BASE, "--regimen", "12 mg/m2 every 3 months x 2.5"], {}),
    ("regimen-no-unit", [*BASE, "--regimen", "12 over 30 min"], {}),
    # -- event files -------------------------------------------------------------------------
    ("events-missing-amt-column", [*BASE, *EV], events("1,0,1,1", header="ID,TIME,EVID,CMT")),
    ("events-non-numeric-time", [*BASE, *EV], events("1,abc,1,12,1,0.5,0,0,0,0")),
    ("events-negative-amt", [*BASE, *EV], events("1,0,1,-12,1,0.5,0,0,0,0")),
    ("events-unsorted-times", [*BASE, *EV], events("1,5,1,12,1,0.5,0,0,0,0", "1,2,1,12,1,0.5,0,0,0,0")),
    ("events-ss-3", [*BASE, *EV], events("1,0,1,12,1,0.5,24,0,3,0")),
    ("events-rate-minus-2-without-dur", [*BASE, *EV],
     events("1,0,1,12,1,0,-2", header="ID,TIME,EVID,AMT,CMT,II,RATE")),
    ("events-evid-7", [*BASE, *EV], events("1,0,7,12,1,0.5,0,0,0,0")),
    ("events-missing-file", [*BASE, "--events", "{tmp}/nosuch.csv"], {}),
    ("events-empty-file", [*BASE, *EV], {"ev.csv": ""}),
    ("events-header-only", [*BASE, *EV], events()),
    ("events-ragged-row", [*BASE, *EV], events("1,0,1,12")),
    ("events-bad-time-unit", [*BASE, *EV, "--time-unit", "fortnight"], events(GOOD_EVENT)),
    ("events-folder", [*BASE, "--events", "{tmp}"], {}),
    ("events-id-not-in-patients", [*BASE, *EV, *POP], {**events(GOOD_EVENT), **patients("2,170,70")}),
    # -- population files --------------------------------------------------------------------
    ("population-no-id", [*BASE, "--regimen", REG, *POP], patients("170,70", header="height_cm,weight_kg")),
    ("population-empty-weight", [*BASE, "--regimen", REG, *POP], patients("1,170,", "2,160,60")),
    ("population-weight-7000", [*BASE, "--regimen", REG, *POP], patients("1,170,7000")),
    ("population-non-numeric-height", [*BASE, "--regimen", REG, *POP], patients("1,tall,70")),
    ("population-missing-file", [*BASE, "--regimen", REG, "--population", "{tmp}/nosuch.csv"], {}),
    ("population-duplicate-id", [*BASE, "--regimen", REG, *POP], patients("1,170,70", "1,160,60")),
    ("population-no-rows", [*BASE, "--regimen", REG, *POP], patients()),
    ("population-wrong-suffix", [*BASE, "--regimen", REG, "--population", "{tmp}/pts.xlsx"], {"pts.xlsx": "x"}),
    ("population-with-n", [*BASE, "--regimen", REG, *POP, "--n", "5"], patients("1,170,70")),
    ("population-spec-bad-distribution", [*BASE, "--regimen", REG, "--population", "{tmp}/c.toml"],
     {"c.toml": '[covariates.height_cm]\ndistribution = "gaussian"\nmean = 170\nsd = 8\n'}),
    ("population-spec-not-toml", [*BASE, "--regimen", REG, "--population", "{tmp}/c.toml"], {"c.toml": "[[[ nope"}),
    # -- options -----------------------------------------------------------------------------
    ("n-zero", [*BASE, "--regimen", REG, "--n", "0"], {}),
    ("n-negative", [*BASE, "--regimen", REG, "--n", "-5"], {}),
    ("n-not-a-number", [*BASE, "--regimen", REG, "--n", "many"], {}),
    ("n-fraction", [*BASE, "--regimen", REG, "--n", "1.5"], {}),
    ("seed-not-a-number", [*BASE, "--regimen", REG, "--seed", "abc"], {}),
    ("seed-negative", [*BASE, "--regimen", REG, "--seed", "-1"], {}),
    ("out-txt", [*BASE, "--regimen", REG, "--out", "{tmp}/x.txt"], {}),
    ("out-no-suffix", [*BASE, "--regimen", REG, "--out", "{tmp}/x"], {}),
    ("plot-gif", [*BASE, "--regimen", REG, "--plot", "{tmp}/x.gif"], {}),
    ("table-unknown", [*BASE, "--regimen", REG, "--table", "diagonal"], {}),
    ("backend-unknown", [*BASE, "--regimen", REG, "--backend", "foo"], {}),
    ("until-negative", [*BASE, "--regimen", REG, "--until", "-2 years"], {}),
    ("until-no-unit", [*BASE, "--regimen", REG, "--until", "730"], {}),
    ("until-zero", [*BASE, "--regimen", REG, "--until", "0 days"], {}),
    ("every-zero", [*BASE, "--regimen", REG, "--every", "0 days"], {}),
    ("every-unknown-unit", [*BASE, "--regimen", REG, "--every", "1 parsec"], {}),
    ("drug-unknown", ["simulate", "--drug", "nosuch", "--regimen", REG], {}),
    ("model-missing-file", ["simulate", "--model", "{tmp}/nosuch.toml", "--regimen", REG], {}),
    ("model-unknown-name", ["simulate", "--model", "nosuch", "--regimen", REG], {}),
    ("model-not-a-model", ["simulate", "--model", "ctcae-v5", "--regimen", REG], {}),
    ("model-bad-toml", ["simulate", "--model", "{tmp}/m.toml", "--regimen", REG], {"m.toml": "[model\n"}),
    ("drug-and-model", [*BASE, "--model", "mitox-2y", "--regimen", REG], {}),
    ("no-model", ["simulate", "--regimen", REG], {}),
    ("example-unknown", ["simulate", "--example", "nosuch"], {}),
    ("example-with-regimen", ["simulate", "--example", "mitox-2y", "--regimen", REG], {}),
    ("threads-zero", [*BASE, "--regimen", REG, "--threads", "0"], {}),
    ("threads-with-scipy", [*BASE, "--regimen", REG, "--backend", "scipy", "--threads", "2"], {}),
    ("regimen-and-events", [*BASE, "--regimen", REG, *EV], events(GOOD_EVENT)),
    ("neither-regimen-nor-events", [*BASE], {}),
    ("time-unit-without-events", [*BASE, "--regimen", REG, "--time-unit", "h"], {}),
    ("unknown-option", [*BASE, "--regimen", REG, "--dose", "12"], {}),
    ("option-without-value", [*BASE, "--regimen"], {}),
    ("option-without-value-at-end", ["drugs", "--sources", "--nosuch"], {}),
    ("seed-without-value", ["example", "--outdir", "{tmp}/exdir", "--seed"], {}),
    ("extra-argument", [*BASE, "--regimen", "12", "mg/m2"], {}),
    ("unknown-command", ["simulat", "--drug", "mitox-2y"], {}),
    # -- other commands ----------------------------------------------------------------------
    ("example-n-zero", ["example", "--n", "0", "--outdir", "{tmp}/exdir"], {}),
    ("example-seed-abc", ["example", "--seed", "abc", "--outdir", "{tmp}/exdir"], {}),
    ("example-outdir-is-file", ["example", "--n", "2", "--outdir", "{tmp}/afile"], {"afile": "x"}),
    ("drugs-unknown", ["drugs", "nosuch"], {}),
    ("example-unknown-name", ["example", "nosuch", "--outdir", "{tmp}/exdir"], {}),
    ("example-plot-gif", ["example", "--n", "2", "--outdir", "{tmp}/exdir", "--plot", "{tmp}/x.gif"], {}),
    # -- drugs and their dosing rules ---------------------------------------------------------
    ("drug-unknown-without-regimen", ["simulate", "--drug", "mitoxantron"], {}),
    ("cap-region-unknown", [*DRUG, "--cap-region", "jp"], {}),
    ("cap-region-without-cap", ["simulate", "--drug", "cladribine", "--cap-region", "eu"], {}),
    ("option-unknown", [*DRUG, "--option", "titrate"], {}),
    ("option-misspelt", ["simulate", "--drug", "cyclophosphamide", "--option", "titrat"], {}),
    ("option-empty", [*DRUG, "--option", ""], {}),
    ("no-rules-with-option", [*DRUG, "--no-rules", "--option", "titrate"], {}),
    ("no-rules-with-cap-region", [*DRUG, "--no-rules", "--cap-region", "eu"], {}),
    ("option-without-drug", ["simulate", "--model", "mitox-2y", "--regimen", REG, "--option", "titrate"], {}),
    ("cap-region-with-example", ["simulate", "--example", "mitox-2y", "--cap-region", "eu"], {}),
    ("no-rules-with-model-without-rules", [*BASE, "--regimen", REG, "--no-rules"], {}),
    ("decisions-txt", [*DRUG, "--decisions", "{tmp}/d.txt"], {}),
    ("decisions-no-suffix", [*DRUG, "--decisions", "{tmp}/d"], {}),
    ("decisions-same-as-out", [*DRUG, "--decisions", "{tmp}/same.csv", "--out", "{tmp}/same.csv"], {}),
    ("decisions-without-drug", ["simulate", "--model", "mitox-2y", "--regimen", REG, "--decisions", "{tmp}/d.csv"],
     {}),
    ("drug-events-with-rules", [*DRUG, *EV], events(GOOD_EVENT)),
    ("drug-events-decisions", [*DRUG, *EV, "--no-rules", "--decisions", "{tmp}/d.csv"], events(GOOD_EVENT)),
    ("drug-other-drugs-label-plan", [*DRUG, "--regimen", "label tablets"], {}),
    ("drug-bad-regimen", [*DRUG, "--regimen", "12 mg/m2 every 3 months"], {}),
    ("drug-csv-population-with-n", [*DRUG, *POP, "--n", "4"], patients("1,170,70")),
]

#: run as real subprocesses too: exit status and stderr as a shell sees them
SUBPROCESS_CASES = ("regimen-empty", "n-negative", "seed-not-a-number", "events-missing-amt-column",
                    "population-weight-7000", "backend-unknown", "unknown-option", "no-model", "option-unknown")


def _prepare(tmp_path: Path, args: list[str], files: dict[str, str]) -> tuple[list[str], list[Path]]:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    outputs: list[Path] = []
    if args and args[0] == "simulate":
        if "--out" not in args:
            args += ["--out", str(tmp_path / "result.csv")]
        if "--plot" not in args:
            args += ["--plot", str(tmp_path / "result.png")]
        outputs = [tmp_path / "result.csv", tmp_path / "result.png"]
        for opt in ("--out", "--plot", "--decisions"):
            if opt in args:
                outputs.append(Path(args[args.index(opt) + 1]))
    if args and args[0] == "example":
        outdir = Path(args[args.index("--outdir") + 1])
        outputs = [outdir / "mitox-2y.csv", outdir / "mitox-2y.png", outdir / "mschemo_example.png"]
        if "--plot" in args:
            outputs.append(Path(args[args.index("--plot") + 1]))
    return args, outputs


def _check(code: int, stdout: str, stderr: str, outputs: list[Path], tmp_path: Path, inputs: set[str]) -> None:
    assert_refused(code, stdout, stderr, tmp_path, inputs, outputs)


@pytest.mark.parametrize(("args", "files"), [pytest.param(a, f, id=i) for i, a, f in CASES])
def test_bad_input(cli, tmp_path: Path, args: list[str], files: dict[str, str]) -> None:
    argv, outputs = _prepare(tmp_path, args, files)
    res = cli(*argv)
    _check(res.code, res.stdout, res.stderr, outputs, tmp_path, set(files))


@pytest.mark.parametrize(("args", "files"), [pytest.param(a, f, id=i) for i, a, f in CASES if i in SUBPROCESS_CASES])
def test_bad_input_subprocess(cli_process, tmp_path: Path, args: list[str], files: dict[str, str]) -> None:
    argv, outputs = _prepare(tmp_path, args, files)
    res = cli_process(*argv, cwd=tmp_path)
    _check(res.code, res.stdout, res.stderr, outputs, tmp_path, set(files))


def test_corpus_is_large_and_ids_unique() -> None:
    ids = [i for i, _, _ in CASES]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)
    assert set(SUBPROCESS_CASES) <= set(ids)


def test_failure_after_simulation_leaves_no_file(cli, tmp_path: Path, monkeypatch) -> None:
    """A bad input found while writing (here: the plot) removes the table already staged."""
    import mschemo
    from mschemo.errors import OptionError

    def broken(fig, path, dpi=150):
        raise OptionError("the figure cannot be written in this test; nothing should be left.")

    monkeypatch.setattr(mschemo, "save_figure", broken)   # the CLI saves figures through the public API
    out, png = tmp_path / "r.csv", tmp_path / "r.png"
    res = cli(*BASE, "--regimen", "12 mg/m2 over 30 min", "--n", "2", "--seed", "1", "--until", "10 days",
              "--out", out, "--plot", png)
    _check(res.code, res.stdout, res.stderr, [out, png], tmp_path, set())
