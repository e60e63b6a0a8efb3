"""Random streams keyed by patient index, so that a seeded population does not depend on chunking."""

from __future__ import annotations

from typing import cast

import numpy as np

__all__ = ["patient_rng", "root_seed", "patient_indices"]


def root_seed(seed: int | None) -> int:
    """The run's seed: the one given, or fresh entropy (recorded in provenance) when None."""
    if seed is None:
        # cast: the stubs type entropy as given (int, ints or None); drawn fresh it is one int
        return int(cast(int, np.random.SeedSequence().entropy) % (2**63))
    return int(seed)


def patient_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """Generator of patient ``index`` (0-based) for the run ``seed``; ``stream`` separates uses
    (0: population draws). Equal to child ``index`` of SeedSequence(seed) for stream 0."""
    key = (int(index),) if stream == 0 else (int(index), int(stream))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=key)))


def patient_indices(n: int, start: int | np.ndarray = 0) -> np.ndarray:
    """Run-wide stream index of each of ``n`` patients: ``start .. start+n-1`` for an int, or the
    given indices (patients of a randomised arm are not contiguous in the run)."""
    if np.ndim(start) == 0:
        return np.arange(int(start), int(start) + n, dtype=np.int64)
    idx = np.asarray(start, dtype=np.int64)
    if idx.shape != (n,):
        raise ValueError(f"{idx.size} patient indices for {n} patients")
    return idx
