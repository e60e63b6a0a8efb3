"""Result tables: nadirs per dosing interval, CTCAE grades, tidy tables, writers, provenance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mschemo as ms


@pytest.fixture(scope="module")
def res():
    return ms.simulate("mitox-2y", "12 mg/m2 over 30 min every 91 days x 3", 4, seed=5, until="300 days")


def test_ctcae_v5_thresholds():
    """NCI CTCAE v5.0 (2017), Investigations: WBC <3.0 G2, <2.0 G3, <1.0 G4; ANC <1.5/<1.0/<0.5; ALC <0.8/<0.5/<0.2."""
    assert ms.ctcae_grade(np.array([4.0, 3.99, 2.99, 1.99, 0.99]), "wbc").tolist() == [0, 1, 2, 3, 4]
    assert ms.ctcae_grade(np.array([2.0, 1.49, 0.99, 0.49]), "anc").tolist() == [0, 2, 3, 4]
    assert ms.ctcae_grade(np.array([1.0, 0.79, 0.49, 0.19]), "alc").tolist() == [0, 2, 3, 4]


def test_nadirs_per_interval(res):
    nad = res.nadirs()
    assert sorted(nad["interval"].unique()) == [1, 2, 3]
    assert len(nad) == 4 * 3
    wbc = res.column("wbc")
    for _, row in nad.iterrows():
        i = list(res.ids).index(row["id"])
        mask = (res.times_d >= row["interval_start_d"]) & ((res.times_d < row["interval_end_d"]) | (row["interval"] == 3))
        assert row["nadir_1e9_per_L"] == wbc[i, mask].min()


def test_tables_and_writers(res, tmp_path):
    wide = res.to_pandas()
    assert list(wide.columns[:2]) == ["id", "time_d"] and "wbc_1e9_per_L" in wide
    long = res.to_pandas("long")
    assert set(long["unit"]) >= {"10^9/L", "mg/L"}
    res.write(tmp_path / "r.parquet")
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert back.equals(wide)
    with pytest.raises(ms.OptionError):
        res.write(tmp_path / "r.txt")
    assert not (tmp_path / "r.txt").exists()


def test_status_and_provenance(res):
    assert res.all_ok and (res.status_table()["status"] == "ok").all()
    prov = res.provenance
    assert prov["seed"] == 5 and prov["parameter_file_sha256"] and prov["backend"]["backend"] == "compiled"
    assert prov["mschemo_version"] == ms.__version__


def test_grades_and_summary(res):
    g = res.grades()
    assert set(g["output"]) == {"wbc"} and len(g) == 4
    s = res.summary()
    assert s.loc[0, "output"] == "wbc"


def test_peer_table_agrees_with_nadirs():
    ex = ms.load_example("mitox-2y", n=3)
    r = ms.simulate(ex.model, ex.regimen, ex.population, output=ex.output)
    tab = ex.peer_table(r)
    nad = r.nadirs("wbc")
    for k in range(1, 9):
        assert np.array_equal(tab[f"nadir_{k}"].to_numpy(), nad[nad["interval"] == k]["nadir_1e9_per_L"].to_numpy())
    assert np.array_equal(tab["first_nadir_day"].to_numpy(), nad[nad["interval"] == 1]["nadir_day"].to_numpy().astype(int))


def test_the_summary_reads_nadirs_after_a_dose_and_counts_the_dosed_apart():
    """A patient never dosed has no nadir (its baseline course is not one): the first and lowest
    nadirs are the dosed patients', the lowest is never above the first, and the table says how many
    patients they are."""
    pop = ms.PopulationSpec().sample(4, 3, ms.load_model("mitox-2y"))
    given = ms.Regimen.parse("12 mg/m2 over 30 min every 91 days x 2")
    table = ms.EventTable({pid: (given if k < 2 else ms.Regimen.empty()) for k, pid in enumerate(pop.ids)}, {})
    r = ms.simulate("mitox-2y", table, pop, until="200 days")
    row = r.summary().set_index("output").loc["wbc"]
    assert row["patients_dosed"] == "2 of 4"
    first, lowest = (float(row[c].split(" ")[0]) for c in ("first_nadir_1e9_per_L", "lowest_nadir_1e9_per_L"))
    assert lowest <= first
    dosed = r.column("wbc")[:2]
    assert lowest == pytest.approx(np.median(dosed.min(axis=1)), abs=0.006)   # 2 decimals shown
