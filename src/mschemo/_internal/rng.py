"""Random streams keyed by patient index, so that a seeded population does not depend on chunking."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any, cast, overload

import numpy as np
from numpy.random.bit_generator import ISeedSequence

__all__ = ["patient_rng", "patient_streams", "PatientStreams", "root_seed", "patient_indices"]


def root_seed(seed: int | None) -> int:
    """The run's seed: the one given, or fresh entropy (recorded in provenance) when None."""
    if seed is None:
        # cast: the stubs type entropy as given (int, ints or None); drawn fresh it is one int
        return int(cast(int, np.random.SeedSequence().entropy) % (2**63))
    return int(seed)


def patient_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """Generator of patient ``index`` (0-based) for the run ``seed``; ``stream`` separates uses
    (0: population draws). Equal to child ``index`` of SeedSequence(seed) for stream 0, that is
    Generator(PCG64(SeedSequence(seed, spawn_key=(index,) or (index, stream)))), bit for bit."""
    key = (int(index),) if stream == 0 else (int(index), int(stream))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=key)))


class PatientStreams(Sequence[np.random.Generator]):
    """The generators ``patient_rng(seed, i, stream)`` of patients ``indices``, item k for
    ``indices[k]``, the same bit for bit: their seeds are worked out together (NumPy's SeedSequence
    in uint64 array arithmetic), :data:`_BLOCK` patients at a time (memory bounded for any number),
    each generator when it is asked for. About 2 us a patient instead of 11 to 17 (a SeedSequence
    each, over a third of it in np.errstate); a trial patient draws from about eight streams."""

    def __init__(self, seed: int, indices: Any, stream: int = 0) -> None:
        self.seed, self.stream = int(seed), int(stream)
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        # a few patients (the arrays' fixed cost, about 0.15 ms, is more than numpy's), indices past 32
        # bits (over 4 billion patients), negative or very long seeds: numpy's own, patient by patient
        self._fast = bool(self.indices.size >= _MIN_BATCH and 0 <= self.seed and self.seed.bit_length() <= _FAST_SEED_BITS
                          and self.stream >= 0 and 0 <= self.indices.min() and self.indices.max() <= _M32)
        self._block = -1
        self._words = np.empty((0, 4), dtype=np.uint64)

    def __len__(self) -> int:
        return int(self.indices.size)

    @overload
    def __getitem__(self, k: int) -> np.random.Generator: ...
    @overload
    def __getitem__(self, k: slice) -> list[np.random.Generator]: ...

    def __getitem__(self, k: int | slice) -> np.random.Generator | list[np.random.Generator]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        k = operator.index(k)
        n = len(self)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError(f"patient stream {k} of {n}")
        if not self._fast:
            return patient_rng(self.seed, int(self.indices[k]), self.stream)
        b = k // _BLOCK
        if b != self._block:
            idx = self.indices[b * _BLOCK:(b + 1) * _BLOCK].astype(np.uint64)
            self._words = np.stack(_state_words(self.seed, [idx], _stream_words(self.stream)), axis=1)
            self._block = b
        return _generator(self._words[k - b * _BLOCK])


def patient_streams(seed: int, indices: Any, stream: int = 0) -> PatientStreams:
    """``patient_rng(seed, i, stream)`` for each i of ``indices``, worked out together."""
    return PatientStreams(seed, indices, stream)


# NumPy's SeedSequence (numpy/random/bit_generator.pyx) for many spawn keys at once: uint64 arrays
# holding 32-bit values (the seed's part of the pool in Python ints, once per seed). The hash
# constants do not depend on the data, so they are worked out once. tests/unit/test_rng.py holds the
# result to numpy's for seeds of one to seven 32-bit words and many keys.
_M32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_POOL = 4


def _uint32_words(x: int) -> list[int]:
    """An int as NumPy's SeedSequence reads it: 32-bit words, least significant first ([0] for 0)."""
    out = [x & _M32]
    x >>= 32
    while x:
        out.append(x & _M32)
        x >>= 32
    return out


def _stream_words(stream: int) -> list[int]:
    """The spawn key's second part: none for stream 0."""
    return _uint32_words(stream) if stream else []


def _hash_constants(start: int, mult: int, n: int) -> tuple[tuple[int, int], ...]:
    """The (xor, multiplier) pairs of a SeedSequence hash's first ``n`` calls: its constant does not
    depend on the data, so each call's pair is known in advance."""
    out, c = [], start
    for _ in range(n):
        nxt = (c * mult) & _M32
        out.append((c, nxt))
        c = nxt
    return tuple(out)


_MIX_CONSTANTS = _hash_constants(_INIT_A, _MULT_A, 1024)
_FAST_SEED_BITS = 32 * 100        # longer seeds use numpy's SeedSequence patient by patient
_BLOCK = 8192                     # patients whose seeds are worked out at once (about 1 MB of arrays)
_MIN_BATCH = 16                   # fewer patients: numpy's SeedSequence for each
_OUT_CONSTANTS = _hash_constants(_INIT_B, _MULT_B, 8)


def _hash(value: Any, k: int) -> Any:
    x, m = _MIX_CONSTANTS[k]
    v = ((value ^ x) * m) & _M32
    return v ^ (v >> 16)


def _mix(x: Any, y: Any) -> Any:
    r = (_MIX_L * x - _MIX_R * y) & _M32      # uint64 arrays wrap mod 2**64, a multiple of 2**32
    return r ^ (r >> 16)


def _absorb(pool: list[Any], words: list[Any], k: int) -> int:
    """Mix ``words`` into ``pool`` (each word into every cell), the hash at call ``k``; the next call."""
    for w in words:
        for d in range(_POOL):
            pool[d] = _mix(pool[d], _hash(w, k))
            k += 1
    return k


@functools.lru_cache(maxsize=8)
def _seed_pool(seed: int) -> tuple[tuple[int, ...], int]:
    """The pool after the run entropy of ``seed`` (padded to the pool size, as for a sequence with a
    spawn key), and the number of hash calls so far."""
    words = _uint32_words(seed)
    words += [0] * (_POOL - len(words))
    pool = [_hash(words[i], i) for i in range(_POOL)]
    k = _POOL
    for i_src in range(_POOL):
        for i_dst in range(_POOL):
            if i_src != i_dst:
                pool[i_dst] = _mix(pool[i_dst], _hash(pool[i_src], k))
                k += 1
    k = _absorb(pool, words[_POOL:], k)
    return tuple(pool), k


def _state_words(seed: int, index_words: list[Any], stream_words: list[int]) -> list[Any]:
    """SeedSequence(seed, spawn_key=(index, stream)).generate_state(4, np.uint64) from the key's 32-bit
    words (the index's an array, one value a patient): four uint64 arrays."""
    start, k = _seed_pool(seed)
    pool: list[Any] = list(start)
    _absorb(pool, index_words + stream_words, k)
    out: list[Any] = []
    for i, (x, m) in enumerate(_OUT_CONSTANTS):
        v = ((pool[i & 3] ^ x) * m) & _M32
        out.append(v ^ (v >> 16))
    return [out[0] | out[1] << 32, out[2] | out[3] << 32, out[4] | out[5] << 32, out[6] | out[7] << 32]


def _generator(words: Any) -> np.random.Generator:
    """Generator(PCG64(...)) seeded with the four words (PCG64 takes any ISeedSequence; the stubs
    name SeedSequence only)."""
    seeded = _Seeded(np.ascontiguousarray(words, dtype=np.uint64))
    return np.random.Generator(np.random.PCG64(cast(np.random.SeedSequence, seeded)))


class _Seeded(ISeedSequence):
    """The four 64-bit words a PCG64 seeds itself with (``generate_state(4, np.uint64)``), worked out."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        if n_words != 4 or np.dtype(dtype) != np.uint64:  # pragma: no cover - PCG64 asks for exactly these
            raise ValueError("this seed gives PCG64's four 64-bit words only")
        return self.words


def patient_indices(n: int, start: int | np.ndarray = 0) -> np.ndarray:
    """Run-wide stream index of each of ``n`` patients: ``start .. start+n-1`` for an int, or the
    given indices (patients of a randomised arm are not contiguous in the run)."""
    if np.ndim(start) == 0:
        return np.arange(int(start), int(start) + n, dtype=np.int64)
    idx = np.asarray(start, dtype=np.int64)
    if idx.shape != (n,):
        raise ValueError(f"{idx.size} patient indices for {n} patients")
    return idx
