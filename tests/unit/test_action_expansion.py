"""NONMEM dose records -> actions (backends._events.expand_actions), on cases worked out by hand.

The end-to-end semantics are checked against NONMEM 7.5.1 in tests/reference/test_nonmem_parity.py;
these tests pin the expansion itself: order at equal times, steady state with lag, resets, and that
a patient's actions do not depend on the other patients expanded with it.
"""

from __future__ import annotations

import numpy as np

from mschemo.backends._events import BOLUS, RATE_OFF, RATE_ON, RESET, SS, expand_actions

FIELDS = ("time", "evid", "cmt", "amt", "rate", "dur", "ii", "addl", "ss", "f", "lag")


def records(*rows: dict) -> dict[str, np.ndarray]:
    """Records from dicts (missing fields: evid 1, cmt 0, F 1, everything else 0)."""
    base = {"evid": 1, "f": 1.0}
    out = {k: [] for k in FIELDS}
    for r in rows:
        for k in FIELDS:
            out[k].append({**base, **r}.get(k, 0))
    ints = {"evid", "cmt", "addl", "ss"}
    return {k: np.asarray(v, dtype=np.int64 if k in ints else float) for k, v in out.items()}


def one(rec: dict[str, np.ndarray]) -> list[tuple]:
    acts = expand_actions(rec, np.array([0, rec["time"].size]))
    t, kind, cmt, val, r = acts.patient(0)
    return [(float(a), int(b), int(c), float(d), int(e)) for a, b, c, d, e in zip(t, kind, cmt, val, r)]


def test_bolus_with_additional_doses_and_bioavailability():
    got = one(records({"time": 0.0, "amt": 100.0, "ii": 12.0, "addl": 2, "f": 0.5}))
    assert got == [(0.0, BOLUS, 0, 50.0, 0), (12.0, BOLUS, 0, 50.0, 0), (24.0, BOLUS, 0, 50.0, 0)]


def test_infusion_given_by_rate_lasts_f_amt_over_rate():
    # F changes the duration of an infusion given by its rate: 0.8 * 100 / 40 = 2 days
    got = one(records({"time": 1.0, "cmt": 1, "amt": 100.0, "rate": 40.0, "f": 0.8}))
    assert got == [(1.0, RATE_ON, 1, 40.0, 0), (3.0, RATE_OFF, 1, 40.0, 0)]


def test_steady_state_bolus_with_a_lag_longer_than_the_interval():
    # implied doses at TIME + lag - n*II: n = 1, 2 are still ahead of TIME (30 - 12 = 18, 30 - 24 = 6)
    got = one(records({"time": 0.0, "amt": 100.0, "ii": 12.0, "ss": 1, "lag": 30.0}))
    assert got == [(0.0, RESET, -1, 0.0, 0), (0.0, SS, 0, 0.0, 0), (6.0, BOLUS, 0, 100.0, 0),
                   (18.0, BOLUS, 0, 100.0, 0), (30.0, BOLUS, 0, 100.0, 0)]
    acts = expand_actions(records({"time": 0.0, "amt": 100.0, "ii": 12.0, "ss": 1, "lag": 30.0}), np.array([0, 1]))
    assert (acts.n0[0], acts.n1[0]) == (3, 3)


def test_steady_state_infusion_still_running_at_the_record_time():
    # 3-day infusions every 2 days: the one started 2 days before TIME runs until TIME + 1
    got = one(records({"time": 10.0, "amt": 30.0, "dur": 3.0, "ii": 2.0, "ss": 2}))
    assert got == [(10.0, SS, 0, 0.0, 0), (10.0, RATE_ON, 0, 10.0, 0), (10.0, RATE_ON, 0, 10.0, 0),
                   (11.0, RATE_OFF, 0, 10.0, 0), (13.0, RATE_OFF, 0, 10.0, 0)]


def test_steady_state_constant_infusion_has_no_dose_of_its_own():
    got = one(records({"time": 5.0, "amt": 0.0, "rate": 24.0, "ss": 1}))
    assert got == [(5.0, RESET, -1, 0.0, 0), (5.0, SS, 0, 0.0, 0)]


def test_equal_times_keep_record_order_and_a_reset_comes_first():
    got = one(records({"time": 0.0, "amt": 10.0, "ii": 5.0, "addl": 1}, {"time": 5.0, "evid": 4, "amt": 20.0},
                      {"time": 5.0, "evid": 3}))
    assert got == [(0.0, BOLUS, 0, 10.0, 0), (5.0, BOLUS, 0, 10.0, 0), (5.0, RESET, -1, 0.0, 1),
                   (5.0, BOLUS, 0, 20.0, 1), (5.0, RESET, -1, 0.0, 2)]


def test_patients_expand_as_they_would_alone():
    a = records({"time": 0.0, "amt": 100.0, "ii": 12.0, "ss": 1, "lag": 30.0})
    b = records({"time": 0.0, "amt": 5.0, "rate": 1.0, "ii": 7.0, "addl": 3}, {"time": 2.0, "evid": 3})
    c = records()
    both = {k: np.concatenate([a[k], c[k], b[k]]) for k in FIELDS}
    acts = expand_actions(both, np.array([0, 1, 1, 3]))
    assert list(np.diff(acts.off)) == [len(one(a)), 0, len(one(b))]
    alone_b = expand_actions(b, np.array([0, 2]))
    t, kind, cmt, val, rec = acts.patient(2)
    tb, kb, cb, vb, rb = alone_b.patient(0)
    assert np.array_equal(t, tb) and np.array_equal(kind, kb) and np.array_equal(cmt, cb) and np.array_equal(val, vb)
    assert np.array_equal(rec, rb + 1)   # global record index: patient b's records follow patient a's
