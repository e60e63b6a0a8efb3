"""The nadir of each patient's own dosing intervals, found for all the intervals at once, must be
what np.argmin finds interval by interval: the first of tied minima, and the first NaN of an
interval that has one (a failed patient)."""

from __future__ import annotations

import numpy as np

from mschemo.results import first_minima


def _one_by_one(vals, rows, a, b):
    return np.array([a_ + int(np.argmin(vals[r, a_:b_])) for r, a_, b_ in zip(rows, a, b)], dtype=np.int64)


def test_first_minima_is_argmin_range_by_range() -> None:
    rng = np.random.default_rng(4)
    for trial in range(200):
        n, t = int(rng.integers(1, 6)), int(rng.integers(1, 30))
        vals = np.round(rng.normal(5.0, 1.0, (n, t)), 1)         # rounded: many ties
        if trial % 5 == 0:
            vals[rng.integers(0, n), rng.integers(0, t, 2)] = np.nan
        rows, a, b = [], [], []
        for r in sorted(rng.choice(n, int(rng.integers(1, n + 1)), replace=False)):
            cuts = np.unique(np.concatenate([[int(rng.integers(0, t))], rng.integers(0, t + 1, 3), [t]]))
            for lo, hi in zip(cuts[:-1], cuts[1:]):
                rows.append(r)
                a.append(lo)
                b.append(hi)
        rows_a, a_a, b_a = (np.array(v, dtype=np.int64) for v in (rows, a, b))
        np.testing.assert_array_equal(first_minima(vals, rows_a, a_a, b_a), _one_by_one(vals, rows_a, a_a, b_a))
    assert first_minima(np.zeros((2, 3)), *(np.empty(0, dtype=np.int64),) * 3).size == 0


def _one_patients_intervals(doses, t):
    """The definition, one patient at a time: (interval number, a, b, start, end) from each dose day
    (once, up to the grid's end) to the next, the last to the grid's end; interval 0 from the grid's
    first time where no dose is on it or before it."""
    starts = np.unique(doses[doses <= t[-1]]) if doses.size else np.empty(0)
    first = 1
    if starts.size == 0 or starts[0] > t[0]:
        starts = np.concatenate([[t[0]], starts])
        first = 0
    out = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < starts.size else np.inf
        a = int(np.searchsorted(t, s, side="left"))
        b = int(np.searchsorted(t, e, side="left")) if np.isfinite(e) else t.size
        if b > a:
            out.append((k + first, a, b, float(s), float(e if np.isfinite(e) else t[-1])))
    return out


def test_the_intervals_of_all_patients_at_once_are_each_patients_own() -> None:
    """_interval_table (every patient's dosing intervals at once) gives what the definition gives patient
    by patient: doses unsorted, repeated, on the grid's first time, between its times, past its end, or
    none at all, on grids that start at day 0 or later; _interval_bounds is its one-patient case."""
    from mschemo.results import _interval_bounds, _interval_table

    rng = np.random.default_rng(11)
    for trial in range(300):
        t = np.unique(np.round(rng.uniform(0.0, 60.0, int(rng.integers(1, 12))), 0))
        if trial % 3 == 0:
            t = np.concatenate([[0.0], t[t > 0]])
        n = int(rng.integers(1, 6))
        days = [np.round(rng.uniform(-5.0, 70.0, int(rng.integers(0, 6))), 0) for _ in range(n)]
        for d in days:
            if d.size and rng.random() < 0.3:
                d[0] = t[0]                     # a dose on the grid's first time
            if d.size > 1 and rng.random() < 0.3:
                d[1] = d[0]                     # the same day twice
        days = [d[d >= 0] for d in days]
        expected = [(i, *row) for i, d in enumerate(days) for row in _one_patients_intervals(d, t)]
        assert [_interval_bounds(d, t) for d in days] == [_one_patients_intervals(d, t) for d in days]
        who = np.repeat(np.arange(n), [d.size for d in days])
        got = _interval_table(who, np.concatenate(days), n, t)
        assert [tuple(x) for x in zip(*(a.tolist() for a in got))] == [
            (i, k, a, b, s, e) for i, k, a, b, s, e in expected]
