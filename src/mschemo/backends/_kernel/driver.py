"""The kernel's driver: walks the patients and their actions, advances PK exactly between actions, steps
the transit states (ending steps on effect-cap crossings) and records the outputs."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .._events import RATE_OFF, RATE_ON, RESET, TIME_EPS
from .control import _step_factor
from .dopri import STAGE_C, _dense_row, _dp_dense, _step_any, _step_chain3
from .layout import (
    BI_EFFECT,
    BI_NTRANSIT,
    BI_SITE,
    BP_CAP,
    BP_GAMMA,
    BP_SLOPE,
    F1,
    F2,
    HELPER,
    I2,
    KERNEL,
    MAX_STEPS,
    NOT_FINITE,
    OK,
    STEP_TOO_SMALL,
    f8,
    i8,
)
from .pk import _crossing, _stage_concs, advance_modes, conc_and_slope, conc_auc_seg
from .transit import _f_at, _feedback_coefficients, _switch_index


@nb.njit(nb.void(F2, i8, f8, f8, F1, F1, I2, nb.boolean), **HELPER)
def _record(out, i_out, c, auc, y, w, bint, record_states):
    """Write one output row: conc, circ of each block, AUC; with ``record_states`` the modal amounts
    ``w`` and the transit states ``y`` in the last columns."""
    out[i_out, 0] = c
    off = 0
    for b in range(bint.shape[0]):
        nt = bint[b, BI_NTRANSIT]
        off += bint[b, BI_SITE]
        out[i_out, 1 + b] = y[off + nt + 1]
        off += nt + 2
    out[i_out, 1 + bint.shape[0]] = auc
    if record_states:
        n_pk = w.size
        first = out.shape[1] - n_pk - y.size
        for i in range(n_pk + y.size):
            out[i_out, first + i] = w[i] if i < n_pk else y[i - n_pk]


@nb.njit(**HELPER)
def _nadir_at(y, nadw, bint, mins, scratch):
    """Lower the running minima ``mins`` of the watched counts (each a weighted sum of the blocks'
    counts, weights ``nadw`` flattened (n_watched, n_blocks)) to their values at the states ``y``."""
    n_blocks = bint.shape[0]
    off = 0
    for b in range(n_blocks):
        off += bint[b, BI_SITE]
        scratch[b] = y[off + bint[b, BI_NTRANSIT] + 1]
        off += bint[b, BI_NTRANSIT] + 2
    for q in range(mins.size):
        v = 0.0
        for b in range(n_blocks):
            v += nadw[q * n_blocks + b] * scratch[b]
        if v < mins[q]:
            mins[q] = v


@nb.njit(**HELPER)
def _save(row, t, auc, n_inf, min_rec, i_act, i_out, n_acc, n_rej, next_day, mins, w, beta, y):
    """A patient's state at the start of a segment, before its actions, into ``row`` (layout: see
    :func:`solve_population`)."""
    row[0] = t
    row[1] = auc
    row[2] = n_inf
    row[3] = min_rec
    row[4] = i_act
    row[5] = i_out
    row[6] = n_acc
    row[7] = n_rej
    row[8] = next_day
    o = 9
    for v in (mins, w, beta, y):
        for i in range(v.size):
            row[o + i] = v[i]
        o += v.size


@nb.njit(nogil=True, **KERNEL)
def solve_population(first, last, lam, icv, y0, a_off, a_time, a_kind, a_rec, a_dw,
                     bint, bpar, general, t_out, rtol, atol, max_steps, record_states, out, status, steps,
                     rows, hold, state, ck, nadw, work, k, capped, dense_idx):
    """Solve patients first..last-1; fill out[i] (n_out, n_cols), status[i] and steps[i] (accepted,
    rejected). Releases the GIL, so threads can run disjoint ranges at once; each patient's result is
    independent of the others.

    Per patient i: modes ``lam[i]``, ``icv[i]`` (central concentration per unit of each mode, 1/L),
    initial transit states ``y0[i]``; actions ``a_*[a_off[i]:a_off[i+1]]`` in time order (see
    ``_events.expand_actions``), each with its modal increment ``a_dw`` (mg, or mg/d for a rate).
    ``record_states``: None, or an (empty) array to put the modal amounts, then the transit states, in
    the last columns; as with ``general``, numba compiles the recording only for a call that asks for it
    (a shorter first compilation for the common call).
    ``general`` is None when every block has three transit compartments and no drug-in-cells state
    (see :func:`needs_general_path`): numba then compiles only the register path of the step, a
    second of the first compilation; for any other layout pass an empty array. ``work``, ``k``,
    ``capped`` and ``dense_idx`` are this call's scratch arrays, from :func:`workspace` (one set per
    thread).

    Resuming (``state`` not None; all five of ``rows``, ``hold``, ``state``, ``ck``, ``nadw`` given, else
    all None, and numba compiles none of this): patient p of this call is row ``rows[p]`` of ``out``,
    ``status``, ``steps``, ``hold``, ``state`` and ``ck``. It starts from ``state[r]`` (from time 0 when its
    first value is NaN) and stops at the start of the segment that begins at ``hold[r]`` (inf: at the last
    output), before any action there; ``ck[r, 1]`` gets the state there and ``ck[r, 0]`` the state at the
    start of the segment before, from which the patient resumes when nothing is given at the hold. A
    hold after the last output integrates on past it, recording nothing more (the last output is still a
    segment end, as without a hold). State row: t, AUC, running infusions, the last reset's record,
    actions done, outputs done, accepted and rejected steps, the next whole day of the running minima,
    the running minima of the watched counts (weights ``nadw`` (n, n_watched * n_blocks)) over whole days
    from that day up to the hold (exclusive), the modal amounts w, the modal rates beta, the transit states.
    """
    n_pk = lam.shape[1]
    n_pd = y0.shape[1]
    n_out = t_out.size
    n_blocks = bint.shape[0]
    inv_pd = 1.0 / n_pd if n_pd > 0 else 1.0
    n_linear = 0
    for b in range(n_blocks):
        if bint[b, BI_EFFECT] == 0:
            n_linear += 1

    # workspace (see :func:`workspace`), shared by this range's patients
    w = work[0:n_pk]                      # modal amounts (mg)
    beta = work[n_pk:2 * n_pk]            # modal input rates (mg/d)
    wt = work[2 * n_pk:3 * n_pk]
    seg_g = work[3 * n_pk:4 * n_pk]
    eg = work[4 * n_pk:5 * n_pk]          # each mode's term of C at the step's start, g_j exp(lam_j tau)
    u90 = work[5 * n_pk:6 * n_pk]         # ... and its factor over the step, exp(lam_j h)
    o = 6 * n_pk
    y = work[o:o + n_pd]
    dtmp = work[o + n_pd:o + 2 * n_pd]
    ys = work[o + 2 * n_pd:o + 3 * n_pd]
    ynew = work[o + 3 * n_pd:o + 4 * n_pd]
    o += 4 * n_pd
    cst = work[o:o + 7]                   # the concentration at each stage
    est = work[o + 7:o + 14]              # the drug effect at each stage (of one block)
    o += 14
    fbs = work[o:o + 2 * n_blocks]        # each block's feedback at y (fbk), then at ynew
    fbk = fbs[:n_blocks]
    o += 2 * n_blocks
    fcg = work[o:o + 9 * n_blocks]        # each block's binomial coefficients of its feedback series
    o += 9 * n_blocks
    dq = k[7:]                            # the dense-output coefficients of the step just taken
    mins = work[o:o + 0]                  # the running minima of the watched counts (resuming only)
    blk = work[o:o + 0]
    if state is not None:
        n_q = nadw.shape[1] // max(1, n_blocks)
        mins = work[o:o + n_q]
        blk = work[o + n_q:o + n_q + n_blocks]

    for p in range(first, last):
        r = p
        t_hold = math.inf
        next_day = math.inf
        if rows is not None:
            r = rows[p]
        if state is not None:
            t_hold = hold[r]
        lam_p = lam[p]
        icv_p = icv[p]
        bpar_p = bpar[p]
        out_p = out[r]
        a0 = a_off[p]
        n_act = a_off[p + 1] - a0
        for j in range(n_pk):
            w[j] = 0.0
            beta[j] = 0.0
        for i in range(n_pd):
            y[i] = y0[p, i]
        for b in range(n_blocks):
            _feedback_coefficients(bpar_p[b, BP_GAMMA], fcg, 9 * b)
        n_inf = 0   # running infusions
        auc = 0.0

        t = 0.0
        if n_act > 0 and a_time[a0] < t:
            t = a_time[a0]
        if n_out > 0 and t_out[0] < t:
            t = t_out[0]
        t_end = t_out[n_out - 1] if n_out > 0 else t
        i_act = 0
        i_out = 0
        min_rec = -1
        n_acc = 0
        n_rej = 0
        st = OK
        t_last_out = t_end
        if state is not None:
            srow = state[r]
            for q in range(mins.size):
                mins[q] = srow[9 + q]
            if not math.isnan(srow[0]):
                t = srow[0]
                auc = srow[1]
                n_inf = np.int64(srow[2])
                min_rec = np.int64(srow[3])
                i_act = np.int64(srow[4])
                i_out = np.int64(srow[5])
                n_acc = np.int64(srow[6])
                n_rej = np.int64(srow[7])
                o = 9 + mins.size
                for j in range(n_pk):
                    w[j] = srow[o + j]
                    beta[j] = srow[o + n_pk + j]
                for i in range(n_pd):
                    y[i] = srow[o + 2 * n_pk + i]
            next_day = srow[8]
            if t_end < t_hold < math.inf:
                t_end = t_hold
            _save(ck[r, 1], t, auc, n_inf, min_rec, i_act, i_out, n_acc, n_rej, next_day, mins, w, beta, y)

        while True:
            if state is not None:
                # the last two segment starts; stop at the hold, before its actions
                for c in range(ck.shape[2]):
                    ck[r, 0, c] = ck[r, 1, c]
                _save(ck[r, 1], t, auc, n_inf, min_rec, i_act, i_out, n_acc, n_rej, next_day, mins, w, beta, y)
                if t >= t_hold:
                    break
            # 1. actions at time t
            t_eps = t + TIME_EPS * max(1.0, abs(t))
            while i_act < n_act and a_time[a0 + i_act] <= t_eps:
                q = a0 + i_act
                i_act += 1
                if a_rec[q] < min_rec:
                    continue   # cancelled by a later reset
                kind = a_kind[q]
                if kind == RESET:
                    for j in range(n_pk):
                        w[j] = 0.0
                        beta[j] = 0.0
                    for i in range(n_pd):
                        y[i] = y0[p, i]
                    n_inf = 0
                    min_rec = a_rec[q]
                elif kind == RATE_ON or kind == RATE_OFF:
                    sign = 1.0 if kind == RATE_ON else -1.0
                    n_inf += 1 if kind == RATE_ON else -1
                    for j in range(n_pk):
                        # the last infusion off: exactly no input, not a rounding residue
                        beta[j] = beta[j] + sign * a_dw[q, j] if n_inf > 0 else 0.0
                else:   # a bolus, or the steady state of a record
                    for j in range(n_pk):
                        w[j] += a_dw[q, j]
            # the concentration within the segment from t: C(tau) = c_inf + sum_j g_j exp(lam_j tau)
            c_inf = 0.0
            c0 = 0.0
            for j in range(n_pk):
                q_ = beta[j] / lam_p[j]
                seg_g[j] = icv_p[j] * (w[j] + q_)
                c_inf -= icv_p[j] * q_
                c0 += icv_p[j] * w[j]
                eg[j] = seg_g[j]
            # 2. outputs at time t (after the actions)
            while i_out < n_out and t_out[i_out] <= t_eps:
                _record(out_p, i_out, c0, auc, y, w, bint, record_states is not None)
                i_out += 1
            if state is not None:
                while next_day <= t_eps:
                    if next_day >= t - TIME_EPS * max(1.0, abs(t)):
                        _nadir_at(y, nadw[p], bint, mins, blk)
                    next_day += 1.0
            if i_out >= n_out:
                if state is None:
                    break
                if t >= t_end:   # resuming with a hold after the last output: on to the hold
                    break
            t_stop = t_end
            if state is not None and t < t_last_out:
                t_stop = t_last_out   # the last output ends a segment, as it does without a hold
            if i_act < n_act and a_time[a0 + i_act] < t_stop:
                t_stop = a_time[a0 + i_act]
            if t_hold < t_stop:
                t_stop = t_hold
            seg_len = t_stop - t
            # outputs within rounding of the segment's end belong to its end (after its actions)
            t_stop_out = t_stop - TIME_EPS * max(1.0, abs(t_stop)) if t_stop < t_last_out else t_stop

            # 3. transit states over [t, t_stop] with the closed-form concentration (PK only: one
            # exact step over the whole segment)
            seg_t0 = t
            h = seg_len
            if n_pd > 0:
                for b in range(n_blocks):
                    if bint[b, BI_EFFECT] == 0:
                        capped[b] = bpar_p[b, BP_SLOPE] * c0 > bpar_p[b, BP_CAP]
                _f_at(y, 0.0, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, fbk, general)
                # initial step after each action (Hairer, Norsett & Wanner 1993, II.4): the input just changed
                d0 = 0.0
                d1 = 0.0
                for i in range(n_pd):
                    sc = atol + rtol * abs(y[i])
                    d0 += (y[i] / sc) * (y[i] / sc)
                    d1 += (k[0, i] / sc) * (k[0, i] / sc)
                d0 = math.sqrt(d0 / n_pd)
                d1 = math.sqrt(d1 / n_pd)
                h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
                h0 = min(h0, seg_len)
                # f(y + h0*f(y)) at h0, into k[1]
                for i in range(n_pd):
                    dtmp[i] = y[i] + h0 * k[0, i]
                _f_at(dtmp, h0, c_inf, seg_g, lam_p, capped, bint, bpar_p, k[1:], fbs[n_blocks:], general)
                d2 = 0.0
                for i in range(n_pd):
                    dd = (k[1, i] - k[0, i]) / (atol + rtol * abs(y[i]))
                    d2 += dd * dd
                d2 = math.sqrt(d2 / n_pd) / h0
                dm = max(d1, d2)
                h1 = max(1e-6, h0 * 1e-3) if dm <= 1e-15 else (0.01 / dm) ** 0.2
                h = min(100.0 * h0, h1)
            tau_cross = -1.0   # >= 0: this step ends exactly on a cap crossing (segment time)
            while t < t_stop:
                if n_acc + n_rej >= max_steps:
                    st = MAX_STEPS
                    break
                last = False
                h_free = h
                if h >= t_stop - t:
                    h = t_stop - t
                    last = True
                tau = t - seg_t0
                if tau_cross >= 0.0:
                    last = False
                    tau_new = tau_cross
                    t_new = seg_t0 + tau_cross
                    h = tau_cross - tau
                else:
                    t_new = t_stop if last else t + h
                    tau_new = t_new - seg_t0
                h_eff = t_new - t
                # the step, with its error estimate, unless a stage's concentration lies across an effect
                # cap: then shorten the step to end at the crossing (a step that already ends on the
                # crossing is on the old branch's side there by construction, so stage 5 is not checked)
                err = 0.0
                if n_pd > 0:
                    _stage_concs(tau, tau_new, c_inf, eg, lam_p, cst, u90)
                    for q in range(1, 5 if tau_cross >= 0.0 else 6):
                        if _switch_index(cst[q], capped, bint, bpar_p) >= 0:
                            err = -float(q)
                            break
                if n_pd > 0 and err == 0.0:
                    # a Dormand-Prince step of each block (blocks share only the concentration): k[0] is f
                    # at y; fills k[1..6] (k[6]: f at the new solution) and ynew (5th order); err is the
                    # mean square of the embedded error estimate scaled by atol + rtol*|y|, so the step
                    # factor is err^(-1/10), the RMS's -1/5 power
                    off = 0
                    for b in range(n_blocks):
                        m = bint[b, BI_SITE] + bint[b, BI_NTRANSIT] + 2
                        if general is None or (m == 5 and bint[b, BI_SITE] == 0):
                            err += _step_chain3(y, ynew, k, off, h, cst, est, capped, bint, bpar_p, b, rtol, atol, fbs, fcg)
                        else:
                            err += _step_any(y, ynew, ys, k, off, m, h, cst, capped, bint, bpar_p, b, rtol, atol)
                        off += m
                    err = err * inv_pd   # no square root: err > 1 either way, and one operation less to wait on
                if err < 0.0:
                    hit = np.int64(-err)
                    lo = tau + STAGE_C[hit - 1] * h
                    hi = tau + STAGE_C[hit] * h
                    best = hi
                    bbest = -1
                    for b in range(n_blocks):
                        if bint[b, BI_EFFECT] != 0:
                            continue
                        g_hi = bpar_p[b, BP_SLOPE] * cst[hit] - bpar_p[b, BP_CAP]
                        if (g_hi > 0.0) == capped[b]:
                            continue
                        tc = _crossing(c_inf, seg_g, lam_p, lo, hi, bpar_p[b, BP_SLOPE], bpar_p[b, BP_CAP], capped[b])
                        if tc < best:
                            best = tc
                            bbest = b
                    hnew = best - tau
                    if hnew <= 1e-14 * max(1.0, abs(t)):
                        # the crossing is at t itself: switch the branch now
                        if bbest < 0:
                            bbest = _switch_index(cst[hit], capped, bint, bpar_p)
                        capped[bbest] = not capped[bbest]
                        _f_at(y, tau, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, fbk, general)
                        continue
                    h = hnew
                    tau_cross = best
                    n_rej += 1
                    continue

                if not math.isfinite(err):
                    st = NOT_FINITE
                    break
                if err > 1.0:
                    h *= _step_factor(err)
                    tau_cross = -1.0
                    n_rej += 1
                    if h < 1e-14 * max(1.0, abs(t)):
                        st = STEP_TOO_SMALL
                        break
                    continue

                # accepted: dense output for outputs inside (t, t_new)
                tau_cross = -1.0
                fresh = True   # the dense-output coefficients of this step are still to work out
                while i_out < n_out and t_out[i_out] < t_new and t_out[i_out] < t_stop_out:
                    th = (t_out[i_out] - t) / h_eff
                    tau_o = t_out[i_out] - seg_t0
                    # the closed form at each output: carried from output to output it would depend, in its last
                    # bit, on which other times are recorded
                    c_o, a_ = conc_auc_seg(c_inf, seg_g, lam_p, tau_o)
                    if record_states is not None:
                        _dp_dense(y, h_eff, th, k, dense_idx, dtmp, dq, fresh)
                        for j in range(n_pk):
                            wt[j] = w[j]
                        advance_modes(wt, beta, lam_p, tau_o, icv_p)
                        _record(out_p, i_out, c_o, auc + a_, dtmp, wt, bint, True)
                    else:   # one call for the row: dense_idx holds each block's count
                        _dense_row(out_p, i_out, c_o, auc + a_, y, h_eff, th, k, dense_idx, dq, fresh)
                    fresh = False
                    i_out += 1
                if state is not None:
                    while next_day < t_new and next_day < t_stop_out and next_day < t_hold:
                        if next_day >= t:
                            _dp_dense(y, h_eff, (next_day - t) / h_eff, k, dense_idx, dtmp, dq, fresh)
                            fresh = False
                            _nadir_at(dtmp, nadw[p], bint, mins, blk)
                        next_day += 1.0
                if n_pd > 0:
                    n_acc += 1
                    for j in range(n_pk):   # each mode's term of C, on to the step's end
                        eg[j] *= u90[j]
                for i in range(n_pd):
                    y[i] = ynew[i]
                    k[0, i] = k[6, i]
                for b in range(n_blocks):
                    fbk[b] = fbs[n_blocks + b]
                t = t_new
                # past a crossing of the effect cap? switch the branch of min() for the next step
                if t < t_stop and n_linear > 0:
                    # the step's last stage is at its end: its concentration tells the side, unless it
                    # lies within 1e-6 of a cap (a step that ends on a crossing): then read it just past
                    cn = cst[5]
                    for bb in range(n_blocks):
                        if bint[bb, BI_EFFECT] == 0 and abs(bpar_p[bb, BP_SLOPE] * cn - bpar_p[bb, BP_CAP]) <= 1e-6 * bpar_p[bb, BP_CAP]:
                            cn, _ = conc_and_slope(c_inf, seg_g, lam_p, t - seg_t0 + 1e-12 * max(1.0, abs(t)))
                            break
                    flipped = False
                    for bb in range(n_blocks):
                        if bint[bb, BI_EFFECT] == 0:
                            above = bpar_p[bb, BP_SLOPE] * cn > bpar_p[bb, BP_CAP]
                            if above != capped[bb]:
                                capped[bb] = above
                                flipped = True
                    if flipped:
                        _f_at(y, tau_new, c_inf, seg_g, lam_p, capped, bint, bpar_p, k, fbk, general)
                fac = _step_factor(err)
                h = max(h_free, h * fac) if last else h * fac
            if st != OK:
                break
            # advance PK exactly to the end of the segment
            auc += advance_modes(w, beta, lam_p, seg_len, icv_p)
            t = t_stop
        status[r] = st
        steps[r, 0] = n_acc
        steps[r, 1] = n_rej
