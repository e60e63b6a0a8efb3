"""The compiled solver: exact linear PK between actions, Dormand-Prince 5(4) for the transit states.

PK is carried in modal coordinates w = V^-1 A (K = V diag(lam) V^-1), so between actions each mode
is exact: w_j(tau) = exp(lam_j tau) w_j + beta_j phi1(lam_j, tau), beta = V^-1 R. The transit (PD)
states are integrated by an adaptive embedded Runge-Kutta method (Dormand & Prince 1980, with the
4th-order continuous extension for output between steps). The drug concentration inside the PD
right-hand side is the closed form, never an ODE state. The cap of a linear drug effect,
min(SLOPE*C, CAP), is a discontinuity in the derivative: its crossings are located on the closed-form
concentration and become step boundaries, so each step integrates a smooth field.

Patients run in parallel threads (the kernel releases the GIL); a patient's result does not depend
on the thread count.

The kernel is laid out for speed and for a short first compilation. Doses reach it as modal
increments worked out in NumPy beforehand (``_modal``: boluses, infusion rates, steady states), so it
only adds vectors. One function walks the patients and their actions and takes the Dormand-Prince
steps: first the six stage concentrations (:func:`_stage_concs`, one exp per mode, not five), then
each PD block on its own, as blocks share nothing but the concentration. The common block (three
transit compartments, the drug acting from plasma: every built-in model) steps in
:func:`_step_chain3` with its states and stage derivatives as scalars, in registers; any other layout
steps in the array form :func:`_step_any`. With the stage concentrations above and dense output for
the recorded states only, the register form cut the mitox-2y solve time by about 30 %. Within a
step of the register form, each stage's feedback (Circ0/Circ)^gamma comes from its value at the
step's start by a short binomial series (:func:`_feedback_near`, as exact as pow() where it is
used), and the value at the step's end is kept beside k[0] for the next step: pow() at every stage
was 40 % of the solve, and the series with the kept value cut it by about a quarter.
So the transit equations are written twice, as scalars (:func:`_rhs_chain3`) and on arrays
(:func:`_rhs_block`); tests/unit/test_kernel_paths.py holds the two forms to each other. Both read a
block's feedback from its count (Friberg) or, where the block's BI_FEEDBACK flag is set, from its
proliferating pool (lymphocytes recovering without overshoot, see models/transit.py). The array
form has no explicit signature and sits behind ``general is None`` tests, which numba prunes while
compiling: it is compiled only for a model that needs it; so is the recording of every state
(``record_states`` None, or an array, for the calls that ask for it). numba's ``inline="always"`` copies the
callee's IR into each call site, and each function is optimised again inside every caller it is
linked into, so the first compilation grows with both: inlining a whole right-hand side at every
stage made it three times as long. The step of a block, the per-output helpers and the small
per-step helpers are instead marked ``forceinline`` (LLVM's alwaysinline): LLVM inlines them into
the driver while optimising it, which costs little compile time (about 0.2 s), keeps every rounding,
and saves what a call cost here: each array argument passed field by field (the step's eleven
arrays were 74 pushes at every step) and an optimiser stopped at the call. The driver itself calls no
``inline="always"`` function: numba's first inlining into it made its compilation 0.3-0.4 s longer. The kernel
allocates nothing: its scratch arrays come from the caller (:func:`workspace`), so it compiles without
numba's reference counting, and no helper carries a wrapper it does not need (see ``KERNEL``).

A call can also go on from saved states and stop each patient at a given day, before anything is
given there, keeping the state at that day and at the start of the segment before it (the arguments
``rows``, ``hold``, ``state``, ``ck``, ``nadw``; None in a plain call, and numba then compiles none of
it): dosing rules decide a course from the counts of its day and go on from one state or the other,
so each patient is integrated once (``backends/resumable.py``).

The kernel's modules, by responsibility (the entry points and the block layout are imported here):

- :mod:`.layout`: the PD block layout (columns of ``bint`` and ``bpar``), status codes, numba
  signatures and options, :func:`workspace` and :func:`needs_general_path`;
- :mod:`.pk`: the closed-form concentration, its integral and slope within a segment, the stage
  concentrations and the time of a cap crossing;
- :mod:`.transit`: the drug effect, the feedback and the transit right-hand side in its two forms;
- :mod:`.dopri`: the Dormand-Prince tableau, one step of a block in each form, the dense output;
- :mod:`.control`: the step-size factor, and the power of the error it takes, from the bits of err;
- :mod:`.driver`: :func:`solve_population`, the loop over patients, actions, steps and outputs.

numba caches a function (``cache=True``) on its own file's source; here every cached function is
keyed on all of the package's files (:mod:`.stamp`), so editing any kernel module recompiles the
kernel.
"""

from __future__ import annotations

from .control import _err_pow as _err_pow
from .control import _step_factor as _step_factor
from .dopri import _step_any as _step_any
from .dopri import _step_chain3 as _step_chain3
from .driver import solve_population
from .layout import (
    BI_EFFECT,
    BI_FEEDBACK,
    BI_KILL,
    BI_NTRANSIT,
    BI_SITE,
    BP_CAP,
    BP_CIRC0,
    BP_EC50,
    BP_EMAX,
    BP_GAMMA,
    BP_HILL,
    BP_KCIRC,
    BP_KE0,
    BP_KILL,
    BP_KTR,
    BP_SLOPE,
    CIRC_FLOOR,
    HELPER,
    KERNEL,
    MAX_STEPS,
    N_BLOCK_INT,
    N_BLOCK_PAR,
    NOT_FINITE,
    OK,
    STEP_TOO_SMALL,
    needs_general_path,
    workspace,
)
from .pk import _crossing as _crossing
from .pk import _exp_near0 as _exp_near0
from .pk import _stage_concs as _stage_concs
from .pk import advance_modes, conc_and_slope, conc_auc_seg, phi1
from .transit import _f_at_any as _f_at_any
from .transit import _f_at_chain3 as _f_at_chain3
from .transit import _feedback as _feedback
from .transit import _feedback_coefficients as _feedback_coefficients
from .transit import _feedback_near as _feedback_near

# (imported as themselves: the two forms of a step and of f, the stage concentrations and the two
# forms of the feedback, which tests/unit/test_kernel_paths.py holds to each other)
__all__ = [
    "solve_population", "workspace", "needs_general_path", "advance_modes", "conc_and_slope", "conc_auc_seg", "phi1",
    "OK", "MAX_STEPS", "STEP_TOO_SMALL", "NOT_FINITE", "CIRC_FLOOR", "KERNEL", "HELPER",
    "BI_NTRANSIT", "BI_EFFECT", "BI_KILL", "BI_SITE", "BI_FEEDBACK", "N_BLOCK_INT",
    "BP_CIRC0", "BP_KTR", "BP_KCIRC", "BP_GAMMA", "BP_SLOPE", "BP_CAP", "BP_EMAX", "BP_EC50", "BP_HILL", "BP_KILL",
    "BP_KE0", "N_BLOCK_PAR",
]
