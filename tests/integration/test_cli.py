"""The command line end to end: the README's main job, every input path, the files it writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from clitools import subprocess_env

from mschemo.interfaces.cli import run

DISCLAIMER = "Research and education only, not a prescription."
PEER_COLUMNS = ["id", "bsa_m2", "dose_mg", *[f"nadir_{k}" for k in range(1, 9)], "first_nadir_day"]
REGIMEN = "12 mg/m2 over 30 min every 91 days x 2"


def test_example_writes_plot_and_table(cli_process, tmp_path: Path) -> None:
    """The benchmark scenario, as a user runs it: `mschemo example mitox-2y` (here with 20 patients)."""
    res = cli_process("example", "mitox-2y", "--n", "20", cwd=tmp_path)
    assert res.code == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert DISCLAIMER in res.stdout
    assert "White-cell counts" in res.stdout and "First nadir" in res.stdout
    png, csv = tmp_path / "mitox-2y.png", tmp_path / "mitox-2y.csv"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    df = pd.read_csv(csv)
    assert list(df.columns) == PEER_COLUMNS
    assert len(df) == 20 and df["id"].tolist() == list(range(1, 21))
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_example_outdir_and_seed(cli, tmp_path: Path) -> None:
    res = cli("example", "mitox-2y", "--n", "3", "--seed", "7", "--outdir", tmp_path / "out", "--quiet")
    assert res.code == 0, res.stderr
    assert res.stdout == ""
    assert (tmp_path / "out" / "mitox-2y.png").is_file()
    a = pd.read_csv(tmp_path / "out" / "mitox-2y.csv")
    res = cli("example", "mitox-2y", "--n", "3", "--seed", "7", "--outdir", tmp_path / "again", "--quiet")
    b = pd.read_csv(tmp_path / "again" / "mitox-2y.csv")
    pd.testing.assert_frame_equal(a, b)


def test_simulate_example_writes_peer_table(cli, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    res = cli("simulate", "--example", "mitox-2y", "--n", "5", "--seed", "1", "--out", out)
    assert res.code == 0, res.stderr
    assert DISCLAIMER in res.stdout
    text = out.read_text().splitlines()
    assert text[0] == ",".join(PEER_COLUMNS)
    assert len(text) == 6
    # written like the benchmark peers: integers as integers, other numbers to 10 significant digits
    cells = text[1].split(",")
    assert cells[0] == "1" and "." not in cells[-1]
    assert all(len(c.replace(".", "").replace("-", "").lstrip("0")) <= 10 for c in cells[1:-1])


def test_simulate_example_matches_python_api(cli, tmp_path: Path) -> None:
    import mschemo as ms

    out = tmp_path / "x.csv"
    assert cli("simulate", "--example", "mitox-2y", "--n", "4", "--seed", "3", "--out", out, "--quiet").code == 0
    ex = ms.load_example("mitox-2y", n=4, seed=3)
    want = ex.peer_table(ms.simulate(ex.model, ex.regimen, ex.population, output=ex.output))
    got = pd.read_csv(out)
    pd.testing.assert_frame_equal(got[["id", "first_nadir_day"]], want[["id", "first_nadir_day"]], check_dtype=False)
    for col in PEER_COLUMNS[1:-1]:
        assert (got[col] / want[col] - 1).abs().max() < 1e-9


def test_simulate_drug_regimen_parquet_roundtrip(cli, tmp_path: Path) -> None:
    out = tmp_path / "res.parquet"
    res = cli("simulate", "--drug", "mitox-2y", "--regimen", REGIMEN, "--n", "6", "--seed", "1", "--until", "200 days",
              "--out", out)
    assert res.code == 0, res.stderr
    assert DISCLAIMER in res.stdout and "solve status: 6 ok" in res.stdout
    df = pd.read_parquet(out)
    assert list(df.columns[:2]) == ["id", "time_d"] and "wbc_1e9_per_L" in df.columns
    assert df["id"].nunique() == 6 and df["time_d"].max() == 200.0
    import pyarrow.parquet as pq

    assert b"mschemo.provenance" in pq.read_schema(out).metadata


def test_simulate_is_reproducible_with_a_seed(cli, tmp_path: Path) -> None:
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for p in paths:
        assert cli("simulate", "--model", "mitox-2y", "--regimen", REGIMEN, "--n", "3", "--seed", "11",
                   "--until", "120 days", "--out", p, "--quiet").code == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_simulate_long_table_and_plot(cli, tmp_path: Path) -> None:
    out, png = tmp_path / "long.csv", tmp_path / "counts.png"
    res = cli("simulate", "--drug", "mitox-2y", "--regimen", REGIMEN, "--n", "4", "--seed", "2", "--every", "12 h",
              "--until", "100 days", "--table", "long", "--out", out, "--plot", png)
    assert res.code == 0, res.stderr
    df = pd.read_csv(out)
    assert list(df.columns) == ["id", "time_d", "output", "value", "unit"]
    assert set(df["output"]) >= {"wbc", "conc"}
    assert df["time_d"].drop_duplicates().size == 201
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_simulate_model_file(cli, tmp_path: Path) -> None:
    from mschemo.params import PARAMS_DIR

    model = tmp_path / "my_model.toml"
    model.write_text((PARAMS_DIR / "mitox_2y.toml").read_text())
    out = tmp_path / "m.csv"
    res = cli("simulate", "--model", model, "--regimen", "12 mg/m2 over 30 min", "--n", "2", "--seed", "1", "--out", out)
    assert res.code == 0, res.stderr
    assert pd.read_csv(out)["id"].nunique() == 2


def test_simulate_events_and_patient_table(cli, inputs, tmp_path: Path) -> None:
    out = tmp_path / "ev.csv"
    res = cli("simulate", "--model", "mitox-2y", "--events", inputs["events"], "--time-unit", "h",
              "--population", inputs["patients"], "--until", "120 days", "--out", out)
    assert res.code == 0, res.stderr
    assert "event table doses.csv" in res.stdout and "patients from patients.csv" in res.stdout
    df = pd.read_csv(out)
    assert sorted(df["id"].unique()) == [1, 2]
    # patient 2 got 24 mg over 1 h, patient 1 12 mg/m2 x BSA over 30 min: both dip after day 0 and day 91
    wbc = df.pivot(index="time_d", columns="id", values="wbc_1e9_per_L")
    assert (wbc.loc[5:20].min() < wbc.loc[0]).all()


def test_simulate_events_typical_patients(cli, inputs, tmp_path: Path) -> None:
    out = tmp_path / "ev.csv"
    res = cli("simulate", "--drug", "mitox-2y", "--events", inputs["events"], "--time-unit", "h", "--out", out)
    assert res.code == 0, res.stderr
    assert "one typical patient" in res.stdout
    assert sorted(pd.read_csv(out)["id"].unique()) == [1, 2]


def test_simulate_population_spec(cli, inputs, tmp_path: Path) -> None:
    out = tmp_path / "spec.csv"
    res = cli("simulate", "--drug", "mitox-2y", "--regimen", REGIMEN, "--population", inputs["spec"], "--n", "5",
              "--seed", "4", "--until", "100 days", "--out", out)
    assert res.code == 0, res.stderr
    assert "small cohort" in res.stdout
    assert pd.read_csv(out)["id"].nunique() == 5


def test_simulate_scipy_backend(cli, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    res = cli("simulate", "--drug", "mitox-2y", "--regimen", "12 mg/m2 over 30 min", "--n", "1", "--seed", "1",
              "--until", "30 days", "--backend", "scipy", "--out", out)
    assert res.code == 0, res.stderr
    assert "solver: scipy" in res.stdout


def test_simulate_threads(cli, tmp_path: Path) -> None:
    res = cli("simulate", "--drug", "mitox-2y", "--regimen", "12 mg/m2 over 30 min", "--n", "3", "--seed", "1",
              "--until", "30 days", "--threads", "1")
    assert res.code == 0, res.stderr
    assert "solve status: 3 ok" in res.stdout


def test_drugs_lists_models_and_sources(cli) -> None:
    res = cli("drugs")
    assert res.code == 0, res.stderr
    assert "mitox-2y" in res.stdout and "3-compartment" in res.stdout
    res = cli("drugs", "--sources")
    assert res.code == 0, res.stderr
    text = " ".join(res.stdout.split())  # Rich wraps long lines
    assert "WBC_SLOPE = 1.5 L/mg" in text and "assumption: illustrative" in text
    assert "National Cancer Institute 2017" in text  # the CTCAE thresholds and their source
    assert cli("drugs", "mitox-2y").code == 0


def test_version_and_help(cli) -> None:
    import mschemo

    res = cli("--version")
    assert res.code == 0 and res.stdout.strip() == f"mschemo {mschemo.__version__}"
    for args in (["--help"], ["simulate", "--help"], ["example", "--help"], ["drugs", "--help"], []):
        res = cli(*args)
        assert res.code == 0, (args, res.stderr)
        assert "Usage" in res.stdout


def test_main_exits_with_the_code() -> None:
    from mschemo.interfaces.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert run(["simulate", "--n", "0"]) == 2


def test_help_imports_nothing_heavy() -> None:
    """`mschemo --help` must start fast: no numba, SciPy, pandas or matplotlib."""
    code = (
        "import sys\n"
        "from mschemo.interfaces.cli import run\n"
        "codes = [run(['--help']), run(['simulate', '--help']), run(['example', '--help']), run(['drugs', '--help'])]\n"
        "heavy = sorted(m for m in ('numba', 'scipy', 'pandas', 'matplotlib', 'pyarrow') if m in sys.modules)\n"
        "print('CODES', codes, 'HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(),
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "CODES [0, 0, 0, 0] HEAVY []" in proc.stderr, proc.stderr


def test_console_entry_point_module(cli_process) -> None:
    res = cli_process("--version")
    assert res.code == 0 and res.stdout.startswith("mschemo ")
