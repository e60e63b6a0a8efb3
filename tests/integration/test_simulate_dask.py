"""`simulate --dask`: chunks of patients computed on Dask workers (separate processes) give the
per-patient results of a local run, bit for bit: the time courses, the nadirs and the dosing
decisions, in memory and streamed to a file, whatever the chunk size; a bad address is one sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clitools import flat

import mschemo as ms
from mschemo.simulation import cluster
from mschemo.simulation.stream import simulate_to

distributed = pytest.importorskip("distributed")

N, SEED, UNTIL = 12, 5, "1 year"
PLAIN = ("mitox-2y", "12 mg/m2 over 30 min every 3 months x 4")


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, shared by the module's tests."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc, \
            distributed.Client(lc) as c:
        yield c


def _run(kind: str, **kw):
    """The same run, plain (a model and a regimen) or under a drug's label rules."""
    if kind == "plain":
        return ms.simulate(ms.load_model(PLAIN[0]), PLAIN[1], n=N, seed=SEED, until=UNTIL, **kw)
    return ms.simulate(ms.load_drug("mitoxantrone"), n=N, seed=SEED, until=UNTIL, **kw)


def _stream(kind: str, path, **kw):
    if kind == "plain":
        return simulate_to(path, ms.load_model(PLAIN[0]), PLAIN[1], n=N, seed=SEED, until=UNTIL, **kw)
    return simulate_to(path, ms.load_drug("mitoxantrone"), n=N, seed=SEED, until=UNTIL, **kw)


@pytest.fixture(scope="module", params=["plain", "rules"])
def local(request):
    return request.param, _run(request.param)


def _same_values(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("chunk", [1, 7])
def test_in_memory_on_dask_is_the_local_run_bit_for_bit(local, client, chunk):
    kind, mem = local
    seen: list[tuple[int, int]] = []
    res = _run(kind, chunk_size=chunk, dask=client, progress=lambda done, total: seen.append((done, total)))
    _same_values(res.values, mem.values)
    pd.testing.assert_frame_equal(res.to_pandas(), mem.to_pandas(), check_exact=True)
    pd.testing.assert_frame_equal(res.patients, mem.patients, check_exact=True)
    pd.testing.assert_frame_equal(res.nadirs(), mem.nadirs(), check_exact=True)
    assert np.array_equal(res.status, mem.status) and np.array_equal(res.steps, mem.steps)
    if kind == "rules":
        pd.testing.assert_frame_equal(res.decisions, mem.decisions, check_exact=True)
    else:
        assert res.decisions is None
    assert seen == [(min(N, k + chunk), N) for k in range(0, N, chunk)]   # one update per chunk, in order
    assert res.provenance["dask"] == "client" and res.provenance["n_patients"] == N


@pytest.mark.parametrize("chunk", [1, 7])
def test_streamed_on_dask_is_the_local_run_bit_for_bit(local, client, chunk, tmp_path):
    kind, mem = local
    out = tmp_path / "counts.parquet"
    decided = tmp_path / "decisions.parquet" if kind == "rules" else None
    st = _stream(kind, out, chunk_size=chunk, dask=client, decisions_path=decided)
    pd.testing.assert_frame_equal(pd.read_parquet(out), mem.to_pandas(), check_exact=True)
    pd.testing.assert_frame_equal(st.summary(), mem.summary(), check_exact=True)
    assert np.array_equal(st.status, mem.status) and np.array_equal(st.ids, mem.ids)
    if kind == "rules":
        pd.testing.assert_frame_equal(pd.read_parquet(decided), mem.decisions, check_exact=True)
        pd.testing.assert_frame_equal(st.decision_counts(), mem.decision_counts(), check_exact=True)
    else:
        assert st.decision_counts() is None
    # the temporary files were renamed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.parquet"] + (["decisions.parquet"] if decided else [])


def test_the_disease_and_a_patient_table_on_dask_are_the_local_ones(client):
    drug = ms.load_drug("mitoxantrone")
    table = drug.complete(drug.population_spec().sample(9, 3, drug.model), 3)
    mem = ms.simulate(drug, None, table, seed=3, until=UNTIL, disease=True, disease_until="2 years")
    res = ms.simulate(drug, None, table, seed=3, until=UNTIL, disease=True, disease_until="2 years", chunk_size=4,
                      dask=client)
    _same_values(res.values, mem.values)
    _same_values(res.immune.memory, mem.immune.memory)
    pd.testing.assert_frame_equal(res.disease.summary(), mem.disease.summary(), check_exact=True)
    pd.testing.assert_frame_equal(res.decisions, mem.decisions, check_exact=True)


def test_a_dask_run_under_rules_needs_a_window(client, tmp_path):
    with pytest.raises(ms.OptionError, match="a run on Dask under dosing rules needs a fixed window"):
        ms.simulate(ms.load_drug("mitoxantrone"), n=3, seed=1, dask=client)
    with pytest.raises(ms.OptionError, match="a streamed run under dosing rules needs a fixed window"):
        simulate_to(tmp_path / "a.parquet", ms.load_drug("mitoxantrone"), n=3, seed=1, dask=client)
    assert not any(tmp_path.iterdir())


# -- the command line -----------------------------------------------------------------------------------
RULES = ["simulate", "--drug", "mitoxantrone", "--n", str(N), "--seed", str(SEED), "--until", UNTIL]
PLAIN_CLI = ["simulate", "--model", PLAIN[0], "--regimen", PLAIN[1], "--n", str(N), "--seed", str(SEED),
             "--until", UNTIL]


@pytest.mark.parametrize("base", [RULES, PLAIN_CLI], ids=["rules", "plain"])
def test_simulate_dask_on_the_command_line_writes_the_local_files(cli, client, base, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    address = client.scheduler.address

    def decisions(name: str) -> list[str]:
        return ["--decisions", name] if base is RULES else []

    want = cli(*base, "--out", "local.parquet", *decisions("local.csv"), "-q")
    assert want.code == 0, want.stderr
    got = cli(*base, "--out", "mem.parquet", *decisions("mem.csv"), "--dask", address)
    assert got.code == 0, got.stderr
    assert f"run on Dask ({address})" in flat(got.stdout) and "solve status: 12 ok" in flat(got.stdout)
    streamed = cli(*base, "--out", "st.parquet", *decisions("st.csv"), "--stream", "--dask", address, "-q")
    assert streamed.code == 0, streamed.stderr
    local = pd.read_parquet("local.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet("mem.parquet"), local, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet("st.parquet"), local, check_exact=True)
    if base is RULES:
        pd.testing.assert_frame_equal(pd.read_csv("mem.csv"), pd.read_csv("local.csv"), check_exact=True)
        pd.testing.assert_frame_equal(pd.read_csv("st.csv"), pd.read_csv("local.csv"), check_exact=True)


def test_simulate_dask_local_starts_and_closes_a_cluster_here(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["simulate", "--model", PLAIN[0], "--regimen", "12 mg/m2 once", "--n", "3", "--seed", "2", "-q"]
    assert cli(*base, "--out", "local.csv").code == 0
    res = cli(*base, "--out", "dask.csv", "--stream", "--dask", "local")
    assert res.code == 0, res.stderr
    pd.testing.assert_frame_equal(pd.read_csv("dask.csv"), pd.read_csv("local.csv"), check_exact=True)


@pytest.mark.parametrize(("address", "words"), [
    ("tcp://127.0.0.1:1", "no Dask scheduler answers at 'tcp://127.0.0.1:1' within 1 s"),
    ("nonsense", "dask address 'nonsense' is not a scheduler address"),
    (" ", "--dask is empty"),
])
@pytest.mark.parametrize("stream", [False, True], ids=["memory", "stream"])
def test_a_bad_address_is_one_sentence_exit_2_and_no_file(cli, address, words, stream, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    res = cli(*PLAIN_CLI, "--out", "out.parquet", *(["--stream"] if stream else []), "--dask", address)
    assert res.code == 2
    msg = flat(res.stderr)
    assert words in msg and "Traceback" not in res.stderr and res.stderr.strip().count("\n") == 0, res.stderr
    assert msg.startswith("error: ") and msg.endswith(".") and msg.replace("e.g. ", "").count(". ") == 0, msg
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("args", "words"), [
    (["--drug", "mitoxantrone", "--n", "5", "--dask", "local"], "a run in chunks (--dask) under dosing rules needs a "
                                                                "fixed window"),
    (["--untreated", "--dask", "local"], "so --dask does not apply"),
])
def test_refusals_come_before_any_cluster_starts(cli, args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = cli("simulate", *args)
    assert res.code == 2 and words in flat(res.stderr) and res.stderr.strip().count("\n") == 0, res.stderr
    assert not any(tmp_path.iterdir())


def test_a_silent_address_stops_the_library_before_any_file(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    model, regimen = ms.load_model(PLAIN[0]), PLAIN[1]
    with pytest.raises(ms.OptionError, match="no Dask scheduler answers at 'tcp://127.0.0.1:1'"):
        simulate_to(tmp_path / "new" / "a.parquet", model, regimen, n=3, seed=1, dask="tcp://127.0.0.1:1")
    with pytest.raises(ms.OptionError, match="dask 3 is not a cluster"):
        ms.simulate(model, regimen, n=3, seed=1, dask=3)
    assert not any(tmp_path.iterdir())


def _kernel_threads() -> int:
    return ms.backends.Compiled().n_threads


def test_a_local_cluster_runs_one_kernel_thread_per_worker():
    """'local' starts a worker process per core: each runs the compiled kernel on one thread (all the
    cores in each would make the workers compete for them)."""
    with cluster.connected("local") as client:
        assert set(client.run(_kernel_threads).values()) == {1}
