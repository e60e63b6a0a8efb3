"""Simulations written chunk by chunk (simulation/stream.py): the file and every summary are the
in-memory run's, whatever the chunk size; a run that fails or is killed leaves no file at the target."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.simulation.stream import STREAM_BYTES_PER_VALUE, estimate_bytes, simulate_to, stream_chunk_size


@pytest.fixture(scope="module", params=["mitoxantrone", "cyclophosphamide", "cladribine"])
def in_memory(request):
    drug = ms.load_drug(request.param)
    return drug, ms.simulate(drug, n=23, seed=4, until="2 years", disease=True, disease_until="3 years")


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_a_streamed_drug_run_is_the_in_memory_run(in_memory, chunk, tmp_path):
    drug, mem = in_memory
    out = tmp_path / "counts.parquet"
    decided = tmp_path / "decisions.csv"
    st = simulate_to(out, drug, n=23, seed=4, until="2 years", chunk_size=chunk, disease=True, disease_until="3 years",
                     decisions_path=decided)
    pd.testing.assert_frame_equal(pd.read_parquet(out), mem.to_pandas())
    pd.testing.assert_frame_equal(st.summary(), mem.summary())
    # the decisions go to their file chunk by chunk; the result keeps their counts by action and rule
    mem_csv = tmp_path / "mem.csv"
    mem.decisions.to_csv(mem_csv, index=False, float_format="%.10g")
    assert decided.read_bytes() == mem_csv.read_bytes()
    mem_csv.unlink()
    pd.testing.assert_frame_equal(st.decision_counts(), mem.decision_counts())
    assert st.decision_counts()["courses"].sum() == len(mem.decisions)
    pd.testing.assert_frame_equal(st.disease_summary(), mem.disease.summary())
    assert np.array_equal(st.status, mem.status) and st.n_patients == 23
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.parquet", "decisions.csv"]


def test_worker_processes_write_the_same_files(in_memory, tmp_path):
    """The chunks run in two processes on this machine: the same time courses and decisions, bit for bit."""
    drug, mem = in_memory
    files = {}
    for workers in (1, 2):
        out, decided = tmp_path / f"w{workers}.parquet", tmp_path / f"d{workers}.parquet"
        st = simulate_to(out, drug, n=23, seed=4, until="2 years", chunk_size=7, disease=True,
                         disease_until="3 years", decisions_path=decided, workers=workers)
        pd.testing.assert_frame_equal(st.summary(), mem.summary())
        files[workers] = (pd.read_parquet(out), pd.read_parquet(decided))
    pd.testing.assert_frame_equal(files[2][0], files[1][0], check_exact=True)
    pd.testing.assert_frame_equal(files[2][1], files[1][1], check_exact=True)
    pd.testing.assert_frame_equal(files[1][1], mem.decisions, check_exact=True)


def test_a_streamed_model_run_in_long_csv_holds_the_same_rows(tmp_path):
    model, regimen = ms.load_model("mitox-2y"), "12 mg/m2 over 30 min every 3 months x 4"
    mem = ms.simulate(model, regimen, n=11, seed=2)
    st = simulate_to(tmp_path / "long.csv", model, regimen, n=11, seed=2, chunk_size=4, kind="long")
    key = ["output", "id", "time_d"]
    got = pd.read_csv(tmp_path / "long.csv").sort_values(key, kind="stable").reset_index(drop=True)
    want = mem.to_pandas("long").sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    pd.testing.assert_frame_equal(st.summary(), mem.summary())
    assert st.disease_summary() is None


def test_rules_need_a_window_and_bad_arguments_are_one_sentence(tmp_path):
    drug = ms.load_drug("mitoxantrone")
    with pytest.raises(ms.OptionError, match="needs a fixed window"):
        simulate_to(tmp_path / "a.parquet", drug, n=5, seed=1)
    with pytest.raises(ms.OptionError, match="use .parquet or .csv"):
        simulate_to(tmp_path / "a.txt", drug, n=5, seed=1, until="1 year")
    with pytest.raises(ms.OptionError, match="n = None"):
        simulate_to(tmp_path / "a.parquet", ms.load_model("mitox-2y"), "12 mg/m2 once")
    assert not any(tmp_path.iterdir())


def test_a_run_that_fails_leaves_no_file(tmp_path):
    def stop(done: int, total: int) -> None:
        if done >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_to(tmp_path / "x.parquet", ms.load_model("mitox-2y"), "12 mg/m2 once", n=40, seed=1, chunk_size=5,
                    progress=stop)
    assert not any(tmp_path.iterdir())


def test_a_killed_run_leaves_no_file_at_the_target(tmp_path):
    target = tmp_path / "big.parquet"
    code = ("import mschemo as ms\nfrom mschemo.simulation.stream import simulate_to\n"
            f"simulate_to({str(target)!r}, ms.load_model('mitox-2y'), '12 mg/m2 every 3 months x 8', n=100000, "
            "seed=1, chunk_size=500)\n")
    env = dict(os.environ, PYTHONPATH=str(Path(ms.__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        for _ in range(600):            # until the first chunk is in the temporary file
            tmp = [p for p in tmp_path.iterdir() if p.name.startswith(".big.parquet.")]
            if tmp and tmp[0].stat().st_size > 0:
                break
            time.sleep(0.1)
        assert tmp, "the run did not start writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert not target.exists()


def test_the_memory_estimate_grows_with_the_result():
    assert estimate_bytes(1_000_000, 731, 5) > 50 * 2**30
    assert estimate_bytes(100, 731, 5) < 20 * 2**20


def test_chunks_in_flight_fit_in_memory_on_any_number_of_cores():
    """Each worker holds its chunks in flight, so a chunk is cut smaller where the workers would otherwise
    take more than half the machine: 2 years of daily counts (732 x 7 values a patient) on 64 cores
    with 128 GB, where 64 chunks of 10,000 patients would plan 131 GB."""
    values = 732 * 7
    assert stream_chunk_size(10_000, 2, values, memory=24 * 10**9) == 10_000      # this size of machine: as asked
    small = stream_chunk_size(10_000, 64, values, memory=128 * 10**9)
    assert small == 128 * 10**9 // 2 // (64 * values * STREAM_BYTES_PER_VALUE) == 4879
    assert 64 * small * values * STREAM_BYTES_PER_VALUE <= 64 * 10**9 < 64 * (small + 1) * values * STREAM_BYTES_PER_VALUE
    assert stream_chunk_size(10_000, 8, values, memory=16 * 10**9) == small     # the same memory a core
    assert stream_chunk_size(10_000, 1_000, values, memory=2**20) == 1           # never fewer than one patient


def test_a_run_with_chunks_cut_to_fit_writes_the_same_file(in_memory, tmp_path, monkeypatch):
    """On a machine whose memory fits only a few patients a chunk, the chunks are cut to that size, and
    the file is the one a run with its chunks as asked writes (each patient is the same in any chunk)."""
    import mschemo.simulation.stream as stream

    drug, mem = in_memory
    per_patient = 2 * 732 * (len(drug.model.outputs) + 4) * STREAM_BYTES_PER_VALUE    # two workers
    monkeypatch.setattr(stream, "machine_memory_bytes", lambda: 2 * 5 * per_patient)   # half of it: 5 patients
    out = tmp_path / "cut.parquet"
    st = simulate_to(out, drug, n=23, seed=4, until="2 years", chunk_size=1000, disease=True, disease_until="3 years",
                     workers=2)
    assert st.provenance["chunk_size"] == 5
    pd.testing.assert_frame_equal(pd.read_parquet(out), mem.to_pandas(), check_exact=True)
    pd.testing.assert_frame_equal(st.summary(), mem.summary())


# -- the command line -----------------------------------------------------------------------------------
def test_simulate_stream_writes_the_same_file_and_decisions(tmp_path, monkeypatch, capsys):
    from mschemo.interfaces.cli import run

    monkeypatch.chdir(tmp_path)
    base = ["simulate", "--drug", "cyclophosphamide", "--n", "40", "--seed", "3", "--until", "1 year"]
    assert run([*base, "--out", "mem.parquet", "--decisions", "mem.csv", "-q"]) == 0
    assert run([*base, "--out", "st.parquet", "--decisions", "st.csv", "--stream"]) == 0
    out = capsys.readouterr().out
    assert "written chunk by chunk" in out and "Disease over 1 year" in out and "solve status: 40 ok" in out
    pd.testing.assert_frame_equal(pd.read_parquet("st.parquet"), pd.read_parquet("mem.parquet"))
    pd.testing.assert_frame_equal(pd.read_csv("st.csv"), pd.read_csv("mem.csv"))
    import json

    import pyarrow.parquet as pq

    meta = json.loads(pq.read_schema("st.parquet").metadata[b"mschemo.provenance"])
    assert meta["n_patients"] == 40 and meta["streamed"] is True


@pytest.mark.parametrize(("args", "words"), [
    (["--drug", "mitoxantrone", "--n", "5", "--stream"], "add --out FILE.parquet"),
    (["--drug", "mitoxantrone", "--n", "5", "--stream", "--out", "a.parquet"], "add --until '2 years'"),
    (["--drug", "mitoxantrone", "--n", "5", "--stream", "--out", "a.parquet", "--until", "1 year", "--plot", "p.png"],
     "--plot needs every time course in memory"),
    (["--example", "mitox-2y", "--stream", "--out", "a.csv"], "applies to --drug and --model runs"),
    (["--drug", "mitoxantrone", "--n", "100000000"], "--out FILE.parquet --stream --until '2 years'"),
    (["--model", "mitox-2y", "--regimen", "12 mg/m2 once", "--n", "100000000"], "--out FILE.parquet --stream, or"),
])
def test_simulate_stream_refusals_are_one_sentence_before_any_work(args, words, tmp_path, monkeypatch, capsys):
    from mschemo.interfaces.cli import run

    monkeypatch.chdir(tmp_path)
    assert run(["simulate", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_memory_stays_flat_as_chunks_go_by(tmp_path):
    """Each chunk's values (2,000 patients x 732 days x 5 outputs, 58 MB) are let go once written: the
    memory after the last of eight chunks is within 100 MB of the memory after the first."""
    page = os.sysconf("SC_PAGE_SIZE")
    seen: list[float] = []

    def watch(done: int, total: int) -> None:
        if done > 0:
            with open("/proc/self/statm") as f:
                seen.append(int(f.read().split()[1]) * page / 2**20)

    if not Path("/proc/self/statm").exists():
        pytest.skip("no /proc on this system")
    simulate_to(tmp_path / "flat.parquet", ms.load_model("mitox-2y"), "12 mg/m2 every 3 months x 8", n=16_000,
                seed=1, until="2 years", chunk_size=2_000, progress=watch)
    assert len(seen) == 8
    assert seen[-1] - seen[0] < 100, f"resident memory grew from {seen[0]:.0f} to {seen[-1]:.0f} MB"
