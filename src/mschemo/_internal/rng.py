"""Random streams keyed by patient index, so that a seeded population does not depend on chunking."""

from __future__ import annotations

import numpy as np

__all__ = ["patient_rng", "root_seed"]


def root_seed(seed: int | None) -> int:
    """The run's seed: the one given, or fresh entropy (recorded in provenance) when None."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    return int(seed)


def patient_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """Generator of patient ``index`` (0-based) for the run ``seed``; ``stream`` separates uses
    (0: population draws). Equal to child ``index`` of SeedSequence(seed) for stream 0."""
    key = (int(index),) if stream == 0 else (int(index), int(stream))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=key)))
