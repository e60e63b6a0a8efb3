"""Simulation: one door, :func:`simulate`, for a model with a regimen or a drug with its label.

- :mod:`.plain`: population chunks -> problem -> backend -> result (every planned dose);
- :mod:`.adaptive`: course by course, each decided by :func:`mschemo.dosing.decide`;
- :mod:`.dispatch`: the door, which picks one of them;
- :mod:`.chunks`: a run split into chunks of patients (here, or on Dask with ``dask=``);
- :mod:`.cluster`: the Dask client and the chunks' results in order (also for trials);
- :mod:`.stream`: a run written to a file chunk by chunk.
"""

from .dispatch import DRUG_DEFAULT_N, simulate, simulate_with_rules

__all__ = ["simulate", "simulate_with_rules", "DRUG_DEFAULT_N"]
