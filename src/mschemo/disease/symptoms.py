"""MS symptoms: the CNS site and symptoms of each relapse, and the symptoms present between relapses.

Relapse site: one of :data:`SITES` with the shares SITE_SHARE_* (onset topography, Tintore 2005 and
Miller 2005); each symptom then comes with probability P_<SITE>_<SYMPTOM> (assumptions).

Between relapses symptom s of patient i is present at time t when a latent standard normal
z_is(t) = sqrt(r) u_is + sqrt(1 - r) x_is(t) lies below probit(p_is(t)), with u_is a stable trait,
x_is an Ornstein-Uhlenbeck process (correlation exp(-dt / tau)) and

    logit p_is(t) = logit PREV_s + EDSS_SLOPE_s (EDSS_i(t) - REF_EDSS_s)
                    + DURATION_SLOPE_s (duration_i + t - REF_DURATION_s) - sum ln(benefit OR)

so the share of patients with s at t is p(t) exactly while each patient's symptoms persist for
months. During a relapse (onset to onset + recovery_d) its symptoms are present. Symptomatic
treatments divide the odds of presence by their benefit odds ratios (1 where no effect was shown:
amantadine, modafinil, methylphenidate, oral baclofen/tizanidine, rehabilitation, speech therapy,
diet). Random numbers: patient k uses patient_rng(seed, index of patient k, SITE_STREAM) for its relapses'
sites and SYMPTOM_STREAM for its timeline, so chunking changes nothing. Parameters and sources:
``params/ms_symptoms.toml``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.special import expit, ndtri

from .._internal.rng import patient_indices, patient_streams
from .._internal.text import quote
from ..errors import OptionError, PopulationError
from ..params import load_parameters

__all__ = ["SITE_STREAM", "SYMPTOM_STREAM", "SYMPTOMS", "SITES", "SymptomTreatments", "SymptomTimeline",
           "relapse_sites", "symptom_timeline"]

SITE_STREAM = 4      # random stream for relapse sites and their symptoms
SYMPTOM_STREAM = 5   # random stream for the between-relapse symptom timeline
SYMPTOMS: tuple[str, ...] = ("fatigue", "spasticity", "dizziness", "speech_disorder", "seizure", "tremor",
                             "walking", "vision")
SITES: tuple[str, ...] = ("optic_nerve", "brainstem", "spinal_cord", "cerebellum", "cerebrum")
_BLOCK = 1024        # patients per vectorised block (bounds memory at about 8 MB per 100 grid times)


@dataclass(frozen=True)
class _Model:
    """The parameter file in arrays (internal units: days)."""

    site_share: np.ndarray         # (sites,)
    site_symptom: np.ndarray       # (sites, symptoms): probability that a relapse there brings it
    intercept: np.ndarray          # (symptoms,) logit at EDSS 0 and duration 0
    edss_slope: np.ndarray         # (symptoms,) per EDSS point
    duration_slope: np.ndarray     # (symptoms,) per day
    trait_share: float
    correlation_time_d: float
    default_duration_d: float
    medications: dict[str, tuple[int, float]]   # name -> (symptom index, ln benefit OR)
    exercise_log_or: float         # on fatigue
    rehabilitation_log_or: float   # on every symptom
    speech_therapy_log_or: float   # on speech_disorder (part of rehabilitation)
    diet_log_or: float             # on every symptom
    recovery_median_d: float       # used when a relapse table has no recovery_d


@lru_cache(maxsize=1)
def _model() -> _Model:
    ps = load_parameters("ms-symptoms")
    v = ps.values()
    share = np.array([v[f"SITE_SHARE_{s.upper()}"] for s in SITES])
    sym = np.array([[v.get(f"P_{site.upper()}_{s.upper()}", 0.0) for s in SYMPTOMS] for site in SITES])
    sym[:, SYMPTOMS.index("fatigue")] = v["P_RELAPSE_FATIGUE"]
    up = [s.upper() for s in SYMPTOMS]
    prev = np.array([v[f"PREV_{s}"] for s in up])
    edss_slope = np.array([v.get(f"EDSS_SLOPE_{s}", 0.0) for s in up])
    dur_slope = np.array([v.get(f"DURATION_SLOPE_{s}", 0.0) for s in up])
    ref_edss = np.array([v.get(f"REF_EDSS_{s}", 0.0) for s in up])
    ref_dur = np.array([v.get(f"REF_DURATION_{s}", 0.0) for s in up])
    meds = {}
    for key, val in v.items():
        if key.startswith("MED_"):
            target = next(s for s in SYMPTOMS if key.endswith("_" + s.upper()))
            meds[key[4:-len(target) - 1].lower()] = (SYMPTOMS.index(target), math.log(val))
    return _Model(share / share.sum(), sym, np.log(prev / (1 - prev)) - edss_slope * ref_edss - dur_slope * ref_dur,
                  edss_slope, dur_slope, v["LATENT_TRAIT_SHARE"], v["LATENT_CORRELATION_TIME"], v["DEFAULT_DURATION"],
                  meds, v["EXERCISE_FATIGUE_SMD"] * v["SMD_TO_LOG_OR"], math.log(v["REHABILITATION_BENEFIT_OR"]),
                  math.log(v["SPEECH_THERAPY_BENEFIT_OR"]), math.log(v["DIET_BENEFIT_OR"]),
                  load_parameters("ms-relapses")["RECOVERY_MEDIAN"].value)


@dataclass(frozen=True)
class SymptomTreatments:
    """Symptomatic treatment of every patient.

    medications: drugs by name (nabiximols, baclofen, tizanidine, amantadine, modafinil,
        methylphenidate, fampridine); each divides the odds of its target symptom by its benefit
        odds ratio (1 for drugs without a shown effect; fampridine acts on "walking").
    rehabilitation: multidisciplinary rehabilitation incl. speech therapy: activity gains without
        change in impairment, so no effect on symptoms (Khan 2007; speech therapy: no evidence).
    exercise: fatigue odds divided by exp(0.84 x pi/sqrt(3)) = 4.6 (Harrison 2021 SMD, Chinn 2000).
    diet: no quantified benefit (Cochrane, Parks 2020): no effect.
    """

    medications: tuple[str, ...] = ()
    rehabilitation: bool = False
    exercise: bool = False
    diet: bool = False

    def __post_init__(self) -> None:
        meds = (self.medications,) if isinstance(self.medications, str) else tuple(self.medications)
        names = tuple(str(m).strip().lower().replace("-", "_").replace(" ", "_") for m in meds)
        known = _model().medications
        for raw, name in zip(meds, names):
            if name not in known:
                raise OptionError(f"symptomatic medication {quote(raw, 40)} is not known; use one of {', '.join(sorted(known))}.")
        object.__setattr__(self, "medications", names)

    def log_odds_shift(self) -> np.ndarray:
        """Amount subtracted from each symptom's log-odds of presence (order of SYMPTOMS)."""
        m = _model()
        shift = np.zeros(len(SYMPTOMS))
        for name in dict.fromkeys(self.medications):
            k, log_or = m.medications[name]
            shift[k] += log_or
        if self.exercise:
            shift[SYMPTOMS.index("fatigue")] += m.exercise_log_or
        if self.rehabilitation:
            shift += m.rehabilitation_log_or
            shift[SYMPTOMS.index("speech_disorder")] += m.speech_therapy_log_or
        if self.diet:
            shift += m.diet_log_or
        return shift


@dataclass(frozen=True)
class SymptomTimeline:
    """Symptoms present (bool, patients x times) on a time grid (days since start)."""

    times_d: np.ndarray
    ids: np.ndarray
    present: dict[str, np.ndarray]

    def to_frame(self) -> pd.DataFrame:
        """One row per patient and time: id, day and one bool column per symptom."""
        n, t = len(self.ids), len(self.times_d)
        cols = {"id": np.repeat(self.ids, t), "day": np.tile(self.times_d, n)}
        cols.update({s: a.ravel() for s, a in self.present.items()})
        return pd.DataFrame(cols)

    def prevalence(self) -> pd.DataFrame:
        """Share of patients with each symptom at each time (columns day, one per symptom)."""
        cols = {"day": self.times_d}
        cols.update({s: a.mean(axis=0) if len(a) else np.full(len(self.times_d), np.nan) for s, a in self.present.items()})
        return pd.DataFrame(cols)


def _rows(population, ids: np.ndarray) -> np.ndarray:
    rows = pd.Index(population.ids).get_indexer(pd.Index(ids))
    if np.any(rows < 0):
        raise PopulationError(f"relapse table has patient id {ids[rows < 0][0]!r}, which is not in the population; "
                              "pass the relapses of the same patients.")
    return rows


def relapse_sites(relapses: pd.DataFrame, population, seed: int, *, start: int | np.ndarray = 0,
                  stream: int = SITE_STREAM) -> pd.DataFrame:
    """Copy of ``relapses`` (id, relapse, day, ...) with ``site`` (one of SITES) and ``symptoms``
    (';'-joined, '' if none). Patient k draws from patient_rng(seed, index of patient k, ``stream``) in
    relapse order: one uniform for the site and one per symptom for each relapse."""
    m = _model()
    out = relapses.copy()
    if len(out) == 0:
        out["site"] = pd.Series(dtype=object)
        out["symptoms"] = pd.Series(dtype=object)
        return out
    rows = _rows(population, out["id"].to_numpy())
    idx = patient_indices(len(population), start)
    rank = out["relapse"].to_numpy() if "relapse" in out.columns else out["day"].to_numpy()
    order = np.lexsort((rank, rows))
    srt = rows[order]
    cut = np.flatnonzero(np.diff(srt)) + 1
    u = np.empty((len(out), 1 + len(SYMPTOMS)))
    starts = np.r_[0, cut].astype(np.int64)
    for a, b, rng in zip(starts, np.r_[cut, len(out)], patient_streams(seed, idx[srt[starts]], stream)):
        u[a:b] = rng.random((b - a, 1 + len(SYMPTOMS)))
    cum = np.cumsum(m.site_share)
    site = np.minimum(np.searchsorted(cum, u[:, 0], side="right"), len(SITES) - 1)
    has = u[:, 1:] < m.site_symptom[site]
    codes = has @ (1 << np.arange(len(SYMPTOMS)))
    uniq, inv = np.unique(codes, return_inverse=True)
    text = np.array([";".join(s for j, s in enumerate(SYMPTOMS) if c >> j & 1) for c in uniq], dtype=object)
    site_col = np.empty(len(out), dtype=object)
    sym_col = np.empty(len(out), dtype=object)
    site_col[order] = np.array(SITES, dtype=object)[site]
    sym_col[order] = text[inv.ravel()]
    out["site"] = site_col
    out["symptoms"] = sym_col
    return out


def _relapse_cover(rel: pd.DataFrame, population, times: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Symptom -> bool (n, T): times within [day, day + recovery_d] of a relapse that brings it."""
    rows = _rows(population, rel["id"].to_numpy())
    day = rel["day"].to_numpy(dtype=float)
    rec = rel["recovery_d"].to_numpy(dtype=float) if "recovery_d" in rel.columns else _model().recovery_median_d
    i0 = np.searchsorted(times, day, side="left")
    i1 = np.searchsorted(times, day + rec, side="right")
    tokens = pd.Series(rel["symptoms"].fillna("").astype(str).to_numpy()).str.split(";").explode()
    which, names = tokens.index.to_numpy(), tokens.to_numpy()
    cover = {}
    for s in SYMPTOMS:
        j = which[names == s]
        diff = np.zeros((n, times.size + 1), dtype=np.int32)
        np.add.at(diff, (rows[j], i0[j]), 1)
        np.add.at(diff, (rows[j], i1[j]), -1)
        cover[s] = np.cumsum(diff, axis=1)[:, :times.size] > 0
    return cover


def symptom_timeline(population, times_d: np.ndarray, edss: np.ndarray, seed: int, *,
                     relapses: pd.DataFrame | None = None, treatments: SymptomTreatments | None = None,
                     start: int | np.ndarray = 0) -> SymptomTimeline:
    """Symptoms present at each time ``times_d`` (days since start, non-decreasing, shape (T,))
    for each patient, with ``edss`` (n, T) the EDSS at those times. Disease duration is
    ms_duration_y + t/365.25 (DEFAULT_DURATION, 5 years, without the column). ``relapses``
    (id, day, recovery_d, symptoms; sites are drawn when ``symptoms`` is absent) adds each
    relapse's symptoms from onset to recovery; ``treatments`` act on the between-relapse odds.
    Patient k draws from patient_rng(seed, index of patient k, SYMPTOM_STREAM)."""
    m = _model()
    times = np.asarray(times_d, dtype=float).ravel()
    n, nt, ns = len(population), times.size, len(SYMPTOMS)
    idx = patient_indices(n, start)
    edss = np.asarray(edss, dtype=float)
    if edss.shape != (n, nt):
        raise PopulationError(f"edss has shape {edss.shape}; give one row per patient and one column per time, ({n}, {nt}).")
    if not np.all(np.isfinite(edss)):
        raise PopulationError("edss has a missing or infinite value; give a finite EDSS for every patient and time.")
    if np.any(~np.isfinite(times)) or np.any(np.diff(times) < 0):
        raise PopulationError("times_d must be finite days in non-decreasing order; sort the time grid.")
    table = population.table
    if "ms_duration_y" in table.columns:
        dur0 = table["ms_duration_y"].to_numpy(dtype=float) * 365.25
    else:
        dur0 = np.full(n, m.default_duration_d)
    intercept = m.intercept - (treatments or SymptomTreatments()).log_odds_shift()
    phi = np.exp(-np.diff(times) / m.correlation_time_d)
    sig = np.sqrt(1.0 - phi * phi)
    a, b = math.sqrt(m.trait_share), math.sqrt(1.0 - m.trait_share)
    varying = (m.edss_slope != 0) | (m.duration_slope != 0)
    fixed = ndtri(expit(intercept))
    present = np.empty((ns, n, nt), dtype=bool)
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        z = np.empty((nt + 1, hi - lo, ns))   # row 0: trait u; rows 1..T: innovations -> OU path
        for j, rng in enumerate(patient_streams(seed, idx[lo:hi], SYMPTOM_STREAM), lo):
            z[:, j - lo, :] = rng.standard_normal((nt + 1, ns))
        x = z[1:]
        for t in range(1, nt):
            x[t] *= sig[t - 1]
            x[t] += phi[t - 1] * x[t - 1]
        latent = a * z[:1] + b * x                                           # (T, nb, S)
        threshold = np.broadcast_to(fixed, latent.shape).copy()             # probit of p(t)
        eta = (intercept[varying] + m.edss_slope[varying] * edss[lo:hi].T[:, :, None]
               + m.duration_slope[varying] * (dur0[lo:hi][None, :, None] + times[:, None, None]))
        threshold[:, :, varying] = ndtri(expit(eta))
        present[:, lo:hi, :] = (latent < threshold).transpose(2, 1, 0)
    if relapses is not None and len(relapses):
        rel = relapses if "symptoms" in relapses.columns else relapse_sites(relapses, population, seed, start=start)
        for k, cover in enumerate(_relapse_cover(rel, population, times, n).values()):
            present[k] |= cover
    return SymptomTimeline(times, np.asarray(population.ids), {s: present[k] for k, s in enumerate(SYMPTOMS)})
