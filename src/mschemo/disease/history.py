"""Relapses before entry: a patient's recent history, as simulated at a trial's screening.

A patient who enters with ``prior_relapses`` relapses over the ``prior_years`` before day 0 (given, or
simulated at screening) had them on days spread over that window as a Poisson process given its
count (uniform order statistics; the slow decline of the rate with disease duration over two years
is left out), each with a course drawn as an on-study relapse's (EDSS rise, recovery time, residual)
and a site with its symptoms, from the patient's own streams (HISTORY_STREAM, HISTORY_SITE_STREAM).
Relapses before entry were treated with corticosteroids, as routine care treats them (an
assumption: the trial's steroid rule starts at randomisation).

Those still recovering at day 0 carry on: the EDSS scored at entry includes their transient rise,
which falls after entry as they recover (so very active cohorts, entered soon after relapses,
improve on study, as in Le Page 2008 and Edan 1997), and their residual joins the sustained EDSS when
they end. The same history gives the EDSS worsening of the last months that entry criteria such as
"at least one EDSS point of worsening in the last 18 months" read: the change of the relapses' part
of the EDSS over the window (residuals that joined the sustained EDSS, transients at its two ends;
worsening independent of relapses in the window is left out, an assumption stated in
docs/disease.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._internal.rng import patient_indices, patient_streams
from .relapse_course import relapse_courses
from .symptoms import relapse_sites

__all__ = ["prior_relapse_table", "transient_at", "worsening_over", "HISTORY_STREAM", "HISTORY_SITE_STREAM"]

HISTORY_STREAM = 10          # days and courses of the relapses before entry
HISTORY_SITE_STREAM = 11     # their sites and symptoms
YEAR = 365.25


def prior_relapse_table(population, seed: int, *, start: int | np.ndarray = 0) -> pd.DataFrame:
    """The relapses before entry of ``population``'s patients with ``prior_relapses`` over
    ``prior_years`` (none for the others): id, relapse (1, 2, ... in time order), day (< 0),
    edss_rise, recovery_d, edss_residual, steroids, severity, confirmed, site, symptoms."""
    t = population.table
    cols = ["id", "relapse", "day"]
    if "prior_relapses" not in t.columns or "prior_years" not in t.columns:
        return pd.DataFrame(columns=cols)
    counts = pd.to_numeric(t["prior_relapses"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    years = pd.to_numeric(t["prior_years"], errors="coerce").fillna(0).to_numpy(dtype=float)
    idx = patient_indices(len(t), start)
    ids = population.ids
    rows = []
    who = np.flatnonzero((counts > 0) & (years > 0))
    for i, rng in zip(who, patient_streams(seed, idx[who], HISTORY_STREAM)):
        days = np.sort(-years[i] * YEAR * rng.random(int(counts[i])))
        rows.extend((ids[i], k + 1, float(d)) for k, d in enumerate(days))
    rel = pd.DataFrame(rows, columns=cols)
    rel = relapse_courses(rel, population, seed, start=start, steroids=True, stream=HISTORY_STREAM + 100)
    return relapse_sites(rel, population, seed, start=start, stream=HISTORY_SITE_STREAM)


def transient_at(relapses: pd.DataFrame, ids: np.ndarray, day: float, shape: float) -> np.ndarray:
    """Each patient's EDSS still raised by relapses in progress on ``day``: residual + (rise -
    residual) x (1 - elapsed/recovery)^shape (unrounded), per patient in ``ids`` order."""
    out = np.zeros(len(ids))
    if not len(relapses):
        return out
    d = relapses["day"].to_numpy(dtype=float)
    rec = np.maximum(relapses["recovery_d"].to_numpy(dtype=float), 1e-9)
    on = (d <= day) & (d + rec > day)
    if not on.any():
        return out
    pos = pd.Series(np.arange(len(ids)), index=ids)
    r = relapses[on]
    rise, res = r["edss_rise"].to_numpy(dtype=float), r["edss_residual"].to_numpy(dtype=float)
    frac = (1.0 - (day - d[on]) / rec[on]) ** shape
    np.add.at(out, pos.loc[r["id"].to_numpy()].to_numpy(), res + (rise - res) * frac)
    return out


def worsening_over(relapses: pd.DataFrame, ids: np.ndarray, window_d: float, shape: float) -> np.ndarray:
    """EDSS worsening over the ``window_d`` days before entry from the relapses before it: the
    residuals of the relapses that ended inside the window plus the transient still present at day 0,
    less the transient present when the window began (EDSS(0) - EDSS(-window), relapse part)."""
    out = transient_at(relapses, ids, 0.0, shape) - transient_at(relapses, ids, -window_d, shape)
    if not len(relapses):
        return out
    end = relapses["day"].to_numpy(dtype=float) + relapses["recovery_d"].to_numpy(dtype=float)
    done = (end > -window_d) & (end <= 0.0)
    if done.any():
        pos = pd.Series(np.arange(len(ids)), index=ids)
        r = relapses[done]
        np.add.at(out, pos.loc[r["id"].to_numpy()].to_numpy(), r["edss_residual"].to_numpy(dtype=float))
    return out
