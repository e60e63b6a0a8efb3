"""The kernel's conventions: the PD block layout (the columns of ``bint`` and ``bpar``), status codes,
numba signatures and options, and the scratch arrays a call needs (:func:`workspace`)."""

from __future__ import annotations

import numba as nb
import numpy as np

from .stamp import share_one_source_stamp

# every kernel module imports this one before it defines a cached function: from here on each of them
# is keyed on the source of the whole package (see stamp.py)
share_one_source_stamp()

# fused multiply-add in the hot arithmetic; no reassociation (it let LLVM vectorise the short
# stage loops into more code that ran 4 % slower) and no approximate functions
FAST = {"contract"}

# feedback (Circ0/Circ)^gamma sees at least CIRC_FLOOR * Circ0 (a count of ~1 cell per litre)
CIRC_FLOOR = 1e-9

# status codes
OK, MAX_STEPS, STEP_TOO_SMALL, NOT_FINITE = 0, 1, 2, 3

# PD block layout
# int columns. BI_EFFECT: 0 linear capped on the plasma concentration (cap crossings are step ends),
# 1 Emax, 2 linear capped on the cell-site drug (a state, so min() is evaluated as it is).
# BI_SITE: 1 when the block carries a drug-in-cells state (first state of the block), dCe/dt = KE0*(C - Ce).
# BI_FEEDBACK: 0 the feedback reads the circulating count, (Circ0/Circ)^gamma (Friberg 2002); 1 it reads the
# proliferating pool, (Prol0/Prol)^gamma with Prol0 = Circ0, so no count can exceed its baseline (models/transit.py).
BI_NTRANSIT, BI_EFFECT, BI_KILL, BI_SITE, BI_FEEDBACK = 0, 1, 2, 3, 4
N_BLOCK_INT = 5
BP_CIRC0, BP_KTR, BP_KCIRC, BP_GAMMA, BP_SLOPE, BP_CAP, BP_EMAX, BP_EC50, BP_HILL, BP_KILL, BP_KE0 = range(11)
N_BLOCK_PAR = 11

# explicit signatures: one compilation per helper (numba would otherwise compile a helper again for
# each literal integer a call site passes)
f8, i8 = nb.float64, nb.int64
F1, F2, I2, B1 = nb.float64[::1], nb.float64[:, ::1], nb.int64[:, ::1], nb.boolean[::1]
PAIR = nb.types.UniTuple(f8, 2)
# options of every kernel function: float errors give inf/nan, not exceptions (error_model); no
# reference counting (_nrt=False: the kernel allocates nothing, its arrays all come from the caller,
# see :func:`workspace`, so numba emits no incref/decref around each array value); no C-callable
# wrapper. Helpers are never called from Python, so they have no Python wrapper either.
KERNEL = {"cache": True, "error_model": "numpy", "_nrt": False, "no_cfunc_wrapper": True}
HELPER = {**KERNEL, "no_cpython_wrapper": True}


def needs_general_path(bint: np.ndarray) -> bool:
    """Whether any PD block needs the array form of the step (not three transit compartments, or a
    drug-in-cells state)."""
    return bool(np.any((bint[:, BI_NTRANSIT] != 3) | (bint[:, BI_SITE] != 0)))


def workspace(n_pk: int, bint: np.ndarray, record_states: bool, n_watched: int = 0) -> tuple:
    """The scratch arrays of one :func:`solve_population` call, allocated here, not in the kernel (each
    allocation site there costs compile time): ``work`` (floats: PK modes and their factors, transit states, stage
    concentrations and effects, each block's feedback at the step's start and end and the binomial
    coefficients of its series), ``k`` (11, n_pd):
    the 7 stage derivatives, then the 4 dense-output coefficients, ``capped`` (per block: on the capped
    branch of min(SLOPE*C, CAP)) and ``dense_idx``, the states the outputs read between steps (each
    block's count, or every state with ``record_states``). A resumed call (see
    :func:`solve_population`) watching ``n_watched`` counts needs room for their minima."""
    sizes = bint[:, BI_SITE] + bint[:, BI_NTRANSIT] + 2   # states per block; its count is the last
    n_pd = int(sizes.sum())
    dense_idx = np.arange(n_pd) if record_states else np.cumsum(sizes) - 1
    n_blocks = bint.shape[0]
    n_work = 6 * n_pk + 4 * n_pd + 14 + 11 * n_blocks + (n_watched + n_blocks if n_watched else 0)
    return (np.empty(n_work), np.empty((11, n_pd)), np.zeros(n_blocks + 1, np.bool_),
            np.ascontiguousarray(dense_idx, dtype=np.int64))
