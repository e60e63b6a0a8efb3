"""Toxicity grades of white-cell counts on the scale a trial used: CTCAE v3.0, v4.03, v5.0 or WHO.

Each scale's limits are a parameter file with sources (``params/ctcae_v3.toml``, ``ctcae_v4.toml``,
``ctcae_v5.toml``, ``who_1981.toml``); this module only reads and applies them. A count gets grade k
when it lies below the grade-k limit and at or above the grade-(k+1) limit, so a count exactly at a
limit belongs to the milder grade: CTCAE writes every grade as "<upper - lower", and the WHO table
writes ranges to one decimal ("3.0-3.9"), whose lower bounds are inclusive. Grade 1 starts below the
laboratory's lower limit of normal on CTCAE (the files hold the project's common adult limits) and
below a limit fixed by the scale on WHO (leukocytes 4.0, granulocytes 2.0 x10^9/L). The WHO scale has
no lymphocyte grades.

>>> grade([4.0, 3.5, 2.5, 1.5, 0.5], "wbc", "who").tolist()
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .errors import OptionError

__all__ = ["SCALES", "COUNTS", "CTCAE_TERMS", "grade", "scale_name", "term", "limits"]

#: grading scales, as trial specs name them
SCALES = ("ctcae_v3", "ctcae_v4", "ctcae_v5", "who")
#: counts that can be graded (10^9/L)
COUNTS = ("wbc", "anc", "alc")

_FILES = {"ctcae_v3": "ctcae-v3", "ctcae_v4": "ctcae-v4", "ctcae_v5": "ctcae-v5", "who": "who-1981"}
_NAMES = {"ctcae_v3": "CTCAE v3.0", "ctcae_v4": "CTCAE v4.03", "ctcae_v5": "CTCAE v5.0", "who": "WHO (Miller 1981)"}
# Each scale's own words for the term: CTCAE v3.0 BLOOD/BONE MARROW category, CTCAE v4.03 and v5.0
# Investigations category, the WHO table's haematological rows (no lymphocyte row).
_TERMS = {
    "ctcae_v3": {"wbc": "Leukocytes (total WBC)", "anc": "Neutrophils/granulocytes (ANC/AGC)", "alc": "Lymphopenia"},
    "ctcae_v4": {"wbc": "White blood cell decreased", "anc": "Neutrophil count decreased",
                 "alc": "Lymphocyte count decreased"},
    "ctcae_v5": {"wbc": "White blood cell decreased", "anc": "Neutrophil count decreased",
                 "alc": "Lymphocyte count decreased"},
    "who": {"wbc": "Leukocytes", "anc": "Granulocytes"},
}
_COUNT_WORDS = {"wbc": "leukocyte", "anc": "neutrophil", "alc": "lymphocyte"}
#: count output -> CTCAE v5.0 term (the terms of SimulationResult.grades and of the figures)
CTCAE_TERMS = dict(_TERMS["ctcae_v5"])


def _scale(scale: str) -> str:
    key = str(scale).strip().lower().replace("-", "_") if isinstance(scale, str) else scale
    if key not in SCALES:
        raise OptionError(f"there is no grading scale {scale!r}; use one of {', '.join(SCALES)}.")
    return key


def _count(count: str, scale: str) -> str:
    key = str(count).strip().lower() if isinstance(count, str) else count
    if key not in COUNTS:
        raise OptionError(f"there is no count {count!r} to grade; use one of {', '.join(COUNTS)}.")
    if key not in _TERMS[scale]:
        having = [s for s in SCALES if key in _TERMS[s]]
        others = ", ".join(having[:-1]) + " or " + having[-1]
        raise OptionError(f"the {_NAMES[scale]} scale has no {_COUNT_WORDS[key]} grades, so {key!r} cannot be graded "
                          f"on it; grade {key} on {others}.")
    return key


def scale_name(scale: str) -> str:
    """The scale as people cite it, e.g. "CTCAE v3.0" or "WHO (Miller 1981)"."""
    return _NAMES[_scale(scale)]


def term(count: str, scale: str = "ctcae_v5") -> str:
    """The scale's own name for a count's decrease, e.g. "Neutrophil count decreased" (CTCAE v5.0)
    or "Granulocytes" (WHO)."""
    s = _scale(scale)
    return _TERMS[s][_count(count, s)]


@cache
def _limits(scale: str, count: str) -> tuple[float, float, float, float]:
    from .params import load_parameters

    ps = load_parameters(_FILES[scale])
    k = count.upper()
    first = f"{k}_G1" if f"{k}_G1" in ps else f"{k}_LLN"
    lims = (ps[first].value, ps[f"{k}_G2"].value, ps[f"{k}_G3"].value, ps[f"{k}_G4"].value)
    if not lims[0] > lims[1] > lims[2] > lims[3] > 0:
        raise OptionError(f"the {_NAMES[scale]} limits for {count} in {ps.path} are {lims}; they must fall from grade 1 "
                          "to grade 4 and stay above 0.")
    return lims


def limits(count: str, scale: str = "ctcae_v5") -> dict[int, float]:
    """Grade k -> the count (10^9/L) below which grade k starts, from the scale's parameter file.

    >>> limits("anc", "who")
    {1: 2.0, 2: 1.5, 3: 1.0, 4: 0.5}
    """
    s = _scale(scale)
    return dict(zip((1, 2, 3, 4), _limits(s, _count(count, s))))


def grade(values: np.ndarray | float, count: str, scale: str = "ctcae_v5") -> np.ndarray:
    """Grade (0-4, int64, same shape as ``values``) of counts in 10^9/L on ``scale``; NaN grades 0.

    ``count`` is "wbc", "anc" or "alc"; ``scale`` one of :data:`SCALES`. On ``ctcae_v5`` the result
    equals :func:`mschemo.results.ctcae_grade`.
    """
    s = _scale(scale)
    lims = _limits(s, _count(count, s))
    x = np.asarray(values, dtype=float)
    return (x < lims[0]).astype(np.int64) + (x < lims[1]) + (x < lims[2]) + (x < lims[3])
