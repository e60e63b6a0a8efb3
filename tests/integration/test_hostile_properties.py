"""Property tests: whatever regimen text, event table or patient table a person gives, mschemo either
reads it (and a tiny run of it goes through) or says what is wrong in one sentence, as one of its own
errors (mschemo.errors); never another exception, never a traceback.

The readers are checked on many inputs; the command line on fewer (each one a run of one or a few
patients over a few days)."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from clitools import MAX_ERROR_LINE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mschemo as ms
from mschemo.errors import MschemoError
from mschemo.interfaces.cli import run
from mschemo.regimen import EventTable, Regimen

READERS = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
RUNS = settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def assert_own_sentence(exc: BaseException) -> None:
    """One of mschemo's errors, whose message is one line that ends with a full stop."""
    assert isinstance(exc, MschemoError), f"{type(exc).__name__}: {exc}"
    msg = str(exc).splitlines()[0] if isinstance(exc, ms.ConvergenceError) else str(exc)
    assert "\n" not in msg and msg.endswith("."), msg


def run_cli(*args: str) -> None:
    """The command line in this process: it runs (exit 0, or 1 when a patient cannot be solved) or refuses
    with one bounded sentence (exit 2); no traceback either way."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(list(args))
    text = err.getvalue()
    assert "Traceback" not in text, text[-2000:]
    assert code in (0, 1, 2), (code, text[-2000:])
    if code == 2:
        lines = text.rstrip("\n").split("\n")
        assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith("."), text[-2000:]
        assert len(lines[0]) <= MAX_ERROR_LINE, lines[0]


# -- regimen text ---------------------------------------------------------------------------------
AMOUNTS = st.sampled_from(["12", "0", "-3", "0.5", "1e300", "1e6", "2000000", "nan", "inf", "9" * 40, "1,5", ""])
UNITS = st.sampled_from(["mg", "mg/m2", "mg/kg", "g", "ug", "mg/m", "tablets", "", "xyz", "mg per m2"])
OVER = st.sampled_from(["", "over 30 min", "over 0 min", "over -1 h", "over 1000 years", "over abc", "over", "iv",
                        "orally", "as a bolus"])
EVERY = st.sampled_from(["", "every 3 months", "every 0 days", "every 1000 years", "every 1 day", "q12h", "daily",
                         "every", "every other week", "biweekly", "every 1e-9 days", "every 99 years"])
COUNT = st.sampled_from(["", "x 8", "x 0", "x 2.5", "x 99999999999", "x 10001", "x 1e15", "for 1 year",
                         "for 200 years", "once", "x 10000"])
START = st.sampled_from(["", "starting day 28", "starting day 1e9", "on day -1", "from 2 weeks", "starting day 40000"])
PART = st.tuples(AMOUNTS, UNITS, OVER, EVERY, COUNT, START).map(lambda t: " ".join(x for x in t if x))
REGIMEN_TEXT = st.one_of(st.lists(PART, min_size=1, max_size=3).map("; then ".join), st.text(max_size=120))


@READERS
@given(text=REGIMEN_TEXT)
def test_any_regimen_text_is_read_or_refused_in_one_sentence(text: str) -> None:
    try:
        regimen = Regimen.parse(text)
    except Exception as exc:   # noqa: BLE001 - the property: only mschemo's own errors
        assert_own_sentence(exc)
    else:
        assert regimen.n_doses >= 1


@RUNS
@given(text=REGIMEN_TEXT)
def test_any_regimen_text_runs_or_is_refused_on_the_command_line(text: str) -> None:
    run_cli("simulate", "--drug", "mitox-2y", "--regimen", text, "--n", "1", "--until", "3 days", "--no-disease",
            "--quiet")


# -- event tables ---------------------------------------------------------------------------------
EVENT_COLUMNS = ["ID", "TIME", "AMT", "EVID", "CMT", "DUR", "RATE", "II", "ADDL", "SS", "AMT_UNIT", "F", "LAG", "DV"]
CELLS = st.sampled_from(["", ".", "0", "1", "2", "3", "4", "7", "-1", "-2", "0.5", "12", "24", "10000", "1e300",
                         "1e-300", "nan", "abc", "mg", "mg/m2", "central", "depot", "99", "40000"])
EVENT_TABLES = st.tuples(
    st.lists(st.sampled_from(EVENT_COLUMNS), min_size=1, max_size=10, unique=True),
    st.integers(min_value=0, max_value=5),
    st.data(),
)


def _table(columns: list[str], rows: list[list[str]]) -> str:
    return "\n".join([",".join(columns), *(",".join(r) for r in rows)]) + "\n"


def _rows(data: st.DataObject, width: int, n: int) -> list[list[str]]:
    return [data.draw(st.lists(CELLS, min_size=width, max_size=width)) for _ in range(n)]


@READERS
@given(table=EVENT_TABLES, unit=st.sampled_from(["d", "h", "min", "week"]))
def test_any_event_table_is_read_or_refused_in_one_sentence(table, unit: str) -> None:
    columns, n, data = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ev.csv"
        path.write_text(_table(columns, _rows(data, len(columns), n)))
        try:
            events = EventTable.read(path, time_unit=unit)
        except Exception as exc:   # noqa: BLE001
            assert_own_sentence(exc)
        else:
            assert len(events.ids) >= 1


@RUNS
@given(table=EVENT_TABLES)
def test_any_event_table_runs_or_is_refused_on_the_command_line(table) -> None:
    columns, n, data = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ev.csv"
        path.write_text(_table(columns, _rows(data, len(columns), n)))
        run_cli("simulate", "--drug", "mitox-2y", "--events", str(path), "--until", "3 days", "--no-disease", "--quiet")


# -- patient tables -------------------------------------------------------------------------------
PATIENT_COLUMNS = ["id", "ID", "height_cm", "weight_kg", "bsa_m2", "age_y", "edss", "ms_course", "sex", "dmt",
                   "ms_duration_y", "ETA_CL", "CL", "note"]
PATIENT_CELLS = st.sampled_from(["", "1", "2", "3", "170", "70", "1.8", "40", "-1", "0", "15", "1e300", "nan", "abc",
                                 "F", "M", "female", "Q", "RRMS", "SPMS", "XYZMS", "natalizumab", "aspirin", "none"])
PATIENT_TABLES = st.tuples(
    st.lists(st.sampled_from(PATIENT_COLUMNS), min_size=1, max_size=8, unique=True),
    st.integers(min_value=0, max_value=4),
    st.data(),
)


def _patients(data: st.DataObject, columns: list[str], n: int) -> str:
    rows = [data.draw(st.lists(PATIENT_CELLS, min_size=len(columns), max_size=len(columns))) for _ in range(n)]
    return _table(columns, rows)


def _patient_file(folder: str, table) -> Path:
    """A drawn patient table (columns, rows, data) written to FOLDER/p.csv."""
    columns, n, data = table
    path = Path(folder) / "p.csv"
    path.write_text(_patients(data, columns, n))
    return path


@READERS
@given(table=PATIENT_TABLES)
def test_any_patient_table_is_read_or_refused_in_one_sentence(table) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _patient_file(tmp, table)
        try:
            pop = ms.Population.from_csv(path)
        except Exception as exc:   # noqa: BLE001
            assert_own_sentence(exc)
        else:
            assert len(pop) >= 1


@RUNS
@given(table=PATIENT_TABLES)
def test_any_patient_table_runs_or_is_refused_on_the_command_line(table) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _patient_file(tmp, table)
        run_cli("simulate", "--drug", "mitoxantrone", "--population", str(path), "--until", "3 days",
                "--disease-until", "2 weeks", "--quiet")
