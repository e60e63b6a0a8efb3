"""The JAX backend: the compiled backend's models and NONMEM event semantics, batched over patients
for a GPU (``pip install "mschemo[jax]"``). JAX is imported here only, when a solve runs.

What it shares with the compiled backend, so that the two solve the same equations: the action list
(``_events.expand_actions``), the modal decomposition of each patient's PK and the modal increments of
its actions (``_modal.action_increments``, steady states included), and the PD block layout and
initial states (``compiled.block_arrays``, ``compiled.initial_transit_states``). On the device:

- PK is exact: the modal amounts w = V^-1 A move in closed form, w(t+h) = exp(lam h) w + beta phi1(lam, h),
  so the concentration at every Runge-Kutta stage, at every output and its integral (AUC) are exact;
- the transit states are integrated by Dormand-Prince 5(4) (the compiled backend's tableau) with the
  usual step-size control and its 4th-order dense output between steps;
- the cap of a linear drug effect on the plasma concentration, min(SLOPE*C, CAP), is handled as the
  compiled backend handles it: a step whose stage concentrations lie across the cap is cut at the
  crossing (Newton on the closed-form concentration, kept in its bracket), so every step integrates a
  smooth field (left to the step-size control alone, the kink cost mitox-2y two orders of magnitude
  in accuracy at the default tolerances).

The loop is flat, so that every patient of a batch does useful work in (almost) every iteration of
one ``lax.while_loop``: an iteration either applies one of a patient's actions or takes one step
attempt and records the outputs that step passes (at most ``_WINDOW``; a step is shortened to pass no
more). Patients are mapped with ``jax.vmap``; their action lists are padded to the batch's longest.
A device call goes on with every patient up to the end of one page of ``_PAGE`` outputs and returns
the page and the patients' states, from which the next call goes on. So the compiled program depends
on the model's layout, the number of patients (rounded up by at most a quarter) and of actions (a
power of two, at least 16) only, not on the output grid: a run compiles once, however its outputs
change (a course-by-course run under dosing rules, the test suites). Everything runs in float64,
switched on for this backend's calls only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import OptionError
from ._events import RATE_OFF, RATE_ON, RESET, TIME_EPS, expand_actions
from ._modal import action_increments
from .problem import Problem, Solution, modal_decomposition

__all__ = ["Jax", "jax_available"]

_INSTALL = ('the JAX backend needs the jax package, which is not installed; install it with pip install "mschemo[jax]" '
            "or use the backend 'compiled' (the default), which needs nothing extra.")
# outputs one step may pass (dense output, vectorised); a step is shortened to pass no more
_WINDOW = 8
# outputs per device call: the compiled program does not depend on how many a problem has, and a
# patient's device memory on it (values of one page at a time)
_PAGE = 256
_DEVICES = ("cpu", "gpu", "tpu", "cuda", "rocm")


def jax_available() -> bool:
    """Whether jax can be imported (found without importing it)."""
    import importlib.util
    import sys

    if "jax" in sys.modules:
        return sys.modules["jax"] is not None
    return importlib.util.find_spec("jax") is not None


def _import_jax() -> Any:
    try:
        import jax
    except ImportError as e:  # pragma: no cover - found but not importable (a broken install)
        raise OptionError(_INSTALL) from e
    return jax


@contextmanager
def _x64(jax: Any) -> Iterator[None]:
    """float64 within the block only (other JAX code in the process keeps its own setting)."""
    state = getattr(jax, "enable_x64", None)        # jax >= 0.8: jax.enable_x64(True) is a context manager
    if state is None:
        # jax 0.4.30 - 0.7 only: the installed (newer) jax the checker reads has no jax.experimental.enable_x64
        from jax.experimental import enable_x64 as state_old  # pyright: ignore[reportAttributeAccessIssue]
        with state_old():
            yield
        return
    with state(True):
        yield


def _rounded(n: int, least: int) -> int:
    """n rounded up to a multiple of a quarter of its power of two (at least ``least``): at most a
    quarter more, and few distinct shapes, so few compilations."""
    n = max(int(n), 1)
    grain = max(least, 1 << max(0, n.bit_length() - 3))
    return -(-n // grain) * grain


@dataclass(frozen=True)
class Jax:
    """JAX backend: exact linear PK, Dormand-Prince 5(4) for the transit states, patients batched with
    ``jax.vmap`` on a CPU or GPU (float64).

    rtol, atol: local error tolerances of the transit states (relative; absolute, 10^9/L).
    max_steps: per patient. chunk: patients per device call (memory: about n_outputs x n_columns x 8
    bytes per patient, plus the dose records; with more patients than one chunk, two chunks are on the
    device at once, one solving while the other's results come back). device: 'cpu', 'gpu' (or 'cuda',
    'rocm', 'tpu'), or None for JAX's default device.

    >>> import mschemo as ms
    >>> ms.backends.Jax(rtol=1e-8).settings()["rtol"]
    1e-08
    """

    rtol: float = 1e-6
    atol: float = 1e-9
    max_steps: int = 1_000_000
    chunk: int = 65_536
    device: str | None = None
    name = "jax"

    def __post_init__(self) -> None:
        if not jax_available():
            raise OptionError(_INSTALL)
        for k in ("rtol", "atol"):
            v = getattr(self, k)
            if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and 0 < v < 1):
                raise OptionError(f"the jax backend's {k} is {v!r}; give a number between 0 and 1, e.g. 1e-6.")
        for k in ("max_steps", "chunk"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise OptionError(f"the jax backend's {k} is {v!r}; give a whole number >= 1, e.g. "
                                  f"{'100000' if k == 'max_steps' else '65536'}.")
        if self.device is not None and (not isinstance(self.device, str) or self.device.lower() not in _DEVICES):
            raise OptionError(f"the jax backend's device is {self.device!r}; give one of {', '.join(_DEVICES)} "
                              "or leave it out for JAX's default device.")

    def settings(self) -> dict:
        return {"backend": self.name, "rtol": self.rtol, "atol": self.atol, "max_steps": self.max_steps,
                "chunk": self.chunk, "device": self.device or "default",
                "method": "exact PK + Dormand-Prince 5(4), vmapped (JAX)"}

    def solve(self, problem: Problem) -> Solution:
        jax = _import_jax()
        from ._kernel import MAX_STEPS
        from .compiled import block_arrays

        cols = problem.columns
        n, n_out = problem.n, problem.t_out.size
        out = np.full((n, n_out, len(cols)), np.nan)
        status = np.zeros(n, dtype=np.int64)
        steps = np.zeros((n, 2), dtype=np.int64)
        if n == 0 or n_out == 0:
            return Solution(out, status, steps, cols, self.settings())
        bint, bpar = block_arrays(problem)
        layout = tuple(tuple(int(v) for v in row) for row in bint)
        n_pk = problem.model.pk.compartments + (1 if problem.model.pk.has_depot else 0)
        # the output times, then +inf: page k reads [k*_PAGE, (k+1)*_PAGE + _WINDOW] (its own, then the next ones)
        t_ext = np.full(n_out + _PAGE + _WINDOW + 1, np.inf)
        t_ext[:n_out] = problem.t_out
        pages = [(p0, min(_PAGE, n_out - p0)) for p0 in range(0, n_out, _PAGE)]
        first = len(cols) - len(problem.model.states)

        def collect(start: int, stop: int, vm: np.ndarray, state: dict, values: list) -> None:
            m = stop - start
            for (p0, k), v in zip(pages, values):
                out[start:stop, p0:p0 + k] = np.asarray(v)[:m, :k]            # waits for the device
            done, st = np.asarray(state["done"])[:m], np.asarray(state["status"])[:m]
            # a patient the loop left unfinished (at its bound on iterations) ran out of steps
            status[start:stop] = np.where(done, st, MAX_STEPS)
            steps[start:stop, 0] = np.asarray(state["n_acc"])[:m]
            steps[start:stop, 1] = np.asarray(state["n_rej"])[:m]
            if problem.record_states:
                # recorded: modal amounts w; the compartments hold A = V w
                pk = slice(first, first + n_pk)
                out[start:stop, :, pk] = np.einsum("pij,ptj->pti", vm, out[start:stop, :, pk])

        dev = self._device(jax)
        with _x64(jax):
            solve_page, n_lin = _solver(layout, n_pk, bool(problem.record_states))
            put = functools.partial(jax.device_put, device=dev)
            consts = [put(np.asarray(v)) for v in
                      (float(problem.t_out[-1]), float(self.rtol), float(self.atol), int(self.max_steps))]
            pending = None
            for start in range(0, n, self.chunk):
                stop = min(n, start + self.chunk)
                # one chunk: rounded up; several: each as long as the first (one compilation)
                size = self.chunk if n >= self.chunk else _rounded(stop - start, 1)
                vm, args = _chunk_arrays(problem, start, stop, size, bint, bpar)
                lam, icv, y0, bp, a_time, a_kind, a_rec, a_dw, first_t, active = (put(a) for a in args)
                state = {k: put(v) for k, v in _initial_state(args[8], args[2], args[9], n_pk, n_lin).items()}
                values = []
                # the device runs this chunk's pages while the host prepares the next chunk (dispatch does
                # not wait), then collects this one
                for p0, k in pages:
                    state, v = solve_page(state, lam, icv, y0, bp, a_time, a_kind, a_rec, a_dw,
                                          put(t_ext[p0:p0 + _PAGE + _WINDOW + 1]), put(np.asarray(k)),
                                          put(np.asarray(p0 + _PAGE >= n_out)), *consts)
                    values.append(v)
                if pending is not None:
                    collect(*pending)
                pending = (start, stop, vm, state, values)
            assert pending is not None
            collect(*pending)
        return Solution(out, status, steps, cols, {**self.settings(), "device": str(dev)})

    def _device(self, jax: Any) -> Any:
        """The device to run on: the one asked for, else JAX's default."""
        if self.device is None:
            return jax.devices()[0]
        want = self.device.lower()
        try:
            return jax.devices("gpu" if want in ("cuda", "rocm") else want)[0]
        except RuntimeError as e:
            have = ", ".join(sorted({d.platform for d in jax.devices()}))
            raise OptionError(f"the jax backend's device is {self.device!r} but JAX finds no such device here "
                              f"(it has: {have}); leave device out or install jax for that device.") from e


def _chunk_arrays(problem: Problem, start: int, stop: int, size: int, bint: np.ndarray,
                  bpar: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The solver's arrays for patients start..stop-1, padded to ``size`` rows (repeating the last patient;
    the padding rows start done): V of each patient (to turn recorded modal amounts into compartments),
    then lam, icv, y0, block parameters, the actions (time, kind, record, modal increment; padded with
    +inf times), the start time and which rows are real patients."""
    from .compiled import initial_transit_states

    a, b = problem.rec_off[start], problem.rec_off[stop]
    sub = Problem(problem.model, problem.params[start:stop], problem.ids[start:stop], problem.rec_off[start:stop + 1] - a,
                  {k: v[a:b] for k, v in problem.rec.items()}, problem.t_out, problem.record_states)
    m = stop - start
    lam, vm, vinv = modal_decomposition(sub)
    acts = expand_actions(sub.rec, sub.rec_off)
    dw = action_increments(acts, lam, vinv, sub.rec["ii"], sub.rec["lag"])
    icv = vm[:, problem.model.pk.central_index, :] / sub.param("V1")[:, None]
    counts = np.diff(acts.off)
    # a power of two, at least 16: most regimens share one shape (one compilation)
    n_act = max(16, 1 << (max(1, int(counts.max()) if counts.size else 1) - 1).bit_length())
    owner = np.repeat(np.arange(m), counts)
    pos = np.arange(acts.time.size) - acts.off[owner]
    a_time = np.full((size, n_act), np.inf)
    a_kind = np.zeros((size, n_act), dtype=np.int64)
    a_rec = np.zeros((size, n_act), dtype=np.int64)
    a_dw = np.zeros((size, n_act, lam.shape[1]))
    a_time[owner, pos] = acts.time
    a_kind[owner, pos] = acts.kind
    a_rec[owner, pos] = acts.rec - sub.rec_off[owner]     # the patient's own record index
    a_dw[owner, pos] = dw
    rows = np.minimum(np.arange(size), m - 1)
    pad = np.arange(size) >= m
    a_time[pad], a_kind[pad], a_rec[pad], a_dw[pad] = a_time[m - 1], a_kind[m - 1], a_rec[m - 1], a_dw[m - 1]
    bp = bpar[start:stop]
    first_t = np.minimum(min(0.0, float(problem.t_out[0])), a_time[:, 0])
    arrays = [lam[rows], icv[rows], initial_transit_states(bint, bp)[rows], bp[rows], a_time, a_kind, a_rec, a_dw,
              first_t, ~pad]
    return vm, [np.ascontiguousarray(x) for x in arrays]


def _initial_state(first_t: np.ndarray, y0: np.ndarray, active: np.ndarray, n_pk: int, n_lin: int) -> dict:
    """Each patient's solver state before its first action: no drug, counts at baseline; padding rows done."""
    size = first_t.size
    zero = np.zeros(size, dtype=np.int64)
    return {"t": first_t, "h": np.full(size, np.inf), "w": np.zeros((size, n_pk)), "beta": np.zeros((size, n_pk)),
            "y": y0, "auc": np.zeros(size), "n_inf": zero, "min_rec": zero - 1, "i_act": zero, "i_out": zero,
            "n_acc": zero, "n_rej": zero, "status": zero, "fresh": np.ones(size, dtype=bool),
            "crossing": np.zeros(size, dtype=bool), "t_cross": np.zeros(size), "capped": np.zeros((size, n_lin), dtype=bool),
            "done": ~active}


@functools.lru_cache(maxsize=32)
def _solver(layout: tuple[tuple[int, ...], ...], n_pk: int, record_states: bool) -> Any:
    """The jitted solver of one PD block layout (``block_arrays``' int rows) and PK size; JAX compiles
    it again for each new (rounded) shape of its arguments."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    from ._kernel import (
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
        NOT_FINITE,
        OK,
        STEP_TOO_SMALL,
    )
    from ._kernel import MAX_STEPS as ST_MAX_STEPS
    from ._kernel.dopri import DP_A, DP_B, DP_E, STAGE_C, P

    sizes = [blk[BI_SITE] + blk[BI_NTRANSIT] + 2 for blk in layout]
    n_pd = int(sum(sizes))
    circ_idx = np.cumsum(sizes, dtype=np.int64) - 1
    n_cols = 2 + len(layout) + (n_pk + n_pd if record_states else 0)
    stage_c = np.asarray(STAGE_C[:6], dtype=float)     # 0, 1/5, 3/10, 4/5, 8/9, 1 (stage 7 is at 1 too)
    # blocks whose linear effect is capped on the plasma concentration: their cap crossings end steps
    lin = np.array([b for b, blk in enumerate(layout) if blk[BI_EFFECT] == 0], dtype=np.int64)
    n_lin = lin.size
    K = _WINDOW

    def rhs(c: Any, y: Any, bp: Any, capped: Any) -> Any:
        """The transit equations at plasma concentration ``c`` (the compiled kernel's, block by block);
        ``capped``: the branch of min(SLOPE*C, CAP) of each plasma-capped block."""
        parts = []
        off = 0
        for b, blk in enumerate(layout):
            nt = blk[BI_NTRANSIT]
            p = bp[b]
            cd = c
            if blk[BI_SITE]:                                # drug in the cells: dCe/dt = KE0*(C - Ce)
                cd = y[off]
                parts.append(p[BP_KE0] * (c - cd))
                off += 1
            if blk[BI_EFFECT] == 0:                         # linear, capped on plasma: the step's branch
                e = jnp.where(capped[int(np.flatnonzero(lin == b)[0])], p[BP_CAP], p[BP_SLOPE] * c)
            elif blk[BI_EFFECT] == 2:                       # linear, capped on the drug in the cells
                e = jnp.minimum(p[BP_SLOPE] * cd, p[BP_CAP])
            else:                                           # Emax, Hill
                cc = jnp.maximum(cd, 0.0)
                hill = p[BP_HILL]
                ch = cc ** hill
                e = jnp.where(hill == 1.0, p[BP_EMAX] * cc / (p[BP_EC50] + cc),
                              p[BP_EMAX] * ch / (p[BP_EC50] ** hill + ch))
            prol, circ = y[off], y[off + nt + 1]
            circ0 = p[BP_CIRC0]
            x = prol if blk[BI_FEEDBACK] else circ
            fb = (circ0 / jnp.maximum(x, CIRC_FLOOR * circ0)) ** p[BP_GAMMA]
            ktr = p[BP_KTR]
            # factored as in the kernel: at baseline (e = 0, fb = 1) the derivative is exactly 0
            parts.append(ktr * prol * ((1.0 - e) * fb - 1.0))
            for i in range(1, nt + 1):
                parts.append(ktr * (y[off + i - 1] - y[off + i]))
            kill = p[BP_KILL] * cd if blk[BI_KILL] else 0.0
            parts.append(p[BP_KCIRC] * (y[off + nt] - circ) - kill * circ)
            off += nt + 2
        return jnp.stack(parts) if parts else jnp.zeros(0)

    def phi1(lam: Any, tau: Any, e: Any) -> Any:
        """(exp(lam*tau) - 1)/lam from e = exp(lam*tau), accurate for small lam*tau."""
        x = lam * tau
        return jnp.where(jnp.abs(x) < 1e-5, tau * (1.0 + x * (0.5 + x / 6.0)), (e - 1.0) / lam)

    def advance(w: Any, beta: Any, lam: Any, tau: Any) -> tuple[Any, Any]:
        """Modal amounts after ``tau`` days and the integral of each over them (exact)."""
        x = lam * tau
        p1 = jnp.expm1(x) / lam
        small = jnp.abs(x) < 1e-4
        xs = jnp.where(small, 1.0, x)
        p2 = jnp.where(small, tau * tau * (0.5 + x * (1.0 / 6.0 + x / 24.0)), (jnp.expm1(xs) - xs) / (lam * lam))
        return jnp.exp(x) * w + beta * p1, w * p1 + beta * p2

    def iterate(s: dict, lam: Any, icv: Any, y0: Any, bp: Any, a_time: Any, a_kind: Any, a_rec: Any, a_dw: Any,
                t_out: Any, n_out: Any, last: Any, t_end: Any, rtol: Any, atol: Any, max_steps: Any) -> tuple:
        """One iteration of one patient: apply its next action at t, or take one step attempt. Outputs are
        those of one page: ``t_out`` (the page's ``n_out`` times, then the next ones, then +inf), ``i_out``
        counts them; ``last``: the page is the last one. Returns the new state, and the output rows
        (K, n_cols) with their indices in the page (out of range: not written)."""
        n_act, n_pad = a_time.shape[0], t_out.shape[0]
        paused = s["done"] | (s["i_out"] >= n_out)
        t, w, beta, y, h = s["t"], s["w"], s["beta"], s["y"], s["h"]
        scale_t = jnp.maximum(1.0, jnp.abs(t))
        t_eps = t + TIME_EPS * scale_t
        ia = jnp.minimum(s["i_act"], n_act - 1)
        a_next = jnp.where(s["i_act"] < n_act, a_time[ia], jnp.inf)
        acting = a_next <= t_eps

        # -- the next action at t (the compiled kernel's, one per iteration)
        kind, rec, dw = a_kind[ia], a_rec[ia], a_dw[ia]
        live = rec >= s["min_rec"]                          # else cancelled by a later reset
        is_rate = live & ((kind == RATE_ON) | (kind == RATE_OFF))
        is_reset = live & (kind == RESET)
        n_inf_a = s["n_inf"] + jnp.where(is_rate, jnp.where(kind == RATE_ON, 1, -1), 0)
        sign = jnp.where(kind == RATE_ON, 1.0, -1.0)
        beta_a = jnp.where(is_rate, jnp.where(n_inf_a > 0, beta + sign * dw, 0.0), beta)   # last off: exactly 0
        w_a = jnp.where(live & ~is_rate & ~is_reset, w + dw, w)
        act = dict(s, i_act=s["i_act"] + 1, fresh=jnp.asarray(True), crossing=jnp.asarray(False),
                   w=jnp.where(is_reset, 0.0, w_a), beta=jnp.where(is_reset, 0.0, beta_a),
                   y=jnp.where(is_reset, y0, y), n_inf=jnp.where(is_reset, 0, n_inf_a),
                   min_rec=jnp.where(is_reset, rec, s["min_rec"]))

        # -- one step attempt from t, towards the next action (or the end), passing at most K outputs.
        # Within it C(tau) = c_inf + sum_j g_j exp(lam_j tau) (closed form).
        q_in = beta / lam
        g = icv * (w + q_in)
        c_inf = -jnp.dot(icv, q_in)

        def conc(tau: Any) -> Any:
            return c_inf + jnp.dot(jnp.exp(lam * tau[..., None]), g)

        c_t = jnp.dot(icv, w)
        slope, cap = bp[lin, BP_SLOPE], bp[lin, BP_CAP]
        capped = jnp.where(s["fresh"], slope * c_t > cap, s["capped"])
        k1 = rhs(c_t, y, bp, capped)
        if n_pd:
            # the first step of a segment (Hairer, Norsett & Wanner 1993, II.4, its first estimate)
            sc0 = atol + rtol * jnp.abs(y)
            d0 = jnp.sqrt(jnp.mean((y / sc0) ** 2))
            d1 = jnp.sqrt(jnp.mean((k1 / sc0) ** 2))
            h_init = jnp.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / jnp.maximum(d1, 1e-300))
            h = jnp.where(s["fresh"], h_init, h)
        t_stop = jnp.minimum(a_next, t_end)
        t_stop_out = jnp.where(t_stop < t_end, t_stop - TIME_EPS * jnp.maximum(1.0, jnp.abs(t_stop)), t_stop)
        # the step passes at most K outputs, and none of the next page (its first is a step end)
        t_lim = t_out[jnp.minimum(s["i_out"] + K, n_out)]
        t_cap = jnp.minimum(t_stop, t_lim)
        clipped = ~s["crossing"] & (h >= t_cap - t)
        t_new = jnp.where(s["crossing"], s["t_cross"], jnp.where(clipped, t_cap, t + h))
        hh = jnp.maximum(t_new - t, 0.0)
        taus = hh * jnp.asarray(stage_c)
        cs = conc(taus)                                     # the concentration at each stage

        # a stage on the other side of a cap: end the step on the first crossing instead (a step that
        # already ends on one is on the old side there by construction: its last stage is not checked)
        if n_lin:
            gs = slope[None, :] * cs[:, None] - cap[None, :]
            other = (gs > 0.0) != capped[None, :]
            checked = (np.arange(6) >= 1) & ((np.arange(6) <= 4) | ~s["crossing"])
            first = other.any(axis=1) & checked
            hit = first.any()
            q = jnp.argmax(first)
            lo, hi = taus[q - 1], taus[q]
            g_lo, g_hi = gs[q - 1], gs[q]
            # Newton from the secant guess, kept inside the bracket (else bisection), for each block
            x = lo + (hi - lo) * jnp.clip(g_lo / jnp.where(g_lo != g_hi, g_lo - g_hi, 1.0), 0.0, 1.0)

            def newton(_: Any, bracket: tuple) -> tuple:
                x, lo_b, hi_b = bracket
                ex = jnp.exp(lam[None, :] * x[:, None])
                gx = slope * (c_inf + ex @ g) - cap
                dg = slope * (ex @ (lam * g))
                old = (gx > 0.0) == capped
                lo_b, hi_b = jnp.where(old, jnp.maximum(lo_b, x), lo_b), jnp.where(old, hi_b, jnp.minimum(hi_b, x))
                xn = x - gx / jnp.where(dg != 0.0, dg, 1.0)
                return jnp.where((xn > lo_b) & (xn < hi_b) & (dg != 0.0), xn, 0.5 * (lo_b + hi_b)), lo_b, hi_b

            x, lo_b, hi_b = lax.fori_loop(0, 6, newton, (x, jnp.full(n_lin, lo), jnp.full(n_lin, hi)))
            # just before the root, on the old side (else the bracket's old end)
            xc = x - 1e-14 * scale_t
            old_c = ((slope * conc(xc) - cap) > 0.0) == capped
            tc = jnp.where(old_c & (xc > lo_b) & (xc <= hi_b), xc, lo_b)
            tc = jnp.where(other[q], tc, jnp.inf)
            best = jnp.min(tc)
            at_t = hit & (best <= 1e-14 * scale_t)          # the crossing is at t itself: switch the branch now
            capped_hit = jnp.where(at_t & (tc <= 1e-14 * scale_t), ~capped, capped)
        else:
            hit, at_t, best, capped_hit = jnp.asarray(False), jnp.asarray(False), jnp.asarray(0.0), capped

        if n_pd:
            k = [k1]
            for st in range(1, 6):
                acc = sum(float(DP_A[st, j]) * k[j] for j in range(st) if DP_A[st, j] != 0.0)
                k.append(rhs(cs[st], y + hh * acc, bp, capped))
            y_new = y + hh * sum(float(DP_B[j]) * k[j] for j in range(6) if DP_B[j] != 0.0)
            k.append(rhs(cs[5], y_new, bp, capped))
            e_vec = hh * sum(float(DP_E[j]) * k[j] for j in range(7) if DP_E[j] != 0.0)
            scale = atol + rtol * jnp.maximum(jnp.abs(y), jnp.abs(y_new))
            err = jnp.sqrt(jnp.mean((e_vec / scale) ** 2))
            dense = jnp.stack(k, axis=1) @ jnp.asarray(P)    # (n_pd, 4): the dense-output polynomial
        else:
            y_new, err, dense = y, jnp.asarray(0.0), jnp.zeros((0, 4))
        finite = jnp.isfinite(err)
        accept = ~hit & finite & (err <= 1.0)
        fac = jnp.where(err == 0.0, 10.0, jnp.clip(0.9 * jnp.where(err > 0.0, err, 1.0) ** -0.2, 0.2, 10.0))
        h_acc = jnp.where(clipped, jnp.maximum(h, hh * fac), hh * fac) if n_pd else jnp.asarray(jnp.inf)
        h_rej = hh * jnp.maximum(0.2, 0.9 * jnp.where(err > 0.0, err, 1.0) ** -0.2)
        too_small = ~hit & ~accept & finite & (h_rej < 1e-14 * scale_t)
        out_of_steps = s["n_acc"] + s["n_rej"] >= max_steps
        w_end, w_int = advance(w, beta, lam, hh)
        # past a crossing (not at the segment's end, where the next segment sets the branches): switch
        if n_lin:
            c_after = conc(hh + 1e-12 * jnp.maximum(1.0, jnp.abs(t_new)))
            capped_acc = jnp.where(t_new < t_stop, slope * c_after > cap, capped)
        else:
            capped_acc = capped

        # the outputs this step passes: those at t (after its actions), then those inside the step (not
        # those within rounding of the segment's end: they belong to its end, after its actions)
        j = s["i_out"] + jnp.arange(K)
        tj = t_out[jnp.minimum(j, n_pad - 1)]
        passed = (j < n_out) & ((tj <= t_eps) | ((tj < t_new) & (tj < t_stop_out)))
        tau = jnp.where(passed, jnp.clip(tj - t, 0.0, hh), 0.0)
        e_j = jnp.exp(lam[None, :] * tau[:, None])
        p1_j = phi1(lam[None, :], tau[:, None], e_j)
        th = jnp.where(hh > 0.0, tau / jnp.where(hh > 0.0, hh, 1.0), 0.0)[:, None]
        y_j = y + hh * th * (dense[:, 0] + th * (dense[:, 1] + th * (dense[:, 2] + th * dense[:, 3])))
        parts = [(c_inf + e_j @ g)[:, None], y_j[:, circ_idx], (s["auc"] + c_inf * tau + p1_j @ g)[:, None]]
        if record_states:
            parts += [e_j * w + beta * p1_j, y_j]
        rows = jnp.concatenate(parts, axis=1)
        stepped = hh > 0.0
        step = dict(s, fresh=jnp.asarray(False),
                    crossing=hit & ~at_t, t_cross=jnp.where(hit & ~at_t, t + best, s["t_cross"]),
                    capped=jnp.where(accept, capped_acc, capped_hit),
                    t=jnp.where(accept, t_new, t), h=jnp.where(hit, h, jnp.where(accept, h_acc, h_rej)),
                    w=jnp.where(accept, w_end, w), y=jnp.where(accept, y_new, y),
                    auc=jnp.where(accept, s["auc"] + jnp.dot(w_int, icv), s["auc"]),
                    i_out=s["i_out"] + jnp.where(accept, jnp.sum(passed), 0),
                    n_acc=s["n_acc"] + (accept & stepped & (n_pd > 0)),
                    n_rej=s["n_rej"] + ((~accept & stepped) | at_t))
        # out of steps: nothing of this attempt counts
        step = {key: jnp.where(out_of_steps, s[key], v) for key, v in step.items()}
        step["status"] = jnp.where(out_of_steps, ST_MAX_STEPS, jnp.where(
            ~hit & ~finite, NOT_FINITE, jnp.where(too_small, STEP_TOO_SMALL, OK)))
        step["done"] = (step["status"] != OK) | (last & (step["i_out"] >= n_out))
        write = ~paused & ~acting & accept & ~out_of_steps & passed
        new = {key: jnp.where(paused, s[key], jnp.where(acting, act[key], step[key])) for key in s}
        return new, rows, jnp.where(write, j, _PAGE)

    batched = jax.vmap(iterate, in_axes=(0, 0, 0, 0, 0, 0, 0, 0, 0, None, None, None, None, None, None, None))

    @jax.jit
    def solve_page(state: dict, lam: Any, icv: Any, y0: Any, bp: Any, a_time: Any, a_kind: Any, a_rec: Any,
                   a_dw: Any, t_out: Any, n_out: Any, last: Any, t_end: Any, rtol: Any, atol: Any,
                   max_steps: Any) -> tuple[dict, Any]:
        """Go on with every patient of ``state`` up to the end of one page of outputs (``t_out``: its
        ``n_out`` <= _PAGE times, then the following ones; ``last``: no page follows) and record them.
        Returns the state there and the page's values (B, _PAGE, n_cols; NaN where not recorded)."""
        B = lam.shape[0]
        state = dict(state, i_out=jnp.zeros(B, dtype=jnp.int64))
        out0 = jnp.full((B, _PAGE, n_cols), jnp.nan)
        # an iteration is an action, a step attempt, or a step of length 0 that records up to K
        # outputs at its time: a patient needs at most this many
        limit = max_steps + a_time.shape[1] + n_out + 8
        rows_b = jnp.arange(B)[:, None]

        def cond(carry: tuple) -> Any:
            it, s, _ = carry
            return (it < limit) & ~jnp.all(s["done"] | (s["i_out"] >= n_out))

        def body(carry: tuple) -> tuple:
            it, s, out = carry
            s, rows, idx = batched(s, lam, icv, y0, bp, a_time, a_kind, a_rec, a_dw, t_out, n_out, last, t_end,
                                   rtol, atol, max_steps)
            return it + 1, s, out.at[rows_b, idx].set(rows, mode="drop")

        _, state, out = lax.while_loop(cond, body, (jnp.asarray(0, dtype=jnp.int64), state, out0))
        return state, out

    return solve_page, n_lin
