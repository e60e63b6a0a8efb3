"""Seeded runs are bit-identical however the population is chunked and however many threads run."""

from __future__ import annotations

import numpy as np
import pytest

import mschemo as ms

REGIMEN = "12 mg/m2 over 30 min every 91 days x 2"


@pytest.fixture(scope="module")
def reference():
    return ms.simulate("mitox-2y", REGIMEN, ms.PopulationSpec(), n=23, seed=7, until="150 days", chunk_size=1000)


@pytest.mark.parametrize("chunk_size", [1, 7, 1000])
def test_chunk_size_does_not_change_results(reference, chunk_size):
    res = ms.simulate("mitox-2y", REGIMEN, ms.PopulationSpec(), n=23, seed=7, until="150 days", chunk_size=chunk_size)
    assert np.array_equal(res.values, reference.values)
    assert res.patients.equals(reference.patients)


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_count_does_not_change_results(reference, threads):
    res = ms.simulate("mitox-2y", REGIMEN, ms.PopulationSpec(), n=23, seed=7, until="150 days",
                      backend=ms.backends.Compiled(threads=threads))
    assert np.array_equal(res.values, reference.values)


def test_patient_streams_are_keyed_by_index():
    model = ms.load_model("mitox-2y")
    whole = ms.PopulationSpec().sample(10, seed=3, model=model).table
    parts = [ms.PopulationSpec().sample(3, seed=3, model=model).table,
             ms.PopulationSpec().sample(7, seed=3, model=model, start=3).table]
    import pandas as pd

    assert whole.equals(pd.concat(parts, ignore_index=True))


def test_different_seeds_differ():
    model = ms.load_model("mitox-2y")
    a = ms.PopulationSpec().sample(5, seed=1, model=model).table
    b = ms.PopulationSpec().sample(5, seed=2, model=model).table
    assert not np.allclose(a["weight_kg"], b["weight_kg"])
