"""NONMEM-style event tables (CSV) -> Dose records and observation times per ID."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_one_sentence
from mschemo.errors import RegimenError, UnitError
from mschemo.regimen import Dose, EventTable, Regimen
from mschemo.regimen.events import read_event_table

PARITY = Path("/work/shared/nonmem-parity")




def write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# accepted forms
# --------------------------------------------------------------------------------------------
def test_minimal_table(tmp_path):
    path = write(
        tmp_path,
        """
ID,TIME,AMT
1,0,100
1,1,0
1,2,0
2,0,50
""",
    )
    regimens, obs = read_event_table(path)
    assert list(regimens) == [1, 2]
    assert regimens[1] == [Dose(time_d=0.0, amount=100.0, unit="mg", cmt="central")]
    np.testing.assert_array_equal(obs[1], [1.0, 2.0])
    assert obs[2].shape == (0,)
    assert isinstance(obs[1], np.ndarray)


def test_lower_case_columns_and_all_items_in_hours(tmp_path):
    path = write(
        tmp_path,
        """
id,time,evid,amt,cmt,rate,ii,addl,ss
7,0,1,100,2,10,24,3,0
7,12,0,0,2,0,0,0,0
7,48,1,50,1,0,12,0,1
""",
    )
    regimens, obs = read_event_table(path, time_unit="h")
    a, b = regimens[7]
    assert (a.cmt, a.amount, a.rate_per_d, a.ii_d, a.addl, a.ss) == (2, 100.0, 240.0, 1.0, 3, 0)
    assert (b.time_d, b.cmt, b.ii_d, b.ss) == (2.0, 1, 0.5, 1)
    np.testing.assert_allclose(obs[7], [0.5])


def test_duration_column(tmp_path):
    path = write(
        tmp_path,
        """
ID,TIME,AMT,DUR,RATE
1,0,100,2,0
1,24,100,3,-2
1,48,100,0,
""",
    )
    doses, _ = read_event_table(path, time_unit="h")
    assert [d.duration_d * 24 for d in doses[1]] == pytest.approx([2.0, 3.0, 0.0])
    assert all(d.rate_per_d == 0 for d in doses[1])


@pytest.mark.parametrize(("unit", "days"), [("d", 1.0), ("h", 1 / 24), ("min", 1 / 1440), ("week", 7.0)])
def test_time_units(tmp_path, unit, days):
    path = write(tmp_path, "ID,TIME,AMT,II,ADDL,LAG\n1,2,10,3,1,0.5\n1,4,0,0,0,.\n")
    doses, obs = read_event_table(path, time_unit=unit)
    d = doses[1][0]
    assert (d.time_d, d.ii_d, d.lag_d) == pytest.approx((2 * days, 3 * days, 0.5 * days))
    assert obs[1] == pytest.approx([4 * days])


def test_default_evid_and_cmt(tmp_path):
    path = write(
        tmp_path,
        """
ID,TIME,AMT,RATE,SS,CMT
1,0,0,5,1,.
1,0,0,0,0,
1,1,20,0,0,0
""",
    )
    doses, obs = read_event_table(path)
    # AMT 0 with RATE > 0 is a (constant-infusion) dose; AMT 0 without a rate is an observation
    assert [(d.amount, d.rate_per_d, d.ss, d.cmt) for d in doses[1]] == [
        (0.0, 5.0, 1, "central"),
        (20.0, 0.0, 0, "central"),
    ]
    assert obs[1].tolist() == [0.0]


def test_named_compartments_are_kept(tmp_path):
    path = write(tmp_path, "ID,TIME,AMT,CMT\n1,0,10,depot\n1,1,10,3\n")
    doses, _ = read_event_table(path)
    assert [d.cmt for d in doses[1]] == ["depot", 3]


def test_evid_2_ignored_evid_3_and_4_kept(tmp_path):
    path = write(
        tmp_path,
        """
ID,TIME,EVID,AMT,CMT
1,0,1,100,1
1,1,2,0,1
1,2,3,0,2
1,3,4,80,1
1,4,0,0,2
""",
    )
    doses, obs = read_event_table(path)
    assert [(d.evid, d.time_d, d.amount) for d in doses[1]] == [(1, 0.0, 100.0), (3, 2.0, 0.0), (4, 3.0, 80.0)]
    assert obs[1].tolist() == [4.0]
    assert Regimen(tuple(doses[1])).n_doses == 2


def test_amount_units(tmp_path):
    path = write(
        tmp_path,
        """
ID,TIME,AMT,AMT_UNIT,RATE
1,0,12,mg/m2,24
1,1,1.75,mg/kg,
1,2,0.5,g,
1,3,100,,
""",
    )
    doses, _ = read_event_table(path, amount_unit="mg", time_unit="h")
    assert [(d.amount, d.unit) for d in doses[1]] == [(12.0, "mg/m2"), (1.75, "mg/kg"), (500.0, "mg"), (100.0, "mg")]
    assert doses[1][0].rate_per_d == 24 * 24
    doses, _ = read_event_table(write(tmp_path, "ID,TIME,AMT\n1,0,12\n", "b.csv"), amount_unit="mg/m2")
    assert (doses[1][0].amount, doses[1][0].unit) == (12.0, "mg/m2")


@pytest.mark.parametrize(("f_col", "lag_col"), [("F", "LAG"), ("BIOAV", "ALAG"), ("f", "alag")])
def test_bioavailability_and_lag(tmp_path, f_col, lag_col):
    path = write(tmp_path, f"ID,TIME,AMT,{f_col},{lag_col}\n1,0,10,0.5,2\n1,1,10,.,.\n")
    doses, _ = read_event_table(path, time_unit="h")
    assert doses[1][0].bioavailability == 0.5 and doses[1][0].lag_d == pytest.approx(2 / 24)
    assert doses[1][1].bioavailability is None and doses[1][1].lag_d is None


def test_columns_mapping(tmp_path):
    path = write(
        tmp_path,
        """
SUBJ,T,DOSE,RATE,D2,BIOAV,LAGT
a,0,100,-2,9,0.6,1
a,1,0,0,9,0.6,1
""",
    )
    doses, obs = read_event_table(
        path, time_unit="h", columns={"id": "SUBJ", "TIME": "t", "AMT": "DOSE", "D": "D2", "F": None}
    )
    d = doses["a"][0]
    assert d.duration_d == pytest.approx(9 / 24) and d.bioavailability is None and d.lag_d is None
    assert obs["a"] == pytest.approx([1 / 24])


def test_modelled_duration_column_is_used_only_by_rate_minus_2(tmp_path):
    path = write(tmp_path, "ID,TIME,AMT,RATE,DUR2\n1,0,100,0,9\n1,1,100,10,9\n1,2,100,-2,9\n")
    doses, _ = read_event_table(path, time_unit="h", columns={"D": "DUR2"})
    assert [d.duration_d * 24 for d in doses[1]] == pytest.approx([0.0, 0.0, 9.0])
    assert doses[1][1].rate_per_d == 240.0


def test_ids_keep_their_type(tmp_path):
    r, _ = read_event_table(write(tmp_path, "ID,TIME,AMT\n1,0,1\n2.0,0,1\n", "a.csv"))
    assert list(r) == [1, 2]
    r, _ = read_event_table(write(tmp_path, "ID,TIME,AMT\nP01,0,1\n2,0,1\n", "b.csv"))
    assert list(r) == ["P01", "2"]
    r, _ = read_event_table(write(tmp_path, "ID,TIME,AMT\n1,0,1\n1.0,0,1\n", "c.csv"))
    assert list(r) == ["1", "1.0"]


def test_record_order_and_equal_times(tmp_path):
    path = write(
        tmp_path,
        """
ID,TIME,EVID,AMT
2,0,1,5
1,0,1,10
1,0,1,20
1,0,0,0
2,5,1,6
""",
    )
    doses, obs = read_event_table(path)
    assert list(doses) == [2, 1]
    assert [d.amount for d in doses[1]] == [10.0, 20.0]
    assert [d.amount for d in doses[2]] == [5.0, 6.0]


def test_blank_and_comment_lines_are_skipped_but_counted(tmp_path):
    path = write(tmp_path, "# a comment\nID,TIME,AMT\n\n1,0,10\n1,x,0\n")
    with pytest.raises(RegimenError, match="line 5"):
        read_event_table(path)


def test_extra_columns_ignored(tmp_path):
    path = write(tmp_path, "ID,TIME,AMT,MDV,WT,MODE\n1,0,10,1,70,2\n")
    doses, _ = read_event_table(path)
    assert doses[1] == [Dose(amount=10.0)]


def test_event_table_class(tmp_path):
    path = write(tmp_path, "ID,TIME,AMT,II,ADDL\n1,0,10,7,3\n1,30,0,0,0\n")
    table = EventTable.read(path)
    assert table.ids == [1]
    assert table.for_id(1).n_doses == 4
    np.testing.assert_array_equal(table.observation_times_d[1], [30.0])


# --------------------------------------------------------------------------------------------
# the NONMEM parity scenarios
# --------------------------------------------------------------------------------------------
@pytest.mark.skipif(not PARITY.is_dir(), reason=f"{PARITY} (NONMEM parity data) is not available")
def test_nonmem_parity_files_load():
    files = sorted(PARITY.glob("scenario_*_events.csv"), key=lambda p: int(p.stem.split("_")[1]))
    assert len(files) == 29
    for path in files:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        n_obs = sum(r["EVID"] == "0" for r in rows)
        n_dose = sum(r["EVID"] in ("1", "3", "4") for r in rows)
        regimens, obs = read_event_table(path, time_unit="h", columns={"D": "DUR2", "F": None})
        (pid,) = regimens
        assert pid == int(rows[0]["ID"])
        assert len(regimens[pid]) == n_dose, path.name
        assert len(obs[pid]) == n_obs == 131, path.name
        assert obs[pid][-1] == pytest.approx(130 / 24)
        Regimen(tuple(regimens[pid]))  # in time order, valid
        for d, r in zip(regimens[pid], [r for r in rows if r["EVID"] in ("1", "3", "4")], strict=True):
            assert d.evid == int(r["EVID"]) and d.cmt == int(r["CMT"])
            assert d.time_d == pytest.approx(float(r["TIME"]) / 24)
            if d.evid != 3:
                assert d.amount == float(r["AMT"]) and d.ss == int(r["SS"]) and d.addl == int(r["ADDL"])
                assert d.ii_d == pytest.approx(float(r["II"]) / 24)
                rate = float(r["RATE"])
                if rate > 0:
                    assert d.rate_per_d == pytest.approx(rate * 24)
                elif rate == -2:
                    assert d.duration_d == pytest.approx(float(r["DUR2"]) / 24)
                else:
                    assert not d.is_infusion
    # the default reader applies BIOAV as per-dose F; RATE=-2 files need to name their duration column
    regimens, _ = read_event_table(PARITY / "scenario_2_events.csv", time_unit="h")
    assert regimens[2][0].bioavailability == 2.23
    with pytest.raises(RegimenError, match="RATE"):
        read_event_table(PARITY / "scenario_5_events.csv", time_unit="h")


# --------------------------------------------------------------------------------------------
# malformed files: RegimenError, one sentence with file, line, column, value and fix
# --------------------------------------------------------------------------------------------
MALFORMED = [
    # (file text, reader keywords, quoted fragment)
    ("", {}, "'events.csv' is empty"),
    ("\n\n", {}, "'events.csv' is empty"),
    ("ID,TIME,AMT\n", {}, "no records"),
    ("ID TIME AMT\n1 0 10\n", {}, "'ID TIME AMT'"),
    ("ID,TIME\n1,0\n", {}, "no column AMT"),
    ("ID,AMT\n1,10\n", {}, "no column TIME"),
    ("TIME,AMT\n0,10\n", {}, "no column ID"),
    ("ID,TIME,AMT,TIME\n1,0,1,0\n", {}, "'TIME'"),
    ("ID,TIME,AMT\n1,abc,10\n", {}, "'abc'"),
    ("ID,TIME,AMT\n1,0,ten\n", {}, "'ten'"),
    ("ID,TIME,AMT\n1,0,-5\n", {}, "'-5'"),
    ("ID,TIME,AMT\n1,,10\n", {}, "column TIME"),
    ("ID,TIME,AMT\n1,NaN,10\n", {}, "'NaN'"),
    ("ID,TIME,AMT\n1,0,nan\n", {}, "'nan'"),
    ("ID,TIME,AMT\n1,0,\n", {}, "column AMT"),
    ("ID,TIME,AMT\n,0,10\n", {}, "column ID"),
    ("ID,TIME,AMT\n1,-1,10\n", {}, "'-1'"),
    ("ID,TIME,AMT\n1,5,10\n1,3,0\n", {}, "'3'"),
    ("ID,TIME,EVID,AMT\n1,0,5,10\n", {}, "'5'"),
    ("ID,TIME,EVID,AMT\n1,0,1.5,10\n", {}, "'1.5'"),
    ("ID,TIME,AMT,SS,II\n1,0,10,3,12\n", {}, "'3'"),
    ("ID,TIME,AMT,SS,II\n1,0,10,1,0\n", {}, "column SS"),
    ("ID,TIME,AMT,II,ADDL\n1,0,10,0,3\n", {}, "column ADDL: '3'"),
    ("ID,TIME,AMT,II,ADDL\n1,0,10,12,1.5\n", {}, "'1.5'"),
    ("ID,TIME,AMT,II,ADDL\n1,0,10,-12,0\n", {}, "'-12'"),
    ("ID,TIME,AMT,RATE\n1,0,10,-2\n", {}, "column RATE: '-2'"),
    ("ID,TIME,AMT,RATE\n1,0,10,-1\n", {}, "'-1'"),
    ("ID,TIME,AMT,RATE\n1,0,10,-3\n", {}, "'-3'"),
    ("ID,TIME,AMT,RATE,DUR\n1,0,10,5,2\n", {}, "column DUR: '2'"),
    ("ID,TIME,AMT,RATE,DUR\n1,0,10,-2,0\n", {}, "column DUR: '0'"),
    ("ID,TIME,AMT,DUR\n1,0,10,-2\n", {}, "'-2'"),
    ("ID,TIME,AMT,F\n1,0,10,-0.5\n", {}, "'-0.5'"),
    ("ID,TIME,AMT,LAG\n1,0,10,-1\n", {}, "'-1'"),
    ("ID,TIME,AMT,CMT\n1,0,10,1.5\n", {}, "'1.5'"),
    ("ID,TIME,AMT,CMT\n1,0,10,nan\n", {}, "column CMT: 'nan'"),
    ("ID,TIME,AMT,CMT\n1,0,10,inf\n", {}, "column CMT: 'inf'"),
    ("ID,TIME,AMT,CMT\n1,0,10,-inf\n", {}, "column CMT: '-inf'"),
    ("ID,TIME,AMT,AMT_UNIT\n1,0,10,mg/m\n", {}, "'mg/m'"),
    ("ID,TIME,AMT\n1,0,10,5\n", {}, "line 2"),
    ("ID,TIME,AMT\n1,0,10\n", {"columns": {"DUR": "DUR2"}}, "'DUR2'"),
    ("ID,TIME,AMT\n1,0,10\n", {"columns": {"SPEED": "X"}}, "'SPEED'"),
    ("ID,TIME,AMT\n1,0,10\n", {"columns": {"AMT": None}}, "'AMT'"),
]


@pytest.mark.parametrize(("text", "kwargs", "quoted"), MALFORMED, ids=[repr(t) for t, _, _ in MALFORMED])
def test_malformed_event_tables(tmp_path, text, kwargs, quoted):
    path = tmp_path / "events.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegimenError) as info:
        read_event_table(path, **kwargs)
    assert_one_sentence(info.value, quoted)
    assert "'events.csv'" in str(info.value)


def test_error_gives_line_column_value_and_fix(tmp_path):
    path = write(tmp_path, "ID,TIME,AMT\n1,0,10\n1,2,0\n1,1,0\n")
    with pytest.raises(RegimenError) as info:
        read_event_table(path)
    msg = str(info.value)
    assert msg.startswith("event table 'events.csv' line 4, column TIME: '1' is before")
    assert "line 3" in msg and "sort the records" in msg


def test_missing_file(tmp_path):
    with pytest.raises(RegimenError) as info:
        read_event_table(tmp_path / "nope.csv")
    assert_one_sentence(info.value, "'nope.csv'")


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(RegimenError) as info:
        read_event_table(tmp_path)
    assert_one_sentence(info.value, "is not a file")


def test_binary_file(tmp_path):
    path = tmp_path / "events.xlsx"
    path.write_bytes(b"PK\x03\x04\x00\x00\xff\xfe binary")
    with pytest.raises(RegimenError) as info:
        read_event_table(path)
    assert_one_sentence(info.value, "'events.xlsx'")


@pytest.mark.parametrize(
    ("kwargs", "quoted"), [({"time_unit": "fortnight"}, "'fortnight'"), ({"amount_unit": "mg/m"}, "'mg/m'")]
)
def test_bad_reader_units(tmp_path, kwargs, quoted):
    path = write(tmp_path, "ID,TIME,AMT\n1,0,10\n")
    with pytest.raises(UnitError) as info:
        read_event_table(path, **kwargs)
    assert_one_sentence(info.value, quoted)
