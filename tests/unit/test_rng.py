"""Patients' random streams worked out together (``patient_streams``) are numpy's own, bit for bit:
Generator(PCG64(SeedSequence(seed, spawn_key=(index,) or (index, stream)))) for every patient."""

from __future__ import annotations

import random

import numpy as np
import pytest

from mschemo._internal.rng import patient_rng, patient_streams


def numpy_own(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    key = (int(index),) if stream == 0 else (int(index), int(stream))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=key)))


@pytest.fixture(autouse=True)
def every_batch_worked_out_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """The arithmetic under test even for the few patients of these tests (fewer than ``_MIN_BATCH``
    patients otherwise take numpy's SeedSequence each)."""
    from mschemo._internal import rng

    monkeypatch.setattr(rng, "_MIN_BATCH", 1)


EDGE_SEEDS = [0, 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**64, 2**128 + 3, 2**200 - 1]
EDGE_INDICES = [0, 1, 7, 2**31, 2**32 - 1]
EDGE_STREAMS = [0, 1, 3, 2**32 - 1, 2**32, 2**40 + 11, 2**70]


@pytest.mark.parametrize("seed", EDGE_SEEDS)
@pytest.mark.parametrize("stream", EDGE_STREAMS)
def test_streams_at_the_word_boundaries_are_numpys(seed: int, stream: int) -> None:
    streams = patient_streams(seed, EDGE_INDICES, stream)
    assert len(streams) == len(EDGE_INDICES)
    for k, index in enumerate(EDGE_INDICES):
        want = numpy_own(seed, index, stream)
        assert streams[k].bit_generator.state == want.bit_generator.state
        assert streams[k].bit_generator.state == patient_rng(seed, index, stream).bit_generator.state


def test_random_seeds_indices_and_streams_draw_numpys_numbers() -> None:
    r = random.Random(20261207)
    for _ in range(300):
        seed = r.getrandbits(r.choice([8, 31, 63, 64, 100, 230]))
        stream = r.choice([0, r.getrandbits(r.choice([4, 32, 33, 90]))])
        indices = [r.getrandbits(r.choice([1, 16, 32])) for _ in range(5)]
        for g, index in zip(patient_streams(seed, indices, stream), indices):
            assert np.array_equal(g.random(4), numpy_own(seed, index, stream).random(4))


def test_indices_past_32_bits_and_empty_and_sliced() -> None:
    big = [2**32, 2**40 + 5, 3]      # two-word indices: numpy's SeedSequence, patient by patient
    streams = patient_streams(11, big, 5)
    assert [g.bit_generator.state for g in streams] == [numpy_own(11, i, 5).bit_generator.state for i in big]
    assert len(patient_streams(11, [], 5)) == 0
    fast = patient_streams(11, np.arange(10), 2)
    assert [g.bit_generator.state for g in fast[3:7]] == [numpy_own(11, i, 2).bit_generator.state for i in range(3, 7)]


def test_a_negative_seed_is_refused_as_numpy_refuses_it() -> None:
    with pytest.raises(ValueError):
        patient_streams(-1, [0, 1])[0]


def test_streams_past_a_block_and_from_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeds are worked out a block of patients at a time: every block, and any order of asking, gives
    numpy's generators; past either end is an IndexError (so iterating stops)."""
    from mschemo._internal import rng

    monkeypatch.setattr(rng, "_BLOCK", 3)
    idx = np.arange(100, 111)
    streams = patient_streams(9, idx, 4)
    order = [10, 0, 5, 4, 3, -1, -11, 7]
    assert [streams[k].bit_generator.state for k in order] == \
           [numpy_own(9, idx[k], 4).bit_generator.state for k in order]
    assert len(list(streams)) == 11
    for k in (11, -12):
        with pytest.raises(IndexError):
            streams[k]


def test_a_few_patients_take_numpys_own_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from mschemo._internal import rng

    monkeypatch.setattr(rng, "_MIN_BATCH", 16)
    few, many = patient_streams(3, range(15), 2), patient_streams(3, range(16), 2)
    assert not few._fast and many._fast
    assert [g.bit_generator.state for g in few] == [g.bit_generator.state for g in many[:15]]
