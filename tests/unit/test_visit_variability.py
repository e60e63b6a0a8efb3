"""The visit-to-visit offsets of the EDSS as scored: a Markov jump process per patient, drawn from
the patient's own stream. Drawn once and kept, the offsets must equal a fresh draw of the process
for every grid asked, in any order, and whatever the horizon (a longer one draws more blocks)."""

from __future__ import annotations

import numpy as np
import pytest

from mschemo._internal.rng import patient_rng
from mschemo.disease.disability import _VISIT_CHUNK, VISIT_STREAM, VisitVariability


def _fresh(v: VisitVariability, days: np.ndarray) -> np.ndarray:
    """The offsets straight from the definition: patient by patient, redraws at the events of a
    Poisson process with mean gap dwell_d, each value -0.5/0/+0.5 with probabilities share/2,
    1 - share, share/2."""
    out = np.zeros((len(v.indices), days.size))
    horizon = float(days.max())
    for k, index in enumerate(v.indices):
        rng = patient_rng(v.seed, int(index), VISIT_STREAM)
        blocks, end = [], 0.0
        while True:
            u = rng.random((_VISIT_CHUNK, 2))
            blocks.append(u)
            end += float(np.sum(-np.log1p(-u[:, 0]))) * v.dwell_d
            if end > horizon:
                break
        u = np.vstack(blocks)
        t = np.concatenate(([0.0], np.cumsum(-np.log1p(-u[:, 0]) * v.dwell_d)[:-1]))
        value = np.where(u[:, 1] < v.share / 2, -0.5, np.where(u[:, 1] >= 1 - v.share / 2, 0.5, 0.0))
        out[k] = value[np.searchsorted(t, days, side="right") - 1]
    return out


@pytest.mark.parametrize("dwell", [60.0, 2.0], ids=["one-block", "several-blocks"])
def test_kept_offsets_equal_a_fresh_draw_on_every_grid(dwell: float) -> None:
    v = VisitVariability(11, np.array([0, 5, 9, 120, 3]), 0.3, dwell)
    rng = np.random.default_rng(2)
    grids = [np.arange(0.0, 731.0, 7.0), np.arange(0.0, 731.0, 91.0), rng.uniform(0, 700, 40),
             np.arange(0.0, 1461.0, 30.0), np.array([0.0]), np.arange(0.0, 365.0, 1.0)]
    for days in grids:   # the third is out of order; the fourth is longer than the ones before
        np.testing.assert_array_equal(v.offsets(days), _fresh(v, days))
    # the process itself: about share of the days off by half a point, both ways
    off = v.offsets(np.arange(0.0, 1461.0, 1.0))
    assert set(np.unique(off)) <= {-0.5, 0.0, 0.5}
    assert 0.2 < np.mean(off != 0) < 0.4
